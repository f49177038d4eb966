/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collectives: intra-node stages in the node's shared memory (the
 * stand-in for an NVLink/NVSwitch domain), inter-node stages among the
 * node leaders (or one rail) over links (group.c). docs/collectives.md
 * has the cost model of each.
 *
 * Hierarchical all-reduce, per pipeline chunk q (buffer q % 2):
 *   in:  every local rank copies its chunk into its slot;
 *   rs:  each reducer sums one slice across the slots into the result
 *        (intra-node reduce-scatter);
 *   net: leader mode: local rank 0 all-reduces the whole result with the
 *        other leaders (the only inter-node flow of the node);
 *        rail mode: local rank i all-reduces slice i with local rank i of
 *        every node (one flow per node pair per rail);
 *   out: every rank copies the result out (intra-node all-gather).
 * In leader mode with more than one local rank, the leader does not
 * reduce: the others reduce chunk q+1 while it has chunk q on the network.
 * Each stage publishes a per-rank sequence in the shared control block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coll_priv.h"

#define F_IN  offsetof(struct sx_coll_shm_rank, in_seq)
#define F_RED offsetof(struct sx_coll_shm_rank, red_seq)
#define F_NET offsetof(struct sx_coll_shm_rank, net_seq)
#define F_OUT offsetof(struct sx_coll_shm_rank, out_seq)

static size_t
round64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

static int
wait_all(struct sx_coll_comm *c, size_t f, uint64_t want)
{
	int l, rc;

	for (l = 0; l < c->local_size; l++) {
		rc = sx_coll_shm_wait(c, l, f, want);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
check(struct sx_coll_comm *c, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	if (c->err)
		return c->err;
	if (dt >= SX_COLL_DTYPE_MAX || op >= SX_COLL_OP_MAX)
		return -EINVAL;
	return 0;
}

/* Sum @p n slots' [from, to) bytes into @p dst, slots in local-rank order. */
static void
reduce_slots(struct sx_coll_comm *c, uint8_t *const *slot, int n, uint8_t *dst, size_t from,
	     size_t to, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	int l;

	if (to <= from)
		return;
	memcpy(dst + from, slot[0] + from, to - from);
	for (l = 1; l < n; l++)
		sx_coll_reduce_fast(dst + from, slot[l] + from, (to - from) / sx_coll_dtype_size(dt),
				    dt, op);
	(void)c;
}

/* ------------------------------------------------------------------------ */
/* All-reduce                                                                */

struct ar_ctx {
	struct sx_coll_comm *c;
	const uint8_t *in;
	uint8_t *out;
	size_t count, ce, es;
	enum sx_coll_dtype dt;
	enum sx_coll_op op;
};

static uint8_t *
slot_of(struct sx_coll_comm *c, uint64_t q, int l, size_t chunk)
{
	return c->shm + ((size_t)(q % SX_COLL_NBUF) * (size_t)(c->local_size + 1) + (size_t)l) * chunk;
}

static void
chunk_range(const struct ar_ctx *a, size_t p, size_t *off, size_t *n)
{
	*off = p * a->ce;
	*n = a->count - *off < a->ce ? a->count - *off : a->ce;
}

static int
ar_copy_in(struct ar_ctx *a, size_t p)
{
	struct sx_coll_comm *c = a->c;
	uint64_t q = c->seq + p;
	size_t off, n;
	int rc;

	chunk_range(a, p, &off, &n);
	if (q >= SX_COLL_NBUF) {
		rc = wait_all(c, F_OUT, q - SX_COLL_NBUF + 1); /* the buffer is free */
		if (rc < 0)
			return rc;
	}
	memcpy(slot_of(c, q, c->local_rank, c->attr.chunk_bytes), a->in + off * a->es, n * a->es);
	sx_coll_shm_set(c, F_IN, q + 1);
	return 0;
}

/* Reduce slice @p j of @p nj of chunk @p p. */
static int
ar_reduce(struct ar_ctx *a, size_t p, int j, int nj)
{
	struct sx_coll_comm *c = a->c;
	uint64_t q = c->seq + p;
	uint8_t *slot[SX_COLL_MAX_LOCAL];
	size_t off, n;
	int l, rc;

	chunk_range(a, p, &off, &n);
	rc = wait_all(c, F_IN, q + 1);
	if (rc < 0)
		return rc;
	for (l = 0; l < c->local_size; l++)
		slot[l] = slot_of(c, q, l, c->attr.chunk_bytes);
	reduce_slots(c, slot, c->local_size, slot_of(c, q, c->local_size, c->attr.chunk_bytes),
		     n * (size_t)j / (size_t)nj * a->es, n * (size_t)(j + 1) / (size_t)nj * a->es,
		     a->dt, a->op);
	sx_coll_shm_set(c, F_RED, q + 1);
	return 0;
}

static int
ar_copy_out(struct ar_ctx *a, size_t p, int net_rank)
{
	struct sx_coll_comm *c = a->c;
	uint64_t q = c->seq + p;
	size_t off, n;
	int rc;

	chunk_range(a, p, &off, &n);
	if (net_rank >= 0)
		rc = sx_coll_shm_wait(c, net_rank, F_NET, q + 1);
	else
		rc = wait_all(c, F_NET, q + 1);
	if (rc < 0)
		return rc;
	memcpy(a->out + off * a->es, slot_of(c, q, c->local_size, c->attr.chunk_bytes), n * a->es);
	sx_coll_shm_set(c, F_OUT, q + 1);
	return 0;
}

static int
ar_leader(struct ar_ctx *a, size_t nchunks)
{
	struct sx_coll_comm *c = a->c;
	size_t p;
	int l, rc = 0;

	if (c->local_rank != 0) {
		/* Reducer j = local rank - 1 of local_size - 1; copy-out lags one
		 * chunk so that reducing chunk p overlaps the network of p - 1. */
		for (p = 0; p <= nchunks && rc == 0; p++) {
			if (p < nchunks) {
				rc = ar_copy_in(a, p);
				rc = rc ?: ar_reduce(a, p, c->local_rank - 1, c->local_size - 1);
			}
			if (rc == 0 && p > 0)
				rc = ar_copy_out(a, p - 1, 0);
		}
		return rc;
	}
	rc = ar_copy_in(a, 0);
	for (p = 0; p < nchunks && rc == 0; p++) {
		uint64_t q = c->seq + p;
		size_t off, n;

		if (p + 1 < nchunks)
			rc = ar_copy_in(a, p + 1);
		for (l = 1; l < c->local_size && rc == 0; l++)
			rc = sx_coll_shm_wait(c, l, F_RED, q + 1);
		if (rc)
			break;
		chunk_range(a, p, &off, &n);
		rc = sx_coll_group_allreduce(c, &c->leaders,
					     slot_of(c, q, c->local_size, c->attr.chunk_bytes), n,
					     a->dt, a->op, c->attr.inter);
		if (rc)
			break;
		sx_coll_shm_set(c, F_NET, q + 1);
		rc = ar_copy_out(a, p, 0);
	}
	return rc;
}

static int
ar_rail(struct ar_ctx *a, size_t nchunks)
{
	struct sx_coll_comm *c = a->c;
	size_t p;
	int rc = 0;

	for (p = 0; p < nchunks && rc == 0; p++) {
		uint64_t q = c->seq + p;
		size_t off, n, lo, hi;

		chunk_range(a, p, &off, &n);
		lo = n * (size_t)c->local_rank / (size_t)c->local_size;
		hi = n * (size_t)(c->local_rank + 1) / (size_t)c->local_size;
		rc = ar_copy_in(a, p);
		rc = rc ?: ar_reduce(a, p, c->local_rank, c->local_size);
		rc = rc ?: sx_coll_group_allreduce(
				    c, &c->rail,
				    slot_of(c, q, c->local_size, c->attr.chunk_bytes) + lo * a->es,
				    hi - lo, a->dt, a->op, c->attr.inter);
		if (rc)
			break;
		sx_coll_shm_set(c, F_NET, q + 1);
		rc = ar_copy_out(a, p, -1);
	}
	return rc;
}

static int
rail_ok(const struct sx_coll_comm *c)
{
	int m;

	for (m = 0; m < c->nnodes; m++)
		if (c->node_size[m] != c->local_size)
			return 0;
	return c->rail.n == c->nnodes && (c->attr.links & SX_COLL_LINKS_RAIL);
}

static int
allreduce_impl(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		  enum sx_coll_dtype dt, enum sx_coll_op op)
{
	struct ar_ctx a = {c, sendbuf, recvbuf, count, 0, sx_coll_dtype_size(dt), dt, op};
	size_t nchunks;
	int rc = check(c, dt, op);

	if (rc)
		return rc;
	if (count == 0)
		return 0;
	if (c->attr.algo == SX_COLL_ALGO_FLAT) {
		size_t *off;
		int b;

		if (!(c->attr.links & SX_COLL_LINKS_FLAT))
			return -EINVAL;
		if (sendbuf != recvbuf)
			memmove(recvbuf, sendbuf, count * a.es);
		if (c->size == 1)
			return 0;
		off = malloc(sizeof(size_t) * (size_t)(c->size + 1));
		if (off == NULL)
			return -ENOMEM;
		for (b = 0; b <= c->size; b++)
			off[b] = count * (size_t)b / (size_t)c->size;
		rc = sx_coll_group_ring_rs(c, &c->ring, recvbuf, off, dt, op);
		rc = rc ?: sx_coll_group_ring_ag(c, &c->ring, recvbuf, off, a.es);
		free(off);
		return rc;
	}
	if (c->local_size == 1) {
		/* Nothing to aggregate: the inter-node stage on the output. */
		if (sendbuf != recvbuf)
			memmove(recvbuf, sendbuf, count * a.es);
		return sx_coll_group_allreduce(c, &c->leaders, recvbuf, count, dt, op,
					       c->attr.inter);
	}
	a.ce = c->attr.chunk_bytes / a.es;
	nchunks = (count + a.ce - 1) / a.ce;
	if (c->attr.hier == SX_COLL_HIER_RAIL) {
		if (!rail_ok(c))
			return -EINVAL;
		rc = ar_rail(&a, nchunks);
	} else {
		if (c->nnodes > 1 && !(c->attr.links & SX_COLL_LINKS_LEADER))
			return -EINVAL;
		rc = ar_leader(&a, nchunks);
	}
	c->seq += nchunks;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Non-pipelined collectives: whole buffers staged in shared memory, after  */
/* the all-reduce buffers (an all-reduce ends without a barrier).            */

/* Where rank r's block sits when blocks are packed node by node. */
static size_t
packed_pos(const struct sx_coll_comm *c, int r)
{
	size_t pos = 0;
	int m;

	for (m = 0; m < c->node_of[r]; m++)
		pos += (size_t)c->node_size[m];
	return pos + (size_t)c->local_of[r];
}

/* Node blocks in packed order, @p per elements per rank. */
static size_t *
node_offsets(const struct sx_coll_comm *c, size_t per)
{
	size_t *off = malloc(sizeof(size_t) * (size_t)(c->nnodes + 1));
	int m;

	if (off == NULL)
		return NULL;
	off[0] = 0;
	for (m = 0; m < c->nnodes; m++)
		off[m + 1] = off[m] + (size_t)c->node_size[m] * per;
	return off;
}

static int
fits(const struct sx_coll_comm *c, size_t bytes)
{
	return bytes <= c->stage_bytes ? 0 : -E2BIG;
}

static int
reduce_scatter_impl(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		       enum sx_coll_dtype dt, enum sx_coll_op op)
{
	size_t es = sx_coll_dtype_size(dt), blk = count * es, t = round64(blk * (size_t)c->size);
	uint8_t *slot[SX_COLL_MAX_LOCAL], *res;
	size_t *off = NULL;
	int l, r, rc = check(c, dt, op);

	rc = rc ?: fits(c, t * (size_t)(c->local_size + 1));
	if (rc || count == 0)
		return rc;
	for (l = 0; l < c->local_size; l++)
		slot[l] = c->stage + (size_t)l * t;
	res = c->stage + (size_t)c->local_size * t;
	memcpy(slot[c->local_rank], sendbuf, blk * (size_t)c->size);
	rc = sx_coll_shm_barrier(c);
	/* Intra-node: rank r's block is reduced by local rank r % L, into
	 * its packed place. */
	for (r = c->local_rank; rc == 0 && r < c->size; r += c->local_size) {
		uint8_t *s[SX_COLL_MAX_LOCAL];

		for (l = 0; l < c->local_size; l++)
			s[l] = slot[l] + (size_t)r * blk;
		reduce_slots(c, s, c->local_size, res + packed_pos(c, r) * blk - 0, 0, blk, dt,
			     op);
	}
	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0 && c->local_rank == 0 && c->nnodes > 1) {
		off = node_offsets(c, count);
		rc = off ? sx_coll_group_ring_rs(c, &c->leaders, res, off, dt, op) : -ENOMEM;
	}
	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0)
		memcpy(recvbuf, res + packed_pos(c, c->rank) * blk, blk);
	rc = rc ?: sx_coll_shm_barrier(c);
	free(off);
	return rc;
}

static int
allgather_impl(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		  enum sx_coll_dtype dt)
{
	size_t es = sx_coll_dtype_size(dt), blk = count * es;
	size_t *off = NULL;
	int r, rc = check(c, dt, SX_COLL_SUM);

	rc = rc ?: fits(c, blk * (size_t)c->size);
	if (rc || count == 0)
		return rc;
	memcpy(c->stage + packed_pos(c, c->rank) * blk, sendbuf, blk);
	rc = sx_coll_shm_barrier(c);
	if (rc == 0 && c->local_rank == 0 && c->nnodes > 1) {
		off = node_offsets(c, count);
		rc = off ? sx_coll_group_ring_ag(c, &c->leaders, c->stage, off, es) : -ENOMEM;
	}
	rc = rc ?: sx_coll_shm_barrier(c);
	for (r = 0; rc == 0 && r < c->size; r++)
		memcpy((uint8_t *)recvbuf + (size_t)r * blk, c->stage + packed_pos(c, r) * blk, blk);
	rc = rc ?: sx_coll_shm_barrier(c);
	free(off);
	return rc;
}

static int
broadcast_impl(struct sx_coll_comm *c, void *buf, size_t count, enum sx_coll_dtype dt,
		  int root)
{
	size_t bytes = count * sx_coll_dtype_size(dt);
	int rc = check(c, dt, SX_COLL_SUM);

	if (rc == 0 && (root < 0 || root >= c->size))
		rc = -EINVAL;
	rc = rc ?: fits(c, bytes);
	if (rc || count == 0)
		return rc;
	if (c->rank == root)
		memcpy(c->stage, buf, bytes);
	rc = sx_coll_shm_barrier(c);
	if (rc == 0 && c->local_rank == 0 && c->nnodes > 1)
		rc = sx_coll_group_bcast(c, &c->leaders, c->stage, bytes, c->node_of[root]);
	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0 && c->rank != root)
		memcpy(buf, c->stage, bytes);
	rc = rc ?: sx_coll_shm_barrier(c);
	return rc;
}

static int
reduce_impl(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count,
	       enum sx_coll_dtype dt, enum sx_coll_op op, int root)
{
	size_t es = sx_coll_dtype_size(dt), bytes = count * es, t = round64(bytes);
	uint8_t *slot[SX_COLL_MAX_LOCAL], *res;
	int l, rc = check(c, dt, op);

	if (rc == 0 && (root < 0 || root >= c->size))
		rc = -EINVAL;
	rc = rc ?: fits(c, t * (size_t)(c->local_size + 1));
	if (rc || count == 0)
		return rc;
	for (l = 0; l < c->local_size; l++)
		slot[l] = c->stage + (size_t)l * t;
	res = c->stage + (size_t)c->local_size * t;
	memcpy(slot[c->local_rank], sendbuf, bytes);
	rc = sx_coll_shm_barrier(c);
	if (rc == 0)
		reduce_slots(c, slot, c->local_size, res,
			     count * (size_t)c->local_rank / (size_t)c->local_size * es,
			     count * (size_t)(c->local_rank + 1) / (size_t)c->local_size * es, dt,
			     op);
	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0 && c->local_rank == 0 && c->nnodes > 1)
		rc = sx_coll_group_reduce(c, &c->leaders, res, count, dt, op, c->node_of[root]);
	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0 && c->rank == root)
		memcpy(recvbuf, res, bytes);
	rc = rc ?: sx_coll_shm_barrier(c);
	return rc;
}

static int
barrier_impl(struct sx_coll_comm *c)
{
	int32_t one = 1;
	int rc = check(c, SX_COLL_I32, SX_COLL_SUM);

	rc = rc ?: sx_coll_shm_barrier(c);
	if (rc == 0 && c->local_rank == 0 && c->nnodes > 1)
		rc = sx_coll_group_allreduce(c, &c->leaders, &one, 1, SX_COLL_I32, SX_COLL_SUM,
					     SX_COLL_INTER_TREE);
	rc = rc ?: sx_coll_shm_barrier(c);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* All-to-all(v)                                                             */

/*
 * Shared layout: counts (every local rank's sendcounts and recvcounts, one
 * row of size entries each), then each local rank's send data packed in
 * destination order, then the leader's inbox, one region per source node.
 * The message from node m to node n holds, for each source s of m in local
 * order and each destination d of n in local order, the block s -> d; both
 * leaders know its layout: the sender from the sendcounts, the receiver
 * from its ranks' recvcounts.
 */
static int
alltoallv_impl(struct sx_coll_comm *c, const void *sendbuf, const size_t *sendcounts,
		  const size_t *sdispls, void *recvbuf, const size_t *recvcounts,
		  const size_t *rdispls, enum sx_coll_dtype dt)
{
	size_t es = sx_coll_dtype_size(dt), n = (size_t)c->size, L = (size_t)c->local_size;
	uint64_t *cnt = (uint64_t *)c->stage; /* [L][2][n] */
	size_t meta = round64(L * 2 * n * sizeof(uint64_t));
	size_t *sbase = NULL, *ibase = NULL, *obase = NULL, total_send = 0, total_in = 0;
	uint8_t *out = NULL;
	struct sx_coll_xop *ops = NULL;
	int l, d, m, k = 0, rc = check(c, dt, SX_COLL_SUM);

	if (rc)
		return rc;
	if (sendbuf == recvbuf)
		return -EINVAL;
	for (d = 0; d < c->size; d++) {
		cnt[((size_t)c->local_rank * 2) * n + (size_t)d] = sendcounts[d];
		cnt[((size_t)c->local_rank * 2 + 1) * n + (size_t)d] = recvcounts[d];
	}
	rc = sx_coll_shm_barrier(c);
	if (rc)
		return rc;
	rc = -ENOMEM;
	sbase = calloc(L + 1, sizeof(size_t));
	ibase = calloc((size_t)c->nnodes + 1, sizeof(size_t));
	obase = calloc((size_t)c->nnodes + 1, sizeof(size_t));
	ops = calloc(2 * (size_t)c->nnodes, sizeof(*ops));
	if (!sbase || !ibase || !obase || !ops)
		goto out;
	/* Send regions of the local ranks, then the inbox per source node. */
	sbase[0] = meta;
	for (l = 0; l < (int)L; l++) {
		size_t b = 0;

		for (d = 0; d < c->size; d++)
			b += cnt[((size_t)l * 2) * n + (size_t)d] * es;
		sbase[l + 1] = sbase[l] + round64(b);
	}
	ibase[0] = sbase[L];
	for (m = 0; m < c->nnodes; m++) {
		size_t b = 0;
		int s, dl;

		/* What node m sends here: what our ranks expect from m's ranks. */
		for (s = 0; m != c->node && s < c->node_size[m]; s++)
			for (dl = 0; dl < (int)L; dl++)
				b += cnt[((size_t)dl * 2 + 1) * n + (size_t)c->node_ranks[m][s]] * es;
		ibase[m + 1] = ibase[m] + round64(b);
	}
	rc = fits(c, ibase[c->nnodes]);
	if (rc)
		goto out;
	/* My data, packed by destination. */
	{
		uint8_t *p = c->stage + sbase[c->local_rank];

		for (d = 0; d < c->size; d++) {
			memcpy(p, (const uint8_t *)sendbuf + sdispls[d] * es, sendcounts[d] * es);
			p += sendcounts[d] * es;
		}
	}
	rc = sx_coll_shm_barrier(c);
	if (rc)
		goto out;
	if (c->local_rank == 0 && c->nnodes > 1) {
		/* Aggregate per destination node: one message per node pair. */
		obase[0] = 0;
		for (m = 0; m < c->nnodes; m++) {
			size_t b = 0;
			int dd;

			for (l = 0; m != c->node && l < (int)L; l++)
				for (dd = 0; dd < c->node_size[m]; dd++)
					b += cnt[((size_t)l * 2) * n + (size_t)c->node_ranks[m][dd]] * es;
			obase[m + 1] = obase[m] + b;
		}
		total_send = obase[c->nnodes];
		out = malloc(total_send ? total_send : 1);
		if (out == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (m = 0; m < c->nnodes; m++) {
			uint8_t *p = out + obase[m];
			int dd;

			if (m == c->node)
				continue;
			for (l = 0; l < (int)L; l++) {
				size_t o = 0;

				for (d = 0; d < c->size; d++) {
					size_t b = cnt[((size_t)l * 2) * n + (size_t)d] * es;

					if (c->node_of[d] == m)
						for (dd = 0; dd < c->node_size[m]; dd++)
							if (c->node_ranks[m][dd] == d) {
								memcpy(p, c->stage + sbase[l] + o, b);
								p += b;
							}
					o += b;
				}
			}
			ops[k++] = (struct sx_coll_xop){.kind = SX_XOP_SEND,
							.peer = c->node_ranks[m][0],
							.src = out + obase[m],
							.len = obase[m + 1] - obase[m]};
			ops[k++] = (struct sx_coll_xop){.kind = SX_XOP_RECV_COPY,
							.peer = c->node_ranks[m][0],
							.dst = c->stage + ibase[m],
							.len = 0};
			/* The inbox length without the padding. */
			for (l = 0; l < c->node_size[m]; l++)
				for (dd = 0; dd < (int)L; dd++)
					ops[k - 1].len +=
						cnt[((size_t)dd * 2 + 1) * n +
						    (size_t)c->node_ranks[m][l]] * es;
		}
		total_in = 0;
		rc = sx_coll_run(c, ops, k);
		if (rc)
			goto out;
	}
	rc = sx_coll_shm_barrier(c);
	if (rc)
		goto out;
	/* Out: from the local ranks' send regions, or the inbox of the
	 * source's node. */
	for (d = 0; d < c->size; d++) {
		size_t b = recvcounts[d] * es, o = 0;
		int sl = c->local_of[d], sm = c->node_of[d], x, y;
		uint8_t *src;

		if (sm == c->node) {
			for (x = 0; x < c->rank; x++)
				o += cnt[((size_t)sl * 2) * n + (size_t)x] * es;
			src = c->stage + sbase[sl] + o;
		} else {
			/* In node sm's message: sources before d, then for d the
			 * destinations (our local ranks) before me. */
			for (x = 0; x < c->node_size[sm]; x++)
				for (y = 0; y < (int)L; y++) {
					if (x == sl && y == c->local_rank)
						goto found;
					o += cnt[((size_t)y * 2 + 1) * n +
						 (size_t)c->node_ranks[sm][x]] * es;
				}
found:
			src = c->stage + ibase[sm] + o;
		}
		memcpy((uint8_t *)recvbuf + rdispls[d] * es, src, b);
	}
	rc = sx_coll_shm_barrier(c);
out:
	(void)total_in;
	free(out);
	free(sbase);
	free(ibase);
	free(obase);
	free(ops);
	return rc;
}

static int
alltoall_impl(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count,
		 enum sx_coll_dtype dt)
{
	size_t *v = malloc(sizeof(size_t) * 2 * (size_t)c->size);
	int i, rc;

	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < c->size; i++) {
		v[i] = count;
		v[c->size + i] = count * (size_t)i;
	}
	rc = sx_coll_alltoallv(c, sendbuf, v, v + c->size, recvbuf, v, v + c->size, dt);
	free(v);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Entry points: the communicator's thread owns the links for the call       */
/* (sx_coll_enter); between calls the progress thread keeps them answered.  */

int
sx_coll_allreduce(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	int rc;

	sx_coll_enter(c);
	rc = allreduce_impl(c, sendbuf, recvbuf, count, dt, op);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_reduce_scatter(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	int rc;

	sx_coll_enter(c);
	rc = reduce_scatter_impl(c, sendbuf, recvbuf, count, dt, op);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_allgather(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count, enum sx_coll_dtype dt)
{
	int rc;

	sx_coll_enter(c);
	rc = allgather_impl(c, sendbuf, recvbuf, count, dt);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_broadcast(struct sx_coll_comm *c, void *buf, size_t count, enum sx_coll_dtype dt, int root)
{
	int rc;

	sx_coll_enter(c);
	rc = broadcast_impl(c, buf, count, dt, root);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_reduce(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count, enum sx_coll_dtype dt, enum sx_coll_op op, int root)
{
	int rc;

	sx_coll_enter(c);
	rc = reduce_impl(c, sendbuf, recvbuf, count, dt, op, root);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_barrier(struct sx_coll_comm *c)
{
	int rc;

	sx_coll_enter(c);
	rc = barrier_impl(c);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_alltoallv(struct sx_coll_comm *c, const void *sendbuf, const size_t *sendcounts, const size_t *sdispls, void *recvbuf, const size_t *recvcounts, const size_t *rdispls, enum sx_coll_dtype dt)
{
	int rc;

	sx_coll_enter(c);
	rc = alltoallv_impl(c, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls, dt);
	sx_coll_leave(c);
	return rc;
}

int
sx_coll_alltoall(struct sx_coll_comm *c, const void *sendbuf, void *recvbuf, size_t count, enum sx_coll_dtype dt)
{
	int rc;

	sx_coll_enter(c);
	rc = alltoall_impl(c, sendbuf, recvbuf, count, dt);
	sx_coll_leave(c);
	return rc;
}
