/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inter-node algorithms among a group of ranks with a link to each other
 * (the node leaders, or the ranks of one rail). n members, S bytes, a
 * link with latency a and time per byte b (docs/collectives.md):
 *
 *   ring      reduce-scatter then all-gather, 2(n-1) steps of S/n:
 *             2(n-1)a + 2(n-1)/n S b; bandwidth-optimal, latency linear in n
 *   rhd       recursive halving (reduce-scatter) then doubling
 *             (all-gather), Rabenseifner [Thakur, Rabenseifner, Gropp,
 *             IJHPCA 2005]: 2 log2(n) a + 2(n-1)/n S b for n a power of
 *             two; other n fold their first 2r members in pairs first
 *             (r = n - 2^floor(log2 n)), one extra S each way
 *   tree      binomial reduce to member 0, binomial broadcast back:
 *             2 log2(n) (a + S b); for small S, where a dominates
 *
 * Every step posts its sends and receives together (sx_coll_run), so a
 * segment streams through the link in SX_LINK_MSG_BYTES messages while
 * the other direction is reduced on arrival.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coll_priv.h"

static int
peer(const struct sx_coll_group *g, int idx)
{
	return g->ranks[((idx % g->n) + g->n) % g->n];
}

static int
step(struct sx_coll_comm *c, int to, const uint8_t *src, size_t slen, int from, uint8_t *dst,
     size_t rlen, enum sx_coll_xop_kind kind, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	struct sx_coll_xop ops[2];
	int n = 0;

	if (to >= 0 && slen > 0)
		ops[n++] = (struct sx_coll_xop){.kind = SX_XOP_SEND, .peer = to, .src = src,
						.len = slen};
	if (from >= 0 && rlen > 0)
		ops[n++] = (struct sx_coll_xop){.kind = kind, .peer = from, .dst = dst,
						.len = rlen, .dt = dt, .op = op};
	return n ? sx_coll_run(c, ops, n) : 0;
}

int
sx_coll_group_ring_rs(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf,
		      const size_t *off, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	size_t es = sx_coll_dtype_size(dt);
	int n = g->n, me = g->me, s, rc;

	for (s = 0; s < n - 1; s++) {
		int sb = ((me - s - 1) % n + n) % n, rb = ((me - s - 2) % n + n) % n;

		rc = step(c, peer(g, me + 1), buf + off[sb] * es, (off[sb + 1] - off[sb]) * es,
			  peer(g, me - 1), buf + off[rb] * es, (off[rb + 1] - off[rb]) * es,
			  SX_XOP_RECV_REDUCE, dt, op);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
sx_coll_group_ring_ag(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf,
		      const size_t *off, size_t es)
{
	int n = g->n, me = g->me, s, rc;

	for (s = 0; s < n - 1; s++) {
		int sb = ((me - s) % n + n) % n, rb = ((me - s - 1) % n + n) % n;

		rc = step(c, peer(g, me + 1), buf + off[sb] * es, (off[sb + 1] - off[sb]) * es,
			  peer(g, me - 1), buf + off[rb] * es, (off[rb + 1] - off[rb]) * es,
			  SX_XOP_RECV_COPY, SX_COLL_I32, SX_COLL_SUM);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
ring_allreduce(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf, size_t count,
	       enum sx_coll_dtype dt, enum sx_coll_op op)
{
	size_t *off = malloc(sizeof(size_t) * (size_t)(g->n + 1));
	int b, rc;

	if (off == NULL)
		return -ENOMEM;
	for (b = 0; b <= g->n; b++)
		off[b] = count * (size_t)b / (size_t)g->n;
	rc = sx_coll_group_ring_rs(c, g, buf, off, dt, op);
	if (rc == 0)
		rc = sx_coll_group_ring_ag(c, g, buf, off, sx_coll_dtype_size(dt));
	free(off);
	return rc;
}

/* Recursive halving-doubling; see the file comment for non-powers of two. */
static int
rhd_allreduce(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf, size_t count,
	      enum sx_coll_dtype dt, enum sx_coll_op op)
{
	size_t es = sx_coll_dtype_size(dt), lo = 0, hi = count;
	size_t los[32], his[32];
	int n = g->n, me = g->me, p2 = 1, rem, vme, mask, depth = 0, rc;

	while (p2 * 2 <= n)
		p2 *= 2;
	rem = n - p2;
	/* Fold: of each pair (2i, 2i+1) below 2 rem, the odd one reduces both. */
	if (me < 2 * rem) {
		if (me % 2 == 0) {
			rc = step(c, peer(g, me + 1), buf, count * es, -1, NULL, 0, SX_XOP_RECV_COPY,
				  dt, op);
			vme = -1;
		} else {
			rc = step(c, -1, NULL, 0, peer(g, me - 1), buf, count * es,
				  SX_XOP_RECV_REDUCE, dt, op);
			vme = me / 2;
		}
		if (rc < 0)
			return rc;
	} else {
		vme = me - rem;
	}
	if (vme >= 0) {
		/* Halving: keep the half the lower partner owns, send the other. */
		for (mask = p2 / 2; mask >= 1; mask /= 2) {
			int vp = vme ^ mask;
			int pidx = vp < rem ? 2 * vp + 1 : vp + rem;
			size_t mid = lo + (hi - lo) / 2, klo, khi, slo, shi;

			if ((vme & mask) == 0) {
				klo = lo, khi = mid, slo = mid, shi = hi;
			} else {
				klo = mid, khi = hi, slo = lo, shi = mid;
			}
			rc = step(c, peer(g, pidx), buf + slo * es, (shi - slo) * es, peer(g, pidx),
				  buf + klo * es, (khi - klo) * es, SX_XOP_RECV_REDUCE, dt, op);
			if (rc < 0)
				return rc;
			los[depth] = lo;
			his[depth] = hi;
			depth++;
			lo = klo;
			hi = khi;
		}
		/* Doubling: the same partners in reverse, exchanging results. */
		for (mask = 1; mask < p2; mask *= 2) {
			int vp = vme ^ mask;
			int pidx = vp < rem ? 2 * vp + 1 : vp + rem;
			size_t plo, phi;

			depth--;
			/* The partner holds the other half of the enclosing range. */
			if (lo == los[depth]) {
				plo = hi;
				phi = his[depth];
			} else {
				plo = los[depth];
				phi = lo;
			}
			rc = step(c, peer(g, pidx), buf + lo * es, (hi - lo) * es, peer(g, pidx),
				  buf + plo * es, (phi - plo) * es, SX_XOP_RECV_COPY, dt, op);
			if (rc < 0)
				return rc;
			lo = los[depth];
			hi = his[depth];
		}
	}
	if (me < 2 * rem) {
		if (me % 2 == 1)
			rc = step(c, peer(g, me - 1), buf, count * es, -1, NULL, 0, SX_XOP_RECV_COPY,
				  dt, op);
		else
			rc = step(c, -1, NULL, 0, peer(g, me + 1), buf, count * es, SX_XOP_RECV_COPY,
				  dt, op);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
sx_coll_group_reduce(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
		     size_t count, enum sx_coll_dtype dt, enum sx_coll_op op, int root_idx)
{
	size_t bytes = count * sx_coll_dtype_size(dt);
	int n = g->n, vr = (g->me - root_idx + n) % n, mask, rc;

	/* Binomial: children, in increasing distance, then the parent. */
	for (mask = 1; mask < n; mask <<= 1) {
		if (vr & mask)
			return step(c, peer(g, vr - mask + root_idx), buf, bytes, -1, NULL, 0,
				    SX_XOP_RECV_COPY, dt, op);
		if (vr + mask < n) {
			rc = step(c, -1, NULL, 0, peer(g, vr + mask + root_idx), buf, bytes,
				  SX_XOP_RECV_REDUCE, dt, op);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int
sx_coll_group_bcast(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
		    size_t bytes, int root_idx)
{
	int n = g->n, vr = (g->me - root_idx + n) % n, mask = 1, rc;

	while (mask < n && !(vr & mask))
		mask <<= 1;
	if (vr != 0) {
		rc = step(c, -1, NULL, 0, peer(g, vr - mask + root_idx), buf, bytes,
			  SX_XOP_RECV_COPY, SX_COLL_I32, SX_COLL_SUM);
		if (rc < 0)
			return rc;
	}
	for (mask >>= 1; mask >= 1; mask >>= 1)
		if (vr + mask < n) {
			rc = step(c, peer(g, vr + mask + root_idx), buf, bytes, -1, NULL, 0,
				  SX_XOP_RECV_COPY, SX_COLL_I32, SX_COLL_SUM);
			if (rc < 0)
				return rc;
		}
	return 0;
}

/* Below this, latency dominates: the tree; up to the ring's threshold,
 * halving-doubling; above, the ring (fewest bytes per link per step). */
#define SX_COLL_TREE_MAX_BYTES (16u * 1024)
#define SX_COLL_RHD_MAX_BYTES  (512u * 1024)

int
sx_coll_group_allreduce(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
			size_t count, enum sx_coll_dtype dt, enum sx_coll_op op,
			enum sx_coll_inter alg)
{
	size_t bytes = count * sx_coll_dtype_size(dt);
	int rc;

	if (g->n <= 1 || count == 0)
		return 0;
	if (alg == SX_COLL_INTER_AUTO)
		alg = bytes <= SX_COLL_TREE_MAX_BYTES  ? SX_COLL_INTER_TREE
		      : bytes <= SX_COLL_RHD_MAX_BYTES ? SX_COLL_INTER_RHD
						       : SX_COLL_INTER_RING;
	switch (alg) {
	case SX_COLL_INTER_TREE:
		rc = sx_coll_group_reduce(c, g, buf, count, dt, op, 0);
		return rc ?: sx_coll_group_bcast(c, g, buf, bytes, 0);
	case SX_COLL_INTER_RHD:
		return rhd_allreduce(c, g, buf, count, dt, op);
	default:
		return ring_allreduce(c, g, buf, count, dt, op);
	}
}
