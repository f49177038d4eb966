/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-coll-perf: collective bandwidth in the conventions of nccl-tests
 * (github.com/NVIDIA/nccl-tests, doc/PERFORMANCE.md), one process per rank,
 * started by an existing launcher (mpirun, torchrun) or by hand with RANK,
 * WORLD_SIZE, MASTER_ADDR and MASTER_PORT; SCALEX_LOCAL_SIZE emulates nodes
 * on one machine (docs/collectives.md).
 *
 *   -t all_reduce|reduce_scatter|all_gather|broadcast|reduce|alltoall
 *   -b MIN -e MAX    sizes in bytes (K, M, G suffixes)   -f FACTOR | -i STEP
 *   -n ITERS -w WARMUP   -c 0|1 (check results)   -o sum|prod|max|min
 *   -d float|half|bfloat16|double|int32|int64   -r ROOT   -g 1 (GPUs per
 *   process: always 1 here)   -a leader|rail|flat   -I auto|ring|rhd|tree
 *   --json FILE
 *
 * Times are the slowest rank's average per iteration; algbw = size / time;
 * busbw = algbw x the collective's factor, so that busbw compares with the
 * hardware's link bandwidth whatever the rank count (nccl-tests):
 * all-reduce 2(n-1)/n; reduce-scatter, all-gather, all-to-all (n-1)/n;
 * broadcast and reduce 1. "size" is the per-rank buffer as nccl-tests
 * counts it (all-gather: the output; reduce-scatter: the input).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scalex/coll.h>

enum coll { C_ALLREDUCE, C_REDUCE_SCATTER, C_ALLGATHER, C_BROADCAST, C_REDUCE, C_ALLTOALL };
static const char *const coll_names[] = {"all_reduce", "reduce_scatter", "all_gather",
					 "broadcast", "reduce", "alltoall"};

struct opts {
	enum coll coll;
	size_t min_bytes, max_bytes, step;
	double factor;
	int iters, warmup, check, root;
	enum sx_coll_dtype dt;
	enum sx_coll_op op;
	const char *algo, *inter, *json;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
parse_size(const char *s, size_t *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g': v *= 1024; /* fall through */
	case 'M': case 'm': v *= 1024; /* fall through */
	case 'K': case 'k': v *= 1024; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end != '\0')
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int
lookup(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: scalex-coll-perf [-t all_reduce|reduce_scatter|all_gather|broadcast|"
		"reduce|alltoall]\n"
		"  [-b MIN] [-e MAX] [-f FACTOR | -i STEP] [-n ITERS] [-w WARMUP] [-c 0|1]\n"
		"  [-o sum|prod|max|min] [-d float|half|bfloat16|double|int32|int64] [-r ROOT]\n"
		"  [-g 1] [-a leader|rail|flat] [-I auto|ring|rhd|tree] [--json FILE]\n"
		"Run one process per rank under mpirun or torchrun (docs/collectives.md).\n");
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"json", required_argument, NULL, 'J'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	static const char *const dts[] = {"float", "half", "bfloat16", "double", "int32", "int64"};
	static const char *const ops[] = {"sum", "prod", "max", "min"};
	int ch, v;

	*o = (struct opts){.coll = C_ALLREDUCE, .min_bytes = 8, .max_bytes = 8 << 20,
			   .factor = 2, .iters = 20, .warmup = 5, .check = 1, .root = 0,
			   .dt = SX_COLL_F32, .op = SX_COLL_SUM, .algo = "leader", .inter = "auto"};
	while ((ch = getopt_long(argc, argv, "t:b:e:f:i:n:w:c:o:d:r:g:a:I:h", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			v = lookup(optarg, coll_names, 6);
			if (v < 0)
				return -EINVAL;
			o->coll = (enum coll)v;
			break;
		case 'b':
			if (parse_size(optarg, &o->min_bytes))
				return -EINVAL;
			break;
		case 'e':
			if (parse_size(optarg, &o->max_bytes))
				return -EINVAL;
			break;
		case 'f':
			o->factor = atof(optarg);
			o->step = 0;
			if (o->factor <= 1)
				return -EINVAL;
			break;
		case 'i':
			if (parse_size(optarg, &o->step) || o->step == 0)
				return -EINVAL;
			break;
		case 'n':
			o->iters = atoi(optarg);
			if (o->iters <= 0)
				return -EINVAL;
			break;
		case 'w':
			o->warmup = atoi(optarg);
			if (o->warmup < 0)
				return -EINVAL;
			break;
		case 'c':
			o->check = atoi(optarg);
			break;
		case 'o':
			v = lookup(optarg, ops, 4);
			if (v < 0)
				return -EINVAL;
			o->op = (enum sx_coll_op)v;
			break;
		case 'd':
			v = lookup(optarg, dts, 6);
			if (v < 0)
				return -EINVAL;
			o->dt = (enum sx_coll_dtype)v;
			break;
		case 'r':
			o->root = atoi(optarg);
			break;
		case 'g':
			if (atoi(optarg) != 1) {
				fprintf(stderr, "-g: one device per process here\n");
				return -EINVAL;
			}
			break;
		case 'a':
			o->algo = optarg;
			if (strcmp(optarg, "leader") && strcmp(optarg, "rail") && strcmp(optarg, "flat"))
				return -EINVAL;
			break;
		case 'I':
			o->inter = optarg;
			if (lookup(optarg, (const char *const[]){"auto", "ring", "rhd", "tree"}, 4) < 0)
				return -EINVAL;
			break;
		case 'J':
			o->json = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || o->min_bytes > o->max_bytes)
		return -EINVAL;
	return 0;
}

/* Rank r's input element i: small integers, so that any reduction order
 * gives the same result and the check is exact (sums stay far below 2^11,
 * the f16 limit of exact integers, for up to 64 ranks; products are +-1). */
static double
value(int r, size_t i, enum sx_coll_op op)
{
	if (op == SX_COLL_PROD)
		return ((r + i) % 3 == 0) ? -1 : 1;
	return (double)((int)((r * 31 + i * 7) % 9) - 4);
}

static uint16_t
to16(float f, enum sx_coll_dtype dt)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	if (dt == SX_COLL_BF16)
		return (uint16_t)(b >> 16);
	if (f == 0)
		return (uint16_t)((b >> 16) & 0x8000);
	return (uint16_t)(((b >> 16) & 0x8000) | ((((b >> 23) & 0xff) - 112) << 10) |
			  ((b & 0x7fffff) >> 13));
}

static void
fill(void *buf, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op, int r, size_t base)
{
	size_t i;

	for (i = 0; i < count; i++) {
		double v = value(r, base + i, op);

		switch (dt) {
		case SX_COLL_F32: ((float *)buf)[i] = (float)v; break;
		case SX_COLL_F64: ((double *)buf)[i] = v; break;
		case SX_COLL_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
		case SX_COLL_I64: ((int64_t *)buf)[i] = (int64_t)v; break;
		default: ((uint16_t *)buf)[i] = to16((float)v, dt); break;
		}
	}
}

/* Expected output of this rank: the reference reduction over all ranks. */
static void
expected(const struct opts *o, void *want, size_t count, int n, int me, size_t base)
{
	size_t es = sx_coll_dtype_size(o->dt);
	void *tmp = malloc(count * es + 1);
	int r;

	fill(want, count, o->dt, o->op, 0, base);
	for (r = 1; r < n; r++) {
		fill(tmp, count, o->dt, o->op, r, base);
		sx_coll_reduce_ref(want, tmp, count, o->dt, o->op);
	}
	(void)me;
	free(tmp);
}

struct bufs {
	uint8_t *in, *out, *want;
	size_t in_count, out_count;
};

static int
run_once(struct sx_coll_comm *c, const struct opts *o, struct bufs *b, size_t count, bool inplace)
{
	uint8_t *src = inplace ? b->out : b->in;
	size_t es = sx_coll_dtype_size(o->dt);
	int me = sx_coll_rank(c);

	switch (o->coll) {
	case C_ALLREDUCE:
		return sx_coll_allreduce(c, src, b->out, count, o->dt, o->op);
	case C_REDUCE_SCATTER:
		/* in place: the input is the output buffer, own block at rank's place */
		if (inplace)
			return sx_coll_reduce_scatter(c, b->out, b->out + (size_t)me * count * es,
						      count, o->dt, o->op);
		return sx_coll_reduce_scatter(c, b->in, b->out, count, o->dt, o->op);
	case C_ALLGATHER:
		return sx_coll_allgather(c, inplace ? b->out + (size_t)me * count * es : b->in,
					 b->out, count, o->dt);
	case C_BROADCAST:
		if (!inplace && me == o->root)
			memcpy(b->out, b->in, count * es);
		return sx_coll_broadcast(c, b->out, count, o->dt, o->root);
	case C_REDUCE:
		return sx_coll_reduce(c, src, b->out, count, o->dt, o->op, o->root);
	default:
		if (inplace)
			return -ENOTSUP;
		return sx_coll_alltoall(c, b->in, b->out, count, o->dt);
	}
}

/* Inputs for a check, and the number of wrong output elements. */
static void
prepare(struct sx_coll_comm *c, const struct opts *o, struct bufs *b, size_t count, bool inplace)
{
	int n = sx_coll_size(c), me = sx_coll_rank(c), d;
	size_t es = sx_coll_dtype_size(o->dt);

	switch (o->coll) {
	case C_ALLREDUCE:
	case C_REDUCE:
		fill(inplace ? b->out : b->in, count, o->dt, o->op, me, 0);
		break;
	case C_REDUCE_SCATTER:
		fill(inplace ? b->out : b->in, count * (size_t)n, o->dt, o->op, me, 0);
		break;
	case C_ALLGATHER:
		fill(inplace ? b->out + (size_t)me * count * es : b->in, count, o->dt, SX_COLL_MAX,
		     me, 0);
		break;
	case C_BROADCAST:
		fill(inplace ? b->out : b->in, count, o->dt, SX_COLL_MAX, me, 0);
		break;
	default:
		for (d = 0; d < n; d++)
			fill(b->in + (size_t)d * count * es, count, o->dt, SX_COLL_MAX, me,
			     (size_t)d * count);
		break;
	}
}

static int64_t
count_wrong(struct sx_coll_comm *c, const struct opts *o, struct bufs *b, size_t count)
{
	int n = sx_coll_size(c), me = sx_coll_rank(c), r;
	size_t es = sx_coll_dtype_size(o->dt), i, m = 0;
	int64_t wrong = 0;

	switch (o->coll) {
	case C_ALLREDUCE:
		expected(o, b->want, count, n, me, 0);
		m = count;
		break;
	case C_REDUCE:
		if (me != o->root)
			return 0;
		expected(o, b->want, count, n, me, 0);
		m = count;
		break;
	case C_REDUCE_SCATTER: {
		uint8_t *all = malloc(count * (size_t)n * es + 1);

		expected(o, all, count * (size_t)n, n, me, 0);
		memcpy(b->want, all + (size_t)me * count * es, count * es);
		free(all);
		m = count;
		if (b->out != NULL && o->coll == C_REDUCE_SCATTER) {
			/* in place leaves the block at the rank's place: checked there */
		}
		break;
	}
	case C_ALLGATHER:
		for (r = 0; r < n; r++)
			fill(b->want + (size_t)r * count * es, count, o->dt, SX_COLL_MAX, r, 0);
		m = count * (size_t)n;
		break;
	case C_BROADCAST:
		fill(b->want, count, o->dt, SX_COLL_MAX, o->root, 0);
		m = count;
		break;
	default:
		for (r = 0; r < n; r++)
			fill(b->want + (size_t)r * count * es, count, o->dt, SX_COLL_MAX, r,
			     (size_t)me * count);
		m = count * (size_t)n;
		break;
	}
	for (i = 0; i < m; i++)
		wrong += memcmp(b->out + i * es, b->want + i * es, es) != 0;
	return wrong;
}

static double
bus_factor(enum coll k, int n)
{
	switch (k) {
	case C_ALLREDUCE:
		return 2.0 * (n - 1) / n;
	case C_REDUCE_SCATTER:
	case C_ALLGATHER:
	case C_ALLTOALL:
		return (double)(n - 1) / n;
	default:
		return 1.0;
	}
}

/* One column: average time of the slowest rank, and #wrong summed. */
static int
measure(struct sx_coll_comm *c, const struct opts *o, struct bufs *b, size_t count, bool inplace,
	double *time_us, int64_t *wrong)
{
	double t0, t, tmax;
	int64_t w = 0, wsum;
	int i, rc;

	prepare(c, o, b, count, inplace);
	for (i = 0; i < o->warmup; i++) {
		rc = run_once(c, o, b, count, inplace);
		if (rc < 0)
			return rc;
		prepare(c, o, b, count, inplace);
	}
	rc = sx_coll_barrier(c);
	if (rc < 0)
		return rc;
	t0 = now_s();
	for (i = 0; i < o->iters; i++) {
		rc = run_once(c, o, b, count, inplace);
		if (rc < 0)
			return rc;
	}
	t = (now_s() - t0) / o->iters;
	rc = sx_coll_allreduce(c, &t, &tmax, 1, SX_COLL_F64, SX_COLL_MAX);
	if (rc < 0)
		return rc;
	*time_us = tmax * 1e6;
	if (o->check) {
		/* One more run on fresh inputs, checked (the timed loop reduced
		 * its own outputs again in place). */
		prepare(c, o, b, count, inplace);
		rc = run_once(c, o, b, count, inplace);
		if (rc < 0)
			return rc;
		if (inplace && o->coll == C_REDUCE_SCATTER)
			memmove(b->out, b->out + (size_t)sx_coll_rank(c) * count *
						     sx_coll_dtype_size(o->dt),
				count * sx_coll_dtype_size(o->dt));
		w = count_wrong(c, o, b, count);
	}
	rc = sx_coll_allreduce(c, &w, &wsum, 1, SX_COLL_I64, SX_COLL_SUM);
	*wrong = o->check ? wsum : -1;
	return rc;
}

int
main(int argc, char **argv)
{
	struct sx_coll_attr attr;
	struct sx_coll_comm *c;
	struct opts o;
	struct bufs b = {0};
	json_t *rows = json_array();
	size_t es, bytes, count, maxc;
	double sum_busbw = 0;
	int n, me, rows_n = 0, rc;
	uint64_t nic0, loc0, port0;

	if (parse(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	if (sx_coll_attr_init(&attr) < 0) {
		fprintf(stderr, "scalex-coll-perf: no rank in the environment (RANK/WORLD_SIZE or "
				"OMPI_COMM_WORLD_RANK/SIZE); start it with mpirun or torchrun\n");
		return 2;
	}
	if (strcmp(o.algo, "flat") == 0) {
		attr.algo = SX_COLL_ALGO_FLAT;
		attr.links |= SX_COLL_LINKS_FLAT;
	} else if (strcmp(o.algo, "rail") == 0) {
		attr.hier = SX_COLL_HIER_RAIL;
		attr.links |= SX_COLL_LINKS_RAIL;
	}
	attr.inter = strcmp(o.inter, "ring") == 0   ? SX_COLL_INTER_RING
		     : strcmp(o.inter, "rhd") == 0  ? SX_COLL_INTER_RHD
		     : strcmp(o.inter, "tree") == 0 ? SX_COLL_INTER_TREE
						    : SX_COLL_INTER_AUTO;
	/* Staging for the non-pipelined collectives: the largest buffer. */
	if (attr.shm_bytes < 2 * o.max_bytes * 2 + (1 << 20))
		attr.shm_bytes = 2 * o.max_bytes * 2 + (1 << 20);
	c = sx_coll_comm_create(&attr);
	if (c == NULL) {
		fprintf(stderr, "scalex-coll-perf: rank %d: %s\n", attr.rank, strerror(errno));
		return 1;
	}
	n = sx_coll_size(c);
	me = sx_coll_rank(c);
	es = sx_coll_dtype_size(o.dt);
	if (o.root < 0 || o.root >= n)
		o.root = 0;
	maxc = o.max_bytes / es + 1;
	b.in = calloc(maxc * (size_t)n + 1, es);
	b.out = calloc(maxc * (size_t)n + 1, es);
	b.want = calloc(maxc * (size_t)n + 1, es);
	if (!b.in || !b.out || !b.want) {
		fprintf(stderr, "scalex-coll-perf: out of memory\n");
		return 1;
	}
	if (me == 0) {
		printf("# scalex-coll-perf: %s, %d ranks on %d nodes (%d per node), algorithm %s/%s\n",
		       coll_names[o.coll], n, sx_coll_nnodes(c), sx_coll_local_size(c), o.algo,
		       o.inter);
		printf("#  iters %d, warmup %d, check %d\n#\n", o.iters, o.warmup, o.check);
		printf("# %10s %12s %8s %6s %6s %9s %7s %7s %6s %9s %7s %7s %6s\n", "", "", "", "",
		       "", "out-of-place", "", "", "", "in-place", "", "", "");
		printf("# %10s %12s %8s %6s %6s %9s %7s %7s %6s %9s %7s %7s %6s\n", "size", "count",
		       "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw",
		       "busbw", "#wrong");
		printf("# %10s %12s %8s %6s %6s %9s %7s %7s %6s %9s %7s %7s %6s\n", "(B)",
		       "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)",
		       "(GB/s)", "");
	}
	nic0 = sx_coll_nic_tx_bytes(c);
	loc0 = sx_coll_local_link_tx_bytes(c);
	if (sx_coll_stats_sum(c, SX_STATS_PORT, "tx_bytes", 1, &port0) < 0)
		port0 = 0;
	for (bytes = o.min_bytes; bytes <= o.max_bytes;
	     bytes = o.step ? bytes + o.step : (size_t)(bytes * o.factor > bytes ? bytes * o.factor : bytes + 1)) {
		double t[2] = {0, 0}, algbw[2], busbw[2];
		int64_t w[2] = {0, 0};
		int k;

		/* nccl-tests' count: per-rank output (all-gather) or input
		 * (reduce-scatter) divided by n. */
		count = bytes / es;
		if (o.coll == C_ALLGATHER || o.coll == C_REDUCE_SCATTER || o.coll == C_ALLTOALL)
			count /= (size_t)n;
		if (count == 0)
			continue;
		for (k = 0; k < 2; k++) {
			if (k == 1 && o.coll == C_ALLTOALL) {
				t[1] = 0;
				w[1] = -1;
				continue;
			}
			rc = measure(c, &o, &b, count, k == 1, &t[k], &w[k]);
			if (rc < 0) {
				fprintf(stderr, "scalex-coll-perf: rank %d: %s: %s (failed peer %d)\n",
					me, coll_names[o.coll], strerror(-rc), sx_coll_failed_peer(c));
				sx_coll_comm_destroy(c);
				return 1;
			}
		}
		for (k = 0; k < 2; k++) {
			size_t nb = o.coll == C_ALLGATHER || o.coll == C_REDUCE_SCATTER ||
						    o.coll == C_ALLTOALL
					    ? count * es * (size_t)n
					    : count * es;

			algbw[k] = t[k] > 0 ? (double)nb / 1e3 / t[k] : 0;
			busbw[k] = algbw[k] * bus_factor(o.coll, n);
		}
		if (me == 0) {
			size_t nb = o.coll == C_ALLGATHER || o.coll == C_REDUCE_SCATTER ||
						    o.coll == C_ALLTOALL
					    ? count * es * (size_t)n
					    : count * es;
			json_t *row = json_pack(
				"{s:I,s:I,s:s,s:s,s:i,s:{s:f,s:f,s:f,s:I},s:{s:f,s:f,s:f,s:I}}", "size",
				(json_int_t)nb, "count", (json_int_t)count, "type",
				sx_coll_dtype_name(o.dt), "redop", sx_coll_op_name(o.op), "root",
				o.coll == C_BROADCAST || o.coll == C_REDUCE ? o.root : -1,
				"out_of_place", "time_us", t[0], "algbw_gbps", algbw[0], "busbw_gbps",
				busbw[0], "wrong", (json_int_t)w[0], "in_place", "time_us", t[1],
				"algbw_gbps", algbw[1], "busbw_gbps", busbw[1], "wrong",
				(json_int_t)w[1]);

			json_array_append_new(rows, row);
			printf("  %10zu %12zu %8s %6s %6d %9.1f %7.3f %7.3f %6" PRId64
			       " %9.1f %7.3f %7.3f %6" PRId64 "\n",
			       nb, count, sx_coll_dtype_name(o.dt), sx_coll_op_name(o.op),
			       o.coll == C_BROADCAST || o.coll == C_REDUCE ? o.root : -1, t[0],
			       algbw[0], busbw[0], w[0], t[1], algbw[1], busbw[1], w[1]);
			sum_busbw += busbw[0];
			rows_n++;
		}
	}
	/* NIC bytes per node: what the node's ranks sent on inter-node links,
	 * as payload (posted) and as frames (the ports' counters). */
	{
		enum { F_NIC, F_LOC, F_PORT, F_RETX, F_RTO, F_NODE, F_N };
		int64_t mine[F_N], *all = calloc((size_t)n * F_N, sizeof(int64_t));
		json_t *nodes = json_array();
		uint64_t v;
		int m, r;

		mine[F_NIC] = (int64_t)(sx_coll_nic_tx_bytes(c) - nic0);
		mine[F_LOC] = (int64_t)(sx_coll_local_link_tx_bytes(c) - loc0);
		mine[F_PORT] = sx_coll_stats_sum(c, SX_STATS_PORT, "tx_bytes", 1, &v) == 0
				       ? (int64_t)(v - port0)
				       : -1;
		mine[F_RETX] = sx_coll_stats_sum(c, SX_STATS_QP, "retransmits", 0, &v) == 0
				       ? (int64_t)v
				       : -1;
		mine[F_RTO] = sx_coll_stats_sum(c, SX_STATS_QP, "timeouts", 0, &v) == 0 ? (int64_t)v
											: -1;
		mine[F_NODE] = sx_coll_node(c);
		rc = sx_coll_allgather(c, mine, all, F_N, SX_COLL_I64);
		if (rc == 0 && me == 0) {
			printf("# Avg bus bandwidth    : %.4f GB/s\n#\n",
			       rows_n ? sum_busbw / rows_n : 0);
			for (m = 0; m < sx_coll_nnodes(c); m++) {
				int64_t t[F_N] = {0};
				int f;

				for (r = 0; r < n; r++)
					if (all[F_N * r + F_NODE] == m)
						for (f = 0; f < F_NODE; f++)
							t[f] += all[F_N * r + f];
				printf("# node %d: NIC tx %" PRId64 " B payload, %" PRId64
				       " B frames (inter-node ports)",
				       m, t[F_NIC], t[F_PORT]);
				if (t[F_LOC])
					printf(", %" PRId64 " B on intra-node links", t[F_LOC]);
				printf("; %" PRId64 " retransmits, %" PRId64 " timeouts\n",
				       t[F_RETX], t[F_RTO]);
				json_array_append_new(
					nodes, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I}", "node", m,
							 "nic_tx_bytes", (json_int_t)t[F_NIC],
							 "port_tx_bytes", (json_int_t)t[F_PORT],
							 "local_link_tx_bytes", (json_int_t)t[F_LOC],
							 "retransmits", (json_int_t)t[F_RETX],
							 "timeouts", (json_int_t)t[F_RTO]));
			}
		}
		free(all);
		if (me == 0 && o.json != NULL) {
			json_t *doc = json_pack("{s:s,s:i,s:i,s:i,s:s,s:s,s:o,s:o}", "collective",
						coll_names[o.coll], "ranks", n, "nodes",
						sx_coll_nnodes(c), "local_size", sx_coll_local_size(c),
						"algo", o.algo, "inter", o.inter, "rows", rows,
						"nic", nodes);

			if (json_dump_file(doc, o.json, JSON_INDENT(1)) != 0)
				fprintf(stderr, "scalex-coll-perf: cannot write %s\n", o.json);
			json_decref(doc);
			rows = NULL;
		} else {
			json_decref(nodes);
		}
	}
	json_decref(rows);
	rc = sx_coll_comm_destroy(c);
	free(b.in);
	free(b.out);
	free(b.want);
	return rc < 0 ? 1 : 0;
}
