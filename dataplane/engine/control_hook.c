/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine thread's side of the control plane (control_hook.h): the
 * context's parameter store, applied between poll rounds, the mailbox
 * through which control threads run requests on the engine thread, and the
 * public live API over both (include/scalex/live.h).
 *
 * Units: time in ns unless named _us/_ms.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <scalex/live.h>

#include "context.h"
#include "control_hook.h"
#include "params.h"

/* The mailbox slot while the engine thread runs the request in it. */
#define REQ_TAKEN ((struct sx_ctl_req *)(uintptr_t)1)

enum { GROUP_CC, GROUP_TRANSPORT };

enum { T_DSCP, T_IDLE_SPINS, T_IDLE_SLEEP_US, T_NPARAMS };

/*
 * Engine-wide transport knobs. Per-QP ones (retry_cnt, rnr_retry,
 * timeout) stay with the QP's attributes: IBA fixes them at modify-QP time.
 */
static const struct sx_param transport_rows[T_NPARAMS] = {
	[T_DSCP] = {"dscp", "", 26, 0, 63, "DSCP of data packets (ECT(0) is kept)",
		    SX_PARAM_INT | SX_PARAM_CTX_ONLY},
	[T_IDLE_SPINS] = {"idle_spins", "polls", 2000, 1, 1e9,
			  "empty polls before the engine thread sleeps",
			  SX_PARAM_INT | SX_PARAM_CTX_ONLY},
	[T_IDLE_SLEEP_US] = {"idle_sleep_us", "us", 20, 1, 1e6,
			     "sleep of an idle engine thread between polls",
			     SX_PARAM_INT | SX_PARAM_CTX_ONLY},
};

struct sx_ctx_ctl {
	struct sx_param_store *store;
	unsigned int g_cc;         /* group index of cc, or UINT32_MAX */
	unsigned int g_tr;
	uint64_t gen;              /* the snapshot applied last */
	uint64_t now_ns;           /* of the poll round applying it */
	struct sx_cc_params **qp_ccp; /* per QP slot: its own values, NULL: the context's */
	bool reader;               /* this context counts in its thread's registration */
	struct sx_ctl_req *req;    /* mailbox: NULL, a request, or REQ_TAKEN */
	pthread_mutex_t call_lock; /* one request at a time */
};

static void
reader_on(struct sx_ctx_ctl *c)
{
	if (!c->reader) {
		sx_rcu_reader_get();
		c->reader = true;
	}
}

/* Copy @p snap into the engine's own state. Engine thread, between rounds:
 * no QP event runs meanwhile, so every QP sees all of a change or none. */
static void
apply(void *arg, const struct sx_param_snap *snap)
{
	struct sx_context *ctx = arg;
	struct sx_ctx_ctl *c = ctx->ctl;
	struct sx_engine *e = &ctx->engine;

	ctx->engine.tos = (uint8_t)((unsigned int)snap->v[c->g_tr][T_DSCP] << 2 |
				    (ctx->engine.tos & 3u));
	ctx->idle_spins = (uint32_t)snap->v[c->g_tr][T_IDLE_SPINS];
	ctx->idle_sleep_us = (uint32_t)snap->v[c->g_tr][T_IDLE_SLEEP_US];
	if (c->g_cc == UINT32_MAX)
		return;
	memcpy(ctx->ccp.v, snap->v[c->g_cc], sizeof(ctx->ccp.v));
	sx_ctx_np_update(ctx);
	for (uint32_t s = 0; s < e->max_qps; s++) {
		const struct sx_param_override *o = sx_param_snap_override(snap, SX_QPN_BASE + s);
		struct sx_qp *qp = e->qps[s];

		if (o != NULL && o->set[c->g_cc] != 0) {
			if (c->qp_ccp[s] == NULL) {
				c->qp_ccp[s] = malloc(sizeof(*c->qp_ccp[s]));
				if (c->qp_ccp[s] == NULL)
					continue; /* keeps the context's values */
			}
			c->qp_ccp[s]->ops = ctx->ccp.ops;
			for (unsigned int i = 0; i < SX_CC_MAX_PARAMS; i++)
				c->qp_ccp[s]->v[i] = sx_param_snap_value(snap, SX_QPN_BASE + s,
									 c->g_cc, i);
		} else if (c->qp_ccp[s] != NULL) {
			if (qp != NULL && qp->ccp == c->qp_ccp[s])
				qp->ccp = &ctx->ccp;
			free(c->qp_ccp[s]);
			c->qp_ccp[s] = NULL;
		}
		if (qp == NULL || qp->ccp == NULL)
			continue;
		qp->ccp = c->qp_ccp[s] != NULL ? c->qp_ccp[s] : &ctx->ccp;
		/* Timers may depend on the values (DCQCN rpg_time_reset): the
		 * QP recomputes its deadline, and the trace shows the change. */
		sx_cc_taken(qp, SX_CC_EV_PARAM, c->now_ns);
		sx_engine_kick(e, qp);
	}
}

int
sx_ctx_params_init(struct sx_context *ctx)
{
	struct sx_param_group groups[2];
	const double *init[2] = {NULL, NULL};
	double tr[T_NPARAMS];
	unsigned int n = 0;
	struct sx_ctx_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->qp_ccp = calloc(ctx->engine.max_qps, sizeof(*c->qp_ccp));
	if (c->qp_ccp == NULL)
		goto fail;
	c->g_cc = UINT32_MAX;
	if (ctx->cc_on) {
		c->g_cc = n;
		groups[n] = (struct sx_param_group){"cc", ctx->ccp.ops->params,
						    ctx->ccp.ops->nparams, ctx->ccp.ops};
		init[n++] = ctx->ccp.v;
	}
	c->g_tr = n;
	tr[T_DSCP] = ctx->engine.tos >> 2;
	tr[T_IDLE_SPINS] = ctx->idle_spins;
	tr[T_IDLE_SLEEP_US] = ctx->idle_sleep_us;
	groups[n] = (struct sx_param_group){"transport", transport_rows, T_NPARAMS, NULL};
	init[n++] = tr;
	c->store = sx_param_store_create(groups, n, init);
	if (c->store == NULL)
		goto fail;
	c->gen = sx_param_store_gen(c->store);
	pthread_mutex_init(&c->call_lock, NULL);
	ctx->ctl = c;
	return 0;
fail:
	free(c->qp_ccp);
	free(c);
	return -ENOMEM;
}

void
sx_ctx_params_fini(struct sx_context *ctx)
{
	struct sx_ctx_ctl *c = ctx->ctl;

	if (c == NULL)
		return;
	sx_param_store_destroy(c->store);
	if (c->reader)
		sx_rcu_reader_put();
	for (uint32_t s = 0; s < ctx->engine.max_qps; s++)
		free(c->qp_ccp[s]);
	free(c->qp_ccp);
	pthread_mutex_destroy(&c->call_lock);
	free(c);
	ctx->ctl = NULL;
}

struct sx_param_store *
sx_ctx_store(struct sx_context *ctx)
{
	return ctx->ctl != NULL ? ctx->ctl->store : NULL;
}

static void
serve(struct sx_context *ctx)
{
	struct sx_ctx_ctl *c = ctx->ctl;
	struct sx_ctl_req *req = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);

	if (req == NULL || req == REQ_TAKEN)
		return;
	/* Take it, unless its sender withdrew it meanwhile. */
	if (!__atomic_compare_exchange_n(&c->req, &req, REQ_TAKEN, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	req->fn(ctx, req->arg);
	__atomic_store_n(&c->req, NULL, __ATOMIC_RELEASE);
}

void
sx_ctx_control_poll(struct sx_context *ctx, uint64_t now_ns)
{
	struct sx_ctx_ctl *c = ctx->ctl;

	reader_on(c);
	c->now_ns = now_ns;
	c->gen = sx_param_store_poll(c->store, c->gen, apply, ctx);
	serve(ctx);
	sx_rcu_quiescent();
}

void
sx_ctx_control_sleep(struct sx_context *ctx, uint32_t us)
{
	(void)ctx;
	sx_rcu_offline();
	usleep(us);
	sx_rcu_online();
}

const struct sx_cc_params *
sx_ctx_qp_params(struct sx_context *ctx, uint32_t qpn)
{
	uint32_t s = qpn - SX_QPN_BASE;

	if (qpn >= SX_QPN_BASE && s < ctx->engine.max_qps && ctx->ctl->qp_ccp[s] != NULL)
		return ctx->ctl->qp_ccp[s];
	return &ctx->ccp;
}

void
sx_ctx_qp_gone(struct sx_context *ctx, uint32_t qpn)
{
	struct sx_ctx_ctl *c = ctx->ctl;
	uint32_t s = qpn - SX_QPN_BASE;

	if (sx_param_store_unset(c->store, qpn, NULL) == 0)
		sx_ctx_sync(ctx);
	if (qpn >= SX_QPN_BASE && s < ctx->engine.max_qps) {
		free(c->qp_ccp[s]);
		c->qp_ccp[s] = NULL;
	}
}

void
sx_ctx_sync(struct sx_context *ctx)
{
	struct sx_ctx_ctl *c = ctx->ctl;

	/* Registered for the read (counted: a no-op on a polling thread). */
	sx_rcu_reader_get();
	c->now_ns = ctx->clock(ctx->clock_arg);
	c->gen = sx_param_store_poll(c->store, c->gen, apply, ctx);
	sx_rcu_reader_put();
}

int
sx_ctx_cc_assign(struct sx_context *ctx, const char *assignment)
{
	struct sx_cc_params scratch;
	int rc;

	if (!ctx->cc_on)
		return -ENOENT;
	/* Parse and validate with the table's own parser, then store. */
	scratch = ctx->ccp;
	rc = sx_cc_params_parse(&scratch, assignment);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < ctx->ccp.ops->nparams; i++)
		if (scratch.v[i] != ctx->ccp.v[i]) {
			char name[80];

			snprintf(name, sizeof(name), "cc.%s", ctx->ccp.ops->params[i].name);
			rc = sx_param_store_set(ctx->ctl->store, 0, name, scratch.v[i]);
			if (rc < 0)
				return rc;
		}
	sx_ctx_sync(ctx);
	return 0;
}

int
sx_ctx_cc_preset(struct sx_context *ctx, const char *preset)
{
	int rc;

	if (!ctx->cc_on)
		return -ENOENT;
	rc = sx_param_store_preset(ctx->ctl->store, preset);
	if (rc == 0)
		sx_ctx_sync(ctx);
	return rc;
}

int
sx_ctx_call(struct sx_context *ctx, struct sx_ctl_req *req, unsigned int timeout_ms)
{
	struct sx_ctx_ctl *c = ctx->ctl;
	struct timespec nap = {0, 100000}; /* 100 us: control latency, not dataplane */
	uint64_t waited_us = 0;
	struct sx_ctl_req *expect;
	int rc = 0;

	pthread_mutex_lock(&c->call_lock);
	__atomic_store_n(&c->req, req, __ATOMIC_RELEASE);
	for (;;) {
		expect = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);
		if (expect == NULL)
			break;
		if (expect == req && waited_us >= (uint64_t)timeout_ms * 1000) {
			/* Withdraw; fails only if the engine took it just now. */
			if (__atomic_compare_exchange_n(&c->req, &expect, NULL, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				rc = -ETIMEDOUT;
				break;
			}
		}
		nanosleep(&nap, NULL);
		waited_us += 100;
	}
	pthread_mutex_unlock(&c->call_lock);
	return rc;
}

/* ---- the public live API (include/scalex/live.h) -------------------- */

static void
fill_info(struct sx_param_store *st, unsigned int g, unsigned int i, struct sx_param_info *p)
{
	const struct sx_param_group *grp = sx_param_store_group(st, g);
	const struct sx_param *row = &grp->rows[i];

	p->group = grp->name;
	p->name = row->name;
	p->unit = row->unit;
	p->def = row->def;
	p->min = row->min;
	p->max = row->max;
	p->help = row->help ? row->help : "";
	p->integer = (row->flags & SX_PARAM_INT) != 0;
	p->per_qp = (row->flags & SX_PARAM_CTX_ONLY) == 0;
}

int
sx_live_foreach(struct sx_context *ctx, sx_param_cb cb, void *arg)
{
	struct sx_param_store *st;

	if (ctx == NULL || cb == NULL)
		return -EINVAL;
	st = ctx->ctl->store;
	for (unsigned int g = 0; g < sx_param_store_ngroups(st); g++)
		for (unsigned int i = 0; i < sx_param_store_group(st, g)->n; i++) {
			struct sx_param_info p;
			char name[160];
			double v = 0;
			int rc;

			fill_info(st, g, i, &p);
			snprintf(name, sizeof(name), "%s.%s", p.group, p.name);
			sx_param_store_get(st, 0, name, &v, NULL);
			if ((rc = cb(arg, &p, v)) != 0)
				return rc;
		}
	return 0;
}

int
sx_live_get(struct sx_context *ctx, uint32_t qpn, const char *name, double *value, int *own,
	    struct sx_param_info *info)
{
	unsigned int g, i;
	double v;
	bool o;
	int rc;

	if (ctx == NULL || name == NULL)
		return -EINVAL;
	rc = sx_param_lookup(ctx->ctl->store, name, &g, &i);
	if (rc == 0)
		rc = sx_param_store_get(ctx->ctl->store, qpn, name, &v, &o);
	if (rc < 0)
		return rc;
	if (value != NULL)
		*value = v;
	if (own != NULL)
		*own = o;
	if (info != NULL)
		fill_info(ctx->ctl->store, g, i, info);
	return 0;
}

int
sx_live_set(struct sx_context *ctx, uint32_t qpn, const char *name, double value)
{
	if (ctx == NULL || name == NULL)
		return -EINVAL;
	return sx_param_store_set(ctx->ctl->store, qpn, name, value);
}

int
sx_live_unset(struct sx_context *ctx, uint32_t qpn, const char *name)
{
	if (ctx == NULL)
		return -EINVAL;
	return sx_param_store_unset(ctx->ctl->store, qpn, name);
}

int
sx_live_preset(struct sx_context *ctx, const char *preset)
{
	if (ctx == NULL)
		return -EINVAL;
	return sx_param_store_preset(ctx->ctl->store, preset);
}

uint64_t
sx_live_generation(struct sx_context *ctx)
{
	return ctx != NULL ? sx_param_store_gen(ctx->ctl->store) : 0;
}

const char *
sx_context_cc(const struct sx_context *ctx)
{
	return ctx != NULL && ctx->cc_on ? ctx->ccp.ops->name : NULL;
}

int
sx_context_call(struct sx_context *ctx, void (*fn)(struct sx_context *ctx, void *arg), void *arg,
		unsigned int timeout_ms)
{
	struct sx_ctl_req req = {fn, arg};

	if (ctx == NULL || fn == NULL)
		return -EINVAL;
	return sx_ctx_call(ctx, &req, timeout_ms);
}

static const char *
qp_state_name(enum sx_qp_state s)
{
	switch (s) {
	case SX_QPS_RESET: return "reset";
	case SX_QPS_RTS: return "rts";
	case SX_QPS_ERROR: return "error";
	}
	return "unknown";
}

int
sx_qp_foreach(struct sx_context *ctx, int (*cb)(void *arg, const struct sx_qp_info *qi),
	      void *arg)
{
	struct sx_engine *e;
	int rc;

	if (ctx == NULL || cb == NULL)
		return -EINVAL;
	e = &ctx->engine;
	for (uint32_t s = 0; s < e->max_qps; s++) {
		const struct sx_qp *qp = e->qps[s];
		struct sx_qp_info qi;

		if (qp == NULL)
			continue;
		qi.qpn = qp->qpn;
		qi.remote_qpn = qp->remote.qpn;
		qi.mtu = qp->mtu;
		qi.state = qp_state_name(qp->state);
		qi.rel = qp->rel == SX_REL_SR ? "sr" : "gbn";
		qi.cc = qp->ccp != NULL ? qp->ccp->ops->name : NULL;
		qi.rate_bps = qp->ccp != NULL ? qp->cc.rate_bps : 0;
		qi.sq_outstanding = qp->sq_tail - qp->sq_head;
		qi.own_params = qp->ccp != NULL && qp->ccp != &ctx->ccp;
		if ((rc = cb(arg, &qi)) != 0)
			return rc;
	}
	return 0;
}

int
sx_capture(struct sx_context *ctx, const char *path)
{
	if (ctx == NULL)
		return -EINVAL;
	return sx_port_capture(ctx->port, path);
}
