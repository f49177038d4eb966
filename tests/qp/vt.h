/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtual-time harness: two real scalex contexts on an in-process port pair
 * (optionally with fault injection), driven by a fake clock. When neither
 * engine has work, time jumps to the earliest deadline, so retransmit
 * timeouts cost no wall time and every run is deterministic.
 */
#ifndef SX_TEST_VT_H
#define SX_TEST_VT_H

#include <stdbool.h>
#include <stdint.h>

#include "../../dataplane/engine/context.h"

struct vt {
	uint64_t now_ns;
	struct sx_context *ctx[2];
	struct sx_pd *pd[2];
	struct sx_cq *cq[2];
	struct sx_qp *qp[2];
	bool down[2]; /* a side that stopped running (peer gone) */
	uint64_t steps;
};

struct vt_opts {
	uint32_t mtu;
	enum sx_reliability rel;
	bool mixed_modes;          /* side 1 uses the other reliability mode */
	struct sx_fault_dir fault_tx; /* applied to side 0's port */
	struct sx_fault_dir fault_rx;
	const char *cc;               /* congestion control on both sides */
	uint64_t seed;
	uint32_t sq_psn[2];        /* 0: chosen by the library */
	uint8_t retry_cnt;
	uint32_t timeout_us;
	uint32_t min_rto_us;
	uint32_t max_send_wr;
	const char *path;          /* path policy on both sides; NULL: flow */
	uint32_t window_pkts;      /* max_inflight_pkts; 0: the default */
};

void vt_default_opts(struct vt_opts *o);
/* Two contexts, one connected QP on each. */
void vt_setup(struct vt *v, const struct vt_opts *o);
void vt_teardown(struct vt *v);
/* Run until @p done(v, arg) or the step / virtual-time budget runs out. */
bool vt_run_until(struct vt *v, bool (*done)(struct vt *, void *), void *arg, uint64_t max_ns);
/* Poll @p n completions from side @p s's CQ into @p wc (running the engines). */
int vt_wait_wc(struct vt *v, int s, struct sx_wc *wc, int n, uint64_t max_ns);

#endif
