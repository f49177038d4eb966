/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's side of the control plane, called from context.c: the
 * context's live parameter store (params.h) and the engine thread's side
 * of it (apply a new snapshot between two poll rounds, announce the QSBR
 * quiescent state), and control requests that must run on the engine
 * thread (counters, QP list, capture) handed over through a one-slot
 * mailbox the poll loop services.
 */
#ifndef SX_ENGINE_CONTROL_HOOK_H
#define SX_ENGINE_CONTROL_HOOK_H

#include <stdint.h>

struct sx_context;
struct sx_cc_params;

/* A control request run by the engine thread: fn(ctx, arg). */
struct sx_ctl_req {
	void (*fn)(struct sx_context *ctx, void *arg);
	void *arg;
};

/* Create the context's store from its CC values and attributes: 0 or -errno. */
int sx_ctx_params_init(struct sx_context *ctx);
/* Drop the store (and this context's RCU registration of its thread). */
void sx_ctx_params_fini(struct sx_context *ctx);
/* Once per poll round, on the engine thread: apply, serve, quiesce. */
void sx_ctx_control_poll(struct sx_context *ctx, uint64_t now_ns);
/* Around the idle sleep: not a reader while blocked. */
void sx_ctx_control_sleep(struct sx_context *ctx, uint32_t us);
/* The CC values a QP connecting now reads (its overrides or the context's). */
const struct sx_cc_params *sx_ctx_qp_params(struct sx_context *ctx, uint32_t qpn);
/* A QP is destroyed: its overrides go with it. */
void sx_ctx_qp_gone(struct sx_context *ctx, uint32_t qpn);
/* Apply the store's current snapshot now (context thread, outside a poll). */
void sx_ctx_sync(struct sx_context *ctx);
/* The context's store (control threads read and write it). */
struct sx_param_store *sx_ctx_store(struct sx_context *ctx);
/* sx_cc_param()/sx_cc_preset() through the store, applied before returning. */
int sx_ctx_cc_assign(struct sx_context *ctx, const char *assignment);
int sx_ctx_cc_preset(struct sx_context *ctx, const char *preset);

/*
 * From a control thread: run @p req on the engine thread at its next poll
 * round and wait for it. 0, or -ETIMEDOUT when the engine did not poll
 * within @p timeout_ms (the request is withdrawn and never runs).
 */
int sx_ctx_call(struct sx_context *ctx, struct sx_ctl_req *req, unsigned int timeout_ms);

#endif
