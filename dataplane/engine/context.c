/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public API (include/scalex/scalex.h) over one engine and one port.
 * Resources are plain heap objects hanging off the context; nothing is
 * global.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_pause.h>

#include "context.h"
#include "control_hook.h"

#define MAX_QPS         1024
#define MAX_MRS         4096
#define DEFAULT_SPINS   2000
#define DEFAULT_SLEEP_US 20

static uint64_t
monotonic_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
sx_eal_init(int argc, char **argv)
{
	return rte_eal_init(argc, argv);
}

int
sx_eal_cleanup(void)
{
	char dir[PATH_MAX];
	struct dirent *de;
	bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	DIR *d;
	int rc;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rc = rte_eal_cleanup();
	/* EAL leaves its runtime directory (several MB of tmpfs under
	 * --no-huge) behind; a primary process with its own file prefix is
	 * the only user of it. */
	if (!primary || dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return rc;
	while ((de = readdir(d)) != NULL) {
		char file[PATH_MAX + 256];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(dir);
	return rc;
}

void
sx_context_attr_init(struct sx_context_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->ip_version = 4;
	attr->mtu = 1024;
}

/* The notification point: the context's attributes, overridden by the CC
 * algorithm's own knobs when it has them (struct sx_cc_np). */
void
sx_ctx_np_update(struct sx_context *ctx)
{
	struct sx_cc_np np = ctx->np;

	if (ctx->ccp.ops != NULL && ctx->ccp.ops->np_config != NULL)
		ctx->ccp.ops->np_config(ctx->ccp.v, &np);
	ctx->env.cnp_gap_ns = np.cnp_gap_ns;
	ctx->engine.cnp_tos = (uint8_t)(np.cnp_dscp << 2 | SX_ECN_NOT_ECT);
	ctx->engine.cnp_pcp = np.cnp_pcp;
}

struct sx_context *
sx_context_create(struct sx_port *port, const struct sx_context_attr *attr, sx_clock_fn clock,
		  void *clock_arg)
{
	struct sx_context *ctx;

	if (port == NULL || attr == NULL ||
	    (attr->ip_version != 4 && attr->ip_version != 6) || attr->vlan_id > 4094 ||
	    attr->pcp > 7 || attr->cnp_pcp > 7 || attr->dscp > 63 || attr->cnp_dscp > 63) {
		sx_port_close(port);
		errno = EINVAL;
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		goto fail;
	ctx->clock = clock ? clock : monotonic_ns;
	ctx->clock_arg = clock_arg;
	if (sx_engine_init(&ctx->engine, port, MAX_QPS, ctx->clock(ctx->clock_arg)) < 0)
		goto fail;
	if (sx_mr_table_init(&ctx->mrs, MAX_MRS) < 0)
		goto fail;
	ctx->port = port;
	ctx->env.mrs = &ctx->mrs;
	ctx->env.window_budget_bytes = attr->window_budget_bytes;
	ctx->mtu = attr->mtu ? attr->mtu : 1024;
	ctx->engine.ip_version = attr->ip_version;
	memcpy(ctx->engine.ip, attr->ip, 16);
	ctx->idle_spins = attr->idle_spins ? attr->idle_spins : DEFAULT_SPINS;
	ctx->idle_sleep_us = attr->idle_sleep_us ? attr->idle_sleep_us : DEFAULT_SLEEP_US;
	ctx->psn_seed = ctx->clock(ctx->clock_arg) ^ (uint64_t)(uintptr_t)ctx;
	ctx->line_rate_bps = attr->line_rate_bps ? attr->line_rate_bps : 100000000000ull;
	ctx->engine.tos = (uint8_t)((attr->dscp ? attr->dscp : 26) << 2 | SX_ECN_ECT0);
	ctx->engine.vlan_id = attr->vlan_id;
	ctx->engine.pcp = attr->pcp ? attr->pcp : 3;
	ctx->np.cnp_gap_ns = attr->cnp_gap_ns ? attr->cnp_gap_ns : 4000;
	ctx->np.cnp_dscp = attr->cnp_dscp ? attr->cnp_dscp : 48;
	ctx->np.cnp_pcp = attr->cnp_pcp ? attr->cnp_pcp : 6;
	sx_ctx_np_update(ctx);
	if (attr->cc != NULL) {
		const struct sx_cc_ops *ops = sx_cc_find(attr->cc);

		if (ops == NULL) {
			sx_close_device(ctx);
			errno = ENOENT;
			return NULL;
		}
		sx_cc_params_init(&ctx->ccp, ops);
		ctx->cc_on = true;
		sx_ctx_np_update(ctx);
	}
	if (sx_context_path_init(ctx, attr->path) < 0) {
		sx_close_device(ctx);
		errno = ENOENT;
		return NULL;
	}
	/* Control hook: every value the live store holds starts from here. */
	if (sx_ctx_params_init(ctx) < 0)
		goto fail;
	sx_ctx_sync(ctx);
	return ctx;
fail:
	if (ctx != NULL) {
		sx_mr_table_fini(&ctx->mrs);
		sx_engine_fini(&ctx->engine);
		free(ctx);
	}
	sx_port_close(port);
	errno = ENOMEM;
	return NULL;
}

struct sx_context *
sx_open_device(const struct sx_context_attr *attr)
{
	struct sx_port *port;
	uint32_t max_frame;

	if (attr == NULL || attr->port == NULL) {
		errno = EINVAL;
		return NULL;
	}
	/* Room for the largest RoCEv2 frame at this MTU: Eth + VLAN + IPv6 +
	 * UDP + BTH + XETH + RETH + ImmDt + INT shim + payload + ICRC. */
	max_frame = (attr->mtu ? attr->mtu : 1024) + SX_FRAME_HDR_ROOM;
	port = sx_port_ethdev_open(attr->port, max_frame, attr->pcap_path);
	if (port == NULL)
		return NULL;
	if (attr->fault_tx.drop || attr->fault_tx.reorder || attr->fault_tx.duplicate ||
	    attr->fault_tx.corrupt || attr->fault_tx.ecn || attr->fault_rx.drop ||
	    attr->fault_rx.reorder || attr->fault_rx.duplicate || attr->fault_rx.corrupt ||
	    attr->fault_rx.ecn || attr->fault_tx.delay_ns || attr->fault_tx.jitter_ns ||
	    attr->fault_tx.rate_bps || attr->fault_rx.delay_ns || attr->fault_rx.jitter_ns ||
	    attr->fault_rx.rate_bps) {
		struct sx_port *wrapped =
			sx_port_fault_wrap(port, &attr->fault_tx, &attr->fault_rx, attr->fault_seed);

		if (wrapped == NULL) {
			sx_port_close(port);
			return NULL;
		}
		port = wrapped;
	}
	return sx_context_create(port, attr, NULL, NULL);
}

int
sx_close_device(struct sx_context *ctx)
{
	if (ctx == NULL)
		return -EINVAL;
	if (ctx->nqp || ctx->ncq || ctx->npd)
		return -EBUSY;
	sx_ctx_params_fini(ctx); /* control hook */
	sx_engine_fini(&ctx->engine);
	sx_mr_table_fini(&ctx->mrs);
	sx_port_close(ctx->port);
	free(ctx);
	return 0;
}

void
sx_context_endpoint(const struct sx_context *ctx, struct sx_qp_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->mac, ctx->port->mac, 6);
	ep->ip_version = ctx->engine.ip_version;
	memcpy(ep->ip, ctx->engine.ip, 16);
}

int
sx_context_step(struct sx_context *ctx)
{
	uint64_t now_ns = ctx->clock(ctx->clock_arg);

	sx_ctx_control_poll(ctx, now_ns); /* control hook: parameters, requests, QSBR */
	return sx_engine_poll(&ctx->engine, now_ns);
}

int
sx_progress(struct sx_context *ctx)
{
	int work = sx_context_step(ctx);

	/* Idle backoff: spin a while (latency), then pause, then sleep, so
	 * that two processes on two cores both make progress. */
	if (work > 0) {
		ctx->idle = 0;
	} else if (++ctx->idle > ctx->idle_spins) {
		sx_ctx_control_sleep(ctx, ctx->idle_sleep_us); /* control hook: offline */
	} else {
		rte_pause();
	}
	return work;
}

struct sx_pd *
sx_alloc_pd(struct sx_context *ctx)
{
	struct sx_pd *pd = calloc(1, sizeof(*pd));

	if (pd == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	pd->ctx = ctx;
	ctx->npd++;
	return pd;
}

int
sx_dealloc_pd(struct sx_pd *pd)
{
	if (pd == NULL)
		return -EINVAL;
	if (pd->nmr || pd->nqp)
		return -EBUSY;
	pd->ctx->npd--;
	free(pd);
	return 0;
}

struct sx_mr *
sx_reg_mr(struct sx_pd *pd, void *addr, size_t length, unsigned int access)
{
	struct sx_mr *mr;
	int rc;

	/* IBA 10.6.3.1: remote write or atomic needs local write. */
	if (pd == NULL || (addr == NULL && length != 0) ||
	    (access & ~(unsigned int)(SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE |
				      SX_ACCESS_REMOTE_READ | SX_ACCESS_REMOTE_ATOMIC)) ||
	    ((access & (SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_ATOMIC)) &&
	     !(access & SX_ACCESS_LOCAL_WRITE)) ||
	    (uintptr_t)addr + length < (uintptr_t)addr) {
		errno = EINVAL;
		return NULL;
	}
	mr = calloc(1, sizeof(*mr));
	if (mr == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	mr->pd = pd;
	mr->addr = addr;
	mr->length = length;
	mr->access = access;
	rc = sx_mr_table_add(&pd->ctx->mrs, mr);
	if (rc < 0) {
		free(mr);
		errno = -rc;
		return NULL;
	}
	pd->nmr++;
	return mr;
}

/* Does a posted, unfinished work request of @p qp point into @p mr? */
static bool
qp_uses_mr(const struct sx_qp *qp, const struct sx_mr *mr)
{
	const uint8_t *lo = mr->addr, *hi = lo + mr->length;
	uint32_t i;
	int k;

	for (i = qp->sq_head; i != qp->sq_tail; i++) {
		const struct sx_wqe *w = sx_sq_at(qp, i);

		for (k = 0; !w->done && k < w->num_sge; k++)
			if (w->sge_ptr[k] >= lo && w->sge_ptr[k] < hi)
				return true;
	}
	for (i = qp->rq_head; i != qp->rq_tail; i++) {
		const struct sx_rqe *r = &qp->rq[i & (qp->rq_size - 1)];

		for (k = 0; k < r->num_sge; k++)
			if (r->sge_ptr[k] >= lo && r->sge_ptr[k] < hi)
				return true;
	}
	return false;
}

int
sx_dereg_mr(struct sx_mr *mr)
{
	struct sx_engine *e;
	uint32_t q;

	if (mr == NULL)
		return -EINVAL;
	/* Work requests hold host pointers into their regions: a region in use
	 * stays registered, so scalex never touches memory the application
	 * has let go (IBA leaves this undefined; a NIC would fault). */
	e = &mr->pd->ctx->engine;
	for (q = 0; q < e->max_qps; q++)
		if (e->qps[q] != NULL && e->qps[q]->pd == mr->pd && qp_uses_mr(e->qps[q], mr))
			return -EBUSY;
	sx_mr_table_del(&mr->pd->ctx->mrs, mr);
	mr->pd->nmr--;
	free(mr);
	return 0;
}

struct sx_cq *
sx_create_cq(struct sx_context *ctx, uint32_t cqe)
{
	struct sx_cq *cq = calloc(1, sizeof(*cq));
	int rc;

	if (cq == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = sx_cq_init(cq, cqe);
	if (rc < 0) {
		free(cq);
		errno = -rc;
		return NULL;
	}
	cq->ctx = ctx;
	ctx->ncq++;
	return cq;
}

int
sx_destroy_cq(struct sx_cq *cq)
{
	if (cq == NULL)
		return -EINVAL;
	cq->ctx->ncq--;
	sx_cq_fini(cq);
	free(cq);
	return 0;
}

uint64_t
sx_cq_overflows(const struct sx_cq *cq)
{
	return cq != NULL ? cq->overflow : 0;
}

int
sx_poll_cq(struct sx_cq *cq, int n, struct sx_wc *wc)
{
	int got = sx_cq_pop(cq, n, wc);

	if (got > 0)
		return got;
	sx_progress(cq->ctx);
	return sx_cq_pop(cq, n, wc);
}

static uint32_t
random_psn(struct sx_context *ctx)
{
	/* splitmix64 step: start PSNs differ per QP and per run. */
	uint64_t z = (ctx->psn_seed += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31)) & SX_PSN_MASK;
}

struct sx_qp *
sx_create_qp(struct sx_pd *pd, const struct sx_qp_init_attr *attr)
{
	struct sx_context *ctx;
	struct sx_qp *qp;
	uint32_t qpn;
	int rc;

	if (pd == NULL || attr == NULL) {
		errno = EINVAL;
		return NULL;
	}
	ctx = pd->ctx;
	/* An INT algorithm (HPCC) rides on the sr opcodes' INT shim: a gbn
	 * QP stays byte-compatible RoCEv2 and could not carry it (docs/cc.md). */
	if (ctx->cc_on && ctx->ccp.ops->on_int != NULL && attr->reliability != SX_REL_SR) {
		errno = EINVAL;
		return NULL;
	}
	if (attr->set_dscp > 1 || attr->dscp > 63) {
		errno = EINVAL;
		return NULL;
	}
	qpn = sx_engine_alloc_qpn(&ctx->engine);
	if (qpn == 0) {
		errno = ENOSPC;
		return NULL;
	}
	qp = calloc(1, sizeof(*qp));
	if (qp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = sx_qp_init(qp, &ctx->env, pd, qpn, attr, ctx->mtu,
			attr->sq_psn ? attr->sq_psn : random_psn(ctx));
	if (rc < 0) {
		free(qp);
		errno = -rc;
		return NULL;
	}
	sx_engine_add_qp(&ctx->engine, qp);
	if (attr->set_dscp)
		ctx->engine.eqp[qpn - SX_QPN_BASE].dscp = attr->dscp;
	pd->nqp++;
	ctx->nqp++;
	return qp;
}

int
sx_destroy_qp(struct sx_qp *qp)
{
	struct sx_context *ctx;

	if (qp == NULL)
		return -EINVAL;
	ctx = qp->pd->ctx;
	sx_engine_del_qp(&ctx->engine, qp);
	sx_ctx_qp_gone(ctx, qp->qpn); /* control hook */
	qp->pd->nqp--;
	ctx->nqp--;
	sx_qp_fini(qp);
	free(qp);
	return 0;
}

void
sx_qp_local(const struct sx_qp *qp, struct sx_qp_endpoint *ep)
{
	sx_context_endpoint(qp->pd->ctx, ep);
	ep->qpn = qp->qpn;
	ep->psn = qp->snd_nxt;
}

int
sx_qp_connect(struct sx_qp *qp, const struct sx_qp_endpoint *remote)
{
	struct sx_context *ctx;
	int rc;

	if (qp == NULL || remote == NULL)
		return -EINVAL;
	ctx = qp->pd->ctx;
	rc = sx_qp_do_connect(qp, remote);
	if (rc == 0 && ctx->cc_on) /* control hook: the QP's own values, if any */
		sx_qp_set_cc(qp, sx_ctx_qp_params(ctx, qp->qpn), ctx->line_rate_bps, ctx->clock(ctx->clock_arg));
	if (rc == 0)
		sx_engine_kick(&ctx->engine, qp); /* its timers count from now on */
	return rc;
}

int
sx_cc_param(struct sx_context *ctx, const char *assignment)
{
	if (ctx == NULL || assignment == NULL)
		return -EINVAL;
	return sx_ctx_cc_assign(ctx, assignment); /* control hook: the live store */
}

int
sx_cc_preset(struct sx_context *ctx, const char *preset)
{
	if (ctx == NULL || preset == NULL)
		return -EINVAL;
	return sx_ctx_cc_preset(ctx, preset); /* control hook: the live store */
}

static void
trace_csv(void *arg, const struct sx_qp *qp, enum sx_cc_event ev, uint64_t now_ns)
{
	struct sx_context *ctx = arg;

	fprintf(ctx->cc_trace, "%lu,%u,%s,%lu,%lu,%.6f\n", (unsigned long)now_ns, qp->qpn,
		sx_cc_event_name(ev), (unsigned long)qp->cc.rate_bps,
		(unsigned long)qp->cc.target_bps, qp->cc.alpha);
}

int
sx_cc_trace(struct sx_context *ctx, FILE *out)
{
	if (ctx == NULL)
		return -EINVAL;
	ctx->cc_trace = out;
	ctx->env.cc_trace = out ? trace_csv : NULL;
	ctx->env.cc_trace_arg = ctx;
	if (out != NULL)
		fprintf(out, "time_ns,qpn,event,rate_bps,target_bps,alpha\n");
	return 0;
}

int
sx_qp_to_error(struct sx_qp *qp)
{
	if (qp == NULL)
		return -EINVAL;
	sx_qp_error(qp);
	sx_engine_kick(&qp->pd->ctx->engine, qp);
	return 0;
}

uint32_t
sx_qp_num(const struct sx_qp *qp)
{
	return qp->qpn;
}

int
sx_post_send(struct sx_qp *qp, struct sx_send_wr *wr, struct sx_send_wr **bad_wr)
{
	int rc;

	if (qp == NULL || wr == NULL)
		return -EINVAL;
	rc = sx_qp_post_send(qp, wr, bad_wr);
	sx_engine_kick(&qp->pd->ctx->engine, qp);
	return rc;
}

int
sx_post_recv(struct sx_qp *qp, struct sx_recv_wr *wr, struct sx_recv_wr **bad_wr)
{
	if (qp == NULL || wr == NULL)
		return -EINVAL;
	return sx_qp_post_recv(qp, wr, bad_wr);
}

const char *
sx_wc_status_str(enum sx_wc_status status)
{
	switch (status) {
	case SX_WC_SUCCESS: return "success";
	case SX_WC_LOC_LEN_ERR: return "local length error";
	case SX_WC_LOC_QP_OP_ERR: return "local QP operation error";
	case SX_WC_LOC_PROT_ERR: return "local protection error";
	case SX_WC_WR_FLUSH_ERR: return "work request flushed";
	case SX_WC_BAD_RESP_ERR: return "bad response";
	case SX_WC_LOC_ACCESS_ERR: return "local access error";
	case SX_WC_REM_INV_REQ_ERR: return "remote invalid request";
	case SX_WC_REM_ACCESS_ERR: return "remote access error";
	case SX_WC_REM_OP_ERR: return "remote operation error";
	case SX_WC_RETRY_EXC_ERR: return "transport retry counter exceeded";
	case SX_WC_RNR_RETRY_EXC_ERR: return "RNR retry counter exceeded";
	case SX_WC_GENERAL_ERR: return "general error";
	}
	return "unknown";
}
