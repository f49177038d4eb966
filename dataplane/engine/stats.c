/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters API (include/scalex/stats.h) over the context's port,
 * engine and QPs. The descriptor tables are built once, from the modules'
 * own name tables, so a counter added to a module appears here by itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <scalex/stats.h>

#include "context.h"

/* A port counter: its descriptor and where it lives in sx_port_stats. */
struct port_row {
	const char *name;
	const char *help;
	size_t off;
};

#define PORT_ROW(name, field, help) {name, help, offsetof(struct sx_port_stats, field)}

static const struct port_row port_rows[] = {
	PORT_ROW("rx_frames", rx_frames, "frames received from the device"),
	PORT_ROW("rx_bytes", rx_bytes, "bytes received from the device"),
	PORT_ROW("tx_frames", tx_frames, "frames handed to the device"),
	PORT_ROW("tx_bytes", tx_bytes, "bytes handed to the device"),
	PORT_ROW("tx_full", tx_full, "frames the device did not take (ring full)"),
	PORT_ROW("tx_drop", tx_drop, "frames taken but not sent: too long, or no peer"),
	PORT_ROW("rx_drop", rx_drop, "frames received but not delivered: too long, no buffer"),
	PORT_ROW("rx_linearized", rx_linearized, "multi-segment frames copied into one buffer"),
	PORT_ROW("capture_drop", capture_drop, "frames missing from the pcapng capture"),
	PORT_ROW("alloc_fail", alloc_fail, "frame buffer allocations that failed"),
	PORT_ROW("tx_ring_held", tx_ring_held,
		 "tx_alloc calls cut short: tx_ring_frames frames wait in the device's ring"),
	PORT_ROW("fault_drop_tx", fault_drop[0], "frames dropped by tx fault injection"),
	PORT_ROW("fault_drop_rx", fault_drop[1], "frames dropped by rx fault injection"),
	PORT_ROW("fault_reorder_tx", fault_reorder[0], "frames reordered by tx fault injection"),
	PORT_ROW("fault_reorder_rx", fault_reorder[1], "frames reordered by rx fault injection"),
	PORT_ROW("fault_duplicate_tx", fault_duplicate[0], "frames duplicated by tx fault injection"),
	PORT_ROW("fault_duplicate_rx", fault_duplicate[1], "frames duplicated by rx fault injection"),
	PORT_ROW("fault_corrupt_tx", fault_corrupt[0], "frames corrupted by tx fault injection"),
	PORT_ROW("fault_corrupt_rx", fault_corrupt[1], "frames corrupted by rx fault injection"),
	PORT_ROW("fault_ecn_tx", fault_ecn[0], "frames marked ECN-CE by tx fault injection"),
	PORT_ROW("fault_ecn_rx", fault_ecn[1], "frames marked ECN-CE by rx fault injection"),
};
#define NPORT (sizeof(port_rows) / sizeof(port_rows[0]))

/* Engine: four counters, then one drop counter per reason. */
enum { ENG_RX, ENG_TX, ENG_POLLS, ENG_PACED, ENG_FIXED };
#define NENGINE (ENG_FIXED + SX_EDROP_MAX)

/* QP: the QP module's counters, then its state. */
#define NQP (SX_QPC_MAX + 1)

enum { CC_RATE, CC_TARGET, CC_CWND, CC_ALPHA, NCC };

enum { PATH_ENTROPY, PATH_PKTS, PATH_ECN, PATH_LOSSES, PATH_RETIRED, NPATH };

static const char *const qp_help[SX_QPC_MAX] = {
	[SX_QPC_TX_PKTS] = "packets sent (data, responses, ACKs, CNPs)",
	[SX_QPC_TX_BYTES] = "payload bytes sent",
	[SX_QPC_RX_PKTS] = "packets received",
	[SX_QPC_RX_BYTES] = "payload bytes received",
	[SX_QPC_RETRANSMITS] = "packets sent again",
	[SX_QPC_TIMEOUTS] = "retransmit timer expiries",
	[SX_QPC_ECN_CE_RCVD] = "packets received marked ECN-CE",
	[SX_QPC_CNP_SENT] = "congestion notification packets sent",
	[SX_QPC_CNP_RCVD] = "congestion notification packets received",
};

static struct {
	pthread_once_t once;
	struct sx_stat_desc port[NPORT];
	struct sx_stat_desc engine[NENGINE];
	char drop_name[SX_EDROP_MAX][48];
	char drop_help[SX_EDROP_MAX][80];
	struct sx_stat_desc qp[NQP];
	char qp_help_buf[SX_QPC_MAX][80];
	struct sx_stat_desc cc[NCC];
	struct sx_stat_desc path[NPATH];
} T = {.once = PTHREAD_ONCE_INIT};

static void
tables_init(void)
{
	unsigned int i;

	for (i = 0; i < NPORT; i++)
		T.port[i] = (struct sx_stat_desc){SX_STATS_PORT, SX_STAT_COUNTER,
						  port_rows[i].name, port_rows[i].help};
	T.engine[ENG_RX] = (struct sx_stat_desc){SX_STATS_ENGINE, SX_STAT_COUNTER, "rx_frames",
						 "frames the engine took from the port"};
	T.engine[ENG_TX] = (struct sx_stat_desc){SX_STATS_ENGINE, SX_STAT_COUNTER, "tx_frames",
						 "frames the port accepted from the engine"};
	T.engine[ENG_POLLS] = (struct sx_stat_desc){SX_STATS_ENGINE, SX_STAT_COUNTER, "polls",
						    "engine rounds"};
	T.engine[ENG_PACED] = (struct sx_stat_desc){SX_STATS_ENGINE, SX_STAT_COUNTER, "paced",
						    "times a QP waited for its rate"};
	for (i = 0; i < SX_EDROP_MAX; i++) {
		snprintf(T.drop_name[i], sizeof(T.drop_name[i]), "drop_%s",
			 sx_engine_drop_name(i));
		snprintf(T.drop_help[i], sizeof(T.drop_help[i]),
			 "received frames dropped: %s", sx_engine_drop_name(i));
		T.engine[ENG_FIXED + i] = (struct sx_stat_desc){
		    SX_STATS_ENGINE, SX_STAT_COUNTER, T.drop_name[i], T.drop_help[i]};
	}
	for (i = 0; i < SX_QPC_MAX; i++) {
		const char *help = qp_help[i];

		if (help == NULL) {
			snprintf(T.qp_help_buf[i], sizeof(T.qp_help_buf[i]), "QP events: %s",
				 sx_qp_counter_name(i));
			help = T.qp_help_buf[i];
		}
		T.qp[i] = (struct sx_stat_desc){SX_STATS_QP, SX_STAT_COUNTER,
						sx_qp_counter_name(i), help};
	}
	T.qp[SX_QPC_MAX] = (struct sx_stat_desc){SX_STATS_QP, SX_STAT_GAUGE, "state",
						 "QP state: 0 reset, 1 ready to send, 2 error"};
	T.cc[CC_RATE] = (struct sx_stat_desc){SX_STATS_CC, SX_STAT_GAUGE, "rate_bps",
					      "sending rate granted by congestion control"};
	T.cc[CC_TARGET] = (struct sx_stat_desc){SX_STATS_CC, SX_STAT_GAUGE, "target_bps",
						"the algorithm's target rate (DCQCN Rt); 0: none"};
	T.cc[CC_CWND] = (struct sx_stat_desc){SX_STATS_CC, SX_STAT_GAUGE, "cwnd_bytes",
					      "bytes in flight allowed; 0: no window"};
	T.cc[CC_ALPHA] = (struct sx_stat_desc){SX_STATS_CC, SX_STAT_GAUGE, "alpha_ppm",
					       "DCQCN alpha in millionths; 0: none"};
	T.path[PATH_ENTROPY] = (struct sx_stat_desc){
	    SX_STATS_PATH, SX_STAT_GAUGE, "entropy",
	    "UDP source port the slot holds (spray, flowlet: the last one sent)"};
	T.path[PATH_PKTS] = (struct sx_stat_desc){SX_STATS_PATH, SX_STAT_COUNTER, "tx_pkts",
						  "request packets sent on the slot's entropies"};
	T.path[PATH_ECN] = (struct sx_stat_desc){
	    SX_STATS_PATH, SX_STAT_COUNTER, "ecn_marks",
	    "ACKs whose ECN-CE echo named one of the slot's entropies"};
	T.path[PATH_LOSSES] = (struct sx_stat_desc){
	    SX_STATS_PATH, SX_STAT_COUNTER, "losses",
	    "packets on the slot's entropies declared lost, and timeouts"};
	T.path[PATH_RETIRED] = (struct sx_stat_desc){
	    SX_STATS_PATH, SX_STAT_COUNTER, "retirements",
	    "times the policy replaced the slot's entropy (adaptive)"};
}

static uint64_t
path_value(const struct sx_path_slot *sl, unsigned int i)
{
	switch (i) {
	case PATH_ENTROPY:
		return sl->entropy;
	case PATH_PKTS:
		return sl->pkts;
	case PATH_ECN:
		return sl->ecn;
	case PATH_LOSSES:
		return sl->losses;
	default:
		return sl->retired;
	}
}

static uint64_t
engine_value(const struct sx_engine *e, unsigned int i)
{
	switch (i) {
	case ENG_RX:
		return e->stats.rx_frames;
	case ENG_TX:
		return e->stats.tx_frames;
	case ENG_POLLS:
		return e->stats.polls;
	case ENG_PACED:
		return e->stats.paced;
	default:
		return e->stats.drop[i - ENG_FIXED];
	}
}

static uint64_t
qp_value(const struct sx_qp *qp, unsigned int i)
{
	return i < SX_QPC_MAX ? qp->cnt[i] : (uint64_t)qp->state;
}

static uint64_t
cc_value(const struct sx_qp *qp, unsigned int i)
{
	switch (i) {
	case CC_RATE:
		return qp->cc.rate_bps;
	case CC_TARGET:
		return qp->cc.target_bps;
	case CC_CWND:
		return qp->cc.cwnd_bytes;
	default:
		return (uint64_t)(qp->cc.alpha * 1e6 + 0.5);
	}
}

/* Walk one scope; a non-zero callback value ends it. */
static int
walk(struct sx_context *ctx, enum sx_stats_scope scope, sx_stats_cb cb, void *arg)
{
	const struct sx_engine *e = &ctx->engine;
	unsigned int i;
	uint32_t q;
	int rc;

	switch (scope) {
	case SX_STATS_PORT:
		for (i = 0; i < NPORT; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&ctx->port->stats + port_rows[i].off, sizeof(v));
			if ((rc = cb(arg, &T.port[i], 0, v)) != 0)
				return rc;
		}
		return 0;
	case SX_STATS_ENGINE:
		for (i = 0; i < NENGINE; i++)
			if ((rc = cb(arg, &T.engine[i], 0, engine_value(e, i))) != 0)
				return rc;
		return 0;
	case SX_STATS_QP:
	case SX_STATS_CC:
		for (q = 0; q < e->nslots; q++) {
			const struct sx_qp *qp = e->qps[q];

			if (qp == NULL || (scope == SX_STATS_CC && qp->ccp == NULL))
				continue;
			for (i = 0; i < (scope == SX_STATS_QP ? NQP : NCC); i++) {
				rc = scope == SX_STATS_QP
					 ? cb(arg, &T.qp[i], qp->qpn, qp_value(qp, i))
					 : cb(arg, &T.cc[i], qp->qpn, cc_value(qp, i));
				if (rc != 0)
					return rc;
			}
		}
		return 0;
	case SX_STATS_PATH:
		for (q = 0; q < e->nslots; q++) {
			const struct sx_qp *qp = e->qps[q];

			if (qp == NULL)
				continue;
			for (unsigned int k = 0; k < qp->path.nslots && k < SX_PATH_SLOTS; k++)
				for (i = 0; i < NPATH; i++)
					if ((rc = cb(arg, &T.path[i], qp->qpn << 8 | k,
						     path_value(&qp->path.slot[k], i))) != 0)
						return rc;
		}
		return 0;
	default:
		return 0;
	}
}

int
sx_stats_foreach(struct sx_context *ctx, unsigned int scope_mask, sx_stats_cb cb, void *arg)
{
	int rc;

	if (ctx == NULL || cb == NULL)
		return -EINVAL;
	pthread_once(&T.once, tables_init);
	for (unsigned int s = 0; s < SX_STATS_SCOPE_MAX; s++) {
		if (!(scope_mask & (1u << s)))
			continue;
		if ((rc = walk(ctx, (enum sx_stats_scope)s, cb, arg)) != 0)
			return rc;
	}
	return 0;
}

struct find {
	uint32_t id;
	const char *name;
	uint64_t *value;
};

static int
find_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct find *f = arg;

	if (id != f->id || strcmp(d->name, f->name) != 0)
		return 0;
	*f->value = value;
	return 1;
}

int
sx_stats_get(struct sx_context *ctx, enum sx_stats_scope scope, uint32_t id, const char *name,
	     uint64_t *value)
{
	struct find f = {id, name, value};

	if (ctx == NULL || name == NULL || value == NULL || (unsigned int)scope >= SX_STATS_SCOPE_MAX)
		return -EINVAL;
	return sx_stats_foreach(ctx, 1u << scope, find_cb, &f) == 1 ? 0 : -ENOENT;
}

const char *
sx_stats_scope_name(enum sx_stats_scope scope)
{
	static const char *const names[SX_STATS_SCOPE_MAX] = {
	    [SX_STATS_PORT] = "port",
	    [SX_STATS_ENGINE] = "engine",
	    [SX_STATS_QP] = "qp",
	    [SX_STATS_CC] = "cc",
	    [SX_STATS_PATH] = "path",
	};

	return (unsigned int)scope < SX_STATS_SCOPE_MAX ? names[scope] : NULL;
}
