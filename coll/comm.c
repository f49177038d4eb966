/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The communicator: identity from the launcher's environment, the
 * rendezvous through rank 0 (hub.c), the node's shared memory, the links,
 * and the loop every collective waits in (sx_coll_tick, sx_coll_run).
 *
 * Environment (docs/collectives.md):
 *   rank/size     RANK, WORLD_SIZE (torchrun) or OMPI_COMM_WORLD_RANK/SIZE
 *   node          SCALEX_NODE (explicit), else rank / SCALEX_LOCAL_SIZE,
 *                 else GROUP_RANK (torchrun), else the first rank of the
 *                 process' launcher-local group: rank - LOCAL_RANK
 *                 (OMPI_COMM_WORLD_LOCAL_RANK); SCALEX_COLL_TOPO: a file
 *   rendezvous    MASTER_ADDR, MASTER_PORT (defaults 127.0.0.1:29500); under
 *                 torchrun MASTER_PORT + 1; SCALEX_COLL_PORT overrides
 *   algorithms    SCALEX_COLL_ALGO=hier|flat, SCALEX_COLL_HIER=leader|rail,
 *                 SCALEX_COLL_INTER=auto|ring|rhd|tree, SCALEX_COLL_LINKS
 *   limits        SCALEX_COLL_CHUNK (bytes), SCALEX_COLL_SHM_MB,
 *                 SCALEX_COLL_TIMEOUT_MS
 *   faults        SCALEX_COLL_FAULT_TX / _RX (sx_fault_parse), _SEED
 *   files         SCALEX_COLL_JOBDIR: the memif socket directory (else a
 *                 new /tmp/scalex-coll-XXXXXX)
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coll_priv.h"

#define SHM_MAGIC 0x5358434f4c4c3031ull /* "SXCOLL01" */

uint64_t
sx_coll_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
env_int(const char *a, const char *b, int dflt)
{
	const char *v = getenv(a);

	if (v == NULL && b != NULL)
		v = getenv(b);
	return v != NULL && *v ? atoi(v) : dflt;
}

int
sx_coll_attr_init(struct sx_coll_attr *a)
{
	const char *v;

	memset(a, 0, sizeof(*a));
	a->rank = env_int("RANK", "OMPI_COMM_WORLD_RANK", -1);
	a->size = env_int("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", -1);
	a->local_rank = env_int("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", -1);
	a->local_size = env_int("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", -1);
	a->node = env_int("SCALEX_NODE", NULL, -1);
	if (env_int("SCALEX_LOCAL_SIZE", NULL, 0) > 0 && a->rank >= 0) {
		int l = env_int("SCALEX_LOCAL_SIZE", NULL, 1);

		a->node = a->rank / l;
		a->local_rank = -1; /* from the rendezvous */
		a->local_size = -1;
	} else if (a->node < 0 && getenv("GROUP_RANK") != NULL) {
		a->node = env_int("GROUP_RANK", NULL, -1);
	} else if (a->node < 0 && a->local_rank >= 0 && a->rank >= 0) {
		a->node = a->rank - a->local_rank; /* a key; renumbered at rendezvous */
	}
	a->master_addr = getenv("MASTER_ADDR") ? getenv("MASTER_ADDR") : "127.0.0.1";
	a->master_port = env_int("MASTER_PORT", NULL, 29500);
	/* torchrun's agent of node 0 may serve its own store on MASTER_PORT
	 * (static rendezvous, --nnodes > 1): the next port is ours. */
	if (getenv("TORCHELASTIC_RUN_ID") != NULL)
		a->master_port++;
	a->master_port = env_int("SCALEX_COLL_PORT", NULL, a->master_port);
	a->topo_path = getenv("SCALEX_COLL_TOPO");
	v = getenv("SCALEX_COLL_ALGO");
	a->algo = v && strcmp(v, "flat") == 0 ? SX_COLL_ALGO_FLAT : SX_COLL_ALGO_HIER;
	v = getenv("SCALEX_COLL_HIER");
	a->hier = v && strcmp(v, "rail") == 0 ? SX_COLL_HIER_RAIL : SX_COLL_HIER_LEADER;
	v = getenv("SCALEX_COLL_INTER");
	a->inter = !v ? SX_COLL_INTER_AUTO
		   : strcmp(v, "ring") == 0 ? SX_COLL_INTER_RING
		   : strcmp(v, "rhd") == 0  ? SX_COLL_INTER_RHD
		   : strcmp(v, "tree") == 0 ? SX_COLL_INTER_TREE
					    : SX_COLL_INTER_AUTO;
	a->chunk_bytes = (size_t)env_int("SCALEX_COLL_CHUNK", NULL, 1 << 20);
	a->shm_bytes = (size_t)env_int("SCALEX_COLL_SHM_MB", NULL, 64) << 20;
	a->timeout_ms = env_int("SCALEX_COLL_TIMEOUT_MS", NULL, 20000);
	v = getenv("SCALEX_COLL_LINKS");
	a->links = 0;
	if (v == NULL || strstr(v, "leader"))
		a->links |= SX_COLL_LINKS_LEADER;
	if (v && strstr(v, "rail"))
		a->links |= SX_COLL_LINKS_RAIL;
	if (v && strstr(v, "flat"))
		a->links |= SX_COLL_LINKS_FLAT;
	if (a->algo == SX_COLL_ALGO_FLAT)
		a->links |= SX_COLL_LINKS_FLAT;
	if (a->hier == SX_COLL_HIER_RAIL)
		a->links |= SX_COLL_LINKS_RAIL;
	a->fault_tx = getenv("SCALEX_COLL_FAULT_TX");
	a->fault_rx = getenv("SCALEX_COLL_FAULT_RX");
	a->fault_seed = (uint64_t)env_int("SCALEX_COLL_FAULT_SEED", NULL, 1);
	a->verbose = env_int("SCALEX_COLL_VERBOSE", NULL, 0);
	if (a->rank < 0 || a->size <= 0 || a->rank >= a->size)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Who drives the links                                                      */

void
sx_coll_enter(struct sx_coll_comm *c)
{
	pthread_mutex_lock(&c->lock);
}

void
sx_coll_leave(struct sx_coll_comm *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* Between calls: poll every link each millisecond. A peer that entered
 * the next collective sends to us while we compute; unanswered, its QP
 * would retransmit and give up after ~3 s (seen with a 256 MiB check). */
static void *
progress_main(void *arg)
{
	struct sx_coll_comm *c = arg;
	int p;

	while (!c->progress_stop) {
		if (pthread_mutex_trylock(&c->lock) == 0) {
			for (p = 0; p < c->size; p++)
				if (c->link[p] != NULL && c->link[p]->error == 0)
					sx_coll_link_poll(c->link[p]);
			pthread_mutex_unlock(&c->lock);
		}
		usleep(1000);
	}
	return NULL;
}

static void
progress_stop(struct sx_coll_comm *c)
{
	if (!c->progress_on)
		return;
	c->progress_stop = true;
	pthread_join(c->progress, NULL);
	c->progress_on = false;
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                   */

uint64_t
sx_coll_deadline(const struct sx_coll_comm *c)
{
	return sx_coll_now_ns() + (uint64_t)c->attr.timeout_ms * 1000000;
}

int
sx_coll_tick(struct sx_coll_comm *c, bool progressed, uint64_t deadline_ns)
{
	uint64_t now;
	int i, rc;

	if (c->err)
		return c->err;
	for (i = 0; i < c->size; i++) {
		if (c->link[i] == NULL)
			continue;
		rc = sx_coll_link_poll(c->link[i]);
		if (rc < 0) {
			sx_coll_fail(c, i, -EPIPE);
			return c->err;
		}
		if (rc > 0)
			progressed = true;
	}
	if (progressed) {
		c->idle = 0;
		return 0;
	}
	/* Back off when idle: many ranks share few cores here. */
	c->idle++;
	if (c->idle > 20000)
		usleep(100);
	else if (c->idle > 32)
		sched_yield();
	now = sx_coll_now_ns();
	if (now - c->last_hub_poll_ns > 2000000) {
		c->last_hub_poll_ns = now;
		rc = sx_coll_hub_poll(c);
		if (rc < 0)
			return rc;
	}
	if (now > deadline_ns) {
		sx_coll_fail(c, -1, -ETIMEDOUT);
		return c->err;
	}
	return 0;
}

int
sx_coll_run(struct sx_coll_comm *c, struct sx_coll_xop *ops, int n)
{
	uint64_t deadline = sx_coll_deadline(c);
	int i, j, rc;

	for (;;) {
		bool progressed = false, done = true;

		for (i = 0; i < n; i++) {
			struct sx_coll_xop *o = &ops[i];
			struct sx_coll_link *l = c->link[o->peer];

			if (o->done >= o->len)
				continue;
			done = false;
			if (o->kind == SX_XOP_SEND) {
				size_t k;

				while (o->done < o->len &&
				       (k = sx_coll_link_send(l, o->src + o->done, o->len - o->done)) > 0) {
					o->done += k;
					progressed = true;
				}
				continue;
			}
			/* Receives from one peer complete in the order listed. */
			for (j = 0; j < i; j++)
				if (ops[j].kind != SX_XOP_SEND && ops[j].peer == o->peer &&
				    ops[j].done < ops[j].len)
					break;
			if (j < i)
				continue;
			for (;;) {
				const uint8_t *msg;
				size_t len, want = o->len - o->done;

				if (want > SX_LINK_MSG_BYTES)
					want = SX_LINK_MSG_BYTES;
				if (o->done >= o->len || !sx_coll_link_peek(l, &msg, &len))
					break;
				if (len != want) {
					fprintf(stderr,
						"scalex-coll: rank %d: %zu-byte message from rank %d, "
						"expected %zu\n",
						c->rank, len, o->peer, want);
					sx_coll_fail(c, o->peer, -EPROTO);
					return c->err;
				}
				if (o->kind == SX_XOP_RECV_COPY)
					memcpy(o->dst + o->done, msg, len);
				else
					sx_coll_reduce_fast(o->dst + o->done, msg,
							    len / sx_coll_dtype_size(o->dt), o->dt,
							    o->op);
				o->done += len;
				rc = sx_coll_link_release(l);
				if (rc < 0) {
					sx_coll_fail(c, o->peer, -EPIPE);
					return c->err;
				}
				progressed = true;
			}
		}
		if (done)
			return 0;
		if (progressed)
			deadline = sx_coll_deadline(c);
		rc = sx_coll_tick(c, progressed, deadline);
		if (rc < 0)
			return rc;
	}
}

/* ------------------------------------------------------------------------ */
/* Shared memory                                                             */

static void
shm_name(const struct sx_coll_comm *c, char *buf, size_t len)
{
	snprintf(buf, len, "/sxcoll-%016llx-n%d", (unsigned long long)c->jobid, c->node);
}

/* Local rank 0 creates; the others open after a barrier; all unmap at
 * the end, and the name is removed as soon as everyone has mapped it, so
 * a crash leaves nothing in /dev/shm. */
int
sx_coll_shm_open(struct sx_coll_comm *c)
{
	char name[64];
	int fd = -1, rc;

	shm_name(c, name, sizeof(name));
	c->map_bytes = sizeof(struct sx_coll_shm_ctl) + c->shm_bytes;
	if (c->local_rank == 0) {
		shm_unlink(name);
		fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)c->map_bytes) != 0) {
			rc = -errno;
			goto out;
		}
	}
	rc = sx_coll_hub_barrier(c);
	if (rc < 0)
		goto out;
	if (c->local_rank != 0) {
		fd = shm_open(name, O_RDWR, 0600);
		if (fd < 0) {
			rc = -errno;
			goto out;
		}
	}
	c->ctl = mmap(NULL, c->map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c->ctl == MAP_FAILED) {
		c->ctl = NULL;
		rc = -errno;
		goto out;
	}
	c->shm = (uint8_t *)c->ctl + sizeof(struct sx_coll_shm_ctl);
	c->stage = c->shm + (c->shm_bytes - c->stage_bytes);
	if (c->local_rank == 0)
		c->ctl->magic = SHM_MAGIC;
	rc = sx_coll_hub_barrier(c);
	if (c->local_rank == 0)
		shm_unlink(name);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && c->local_rank == 0)
		shm_unlink(name);
	return rc;
}

void
sx_coll_shm_close(struct sx_coll_comm *c)
{
	if (c->ctl != NULL)
		munmap(c->ctl, c->map_bytes);
	c->ctl = NULL;
}

static _Atomic uint64_t *
shm_field(struct sx_coll_comm *c, int local, size_t off)
{
	return (_Atomic uint64_t *)((uint8_t *)&c->ctl->r[local] + off);
}

void
sx_coll_shm_set(struct sx_coll_comm *c, size_t off, uint64_t v)
{
	atomic_store_explicit(shm_field(c, c->local_rank, off), v, memory_order_release);
}

int
sx_coll_shm_wait(struct sx_coll_comm *c, int local, size_t off, uint64_t want)
{
	_Atomic uint64_t *f = shm_field(c, local, off);
	uint64_t deadline = sx_coll_deadline(c), last = UINT64_MAX;
	int rc;

	for (;;) {
		uint64_t v = atomic_load_explicit(f, memory_order_acquire);

		if (v >= want)
			return 0;
		if (v != last) {
			last = v;
			deadline = sx_coll_deadline(c);
		}
		rc = sx_coll_tick(c, false, deadline);
		if (rc < 0) {
			if (rc == -ETIMEDOUT && c->failed_peer < 0)
				c->failed_peer = c->node_ranks[c->node][local];
			return rc;
		}
	}
}

int
sx_coll_shm_barrier(struct sx_coll_comm *c)
{
	size_t off = offsetof(struct sx_coll_shm_rank, bar_seq);
	int i, rc;

	c->bar++;
	sx_coll_shm_set(c, off, c->bar);
	for (i = 0; i < c->local_size; i++) {
		rc = sx_coll_shm_wait(c, i, off, c->bar);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                  */

struct rdv_rec {
	int32_t rank, node_key, local_hint, pad;
	uint64_t jobid;
	char dir[128];
};

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Nodes from the keys every rank reported: numbered by key order, local
 * ranks by global rank order within a node. */
static int
layout(struct sx_coll_comm *c, const int *key)
{
	int *keys = malloc(sizeof(int) * (size_t)c->size);
	int i, n = 0, r;

	if (keys == NULL)
		return -ENOMEM;
	memcpy(keys, key, sizeof(int) * (size_t)c->size);
	qsort(keys, (size_t)c->size, sizeof(int), cmp_int);
	for (i = 0; i < c->size; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			keys[n++] = keys[i];
	c->nnodes = n;
	c->node_of = calloc((unsigned int)c->size, sizeof(int));
	c->local_of = calloc((unsigned int)c->size, sizeof(int));
	c->node_size = calloc((unsigned int)n, sizeof(int));
	c->node_ranks = calloc((unsigned int)n, sizeof(int *));
	if (!c->node_of || !c->local_of || !c->node_size || !c->node_ranks) {
		free(keys);
		return -ENOMEM;
	}
	for (r = 0; r < c->size; r++) {
		int *k = bsearch(&key[r], keys, (size_t)n, sizeof(int), cmp_int);

		c->node_of[r] = (int)(k - keys);
		c->local_of[r] = c->node_size[c->node_of[r]]++;
	}
	free(keys);
	c->max_local = 0;
	for (i = 0; i < n; i++) {
		c->node_ranks[i] = calloc((size_t)c->node_size[i], sizeof(int));
		if (c->node_ranks[i] == NULL)
			return -ENOMEM;
		if (c->node_size[i] > c->max_local)
			c->max_local = c->node_size[i];
	}
	if (c->max_local > SX_COLL_MAX_LOCAL)
		return -E2BIG;
	for (r = 0; r < c->size; r++)
		c->node_ranks[c->node_of[r]][c->local_of[r]] = r;
	c->node = c->node_of[c->rank];
	c->local_rank = c->local_of[c->rank];
	c->local_size = c->node_size[c->node];
	return 0;
}

static int
group_init(struct sx_coll_group *g, int n)
{
	g->n = 0;
	g->me = -1;
	g->ranks = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
	return g->ranks ? 0 : -ENOMEM;
}

static void
group_add(struct sx_coll_group *g, int rank, int me)
{
	if (rank == me)
		g->me = g->n;
	g->ranks[g->n++] = rank;
}

/* Which peers this rank needs a link to, by the link sets asked for. */
static int
plan_links(struct sx_coll_comm *c, bool *need)
{
	int m, r, rc;

	rc = group_init(&c->leaders, c->nnodes);
	rc = rc ?: group_init(&c->rail, c->nnodes);
	rc = rc ?: group_init(&c->ring, c->size);
	if (rc)
		return rc;
	for (m = 0; m < c->nnodes; m++) {
		group_add(&c->leaders, c->node_ranks[m][0], c->rank);
		if (c->local_rank < c->node_size[m])
			group_add(&c->rail, c->node_ranks[m][c->local_rank], c->rank);
	}
	/* The flat ring visits ranks node by node (the order a topology-aware
	 * ring would pick), so only N of its hops cross nodes. */
	for (m = 0; m < c->nnodes; m++)
		for (r = 0; r < c->node_size[m]; r++)
			group_add(&c->ring, c->node_ranks[m][r], c->rank);
	if ((c->attr.links & SX_COLL_LINKS_LEADER) && c->local_rank == 0)
		for (m = 0; m < c->leaders.n; m++)
			need[c->leaders.ranks[m]] = true;
	if (c->attr.links & SX_COLL_LINKS_RAIL)
		for (m = 0; m < c->rail.n; m++)
			need[c->rail.ranks[m]] = true;
	if ((c->attr.links & SX_COLL_LINKS_FLAT) && c->size > 1) {
		need[c->ring.ranks[(c->ring.me + 1) % c->size]] = true;
		need[c->ring.ranks[(c->ring.me + c->size - 1) % c->size]] = true;
	}
	need[c->rank] = false;
	return 0;
}

static int
open_links(struct sx_coll_comm *c, const bool *need, bool server)
{
	char key[64];
	int p, rc;

	for (p = 0; p < c->size; p++) {
		if (!need[p] || (c->rank < p) != server)
			continue;
		c->link[p] = calloc(1, sizeof(struct sx_coll_link));
		if (c->link[p] == NULL)
			return -ENOMEM;
		snprintf(key, sizeof(key), "l%d-%d", server ? c->rank : p, server ? p : c->rank);
		rc = sx_coll_link_open(&c->net, c->link[p], p, server, key,
				       ((uint32_t)c->rank << 8) | (uint32_t)(p & 0xff));
		if (rc < 0) {
			fprintf(stderr, "scalex-coll: rank %d: link to %d (%s): %s\n", c->rank, p,
				c->link[p]->spec, strerror(-rc));
			free(c->link[p]);
			c->link[p] = NULL;
			return rc;
		}
		c->link[p]->inter = c->node_of[p] != c->node;
	}
	return 0;
}

static int
connect_links(struct sx_coll_comm *c)
{
	struct sx_coll_link_ep *mine, *all;
	struct sx_coll_xop *ops;
	uint64_t *hello;
	size_t n = (size_t)c->size;
	int p, k = 0, rc;

	mine = calloc(n, sizeof(*mine));
	all = calloc(n * n, sizeof(*all));
	ops = calloc(2 * n, sizeof(*ops));
	hello = calloc(2 * n, sizeof(*hello));
	rc = -ENOMEM;
	if (!mine || !all || !ops || !hello)
		goto out;
	for (p = 0; p < c->size; p++)
		if (c->link[p] != NULL)
			sx_coll_link_local(c->link[p], &mine[p]);
	rc = sx_coll_hub_allgather(c, mine, n * sizeof(*mine), all);
	if (rc < 0)
		goto out;
	for (p = 0; p < c->size; p++) {
		if (c->link[p] == NULL)
			continue;
		rc = sx_coll_link_connect(c->link[p], &all[(size_t)p * n + (size_t)c->rank]);
		if (rc < 0)
			goto out;
		/* A first message each way: the port pair and QPs work. */
		hello[2 * p] = c->jobid ^ (uint64_t)c->rank;
		ops[k++] = (struct sx_coll_xop){.kind = SX_XOP_SEND, .peer = p,
						.src = (uint8_t *)&hello[2 * p], .len = 8};
		ops[k++] = (struct sx_coll_xop){.kind = SX_XOP_RECV_COPY, .peer = p,
						.dst = (uint8_t *)&hello[2 * p + 1], .len = 8};
	}
	rc = sx_coll_run(c, ops, k);
	for (p = 0; rc == 0 && p < c->size; p++)
		if (c->link[p] != NULL && hello[2 * p + 1] != (c->jobid ^ (uint64_t)p)) {
			sx_coll_fail(c, p, -EPROTO);
			rc = -EPROTO;
		}
out:
	free(mine);
	free(all);
	free(ops);
	free(hello);
	return rc;
}

#define PHASE(name)                                                                   \
	do {                                                                          \
		if (attr->verbose)                                                    \
			fprintf(stderr, "scalex-coll: rank %d: %s at %.3f s\n", c->rank, \
				name, (double)(sx_coll_now_ns() - t0) * 1e-9);        \
	} while (0)

struct sx_coll_comm *
sx_coll_comm_create(const struct sx_coll_attr *attr)
{
	struct sx_coll_comm *c = calloc(1, sizeof(*c));
	struct rdv_rec me = {0}, *all = NULL;
	int *key = NULL;
	bool *need = NULL;
	char prefix[64];
	int i, nlinks = 0, rc = -ENOMEM;
	uint64_t t0 = 0;

	if (c == NULL)
		goto fail;
	t0 = sx_coll_now_ns();
	{
		pthread_mutexattr_t ma;

		/* Recursive: collectives call collectives (flush, all-to-all). */
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&c->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	c->attr = *attr;
	c->rank = attr->rank;
	c->size = attr->size;
	c->failed_peer = -1;
	if (c->rank < 0 || c->size <= 0 || c->rank >= c->size || attr->timeout_ms <= 0 ||
	    attr->chunk_bytes < 4096 || attr->chunk_bytes % 64 != 0) {
		rc = -EINVAL;
		goto fail;
	}
	rc = sx_coll_hub_connect(c);
	if (rc < 0)
		goto fail;

	/* Who is where: each rank's node key, and the job's id and directory. */
	me.rank = c->rank;
	me.node_key = attr->node >= 0 ? attr->node : c->rank;
	if (c->rank == 0) {
		me.jobid = ((uint64_t)getpid() << 32) ^ sx_coll_now_ns();
		const char *d = getenv("SCALEX_COLL_JOBDIR");

		/* A launcher may name the directory, to clean up after a crash. */
		snprintf(me.dir, sizeof(me.dir), "%s", d ? d : "/tmp/scalex-coll-XXXXXX");
		if (d ? mkdir(me.dir, 0700) != 0 && errno != EEXIST : mkdtemp(me.dir) == NULL) {
			rc = -errno;
			goto fail;
		}
	}
	all = calloc((size_t)c->size, sizeof(*all));
	key = calloc((size_t)c->size, sizeof(int));
	if (all == NULL || key == NULL)
		goto fail;
	rc = sx_coll_hub_allgather(c, &me, sizeof(me), all);
	if (rc < 0)
		goto fail;
	c->jobid = all[0].jobid;
	snprintf(c->jobdir, sizeof(c->jobdir), "%s", all[0].dir);
	for (i = 0; i < c->size; i++)
		key[i] = all[i].node_key;
	if (attr->topo_path != NULL) {
		rc = sx_coll_topo_load(attr->topo_path, c->size, key);
		if (rc < 0) {
			fprintf(stderr, "scalex-coll: topology %s: %s\n", attr->topo_path,
				strerror(-rc));
			goto fail;
		}
	}
	rc = layout(c, key);
	if (rc < 0)
		goto fail;
	c->stage_bytes = attr->shm_bytes;
	c->shm_bytes = (size_t)SX_COLL_NBUF * (size_t)(c->local_size + 1) * attr->chunk_bytes +
		       c->stage_bytes;
	rc = sx_coll_shm_open(c);
	if (rc < 0)
		goto fail;
	PHASE("shm");

	/* Links: servers first (their memif sockets exist before the clients
	 * dial them), then clients, then endpoints and a first message. */
	c->link = calloc((size_t)c->size, sizeof(*c->link));
	need = calloc((size_t)c->size, sizeof(bool));
	rc = -ENOMEM;
	if (c->link == NULL || need == NULL)
		goto fail;
	rc = plan_links(c, need);
	if (rc < 0)
		goto fail;
	for (i = 0; i < c->size; i++)
		nlinks += need[i];
	if (nlinks > 0) {
		if (attr->fault_tx && sx_fault_parse(attr->fault_tx, &c->net.fault_tx) < 0) {
			rc = -EINVAL;
			goto fail;
		}
		if (attr->fault_rx && sx_fault_parse(attr->fault_rx, &c->net.fault_rx) < 0) {
			rc = -EINVAL;
			goto fail;
		}
		c->net.fault_seed = attr->fault_seed;
		/* Unique while the job runs (it holds the port), and known to a
		 * launcher that must clean up after a killed rank. */
		snprintf(prefix, sizeof(prefix), "sxc-%d-%d", attr->master_port, c->rank);
		rc = sx_coll_net_init(&c->net, prefix, c->jobdir, 48 + 24 * nlinks);
		if (rc < 0) {
			fprintf(stderr, "scalex-coll: rank %d: EAL: %s\n", c->rank, strerror(-rc));
			goto fail;
		}
	}
	PHASE("eal");
	rc = open_links(c, need, true);
	PHASE("servers");
	rc = rc ?: sx_coll_hub_barrier(c);
	rc = rc ?: open_links(c, need, false);
	PHASE("clients");
	rc = rc ?: connect_links(c);
	PHASE("connected");
	rc = rc ?: sx_coll_hub_barrier(c);
	if (rc < 0)
		goto fail;
	if (nlinks > 0) {
		rc = -pthread_create(&c->progress, NULL, progress_main, c);
		if (rc < 0)
			goto fail;
		c->progress_on = true;
	}
	if (attr->verbose)
		fprintf(stderr, "scalex-coll: rank %d/%d node %d/%d local %d/%d, %d links\n",
			c->rank, c->size, c->node, c->nnodes, c->local_rank, c->local_size, nlinks);
	free(all);
	free(key);
	free(need);
	return c;
fail:
	free(all);
	free(key);
	free(need);
	if (c != NULL) {
		if (c->err == 0)
			c->err = rc;
		sx_coll_comm_destroy(c);
	}
	errno = -rc;
	return NULL;
}

static void
close_links(struct sx_coll_comm *c, bool server)
{
	int p;

	for (p = 0; c->link && p < c->size; p++) {
		if (c->link[p] == NULL || c->link[p]->server != server)
			continue;
		sx_coll_link_close(c->link[p]);
		free(c->link[p]);
		c->link[p] = NULL;
	}
}

/* The links of a communicator that failed (see sx_coll_comm_destroy). */
static struct sx_coll_link **abandoned_links;

static int
print_stat(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	if (value != 0)
		fprintf(stderr, " %s%s%u.%s=%" PRIu64, (const char *)arg,
			sx_stats_scope_name(d->scope), id, d->name, value);
	return 0;
}

int
sx_coll_comm_destroy(struct sx_coll_comm *c)
{
	int i, rc = 0;

	if (c == NULL)
		return 0;
	progress_stop(c);
	for (i = 0; c->attr.verbose > 1 && c->link && i < c->size; i++)
		if (c->link[i] != NULL) {
			fprintf(stderr, "scalex-coll: rank %d link to %d:", c->rank, i);
			sx_stats_foreach(c->link[i]->ctx, SX_STATS_ALL, print_stat, "");
			fprintf(stderr, "\n");
		}
	/* Orderly memif shutdown (tests/integration/xfer.c found the order):
	 * nobody polls past the first barrier; clients close, then servers. */
	if (c->err == 0 && c->hub_fd != NULL)
		rc = sx_coll_hub_barrier(c);
	if (c->err == 0 && rc == 0) {
		close_links(c, false);
		rc = sx_coll_hub_barrier(c);
		usleep(50000); /* let the servers' PMD finish the disconnect */
		close_links(c, true);
		rc = rc ?: sx_coll_hub_barrier(c);
		sx_coll_net_fini(&c->net);
	} else if (c->net.eal_up) {
		/*
		 * After a failure there is no orderly shutdown: peers close
		 * their ports whenever they notice, and closing ours while the
		 * memif PMD's interrupt thread handles a peer's disconnect
		 * crashes that thread (DPDK 22.11, seen here in 2 of 5 runs).
		 * The ports are left open and go with the process; nothing
		 * polls them any more, and libscalex's munmap guard covers an
		 * unmap racing with a poll in progress. The EAL runtime
		 * directory stays behind for the launcher to remove.
		 */
		fprintf(stderr, "scalex-coll: rank %d: leaving %d link ports to process exit\n",
			c->rank, c->net.nports);
		abandoned_links = c->link; /* still reachable: not a leak */
		c->link = NULL;
	}
	sx_coll_shm_close(c);
	if (c->rank == 0 && c->jobdir[0] != '\0') {
		char path[300];

		/* Sockets a server left (it crashed, or the PMD keeps them). */
		for (i = 0; i < c->size * c->size; i++) {
			snprintf(path, sizeof(path), "%s/l%d-%d.sock", c->jobdir, i / c->size,
				 i % c->size);
			unlink(path);
		}
		if (rmdir(c->jobdir) != 0 && c->err == 0)
			rc = rc ?: -errno;
	}
	sx_coll_hub_close(c);
	pthread_mutex_destroy(&c->lock);
	if (c->node_ranks != NULL)
		for (i = 0; i < c->nnodes; i++)
			free(c->node_ranks[i]);
	free(c->node_ranks);
	free(c->node_of);
	free(c->local_of);
	free(c->node_size);
	free(c->link);
	free(c->leaders.ranks);
	free(c->rail.ranks);
	free(c->ring.ranks);
	free(c);
	return rc;
}

int sx_coll_rank(const struct sx_coll_comm *c) { return c->rank; }
int sx_coll_size(const struct sx_coll_comm *c) { return c->size; }
int sx_coll_node(const struct sx_coll_comm *c) { return c->node; }
int sx_coll_nnodes(const struct sx_coll_comm *c) { return c->nnodes; }
int sx_coll_local_rank(const struct sx_coll_comm *c) { return c->local_rank; }
int sx_coll_local_size(const struct sx_coll_comm *c) { return c->local_size; }
int sx_coll_failed_peer(const struct sx_coll_comm *c) { return c->failed_peer; }

int
sx_coll_set_algo(struct sx_coll_comm *c, enum sx_coll_algo algo, enum sx_coll_hier hier,
		 enum sx_coll_inter inter)
{
	c->attr.algo = algo;
	c->attr.hier = hier;
	c->attr.inter = inter;
	return 0;
}

uint64_t
sx_coll_nic_tx_bytes(const struct sx_coll_comm *c)
{
	uint64_t b = 0;
	int p;

	for (p = 0; p < c->size; p++)
		if (c->link[p] != NULL && c->link[p]->inter)
			b += c->link[p]->tx_bytes;
	return b;
}

uint64_t
sx_coll_local_link_tx_bytes(const struct sx_coll_comm *c)
{
	uint64_t b = 0;
	int p;

	for (p = 0; p < c->size; p++)
		if (c->link[p] != NULL && !c->link[p]->inter)
			b += c->link[p]->tx_bytes;
	return b;
}

int
sx_coll_nic_links(const struct sx_coll_comm *c, int *used)
{
	int p, n = 0, u = 0;

	for (p = 0; p < c->size; p++)
		if (c->link[p] != NULL && c->link[p]->inter) {
			n++;
			u += c->link[p]->tx_bytes > 8; /* more than the hello */
		}
	if (used != NULL)
		*used = u;
	return n;
}

int
sx_coll_flush(struct sx_coll_comm *c)
{
	uint64_t deadline = sx_coll_deadline(c);
	int p, rc;

	sx_coll_enter(c);
	for (;;) {
		bool idle = true;

		for (p = 0; p < c->size; p++)
			if (c->link[p] != NULL && !sx_coll_link_idle(c->link[p]))
				idle = false;
		if (idle)
			break;
		rc = sx_coll_tick(c, false, deadline);
		if (rc < 0) {
			sx_coll_leave(c);
			return rc;
		}
	}
	/* Everyone idle: no one still needs an acknowledgement from us. */
	rc = sx_coll_barrier(c);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_stats_sum(const struct sx_coll_comm *c, enum sx_stats_scope scope, const char *name,
		  int inter_only, uint64_t *sum)
{
	int p, rc;

	*sum = 0;
	sx_coll_enter((struct sx_coll_comm *)c);
	for (p = 0, rc = 0; p < c->size && rc == 0; p++) {
		struct sx_coll_link *l = c->link[p];
		uint64_t v;

		if (l == NULL || (inter_only && !l->inter))
			continue;
		rc = sx_stats_get(l->ctx, scope, scope == SX_STATS_QP ? sx_qp_num(l->qp) : 0, name,
				  &v);
		if (rc == 0)
			*sum += v;
	}
	sx_coll_leave((struct sx_coll_comm *)c);
	return rc;
}
