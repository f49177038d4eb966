/* SPDX-License-Identifier: BSD-3-Clause */
/* The objects behind the public API, for the library and its tests. */
#ifndef SX_CONTEXT_H
#define SX_CONTEXT_H

#include <scalex/scalex.h>

#include "engine.h"

/* Time source: ns from an arbitrary origin. Real time or virtual time. */
typedef uint64_t (*sx_clock_fn)(void *arg);

struct sx_context {
	struct sx_engine engine;
	struct sx_port *port;
	struct sx_mr_table mrs;
	struct sx_qp_env env;
	uint32_t mtu;
	sx_clock_fn clock;
	void *clock_arg;
	uint32_t idle_spins;
	uint32_t idle_sleep_us;
	uint32_t idle;  /* consecutive polls that found nothing */
	uint32_t npd;
	uint32_t ncq;
	uint32_t nqp;
	uint64_t psn_seed;
	/* congestion control: shared read-mostly by every QP */
	bool cc_on;
	struct sx_cc_np np; /* notification point from the attributes */
	struct sx_cc_params ccp;
	uint64_t line_rate_bps;
	FILE *cc_trace;
	/* path policy: shared read-mostly by every QP (env.path points here) */
	struct sx_path_params pathp;
	/* control plane (control/ctx_hook.h): live parameters, requests */
	struct sx_ctx_ctl *ctl;
};

struct sx_pd {
	struct sx_context *ctx;
	uint32_t nmr;
	uint32_t nqp;
};

/*
 * A context on a port the caller opened (tests, the simulator). The
 * context owns @p port and closes it. @p clock NULL: CLOCK_MONOTONIC.
 */
struct sx_context *sx_context_create(struct sx_port *port, const struct sx_context_attr *attr,
				     sx_clock_fn clock, void *clock_arg);

/* path_api.c: the context's path policy @p name (NULL: flow); -ENOENT. */
int sx_context_path_init(struct sx_context *ctx, const char *name);
/* The notification point from the attributes and the CC values (again
 * after every change of them). */
void sx_ctx_np_update(struct sx_context *ctx);

/* One engine round at the context's time, without idle backoff. */
int sx_context_step(struct sx_context *ctx);

#endif
