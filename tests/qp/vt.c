/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <string.h>

#include "vt.h"

static uint64_t
vt_clock(void *arg)
{
	return ((struct vt *)arg)->now_ns;
}

void
vt_default_opts(struct vt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mtu = 1024;
	o->rel = SX_REL_GBN;
	o->seed = 1;
	o->retry_cnt = 7;
	o->timeout_us = 100;
	o->max_send_wr = 256;
}

void
vt_setup(struct vt *v, const struct vt_opts *o)
{
	struct sx_context_attr attr;
	struct sx_port *p[2];
	struct sx_qp_endpoint ep[2];
	struct sx_fault_dir none = {0};
	int s, rc;

	memset(v, 0, sizeof(*v));
	v->now_ns = 1000000;
	rc = sx_port_pair_open(o->mtu + 128, &p[0], &p[1]);
	assert(rc == 0);
	p[0] = sx_port_fault_wrap(p[0], &o->fault_tx, &o->fault_rx, o->seed);
	assert(p[0] != NULL);
	(void)none;
	for (s = 0; s < 2; s++) {
		struct sx_qp_init_attr qa;

		sx_context_attr_init(&attr);
		attr.mtu = o->mtu;
		attr.cc = o->cc;
		attr.path = o->path;
		attr.ip[0] = 10;
		attr.ip[3] = (uint8_t)(s + 1);
		p[s]->mac[5] = (uint8_t)(s + 1);
		v->ctx[s] = sx_context_create(p[s], &attr, vt_clock, v);
		assert(v->ctx[s] != NULL);
		v->pd[s] = sx_alloc_pd(v->ctx[s]);
		v->cq[s] = sx_create_cq(v->ctx[s], 4096);
		assert(v->pd[s] && v->cq[s]);
		memset(&qa, 0, sizeof(qa));
		qa.send_cq = qa.recv_cq = v->cq[s];
		qa.max_send_wr = o->max_send_wr;
		qa.max_recv_wr = 1024;
		qa.reliability = o->mixed_modes && s == 1 ? (o->rel == SX_REL_GBN ? SX_REL_SR
										    : SX_REL_GBN)
							  : o->rel;
		qa.retry_cnt = o->retry_cnt;
		qa.rnr_retry = 7;
		qa.timeout_us = o->timeout_us;
		qa.min_rto_us = o->min_rto_us;
		qa.sq_psn = o->sq_psn[s];
		qa.max_inflight_pkts = o->window_pkts;
		v->qp[s] = sx_create_qp(v->pd[s], &qa);
		assert(v->qp[s] != NULL);
		sx_qp_local(v->qp[s], &ep[s]);
	}
	assert(sx_qp_connect(v->qp[0], &ep[1]) == 0);
	assert(sx_qp_connect(v->qp[1], &ep[0]) == 0);
}

void
vt_teardown(struct vt *v)
{
	int s;

	for (s = 0; s < 2; s++) {
		sx_destroy_qp(v->qp[s]);
		sx_destroy_cq(v->cq[s]);
		sx_dealloc_pd(v->pd[s]);
		assert(sx_close_device(v->ctx[s]) == 0);
	}
}

bool
vt_run_until(struct vt *v, bool (*done)(struct vt *, void *), void *arg, uint64_t max_ns)
{
	uint64_t end = v->now_ns + max_ns;
	int idle = 0;

	while (!done(v, arg)) {
		int work = 0, s;
		uint64_t next = UINT64_MAX;

		if (++v->steps > 50000000)
			return false;
		for (s = 0; s < 2; s++) {
			if (!v->down[s])
				work += sx_context_step(v->ctx[s]);
		}
		/* A few empty rounds before jumping: the fault wrapper releases
		 * frames it held back (reordering) on later port calls. */
		if (work > 0 || ++idle < 4) {
			if (work > 0)
				idle = 0;
			continue;
		}
		idle = 0;
		for (s = 0; s < 2; s++) {
			uint64_t d;

			if (v->down[s])
				continue;
			d = sx_engine_next_deadline(&v->ctx[s]->engine, v->now_ns);
			if (d < next)
				next = d;
		}
		if (next == UINT64_MAX || next > end)
			return done(v, arg);
		/* Nothing to do now: time jumps ahead; 1 us ticks let held
		 * (reordered) frames drain. */
		v->now_ns = next > v->now_ns ? next : v->now_ns + 1000;
	}
	return true;
}

struct wc_wait {
	int side;
	struct sx_wc *wc;
	int want;
	int got;
};

static bool
wc_done(struct vt *v, void *arg)
{
	struct wc_wait *w = arg;

	w->got += sx_cq_pop(v->cq[w->side], w->want - w->got, w->wc + w->got);
	return w->got >= w->want;
}

int
vt_wait_wc(struct vt *v, int s, struct sx_wc *wc, int n, uint64_t max_ns)
{
	struct wc_wait w = {.side = s, .wc = wc, .want = n, .got = 0};

	vt_run_until(v, wc_done, &w, max_ns);
	return w.got;
}
