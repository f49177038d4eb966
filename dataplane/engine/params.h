/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live parameter store: for each group of parameters (cc, transport,
 * and path once it has a table) the global values and per-QP overrides,
 * every value validated against its group's table (struct sx_param rows:
 * name, unit, default, min, max, whole-number flag).
 *
 * Concurrency (liburcu, QSBR flavor): the store is one immutable snapshot
 * behind an RCU pointer. Writers (a control thread, or the engine thread
 * itself through sx_cc_param()) serialize on a mutex, copy the current
 * snapshot, change the copy, publish it with rcu_assign_pointer() and hand
 * the old one to call_rcu(). The engine thread reads the snapshot without a
 * lock in sx_param_store_poll() once per poll round and copies what changed
 * into its own state between two events, so a QP never sees half a change
 * and traffic never pauses.
 *
 * Why QSBR: the engine is a run-to-completion loop that already has a
 * natural quiescent point (the end of a poll round) and reads the store in
 * every round. QSBR makes the read side free (no counter increment, no
 * barrier: rcu_read_lock() is empty), at the price of announcing a
 * quiescent state per round (a load and a compare while no grace period is
 * pending) and of going offline around blocking sleeps (the idle backoff),
 * which the engine does anyway. The memb flavor would add a barrier to
 * every read; bp/signal would need signals or per-read registration checks.
 *
 * Units: whatever each row's unit says; values are doubles.
 */
#ifndef SX_ENGINE_PARAMS_H
#define SX_ENGINE_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../cc/cc.h"

#define SX_PARAM_MAX_GROUPS 4
#define SX_PARAM_MAX_OVERRIDES 1024 /* per-QP override slots (one per QP) */

/* A row flag beside SX_PARAM_INT: the value belongs to the context
 * (engine-wide), a per-QP override makes no sense. */
#define SX_PARAM_CTX_ONLY 0x100u

/* One group of parameters: a name ("cc", "transport", "path") and a table. */
struct sx_param_group {
	const char *name;
	const struct sx_param *rows;
	unsigned int n;
	/* For the cc group: the algorithm, for presets. NULL otherwise. */
	const struct sx_cc_ops *cc_ops;
};

/* A QP's overrides: bit i of set[g] means v[g][i] replaces the global value. */
struct sx_param_override {
	uint32_t qpn;
	uint32_t set[SX_PARAM_MAX_GROUPS];
	double v[SX_PARAM_MAX_GROUPS][SX_CC_MAX_PARAMS];
};

/* One immutable version. Readers must not keep a pointer past their next
 * quiescent state. */
struct sx_param_snap {
	uint64_t gen; /* 1, 2, ...: every publish adds one */
	double v[SX_PARAM_MAX_GROUPS][SX_CC_MAX_PARAMS];
	uint32_t novr;
	struct sx_param_override *ovr; /* novr, sorted by qpn */
};

struct sx_param_store;

/*
 * A store over @p groups (copied: the tables must outlive the store). Each
 * group starts at @p init[g] (NULL: the table's defaults, or the cc
 * algorithm's first preset). NULL with errno set on failure.
 */
struct sx_param_store *sx_param_store_create(const struct sx_param_group *groups,
					     unsigned int ngroups, const double *const *init);
/* Waits for every pending free (rcu_barrier()), then frees. The calling
 * thread must not hold a snapshot. */
void sx_param_store_destroy(struct sx_param_store *st);

unsigned int sx_param_store_ngroups(const struct sx_param_store *st);
const struct sx_param_group *sx_param_store_group(const struct sx_param_store *st,
						  unsigned int g);

/*
 * Find a parameter: "group.name" or a bare "name" that only one group has.
 * 0, -ENOENT (no such name), -EINVAL (ambiguous: give the group).
 */
int sx_param_lookup(const struct sx_param_store *st, const char *name, unsigned int *g,
		    unsigned int *i);

/*
 * Set @p name to @p value globally (qpn 0) or for one QP. 0, -ENOENT,
 * -EINVAL (ambiguous name, or a per-QP override of a context-only row),
 * -ERANGE (outside [min, max], NaN, fraction of a whole-number row),
 * -ENOSPC (too many QPs with overrides), -ENOMEM. Nothing changes on error.
 * Any thread; writers are serialized.
 */
int sx_param_store_set(struct sx_param_store *st, uint32_t qpn, const char *name, double value);
/* Drop one QP override (name) or all of a QP's overrides (name NULL). */
int sx_param_store_unset(struct sx_param_store *st, uint32_t qpn, const char *name);
/* Load a cc preset into the global cc values: 0, -ENOENT. */
int sx_param_store_preset(struct sx_param_store *st, const char *preset);

/*
 * The value a QP (or, qpn 0, the context) sees now; *overridden says
 * whether it is the QP's own. 0, -ENOENT, -EINVAL. Any thread.
 */
int sx_param_store_get(struct sx_param_store *st, uint32_t qpn, const char *name, double *value,
		       bool *overridden);

/* Generation of the current snapshot (cheap: one relaxed load). */
uint64_t sx_param_store_gen(const struct sx_param_store *st);

/* Called by sx_param_store_poll() with the new snapshot. */
typedef void (*sx_param_apply_fn)(void *arg, const struct sx_param_snap *snap);

/*
 * Reader side, from a registered RCU reader thread: if the store changed
 * since @p seen_gen, call @p apply with the current snapshot inside a
 * read-side section and return its generation; else return @p seen_gen.
 */
uint64_t sx_param_store_poll(struct sx_param_store *st, uint64_t seen_gen,
			     sx_param_apply_fn apply, void *arg);

/* The value of row @p i of group @p g for @p qpn in @p snap (override or global). */
double sx_param_snap_value(const struct sx_param_snap *snap, uint32_t qpn, unsigned int g,
			   unsigned int i);
/* The override block of @p qpn, or NULL. */
const struct sx_param_override *sx_param_snap_override(const struct sx_param_snap *snap,
						       uint32_t qpn);

/*
 * RCU reader registration of the calling thread, counted: the engine
 * thread calls sx_rcu_reader_get() for every context it drives and
 * sx_rcu_reader_put() when it closes one. sx_rcu_quiescent() once per poll
 * round; sx_rcu_offline()/sx_rcu_online() around blocking sleeps.
 */
void sx_rcu_reader_get(void);
void sx_rcu_reader_put(void);
void sx_rcu_quiescent(void);
void sx_rcu_offline(void);
void sx_rcu_online(void);

#endif
