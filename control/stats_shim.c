/* SPDX-License-Identifier: BSD-3-Clause */
/* TEMPORARY shim of the counters API (stats_shim.h); deleted at the merge. */
#include <errno.h>
#include <string.h>

#include "../dataplane/engine/context.h"
#include "stats_shim.h"

static const struct sx_stat_desc port_desc[] = {
	{SX_STATS_PORT, SX_STAT_COUNTER, "rx_frames", "Frames the port received."},
	{SX_STATS_PORT, SX_STAT_COUNTER, "rx_bytes", "Bytes the port received."},
	{SX_STATS_PORT, SX_STAT_COUNTER, "tx_frames", "Frames the port sent."},
	{SX_STATS_PORT, SX_STAT_COUNTER, "tx_bytes", "Bytes the port sent."},
};
static const struct sx_stat_desc engine_desc[] = {
	{SX_STATS_ENGINE, SX_STAT_COUNTER, "polls", "Engine poll rounds."},
	{SX_STATS_ENGINE, SX_STAT_COUNTER, "paced", "Times a QP waited for its rate."},
};
static struct sx_stat_desc qp_desc[SX_QPC_MAX];
static const struct sx_stat_desc cc_desc[] = {
	{SX_STATS_CC, SX_STAT_GAUGE, "rate_bps", "Sending rate granted by CC, bit/s."},
	{SX_STATS_CC, SX_STAT_GAUGE, "target_bps", "CC target rate, bit/s."},
	{SX_STATS_CC, SX_STAT_GAUGE, "alpha_ppm", "DCQCN alpha, parts per million."},
};

const char *
sx_stats_scope_name(enum sx_stats_scope scope)
{
	static const char *const n[] = {"port", "engine", "qp", "cc"};

	return (unsigned int)scope < SX_STATS_SCOPE_MAX ? n[scope] : "unknown";
}

int
sx_stats_foreach(struct sx_context *ctx, unsigned int mask, sx_stats_cb cb, void *arg)
{
	struct sx_engine *e = &ctx->engine;
	const struct sx_port_stats *ps = &ctx->port->stats;
	uint64_t pv[] = {ps->rx_frames, ps->rx_bytes, ps->tx_frames, ps->tx_bytes};
	uint64_t ev[] = {e->stats.polls, e->stats.paced};
	int rc;

	for (unsigned int c = 0; c < SX_QPC_MAX; c++)
		qp_desc[c] = (struct sx_stat_desc){SX_STATS_QP, SX_STAT_COUNTER,
						   sx_qp_counter_name(c), "QP counter."};
	if (mask & (1u << SX_STATS_PORT))
		for (unsigned int i = 0; i < 4; i++)
			if ((rc = cb(arg, &port_desc[i], 0, pv[i])) != 0)
				return rc;
	if (mask & (1u << SX_STATS_ENGINE))
		for (unsigned int i = 0; i < 2; i++)
			if ((rc = cb(arg, &engine_desc[i], 0, ev[i])) != 0)
				return rc;
	if (mask & (1u << SX_STATS_QP))
		for (uint32_t s = 0; s < e->max_qps; s++)
			for (unsigned int c = 0; e->qps[s] != NULL && c < SX_QPC_MAX; c++)
				if ((rc = cb(arg, &qp_desc[c], e->qps[s]->qpn, e->qps[s]->cnt[c])) != 0)
					return rc;
	if (mask & (1u << SX_STATS_CC))
		for (uint32_t s = 0; s < e->max_qps; s++) {
			struct sx_qp *qp = e->qps[s];
			uint64_t v[3];

			if (qp == NULL || qp->ccp == NULL)
				continue;
			v[0] = qp->cc.rate_bps;
			v[1] = qp->cc.target_bps;
			v[2] = (uint64_t)(qp->cc.alpha * 1e6);
			for (unsigned int i = 0; i < 3; i++)
				if ((rc = cb(arg, &cc_desc[i], qp->qpn, v[i])) != 0)
					return rc;
		}
	return 0;
}

struct get_arg {
	enum sx_stats_scope scope;
	uint32_t id;
	const char *name;
	uint64_t *value;
};

static int
get_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct get_arg *g = arg;

	if (d->scope == g->scope && id == g->id && strcmp(d->name, g->name) == 0) {
		*g->value = value;
		return 1;
	}
	return 0;
}

int
sx_stats_get(struct sx_context *ctx, enum sx_stats_scope scope, uint32_t id, const char *name,
	     uint64_t *value)
{
	struct get_arg g = {scope, id, name, value};

	if ((unsigned int)scope >= SX_STATS_SCOPE_MAX)
		return -ENOENT;
	return sx_stats_foreach(ctx, 1u << scope, get_cb, &g) == 1 ? 0 : -ENOENT;
}
