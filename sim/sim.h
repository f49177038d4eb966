/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the simulator's modules share: the event kinds of the one scheduler
 * and the histogram used for queue depths and flow statistics.
 *
 * Units: time in picoseconds inside the simulator (the hosts see ns),
 * sizes in bytes, rates in bits per second.
 */
#ifndef SX_SIM_H
#define SX_SIM_H

#include <stdint.h>

#include "../dataplane/util/quantile.h"

enum sx_sim_ev {
	SX_EV_HOST_WAKE,   /* idx: host; stale unless it matches the host's wake time */
	SX_EV_TXDONE,      /* ptr: link whose wire became free */
	SX_EV_ARRIVE,      /* ptr: packet at the far end of its link */
	SX_EV_LINK_CHANGE, /* idx: index into the fabric's change list */
	SX_EV_PFC,         /* ptr: link; idx: 1 pause, 0 resume (at its sender) */
	SX_EV_FLOW_START,  /* idx: flow */
	SX_EV_SAMPLE,      /* time series */
	SX_EV_WINDOW,      /* start of the measurement window */
	SX_EV_END,         /* end of the measured duration */
	SX_EV_MAX,
};

#endif
