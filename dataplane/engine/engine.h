/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine: one lcore's run-to-completion step. sx_engine_poll(now) does
 * one round — rx burst -> parse -> dispatch to QPs -> timers -> tx — and
 * sx_engine_next_deadline() says when it must run again if no packet
 * arrives. An lcore loop calls poll back to back (with idle backoff); the
 * simulator calls it only at packet arrivals and deadlines.
 *
 * Time is whatever the caller says it is (ns); the engine reads no clock.
 */
#ifndef SX_ENGINE_H
#define SX_ENGINE_H

#include <stdint.h>

#include "../port/port.h"
#include "../qp/qp.h"
#include "txsched.h"
#include "wheel.h"

#define SX_ENGINE_BURST 32

/* Engine-level drops, beside the parser's reason codes. */
enum sx_engine_drop {
	SX_EDROP_UNKNOWN_QP = SX_WIRE_RC_MAX,
	SX_EDROP_BAD_SOURCE,
	SX_EDROP_NOT_FOR_US,
	SX_EDROP_MAX,
};

/* Engine-side state of one QP slot. */
struct sx_eqp {
	struct sx_wheel_entry pace; /* first: the entry is the slot */
	uint64_t next_tx_ns;        /* pacing: the QP's next data may leave then */
	bool backlogged;            /* had data waiting since next_tx_ns: pacing credit */
	int16_t dscp;               /* the QP's own DSCP (set_dscp); -1: the engine's tos */
};

struct sx_engine_stats {
	uint64_t rx_frames;
	uint64_t paced;  /* times a QP waited for its rate */
	uint64_t tx_frames;
	uint64_t polls;
	uint64_t drop[SX_EDROP_MAX];
};

struct sx_engine {
	struct sx_port *port;
	uint8_t ip_version;
	uint8_t ip[16];
	uint8_t tos;          /* DSCP << 2 | ECN codepoint of data packets */
	uint8_t cnp_tos;      /* of CNPs: their own DSCP, not ECN-capable */
	uint16_t vlan_id;     /* 802.1Q VLAN of every frame; 0: untagged */
	uint8_t pcp;          /* 802.1p priority of data frames (VLAN only) */
	uint8_t cnp_pcp;      /* of CNPs (DCQCN's cnp_802p_prio) */
	struct sx_qp **qps;   /* by qpn - SX_QPN_BASE */
	struct sx_eqp *eqp;   /* likewise */
	struct sx_wheel pacer;
	uint32_t max_qps;
	uint32_t nslots;      /* one past the highest QP slot in use: scans stop there */
	/* No QP timer is due before this. A QP's deadline changes only when the
	 * engine calls into it, and every such call lowers this to the QP's new
	 * deadline, so the QPs are scanned only when a timer may be due. */
	uint64_t timer_ns;
	/* QPs that may have something to send (by slot), served by deficit
	 * round-robin (txsched.h); drr.count of them. */
	struct sx_drr drr;
	uint32_t pace_burst_bytes; /* pacer catch-up cap (SX_PACE_BURST_BYTES) */
	struct sx_frame backlog[SX_ENGINE_BURST]; /* built, not yet taken by the port */
	uint16_t nbacklog;
	struct sx_engine_stats stats;
};

int sx_engine_init(struct sx_engine *e, struct sx_port *port, uint32_t max_qps,
		   uint64_t now_ns);
void sx_engine_fini(struct sx_engine *e);
/* A free QPN, or 0 if the table is full. */
uint32_t sx_engine_alloc_qpn(const struct sx_engine *e);
void sx_engine_add_qp(struct sx_engine *e, struct sx_qp *qp);
void sx_engine_del_qp(struct sx_engine *e, struct sx_qp *qp);
/* The QP may have packets to send, or a new deadline. */
void sx_engine_kick(struct sx_engine *e, struct sx_qp *qp);
/* One round; returns the number of frames received and sent. */
int sx_engine_poll(struct sx_engine *e, uint64_t now_ns);
/* When the engine next needs to run without a packet arriving (UINT64_MAX: never). */
uint64_t sx_engine_next_deadline(const struct sx_engine *e, uint64_t now_ns);
const char *sx_engine_drop_name(unsigned int reason);

#endif
