/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Live access to a running context (docs/tuning.md): its parameters, read
 * and changed from any thread without pausing traffic, and requests run on
 * the thread that drives it. The control plane (include/scalex/control.h,
 * scalex-ctl) is built on these.
 *
 * Parameters live in groups: "cc" (the algorithm's table, docs/cc.md) and
 * "transport" (engine-wide knobs). A name is "group.name", or a bare name
 * that only one group has. Each has a global value and, for per-QP rows,
 * optional per-QP overrides. A change is validated against the row (range,
 * whole numbers) and published at once; the engine thread applies it at its
 * next poll round, between two events, so no QP ever sees half of it.
 *
 * Errors: 0 or a negative errno.
 */
#ifndef SCALEX_LIVE_H
#define SCALEX_LIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sx_context;

/** One parameter row, as sx_live_foreach() and sx_live_get() describe it. */
struct sx_param_info {
	const char *group; /**< "cc", "transport" */
	const char *name;  /**< the row's name, without the group */
	const char *unit;
	double def, min, max;
	const char *help;
	int integer; /**< whole numbers only */
	int per_qp;  /**< may be overridden per QP */
};

/** Called per row with its global value; non-zero stops the walk. */
typedef int (*sx_param_cb)(void *arg, const struct sx_param_info *p, double value);

/** Every parameter of @p ctx, in table order. Any thread. */
int sx_live_foreach(struct sx_context *ctx, sx_param_cb cb, void *arg);
/**
 * The value QP @p qpn (0: the context) sees; *own says it is the QP's own
 * (either may be NULL, as may @p info). Any thread. 0, -ENOENT, -EINVAL
 * (ambiguous bare name).
 */
int sx_live_get(struct sx_context *ctx, uint32_t qpn, const char *name, double *value,
		int *own, struct sx_param_info *info);
/**
 * Set globally (@p qpn 0) or for one QP. Any thread. 0, -ENOENT, -EINVAL
 * (ambiguous, or per-QP on an engine-wide row), -ERANGE, -ENOSPC, -ENOMEM.
 * Nothing changes on error.
 */
int sx_live_set(struct sx_context *ctx, uint32_t qpn, const char *name, double value);
/** Drop QP @p qpn's own value of @p name (NULL: all of them). 0 or -ENOENT. */
int sx_live_unset(struct sx_context *ctx, uint32_t qpn, const char *name);
/** Load a CC preset into the global values. 0 or -ENOENT. Any thread. */
int sx_live_preset(struct sx_context *ctx, const char *preset);
/** How many changes were published so far (starts at 1). */
uint64_t sx_live_generation(struct sx_context *ctx);
/** The context's CC algorithm, or NULL. */
const char *sx_context_cc(const struct sx_context *ctx);

/**
 * Run @p fn(ctx, arg) on the thread that drives @p ctx, at its next poll
 * round (sx_progress(), sx_poll_cq()), and wait for it. From any other
 * thread. 0, or -ETIMEDOUT when the context was not polled within
 * @p timeout_ms (then @p fn never runs).
 */
int sx_context_call(struct sx_context *ctx, void (*fn)(struct sx_context *ctx, void *arg),
		    void *arg, unsigned int timeout_ms);

/** One QP as sx_qp_foreach() shows it. */
struct sx_qp_info {
	uint32_t qpn;
	uint32_t remote_qpn;
	uint32_t mtu;
	const char *state; /**< "reset", "rts", "error" */
	const char *rel;   /**< "gbn", "sr" */
	const char *cc;    /**< algorithm, NULL: none */
	uint64_t rate_bps; /**< CC's current rate, 0: none */
	uint64_t sq_outstanding; /**< posted send WRs not yet completed */
	int own_params;    /**< runs on per-QP parameter values */
};

/** Every QP of @p ctx. The context's thread only (or inside sx_context_call()). */
int sx_qp_foreach(struct sx_context *ctx, int (*cb)(void *arg, const struct sx_qp_info *qi),
		  void *arg);

/**
 * Start a pcapng capture of every frame into @p path, or stop it (NULL).
 * The context's thread only. 0, -EBUSY (already capturing), -ENOENT
 * (nothing to stop), -ENOTSUP (the port cannot capture), -errno.
 */
int sx_capture(struct sx_context *ctx, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_LIVE_H */
