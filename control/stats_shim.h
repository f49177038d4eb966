/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TEMPORARY: the counters API of include/scalex/stats.h (issue 9) until it
 * lands on main; same declarations, a thin implementation over the engine.
 * Deleted at the merge.
 */
#ifndef SX_CONTROL_STATS_SHIM_H
#define SX_CONTROL_STATS_SHIM_H

#include <stdint.h>

struct sx_context;

enum sx_stats_scope {
	SX_STATS_PORT,
	SX_STATS_ENGINE,
	SX_STATS_QP,
	SX_STATS_CC,
	SX_STATS_SCOPE_MAX,
};
enum sx_stat_type { SX_STAT_COUNTER, SX_STAT_GAUGE };
struct sx_stat_desc {
	enum sx_stats_scope scope;
	enum sx_stat_type type;
	const char *name;
	const char *help;
};
typedef int (*sx_stats_cb)(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value);
#define SX_STATS_ALL ((1u << SX_STATS_SCOPE_MAX) - 1)
int sx_stats_foreach(struct sx_context *ctx, unsigned int scope_mask, sx_stats_cb cb, void *arg);
int sx_stats_get(struct sx_context *ctx, enum sx_stats_scope scope, uint32_t id,
		 const char *name, uint64_t *value);
const char *sx_stats_scope_name(enum sx_stats_scope scope);

#endif
