/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collectives on the simulated fabric (sim/coll.h): the NIC transfers of
 * flat and hierarchical all-reduce and all-to-all(v) as dependent flows,
 * the NVLink stages as delays, and the figures (busbw with nccl-tests'
 * factors, NIC bytes per node) from the flows' completion times.
 *
 * A flow's completion is its WRITE's completion at the sender (the last
 * ACK), as for every flow of the simulator: the step it releases starts a
 * half round trip later than the data arrived, on both algorithms alike.
 * Reductions of received pieces are not charged (HBM at ~3 TB/s against a
 * 50-100 GB/s NIC), nor NVLink contention between the stages of different
 * chunks; the NVLink figures are NCCL's intra-node ones, a reduce-scatter
 * or all-gather over L GPUs moving (L-1)/L of the data per GPU.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coll.h"
#include "scenario_priv.h"
#include "workload.h"

struct sx_coll_plan {
	uint32_t N, L, n;
	uint32_t base;        /* creation number of the first flow */
	uint32_t nflows;
	uint32_t steps;       /* all-reduce ring: 2 (N-1) hier, 2 (n-1) flat */
	uint32_t nchunks;     /* hier all-reduce */
	uint64_t hop_ns;      /* flat all-reduce: one NVLink ring hop */
	uint64_t *t_out_ns;   /* hier all-reduce: per chunk, the all-gather */
	uint64_t *pack_ns;    /* hier all-to-all: per node */
	uint64_t *unpack_ns;  /* hier all-to-all: per node */
	uint64_t intra_ns;    /* flat all-to-all: the on-node blocks */
	uint64_t *nic_bytes;  /* per node, payload sent */
	uint64_t *nic_rx_bytes; /* per node, payload received */
	uint64_t nic_model;
};

/* An NVLink stage moving @p bytes per GPU, ns. */
static uint64_t
nv_ns(const struct sx_coll_cfg *c, uint64_t bytes)
{
	return c->nvlink_latency_ns + (uint64_t)ceil((double)bytes * 8e9 / (double)c->nvlink_bps);
}

/* Piece @p q of @p total bytes cut in @p parts: the remainder goes to the first. */
static uint64_t
piece(uint64_t total, uint32_t parts, uint32_t q)
{
	return total / parts + (q < total % parts);
}

static int
add(struct sx_scn *s, struct sx_coll_plan *p, uint32_t src, uint32_t dst, uint64_t bytes,
    uint64_t at_ns, uint32_t after, uint64_t delay_ns)
{
	struct sx_flow f = {src, dst, bytes, at_ns, SX_FLOW_INDEPENDENT};
	int rc = sx_scn_flow_add(s, &f, after == SCN_NO_FLOW ? SCN_NO_FLOW : p->base + after,
				 delay_ns);

	if (rc < 0)
		return rc;
	p->nic_bytes[src] += bytes;
	p->nic_rx_bytes[dst] += bytes;
	p->nflows++;
	return 0;
}

/*
 * Hierarchical all-reduce (leader): chunk p's ring among the node NICs
 * starts when the node has reduced it (the NVLink stage is serial, so at
 * the sum of the chunks' reduce-scatters so far) and when the host has
 * received the last piece of chunk p - D, D = pipeline_chunks (the
 * buffers: coll/ has two). Flow (p, i, k) is host i's step k of chunk p;
 * step k waits for step k - 1 of the host before it in the ring.
 */
static int
allreduce_hier(struct sx_scn *s, struct sx_coll_plan *p)
{
	const struct sx_coll_cfg *c = &s->cfg.coll;
	uint32_t N = p->N, K = 2 * (N - 1), i, k, q;
	uint64_t ready_ns = 0, chunk;
	uint32_t ch;
	int rc;

	p->steps = K;
	p->nchunks = (uint32_t)((c->bytes + c->chunk_bytes - 1) / c->chunk_bytes);
	p->t_out_ns = calloc(p->nchunks, sizeof(*p->t_out_ns));
	if (p->t_out_ns == NULL)
		return -ENOMEM;
	for (ch = 0; ch < p->nchunks; ch++) {
		chunk = c->bytes - (uint64_t)ch * c->chunk_bytes;
		if (chunk > c->chunk_bytes)
			chunk = c->chunk_bytes;
		if (p->L > 1) {
			ready_ns += nv_ns(c, chunk * (p->L - 1) / p->L);
			p->t_out_ns[ch] = nv_ns(c, chunk * (p->L - 1) / p->L);
		}
		for (i = 0; i < N; i++) {
			uint32_t prev = (i + N - 1) % N;

			for (k = 0; k < K; k++) {
				uint32_t after = SCN_NO_FLOW;

				/* reduce-scatter: piece i - k; all-gather: piece i + 1 - k' */
				q = k < N - 1 ? (i + N - k) % N : (i + 1 + N - (k - (N - 1))) % N;
				if (k > 0)
					after = (ch * N + prev) * K + k - 1;
				else if (ch >= c->pipeline_chunks)
					after = ((ch - c->pipeline_chunks) * N + prev) * K + K - 1;
				rc = add(s, p, i, (i + 1) % N, piece(chunk, N, q), ready_ns, after, 0);
				if (rc < 0)
					return rc;
			}
		}
	}
	p->nic_model = 2 * c->bytes * (N - 1) / N;
	return 0;
}

/*
 * Flat ring all-reduce over the n = N L GPUs, node by node: only the edge
 * from a node's last GPU to the next node's first crosses a NIC. Flow (i, k)
 * is that edge's step k out of node i: it carries what node i's last GPU
 * received at step k - 1, which entered node i through the NIC at step
 * k - L and then took L - 1 NVLink hops (for k < L: k hops from step 0).
 */
static int
allreduce_flat(struct sx_scn *s, struct sx_coll_plan *p)
{
	const struct sx_coll_cfg *c = &s->cfg.coll;
	uint32_t N = p->N, L = p->L, n = p->n, K = 2 * (n - 1), i, k;
	int rc;

	p->steps = K;
	p->hop_ns = nv_ns(c, piece(c->bytes, n, 0));
	for (i = 0; i < N; i++) {
		uint32_t prev = (i + N - 1) % N, r = i * L + L - 1;

		for (k = 0; k < K; k++) {
			uint32_t q = k < n - 1 ? (r + n - k) % n : (r + 1 + n - (k - (n - 1))) % n;

			if (k < L)
				rc = add(s, p, i, (i + 1) % N, piece(c->bytes, n, q), k * p->hop_ns,
					 SCN_NO_FLOW, 0);
			else
				rc = add(s, p, i, (i + 1) % N, piece(c->bytes, n, q), 0,
					 prev * K + k - L, (L - 1) * p->hop_ns);
			if (rc < 0)
				return rc;
		}
	}
	p->nic_model = 2 * c->bytes * (n - 1) / n;
	return 0;
}

/*
 * All-to-all(v): the GPUs' blocks from the MoE generator over n GPUs
 * (skewed by the [workload] moe_* keys), then per algorithm the NIC
 * messages: one per node pair after the senders' GPUs staged their blocks
 * (hier), or one per off-node GPU pair (flat).
 */
static int
alltoall(struct sx_scn *s, struct sx_coll_plan *p)
{
	const struct sx_coll_cfg *c = &s->cfg.coll;
	struct sx_wl_cfg wc = s->cfg.wl;
	struct sx_workload w;
	uint32_t N = p->N, L = p->L, n = p->n, g, h, a, b;
	uint64_t *pair = NULL, *in_off = NULL, *sent = NULL, intra_max = 0;
	int rc;

	wc.kind = SX_WL_MOE;
	wc.nhosts = n;
	wc.flow_bytes = c->bytes;
	wc.seed = s->cfg.seed;
	wc.dcs = 1;
	rc = sx_wl_init(&w, &wc);
	if (rc < 0)
		return rc;
	rc = -ENOMEM;
	pair = calloc((size_t)N * N, sizeof(*pair));
	in_off = calloc(n, sizeof(*in_off));
	sent = calloc(n, sizeof(*sent));
	p->pack_ns = calloc(N, sizeof(*p->pack_ns));
	p->unpack_ns = calloc(N, sizeof(*p->unpack_ns));
	if (pair == NULL || in_off == NULL || sent == NULL || p->pack_ns == NULL ||
	    p->unpack_ns == NULL)
		goto out;
	for (g = 0; g < n; g++) {
		uint64_t on = 0;

		for (h = 0; h < n; h++) {
			uint64_t m = w.moe_bytes[(size_t)g * n + h];

			sent[g] += m;
			if (g / L == h / L) {
				on += m;
				continue;
			}
			pair[(size_t)(g / L) * N + h / L] += m;
			in_off[h] += m;
		}
		if (on > intra_max)
			intra_max = on;
	}
	p->intra_ns = intra_max ? nv_ns(c, intra_max) : 0;
	for (a = 0; a < N; a++) {
		uint64_t smax = 0, imax = 0;

		for (g = a * L; g < (a + 1) * L; g++) {
			smax = sent[g] > smax ? sent[g] : smax;
			imax = in_off[g] > imax ? in_off[g] : imax;
		}
		p->pack_ns[a] = L > 1 && smax ? nv_ns(c, smax) : 0;
		p->unpack_ns[a] = L > 1 && imax ? nv_ns(c, imax) : 0;
	}
	rc = 0;
	if (c->algo == SX_COLL_HIER) {
		for (a = 0; a < N && rc == 0; a++) {
			for (b = 0; b < N && rc == 0; b++) {
				if (a != b && pair[(size_t)a * N + b] > 0)
					rc = add(s, p, a, b, pair[(size_t)a * N + b], p->pack_ns[a],
						 SCN_NO_FLOW, 0);
			}
		}
	} else {
		for (g = 0; g < n && rc == 0; g++) {
			for (h = 0; h < n && rc == 0; h++) {
				uint64_t m = w.moe_bytes[(size_t)g * n + h];

				if (g / L != h / L && m > 0)
					rc = add(s, p, g / L, h / L, m, 0, SCN_NO_FLOW, 0);
			}
		}
	}
out:
	sx_wl_fini(&w);
	free(pair);
	free(in_off);
	free(sent);
	return rc;
}

int
sx_scn_coll_flows(struct sx_scn *s, FILE *err)
{
	const struct sx_coll_cfg *c = &s->cfg.coll;
	struct sx_coll_plan *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	s->coll = p;
	p->N = s->nhosts;
	p->L = c->gpus_per_node;
	p->n = p->N * p->L;
	p->base = s->nflows;
	p->nic_bytes = calloc(p->N, sizeof(*p->nic_bytes));
	p->nic_rx_bytes = calloc(p->N, sizeof(*p->nic_rx_bytes));
	if (p->nic_bytes == NULL || p->nic_rx_bytes == NULL)
		return -ENOMEM;
	if (c->op == SX_COLL_ALLREDUCE)
		rc = c->algo == SX_COLL_HIER ? allreduce_hier(s, p) : allreduce_flat(s, p);
	else
		rc = alltoall(s, p);
	if (rc < 0 && err != NULL)
		fprintf(err, "[coll] %s %s: %s\n", sx_coll_op_names[c->op],
			sx_coll_algo_names[c->algo],
			rc == -E2BIG ? "too many flows; use larger chunk_bytes" : strerror(-rc));
	return rc;
}

void
sx_scn_coll_free(struct sx_scn *s)
{
	struct sx_coll_plan *p = s->coll;

	if (p == NULL)
		return;
	free(p->t_out_ns);
	free(p->pack_ns);
	free(p->unpack_ns);
	free(p->nic_bytes);
	free(p->nic_rx_bytes);
	free(p);
	s->coll = NULL;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int
sx_scn_coll_result(const struct sx_scn *s, struct sx_coll_result *r)
{
	const struct sx_coll_plan *p = s->coll;
	const struct sx_coll_cfg *c = &s->cfg.coll;
	uint64_t t0_ps = SCN_T0_NS * SX_PS_PER_NS, *end_ns = NULL, T = 0, busy_max = 0;
	uint32_t i, k, j;

	memset(r, 0, sizeof(*r));
	if (p == NULL)
		return -ENOENT;
	end_ns = calloc(p->nflows ? p->nflows : 1, sizeof(*end_ns));
	if (end_ns == NULL)
		return -ENOMEM;
	r->nodes = p->N;
	r->gpus = p->n;
	r->bytes = c->bytes;
	r->messages = p->nflows;
	r->nic_bytes_model = c->op == SX_COLL_ALLREDUCE ? p->nic_model : 0;
	r->nic_bytes_min = UINT64_MAX;
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *f = &s->flows[i];
		uint64_t e;

		if (f->seq < p->base || f->seq - p->base >= p->nflows)
			continue;
		e = f->end_ps > t0_ps ? (f->end_ps - t0_ps) / SX_PS_PER_NS : 0;
		end_ns[f->seq - p->base] = e;
		r->failed += f->failed || !f->finished;
		r->net_ns = max64(r->net_ns, e);
	}
	for (i = 0; i < p->N; i++) {
		r->nic_bytes_max = max64(r->nic_bytes_max, p->nic_bytes[i]);
		r->nic_rx_bytes_max = max64(r->nic_rx_bytes_max, p->nic_rx_bytes[i]);
		if (p->nic_bytes[i] < r->nic_bytes_min)
			r->nic_bytes_min = p->nic_bytes[i];
		r->nic_wire_bytes_max = max64(r->nic_wire_bytes_max, s->fab.host_up[i]->tx_bytes);
		busy_max = max64(busy_max, sx_fabric_busy_ps(&s->fab, s->fab.host_up[i]));
	}
	if (c->op == SX_COLL_ALLREDUCE && c->algo == SX_COLL_HIER) {
		/* node i's chunk ch: the last piece in from i - 1, then the all-gather */
		for (i = 0; i < p->N; i++) {
			uint32_t prev = (i + p->N - 1) % p->N;
			uint64_t d = 0;

			for (k = 0; k < p->nchunks; k++)
				d = max64(d, end_ns[((size_t)k * p->N + prev) * p->steps + p->steps - 1]) +
				    p->t_out_ns[k];
			T = max64(T, d);
		}
	} else if (c->op == SX_COLL_ALLREDUCE) {
		/* node i + 1's GPU j: its last piece entered the node at step K-1-j */
		for (i = 0; i < p->N; i++) {
			for (j = 0; j < p->L && j < p->steps; j++)
				T = max64(T, end_ns[(size_t)i * p->steps + p->steps - 1 - j] +
						     j * p->hop_ns);
		}
	} else if (c->algo == SX_COLL_HIER) {
		uint64_t *in_end = calloc(p->N, sizeof(*in_end));

		if (in_end == NULL) {
			free(end_ns);
			return -ENOMEM;
		}
		for (i = 0; i < s->nflows; i++) {
			const struct sx_scn_flowrec *f = &s->flows[i];

			if (f->seq >= p->base && f->seq - p->base < p->nflows)
				in_end[f->dst] = max64(in_end[f->dst], end_ns[f->seq - p->base]);
		}
		for (i = 0; i < p->N; i++)
			T = max64(T, max64(in_end[i], p->pack_ns[i]) + p->unpack_ns[i]);
		free(in_end);
	} else {
		T = max64(r->net_ns, p->intra_ns);
	}
	free(end_ns);
	r->time_ns = T;
	if (T > 0) {
		double n = p->n;

		r->algbw_gbs = (double)c->bytes / (double)T;
		r->busbw_gbs = r->algbw_gbs *
			       (c->op == SX_COLL_ALLREDUCE ? 2 * (n - 1) / n : (n - 1) / n);
		r->nic_util_max = (double)busy_max / ((double)T * SX_PS_PER_NS);
	}
	return 0;
}

int
sx_scn_coll_json(const struct sx_scn *s, json_t *root)
{
	const struct sx_coll_cfg *c = &s->cfg.coll;
	struct sx_coll_result r;
	json_t *o, *nic;
	uint32_t i;
	int rc;

	if (s->coll == NULL)
		return 0;
	rc = sx_scn_coll_result(s, &r);
	if (rc < 0)
		return rc;
	nic = json_array();
	for (i = 0; nic != NULL && i < s->coll->N; i++)
		json_array_append_new(nic, json_integer((json_int_t)s->coll->nic_bytes[i]));
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:o,s:I,s:I,s:I,s:I,s:I,s:f}", "op",
		      sx_coll_op_names[c->op], "algo", sx_coll_algo_names[c->algo], "nodes",
		      (json_int_t)r.nodes, "gpus_per_node", (json_int_t)c->gpus_per_node, "bytes",
		      (json_int_t)r.bytes, "chunk_bytes", (json_int_t)c->chunk_bytes, "time_us",
		      (double)r.time_ns / 1e3, "net_us", (double)r.net_ns / 1e3, "algbw_gbs",
		      r.algbw_gbs, "busbw_gbs", r.busbw_gbs, "nic_bytes_per_node", nic,
		      "nic_rx_bytes_max", (json_int_t)r.nic_rx_bytes_max, "nic_bytes_model",
		      (json_int_t)r.nic_bytes_model, "nic_wire_bytes_max",
		      (json_int_t)r.nic_wire_bytes_max, "messages", (json_int_t)r.messages,
		      "failed", (json_int_t)r.failed, "nic_util_max", r.nic_util_max);
	if (o == NULL)
		return -ENOMEM;
	return json_object_set_new(root, "coll", o) == 0 ? 0 : -ENOMEM;
}
