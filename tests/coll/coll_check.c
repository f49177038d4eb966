/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collectives across emulated nodes on one machine, checked against a
 * scalar reference.
 *
 * Without RANK in the environment this program is the launcher: it starts
 * nodes x local copies of itself with the variables torchrun would set
 * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) plus SCALEX_LOCAL_SIZE (the
 * documented override that puts L consecutive ranks on one emulated node),
 * waits for them with a deadline, and removes what they may have left
 * (memif sockets, EAL runtime directories, shared memory). Under mpirun
 * (OMPI_COMM_WORLD_RANK set) or torchrun the same binary is a rank.
 *
 * Scenarios (--scenario):
 *   full    every collective, dtype and op, several sizes, every
 *           all-reduce algorithm; results bit-exact against the reference
 *   bytes   NIC bytes per node for hierarchical (leader, ring) and flat
 *           all-reduce against 2S(N-1)/N and 2S(n-1)/n; one link per node pair
 *   faults  all-reduce and all-to-all with loss and reordering on every link
 *   kill    ranks loop on all-reduce; the launcher kills one; every other
 *           rank must return an error naming it within 30 s and exit cleanly
 *
 * Exactness: inputs are chosen so that every partial result is exactly
 * representable (small integers for sums, powers of two for products,
 * anything for max/min; integers wrap), so the result does not depend on
 * the reduction order and is compared bit for bit with the reference
 * (sx_coll_reduce_ref applied in rank order). One case uses arbitrary f32
 * values and a tolerance, |x - ref| <= n * 2^-23 * sum|x_i| (the bound
 * for any summation order [Higham, Accuracy and Stability, 2002, 4.2]).
 */
#include <errno.h>
#include <execinfo.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scalex/coll.h>

#define EXIT_PEER_FAILED 3

static int failures;
static int me_rank;

#define FAIL(...)                                                        \
	do {                                                             \
		fprintf(stderr, "rank %d: FAIL: ", me_rank);             \
		fprintf(stderr, __VA_ARGS__);                            \
		fprintf(stderr, "\n");                                   \
		failures++;                                              \
	} while (0)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint16_t
to_half(float f, enum sx_coll_dtype dt)
{
	/* Inputs are small integers or powers of two: exact in both. */
	uint32_t b;
	uint16_t h;
	int e;

	if (dt == SX_COLL_BF16) {
		memcpy(&b, &f, 4);
		return (uint16_t)(b >> 16);
	}
	if (f == 0)
		return 0;
	memcpy(&b, &f, 4);
	e = (int)((b >> 23) & 0xff) - 127 + 15;
	h = (uint16_t)(((b >> 16) & 0x8000) | ((uint32_t)e << 10) | ((b & 0x7fffff) >> 13));
	return h;
}

/* Element i of rank r's input for (dt, op), chosen so results are exact. */
static void
gen(void *buf, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op, int r, uint64_t salt)
{
	size_t i;

	for (i = 0; i < count; i++) {
		uint64_t h = mix64(salt * 1000003u + (uint64_t)r * 7919u + i);
		double v;

		switch (op) {
		case SX_COLL_SUM:
			v = (double)((int)(h % 17) - 8);
			break;
		case SX_COLL_PROD: {
			/* At most 4 ranks contribute a factor of 2 or 1/2. */
			static const double f[4] = {1, -1, 2, 0.5};

			v = r < 4 ? f[h % 4] : ((h & 1) ? 1 : -1);
			break;
		}
		default:
			v = (double)((int64_t)(h % 2001) - 1000);
			break;
		}
		switch (dt) {
		case SX_COLL_F32:
			((float *)buf)[i] = (float)v;
			break;
		case SX_COLL_F64:
			((double *)buf)[i] = v;
			break;
		case SX_COLL_F16:
		case SX_COLL_BF16:
			((uint16_t *)buf)[i] = to_half((float)v, dt);
			break;
		case SX_COLL_I32:
			((int32_t *)buf)[i] = op == SX_COLL_SUM || op == SX_COLL_PROD
						      ? (int32_t)(uint32_t)h
						      : (int32_t)v;
			break;
		default:
			((int64_t *)buf)[i] = op == SX_COLL_SUM || op == SX_COLL_PROD
						      ? (int64_t)h
						      : (int64_t)v * 1000000007;
			break;
		}
	}
}

/* The reduction of every rank's input, in rank order. */
static void *
reference(size_t count, enum sx_coll_dtype dt, enum sx_coll_op op, int size, uint64_t salt)
{
	size_t es = sx_coll_dtype_size(dt);
	uint8_t *acc = malloc(count * es + 1), *in = malloc(count * es + 1);
	int r;

	gen(acc, count, dt, op, 0, salt);
	for (r = 1; r < size; r++) {
		gen(in, count, dt, op, r, salt);
		sx_coll_reduce_ref(acc, in, count, dt, op);
	}
	free(in);
	return acc;
}

static void
expect_same(const char *what, const void *got, const void *want, size_t bytes)
{
	if (memcmp(got, want, bytes) != 0) {
		size_t i;

		for (i = 0; i < bytes && ((const uint8_t *)got)[i] == ((const uint8_t *)want)[i];
		     i++)
			;
		FAIL("%s: differs from the reference at byte %zu of %zu", what, i, bytes);
	}
}

static int
must(struct sx_coll_comm *c, const char *what, int rc)
{
	if (rc < 0) {
		FAIL("%s: %s (failed peer %d)", what, strerror(-rc), sx_coll_failed_peer(c));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Scenario full                                                             */

struct algo_case {
	const char *name;
	enum sx_coll_algo algo;
	enum sx_coll_hier hier;
	enum sx_coll_inter inter;
	unsigned int links;
};

static const struct algo_case algos[] = {
	{"leader-auto", SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_AUTO,
	 SX_COLL_LINKS_LEADER},
	{"leader-ring", SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_RING,
	 SX_COLL_LINKS_LEADER},
	{"leader-rhd", SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_RHD,
	 SX_COLL_LINKS_LEADER},
	{"leader-tree", SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_TREE,
	 SX_COLL_LINKS_LEADER},
	{"rail-ring", SX_COLL_ALGO_HIER, SX_COLL_HIER_RAIL, SX_COLL_INTER_RING, SX_COLL_LINKS_RAIL},
	{"rail-rhd", SX_COLL_ALGO_HIER, SX_COLL_HIER_RAIL, SX_COLL_INTER_RHD, SX_COLL_LINKS_RAIL},
	{"flat-ring", SX_COLL_ALGO_FLAT, SX_COLL_HIER_LEADER, SX_COLL_INTER_RING,
	 SX_COLL_LINKS_FLAT},
};

static void
check_allreduce(struct sx_coll_comm *c, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op,
		const char *alg, uint64_t salt)
{
	size_t es = sx_coll_dtype_size(dt), bytes = count * es;
	uint8_t *in = malloc(bytes + 1), *out = malloc(bytes + 1);
	void *want = reference(count, dt, op, sx_coll_size(c), salt);
	char what[160];

	gen(in, count, dt, op, sx_coll_rank(c), salt);
	memset(out, 0xa5, bytes);
	snprintf(what, sizeof(what), "allreduce %s %s %s count %zu out-of-place", alg,
		 sx_coll_dtype_name(dt), sx_coll_op_name(op), count);
	if (must(c, what, sx_coll_allreduce(c, in, out, count, dt, op)) == 0)
		expect_same(what, out, want, bytes);
	snprintf(what, sizeof(what), "allreduce %s %s %s count %zu in-place", alg,
		 sx_coll_dtype_name(dt), sx_coll_op_name(op), count);
	if (must(c, what, sx_coll_allreduce(c, in, in, count, dt, op)) == 0)
		expect_same(what, in, want, bytes);
	free(in);
	free(out);
	free(want);
}

static void
check_rs_reduce(struct sx_coll_comm *c, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op,
		uint64_t salt)
{
	int n = sx_coll_size(c), r = sx_coll_rank(c), root = (int)(salt % (uint64_t)n);
	size_t es = sx_coll_dtype_size(dt);
	uint8_t *in = malloc(count * n * es + 1), *out = malloc(count * n * es + 1);
	uint8_t *want = reference(count * (size_t)n, dt, op, n, salt);
	char what[160];

	gen(in, count * (size_t)n, dt, op, r, salt);
	snprintf(what, sizeof(what), "reduce_scatter %s %s count %zu", sx_coll_dtype_name(dt),
		 sx_coll_op_name(op), count);
	if (must(c, what, sx_coll_reduce_scatter(c, in, out, count, dt, op)) == 0)
		expect_same(what, out, want + (size_t)r * count * es, count * es);
	snprintf(what, sizeof(what), "reduce root %d %s %s count %zu", root,
		 sx_coll_dtype_name(dt), sx_coll_op_name(op), count * n);
	memset(out, 0xa5, count * n * es);
	if (must(c, what, sx_coll_reduce(c, in, out, count * (size_t)n, dt, op, root)) == 0 &&
	    r == root)
		expect_same(what, out, want, count * (size_t)n * es);
	free(in);
	free(out);
	free(want);
}

static void
check_moves(struct sx_coll_comm *c, size_t count, enum sx_coll_dtype dt, uint64_t salt)
{
	int n = sx_coll_size(c), r = sx_coll_rank(c), root = (int)((salt * 7) % (uint64_t)n), s, d;
	size_t es = sx_coll_dtype_size(dt), *sc, *sd, *rc, *rd, so = 0, ro = 0;
	uint8_t *in = malloc(count * n * es * 4 + 1), *out = malloc(count * n * es * 4 + 1);
	uint8_t *want = malloc(count * n * es * 4 + 1);
	char what[160];

	/* all-gather */
	gen(in, count, dt, SX_COLL_MAX, r, salt);
	for (s = 0; s < n; s++)
		gen(want + (size_t)s * count * es, count, dt, SX_COLL_MAX, s, salt);
	snprintf(what, sizeof(what), "allgather %s count %zu", sx_coll_dtype_name(dt), count);
	if (must(c, what, sx_coll_allgather(c, in, out, count, dt)) == 0)
		expect_same(what, out, want, count * n * es);
	/* broadcast */
	gen(want, count, dt, SX_COLL_MAX, root, salt + 1);
	if (r == root)
		memcpy(out, want, count * es);
	else
		memset(out, 0, count * es);
	snprintf(what, sizeof(what), "broadcast root %d %s count %zu", root,
		 sx_coll_dtype_name(dt), count);
	if (must(c, what, sx_coll_broadcast(c, out, count, dt, root)) == 0)
		expect_same(what, out, want, count * es);
	/* all-to-all: block s->d is gen(rank s, salt + d) */
	for (d = 0; d < n; d++)
		gen(in + (size_t)d * count * es, count, dt, SX_COLL_MAX, r, salt + 100 + (uint64_t)d);
	for (s = 0; s < n; s++)
		gen(want + (size_t)s * count * es, count, dt, SX_COLL_MAX, s, salt + 100 + (uint64_t)r);
	snprintf(what, sizeof(what), "alltoall %s count %zu", sx_coll_dtype_name(dt), count);
	if (must(c, what, sx_coll_alltoall(c, in, out, count, dt)) == 0)
		expect_same(what, out, want, count * n * es);
	/* all-to-all-v, skewed: s sends (s + 2d) % 5 * count / 2 to d, some zero */
	sc = calloc((size_t)n, sizeof(size_t));
	sd = calloc((size_t)n, sizeof(size_t));
	rc = calloc((size_t)n, sizeof(size_t));
	rd = calloc((size_t)n, sizeof(size_t));
	for (d = 0; d < n; d++) {
		sc[d] = (size_t)((r + 2 * d) % 5) * count / 2;
		sd[d] = so;
		so += sc[d];
		gen(in + sd[d] * es, sc[d], dt, SX_COLL_MAX, r, salt + 200 + (uint64_t)d);
	}
	for (s = 0; s < n; s++) {
		rc[s] = (size_t)((s + 2 * r) % 5) * count / 2;
		rd[s] = ro;
		ro += rc[s];
		gen(want + rd[s] * es, rc[s], dt, SX_COLL_MAX, s, salt + 200 + (uint64_t)r);
	}
	snprintf(what, sizeof(what), "alltoallv %s count %zu", sx_coll_dtype_name(dt), count);
	if (must(c, what, sx_coll_alltoallv(c, in, sc, sd, out, rc, rd, dt)) == 0)
		expect_same(what, out, want, ro * es);
	must(c, "barrier", sx_coll_barrier(c));
	free(sc);
	free(sd);
	free(rc);
	free(rd);
	free(in);
	free(out);
	free(want);
}

/* Arbitrary reals: the result within the summation error bound. */
static void
check_tolerance(struct sx_coll_comm *c, size_t count)
{
	int n = sx_coll_size(c), r = sx_coll_rank(c), s;
	float *in = malloc(count * 4), *out = malloc(count * 4);
	double *ref = calloc(count, 8), *mag = calloc(count, 8);
	size_t i;

	for (s = 0; s < n; s++)
		for (i = 0; i < count; i++) {
			float v = (float)((double)(mix64((uint64_t)s * 977 + i) >> 11) * 0x1p-53 *
					      2.0 - 1.0);

			if (s == r)
				in[i] = v;
			ref[i] += v;
			mag[i] += fabs(v);
		}
	if (must(c, "allreduce f32 sum (tolerance)",
		 sx_coll_allreduce(c, in, out, count, SX_COLL_F32, SX_COLL_SUM)) == 0)
		for (i = 0; i < count; i++)
			if (fabs(out[i] - ref[i]) > n * 0x1p-23 * mag[i]) {
				FAIL("allreduce f32 sum: element %zu is %.9g, reference %.9g", i,
				     out[i], ref[i]);
				break;
			}
	free(in);
	free(out);
	free(ref);
	free(mag);
}

static int
scenario_full(struct sx_coll_comm *c, unsigned int links, bool quick)
{
	static const size_t sizes[] = {1, 7, 1000, 70000};
	unsigned int a;
	int dt, op, k, checks = 0;
	uint64_t salt = 1;

	for (a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
		const struct algo_case *ac = &algos[a];

		if (!(links & ac->links))
			continue;
		sx_coll_set_algo(c, ac->algo, ac->hier, ac->inter);
		for (dt = 0; dt < SX_COLL_DTYPE_MAX; dt++)
			for (op = 0; op < SX_COLL_OP_MAX; op++)
				for (k = 0; k < 4; k++) {
					/* The big size once per dtype, and for every
					 * op of f32 and i64. */
					if (k == 3 && op != 0 && dt != SX_COLL_F32 &&
					    dt != SX_COLL_I64)
						continue;
					if (quick && a > 0 && k != 2)
						continue;
					check_allreduce(c, sizes[k], dt, op, ac->name, salt++);
					checks += 2;
				}
		if (failures)
			return -1;
	}
	sx_coll_set_algo(c, SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_AUTO);
	for (dt = 0; dt < SX_COLL_DTYPE_MAX; dt++) {
		for (op = 0; op < SX_COLL_OP_MAX; op++) {
			check_rs_reduce(c, 5, dt, op, salt++);
			checks += 2;
		}
		check_rs_reduce(c, 9000, dt, SX_COLL_SUM, salt++);
		check_moves(c, 3, dt, salt++);
		check_moves(c, 2000, dt, salt++);
		checks += 10;
	}
	check_tolerance(c, 50000);
	checks++;
	if (sx_coll_rank(c) == 0)
		printf("full: %d checks on %d ranks, %d nodes\n", checks, sx_coll_size(c),
		       sx_coll_nnodes(c));
	return failures ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Scenario bytes                                                            */

/* QP payload, port frame bytes and retransmits on this rank's inter-node links. */
static void
counters(struct sx_coll_comm *c, uint64_t *v)
{
	if (sx_coll_stats_sum(c, SX_STATS_QP, "tx_bytes", 1, &v[0]) < 0 ||
	    sx_coll_stats_sum(c, SX_STATS_PORT, "tx_bytes", 1, &v[1]) < 0 ||
	    sx_coll_stats_sum(c, SX_STATS_QP, "retransmits", 1, &v[2]) < 0)
		FAIL("counters API");
}

static int
scenario_bytes(struct sx_coll_comm *c, bool flat)
{
	int n = sx_coll_size(c), N = sx_coll_nnodes(c), L = sx_coll_local_size(c);
	int r = sx_coll_rank(c), nodes_seen = 0, links, used, m;
	/* S in f32 divisible into N and n equal blocks for every topology
	 * tested (n up to 16, any N up to 4, n = 9), in one pipeline chunk. */
	size_t count = 4096 * 9 * 5 * 7, S = count * 4;
	float *buf = calloc(count, 4);
	int64_t mine[3], *all = calloc((size_t)n * 3, sizeof(int64_t));
	uint64_t b0, hier_node = 0, flat_node = 0, cnt0[3], cnt1[3];
	uint64_t want_hier = 2 * S * (uint64_t)(N - 1) / (uint64_t)N;
	uint64_t want_flat = 2 * S * (uint64_t)(n - 1) / (uint64_t)n;

	(void)L;
	sx_coll_set_algo(c, SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_RING);
	if (must(c, "flush", sx_coll_flush(c)))
		return -1;
	b0 = sx_coll_nic_tx_bytes(c);
	counters(c, cnt0);
	if (must(c, "allreduce leader-ring", sx_coll_allreduce(c, buf, buf, count, SX_COLL_F32,
							       SX_COLL_SUM)))
		return -1;
	mine[0] = (int64_t)(sx_coll_nic_tx_bytes(c) - b0);
	if (must(c, "flush", sx_coll_flush(c)))
		return -1;
	counters(c, cnt1);
	for (m = 0; m < 3; m++)
		cnt1[m] -= cnt0[m];
	if (must(c, "allreduce of counters",
		 sx_coll_allreduce(c, cnt1, cnt0, 3, SX_COLL_I64, SX_COLL_SUM)) == 0) {
		/* The counters API, all nodes together: QP payload = what was
		 * posted + 8-byte credit writes (one per 4 messages of 64 KiB)
		 * + resends; port frames = that + headers (58 B per frame of up
		 * to 4096 B payload) + ACK frames. */
		/* (+ 64 B: the flush's barrier, a tree all-reduce of one int) */
		uint64_t want_all = want_hier * (uint64_t)N, credits = want_all / (4 * 65536) + 16;
		uint64_t qp_max = want_all + 8 * credits + cnt0[2] * 4096;

		if (r == 0)
			printf("bytes: counters, all nodes: QP payload %" PRIu64 " B (posted %" PRIu64
			       "), port frames %" PRIu64 " B (x%.4f), %" PRIu64 " retransmits\n",
			       cnt0[0], want_all, cnt0[1], (double)cnt0[1] / (double)want_all,
			       cnt0[2]);
		if (cnt0[0] < want_all || cnt0[0] > qp_max)
			FAIL("QP tx_bytes %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]", cnt0[0],
			     want_all, qp_max);
		if (cnt0[1] < cnt0[0] || cnt0[1] > cnt0[0] + cnt0[0] / 4096 * 2 * 64 + 65536)
			FAIL("port tx_bytes %" PRIu64 " not within the header and ACK overhead "
			     "of %" PRIu64 " B of payload", cnt0[1], cnt0[0]);
	}
	mine[1] = 0;
	if (flat) {
		sx_coll_set_algo(c, SX_COLL_ALGO_FLAT, SX_COLL_HIER_LEADER, SX_COLL_INTER_RING);
		b0 = sx_coll_nic_tx_bytes(c);
		if (must(c, "allreduce flat",
			 sx_coll_allreduce(c, buf, buf, count, SX_COLL_F32, SX_COLL_SUM)))
			return -1;
		mine[1] = (int64_t)(sx_coll_nic_tx_bytes(c) - b0);
	}
	links = sx_coll_nic_links(c, &used);
	mine[2] = sx_coll_node(c);
	sx_coll_set_algo(c, SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_AUTO);
	if (must(c, "allgather of byte counts",
		 sx_coll_allgather(c, mine, all, 3, SX_COLL_I64)))
		return -1;
	for (m = 0; m < N; m++) {
		uint64_t h = 0, f = 0;
		int k;

		for (k = 0; k < n; k++)
			if (all[3 * k + 2] == m) {
				h += (uint64_t)all[3 * k];
				f += (uint64_t)all[3 * k + 1];
			}
		if (r == 0)
			printf("bytes: node %d: hierarchical %" PRIu64 " B (2S(N-1)/N = %" PRIu64
			       "), flat ring %" PRIu64 " B (2S(n-1)/n = %" PRIu64 "), S = %zu\n",
			       m, h, want_hier, f, want_flat, S);
		if (h != want_hier)
			FAIL("node %d sent %" PRIu64 " B in leader mode, want %" PRIu64, m, h,
			     want_hier);
		if (flat && N > 1 && f != want_flat)
			FAIL("node %d sent %" PRIu64 " B with the flat ring, want %" PRIu64, m, f,
			     want_flat);
		if (flat && N > 1 && n > N && f <= h)
			FAIL("node %d: the flat ring (%" PRIu64 " B) is not above the "
			     "hierarchical figure (%" PRIu64 " B)", m, f, h);
		hier_node += h;
		flat_node += f;
		nodes_seen++;
	}
	/* One QP per node pair: the leader has one link to each other node
	 * (leader link set), the other ranks none besides the flat ring's. */
	if (sx_coll_local_rank(c) == 0 && links < N - 1)
		FAIL("leader has %d inter-node links, want at least %d", links, N - 1);
	if (r == 0)
		printf("bytes: %d nodes, total hierarchical %" PRIu64 " B, flat %" PRIu64
		       " B (x%.2f)\n",
		       nodes_seen, hier_node, flat_node,
		       hier_node ? (double)flat_node / (double)hier_node : 0.0);
	free(buf);
	free(all);
	return failures ? -1 : 0;
}

/* Only leader links: exactly one QP between each pair of nodes. */
static int
scenario_pairs(struct sx_coll_comm *c)
{
	int N = sx_coll_nnodes(c), used, links = sx_coll_nic_links(c, &used);
	int want = sx_coll_local_rank(c) == 0 ? N - 1 : 0;

	if (links != want)
		FAIL("%d inter-node links (QPs), want %d: one per node pair", links, want);
	return scenario_bytes(c, false);
}

/* ------------------------------------------------------------------------ */

static int
scenario_faults(struct sx_coll_comm *c)
{
	int dt;

	for (dt = 0; dt < SX_COLL_DTYPE_MAX; dt += 2) {
		sx_coll_set_algo(c, SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_RING);
		check_allreduce(c, 200000, dt, SX_COLL_SUM, "leader-ring/faults", 50 + dt);
		sx_coll_set_algo(c, SX_COLL_ALGO_HIER, SX_COLL_HIER_LEADER, SX_COLL_INTER_RHD);
		check_allreduce(c, 3000, dt, SX_COLL_MAX, "leader-rhd/faults", 60 + dt);
		check_moves(c, 5000, dt, 70 + dt);
	}
	/* The faults happened, and the transport repaired them. */
	{
		uint64_t v, mine[4] = {0}, sum[4];

		if (sx_coll_stats_sum(c, SX_STATS_PORT, "fault_drop_tx", 0, &v) == 0)
			mine[0] = v;
		if (sx_coll_stats_sum(c, SX_STATS_PORT, "fault_reorder_tx", 0, &v) == 0)
			mine[1] = v;
		if (sx_coll_stats_sum(c, SX_STATS_PORT, "fault_reorder_rx", 0, &v) == 0)
			mine[2] = v;
		if (sx_coll_stats_sum(c, SX_STATS_QP, "retransmits", 0, &v) == 0)
			mine[3] = v;
		if (must(c, "allreduce of counters",
			 sx_coll_allreduce(c, mine, sum, 4, SX_COLL_I64, SX_COLL_SUM)) == 0) {
			if (sx_coll_rank(c) == 0)
				printf("faults: %" PRIu64 " frames dropped, %" PRIu64 " + %" PRIu64
				       " reordered (tx + rx), %" PRIu64 " retransmits\n",
				       sum[0], sum[1], sum[2], sum[3]);
			if (sum[0] == 0 || sum[1] + sum[2] == 0 || sum[3] == 0)
				FAIL("no fault was injected or nothing was retransmitted");
		}
	}
	if (sx_coll_rank(c) == 0 && !failures)
		printf("faults: results exact\n");
	return failures ? -1 : 0;
}

static int
scenario_kill(struct sx_coll_comm *c)
{
	size_t count = 1 << 20;
	float *buf = calloc(count, 4);
	int i, rc = 0;

	/* Until the launcher kills a rank: then every collective fails. A
	 * file says when the loop runs, so the kill lands mid-collective. */
	for (i = 0; i < 100000 && rc == 0; i++) {
		rc = sx_coll_allreduce(c, buf, buf, count, SX_COLL_F32, SX_COLL_MAX);
		if (i == 2) {
			char path[300];
			FILE *f;

			snprintf(path, sizeof(path), "%s/ready.%d", getenv("SCALEX_COLL_JOBDIR"),
				 sx_coll_rank(c));
			f = fopen(path, "w");
			if (f != NULL)
				fclose(f);
		}
	}
	free(buf);
	if (rc == 0) {
		FAIL("no error after %d all-reduces", i);
		return -1;
	}
	printf("rank %d: all-reduce returned %s, failed peer %d\n", sx_coll_rank(c),
	       strerror(-rc), sx_coll_failed_peer(c));
	if (rc != -EPIPE || sx_coll_failed_peer(c) != atoi(getenv("COLL_CHECK_KILL"))) {
		FAIL("the error does not name the killed rank %s", getenv("COLL_CHECK_KILL"));
		return -1;
	}
	return EXIT_PEER_FAILED;
}

/* A crash in a rank prints where, for whoever reads the test log. */
static void
on_crash(int sig)
{
	void *pc[64];
	int n = backtrace(pc, 64);
	static const char msg[] = "coll_check: fatal signal, backtrace:\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(128 + sig);
	backtrace_symbols_fd(pc, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
rank_main(const char *scenario)
{
	struct sx_coll_attr attr;
	struct sx_coll_comm *c;
	const char *q = getenv("COLL_CHECK_QUICK");
	double t0 = now_s();
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
#if !defined(__SANITIZE_ADDRESS__)
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
#endif
	if (sx_coll_attr_init(&attr) < 0) {
		fprintf(stderr, "no rank in the environment\n");
		return 2;
	}
	me_rank = attr.rank;
	if (strcmp(scenario, "pairs") == 0)
		attr.links = SX_COLL_LINKS_LEADER;
	else if (strcmp(scenario, "bytes") == 0)
		attr.links = SX_COLL_LINKS_LEADER | SX_COLL_LINKS_FLAT;
	if (strcmp(scenario, "pairs") == 0 || strcmp(scenario, "bytes") == 0)
		attr.chunk_bytes = 4096 * 9 * 5 * 7 * 4; /* one chunk: blocks divide evenly */
	else if (strcmp(scenario, "full") == 0 && getenv("SCALEX_COLL_LINKS") == NULL)
		attr.links = SX_COLL_LINKS_LEADER | SX_COLL_LINKS_RAIL | SX_COLL_LINKS_FLAT;
	c = sx_coll_comm_create(&attr);
	if (c == NULL) {
		fprintf(stderr, "rank %d: sx_coll_comm_create: %s\n", attr.rank, strerror(errno));
		return 1;
	}
	if (attr.rank == 0)
		printf("rank 0: communicator up in %.2f s\n", now_s() - t0);
	if (strcmp(scenario, "full") == 0)
		rc = scenario_full(c, attr.links, q != NULL && *q == '1');
	else if (strcmp(scenario, "bytes") == 0)
		rc = scenario_bytes(c, true);
	else if (strcmp(scenario, "pairs") == 0)
		rc = scenario_pairs(c);
	else if (strcmp(scenario, "faults") == 0)
		rc = scenario_faults(c);
	else if (strcmp(scenario, "kill") == 0)
		rc = scenario_kill(c);
	else
		rc = -1;
	/* After a failure the communicator only frees (no barrier with the dead). */
	if (sx_coll_comm_destroy(c) < 0 && rc == 0)
		FAIL("destroy");
	if (rc == EXIT_PEER_FAILED)
		return rc;
	if (attr.rank == 0 || failures)
		printf("rank %d: %s %s in %.2f s\n", attr.rank, scenario, failures ? "FAIL" : "PASS",
		       now_s() - t0);
	return failures || rc < 0 ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Launcher                                                                  */

static int
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
remove_glob(const char *pattern)
{
	glob_t g;
	size_t i;

	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.gl_pathv[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "launcher: could not remove %s\n", g.gl_pathv[i]);
	}
	globfree(&g);
}

static int
launcher(int argc, char **argv)
{
	const char *scenario = "full", *fault_tx = NULL, *fault_rx = NULL;
	int nodes = 2, local = 2, kill_rank = -1, kill_ms = 300, timeout_s = 120, i, n;
	int port = free_port(), bad = 0, left;
	char dir[128], val[64], pattern[256];
	pid_t *pid;
	int *status;
	double t0 = now_s(), killed_at = 0, ready_at = 0;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: missing value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--nodes") == 0)
			nodes = atoi(argv[++i]);
		else if (strcmp(argv[i], "--local") == 0)
			local = atoi(argv[++i]);
		else if (strcmp(argv[i], "--scenario") == 0)
			scenario = argv[++i];
		else if (strcmp(argv[i], "--kill") == 0)
			kill_rank = atoi(argv[++i]);
		else if (strcmp(argv[i], "--kill-after-ms") == 0)
			kill_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_s = atoi(argv[++i]);
		else if (strcmp(argv[i], "--fault-tx") == 0)
			fault_tx = argv[++i];
		else if (strcmp(argv[i], "--fault-rx") == 0)
			fault_rx = argv[++i];
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	n = nodes * local;
	if (n <= 0 || port < 0 || (kill_rank >= n))
		return 2;
	snprintf(dir, sizeof(dir), "/tmp/coll-check-%d", port);
	pid = calloc((size_t)n, sizeof(pid_t));
	status = calloc((size_t)n, sizeof(int));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("launcher: %d nodes x %d ranks, scenario %s, port %d\n", nodes, local, scenario,
	       port);
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			snprintf(val, sizeof(val), "%d", i);
			setenv("RANK", val, 1);
			snprintf(val, sizeof(val), "%d", n);
			setenv("WORLD_SIZE", val, 1);
			snprintf(val, sizeof(val), "%d", local);
			setenv("SCALEX_LOCAL_SIZE", val, 1);
			setenv("MASTER_ADDR", "127.0.0.1", 1);
			snprintf(val, sizeof(val), "%d", port);
			setenv("MASTER_PORT", val, 1);
			setenv("SCALEX_COLL_JOBDIR", dir, 1);
			snprintf(val, sizeof(val), "%d", kill_rank);
			setenv("COLL_CHECK_KILL", val, 1);
			if (fault_tx)
				setenv("SCALEX_COLL_FAULT_TX", fault_tx, 1);
			if (fault_rx)
				setenv("SCALEX_COLL_FAULT_RX", fault_rx, 1);
			/* Small pipeline chunks: the big sizes take several. */
			if (getenv("SCALEX_COLL_CHUNK") == NULL)
				setenv("SCALEX_COLL_CHUNK", "65536", 1);
			if (getenv("SCALEX_COLL_SHM_MB") == NULL)
				setenv("SCALEX_COLL_SHM_MB", "16", 1);
			setenv("SCALEX_COLL_TIMEOUT_MS", "20000", 0);
			_exit(rank_main(scenario));
		}
	}
	left = n;
	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {
			for (i = 0; i < n; i++)
				if (pid[i] == p) {
					status[i] = st;
					pid[i] = 0;
					left--;
				}
			continue;
		}
		if (kill_rank >= 0 && ready_at == 0) {
			snprintf(pattern, sizeof(pattern), "%s/ready.%d", dir, kill_rank);
			if (access(pattern, F_OK) == 0)
				ready_at = now_s();
		}
		if (kill_rank >= 0 && killed_at == 0 && ready_at > 0 &&
		    now_s() - ready_at > kill_ms / 1000.0 && pid[kill_rank] > 0) {
			printf("launcher: killing rank %d\n", kill_rank);
			kill(pid[kill_rank], SIGKILL);
			killed_at = now_s();
		}
		if (now_s() - t0 > timeout_s ||
		    (killed_at > 0 && now_s() - killed_at > 30)) {
			fprintf(stderr, "launcher: %d ranks still running after %.0f s%s\n", left,
				now_s() - t0, killed_at > 0 ? " (30 s after the kill)" : "");
			for (i = 0; i < n; i++)
				if (pid[i] > 0)
					kill(pid[i], SIGKILL);
			bad++;
			kill_rank = -2;
		}
		usleep(20000);
	}
	for (i = 0; i < n; i++) {
		int st = status[i];

		if (i == kill_rank)
			continue;
		if (WIFSIGNALED(st)) {
			fprintf(stderr, "launcher: rank %d died of signal %d\n", i, WTERMSIG(st));
			bad++;
		} else if (kill_rank >= 0 ? WEXITSTATUS(st) != EXIT_PEER_FAILED : WEXITSTATUS(st) != 0) {
			fprintf(stderr, "launcher: rank %d exited %d\n", i, WEXITSTATUS(st));
			bad++;
		}
	}
	if (killed_at > 0)
		printf("launcher: every other rank exited with the peer error %.2f s after the "
		       "kill\n",
		       now_s() - killed_at);
	/* What a killed or failed rank may have left. */
	remove_glob(dir);
	snprintf(pattern, sizeof(pattern), "/var/run/dpdk/sxc-%d-*", port);
	remove_glob(pattern);
	snprintf(pattern, sizeof(pattern), "/dev/shm/sxcoll-*");
	if (kill_rank >= 0) {
		glob_t g;

		/* The name is unlinked once mapped: nothing may remain. */
		if (glob(pattern, 0, NULL, &g) == 0) {
			fprintf(stderr, "launcher: %zu shared memory objects left\n", g.gl_pathc);
			globfree(&g);
			bad++;
		}
	}
	printf("launcher: %s in %.1f s\n", bad ? "FAIL" : "PASS", now_s() - t0);
	free(pid);
	free(status);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	const char *scenario = "full";
	int i;

	if (getenv("RANK") == NULL && getenv("OMPI_COMM_WORLD_RANK") == NULL)
		return launcher(argc, argv);
	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--scenario") == 0)
			scenario = argv[i + 1];
	return rank_main(scenario);
}
