/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Counters of a context, by name: the one way tools, the simulator, the
 * control socket, Prometheus export and tests read what the transport did.
 *
 * Objects come in scopes: the context's port (what the NIC carried), its
 * engine (frames, drops by reason), each QP (packets, retransmits, NAKs,
 * ECN and CNPs), each QP's congestion-control instance (the rate it
 * grants), and each entropy slot of a QP's path policy. A counter only grows; a gauge is a current value. Names are
 * snake_case with their unit as suffix (tx_bytes, rate_bps), stable across
 * releases; a new counter may appear, none is renamed.
 *
 * Threading: call from the thread that drives the context, like every
 * other call on it.
 */
#ifndef SCALEX_STATS_H
#define SCALEX_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sx_context;

enum sx_stats_scope {
	SX_STATS_PORT,   /**< the context's port: one object, id 0 */
	SX_STATS_ENGINE, /**< the context's engine: one object, id 0 */
	SX_STATS_QP,     /**< one object per QP, id = QPN */
	SX_STATS_CC,     /**< one object per QP that has CC, id = QPN */
	/** one object per counter slot of a QP's path policy (an entropy it
	 *  keeps, or for spray and flowlet a bucket of entropies: index mod 16),
	 *  id = QPN << 8 | slot (docs/multipath.md) */
	SX_STATS_PATH,
	SX_STATS_SCOPE_MAX,
};

/** Every scope, for sx_stats_foreach(). */
#define SX_STATS_ALL ((1u << SX_STATS_SCOPE_MAX) - 1)

enum sx_stat_type {
	SX_STAT_COUNTER, /**< only grows */
	SX_STAT_GAUGE,   /**< a current value */
};

struct sx_stat_desc {
	enum sx_stats_scope scope;
	enum sx_stat_type type;
	const char *name; /**< snake_case, unit suffix: tx_bytes, rate_bps, drop_bad_icrc */
	const char *help; /**< one sentence, for Prometheus HELP and docs */
};

/** Called once per (object, counter); non-zero stops the walk and is returned. */
typedef int (*sx_stats_cb)(void *arg, const struct sx_stat_desc *d, uint32_t id,
			   uint64_t value);

/**
 * Every counter of every object in the scopes of @p scope_mask
 * (bit 1u << scope), in a stable order: by scope, then object id, then the
 * counter's place in its table. Returns 0, a callback's non-zero value, or
 * -EINVAL.
 */
int sx_stats_foreach(struct sx_context *ctx, unsigned int scope_mask, sx_stats_cb cb,
		     void *arg);

/** One value: 0, -ENOENT (no such object or counter) or -EINVAL. */
int sx_stats_get(struct sx_context *ctx, enum sx_stats_scope scope, uint32_t id,
		 const char *name, uint64_t *value);

/** "port", "engine", "qp", "cc", "path"; NULL past the end. */
const char *sx_stats_scope_name(enum sx_stats_scope scope);

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_STATS_H */
