/* SPDX-License-Identifier: BSD-3-Clause */
/* The scenario's objects, shared by scenario.c (the loop) and report.c. */
#ifndef SX_SIM_SCENARIO_PRIV_H
#define SX_SIM_SCENARIO_PRIV_H

#include "../dataplane/engine/context.h"
#include "scenario.h"

/* Distinct counter names per scope the summary sums (QP, engine drops). */
#define SX_SCN_MAX_COUNTERS 96

/* Virtual time of the simulation's start; outputs are relative to it. */
#define SCN_T0_NS 1000000ull
/* No flow: an independent flow's `after`, the end of a dependents list. */
#define SCN_NO_FLOW UINT32_MAX

struct sx_host {
	struct sx_scn *scn;
	uint32_t id;
	struct sx_port *port;
	struct sx_context *ctx;
	struct sx_pd *pd;
	struct sx_cq *cq;
	struct sx_mr *src_mr;
	struct sx_mr *sink_mr;
	uint64_t wake_ps;     /* pending wake, UINT64_MAX: none */
	bool tx_blocked;      /* the NIC ring refused a frame */
	uint64_t last_step_ps;
	uint32_t same_time_steps;
	/* a gateway host's WAN side (sim/gateway.c): a second context on a
	 * second sim port behind the same NIC link; frames from other DCs go
	 * to it */
	struct sx_port *wan_port;
	struct sx_context *wan_ctx;
	struct sx_cq *wan_cq;
};

/* The QPs that carry one ordered host pair's flows. */
struct sx_pair {
	uint32_t id;
	uint32_t src;
	uint32_t dst;
	struct sx_qp *sq;      /* at src */
	struct sx_qp *rq;      /* at dst */
	uint32_t outstanding;  /* WRs posted, not completed */
	uint32_t pending_head; /* flows waiting for a send-queue slot */
	uint32_t pending_tail;
	uint64_t done_bytes;   /* of completed flows */
	uint64_t acked_win0;   /* at the window's start */
	uint64_t acked_win1;   /* at its end */
	uint64_t acked_sampled;
	uint64_t posted_bytes; /* of the flows posted on its QP */
	uint32_t wire_head;    /* posted flows whose first frame is not yet on */
	uint32_t wire_tail;    /* the wire, in post order (through next_wire) */
};

struct sx_scn_flowrec {
	uint32_t src;
	uint32_t dst;
	uint64_t bytes;
	uint64_t at_ns;        /* start, from the origin */
	uint64_t start_ps;
	uint64_t end_ps;
	uint64_t wire_ps;      /* its first frame started on the host's wire, 0: not yet */
	uint32_t first_psn;    /* of its WQE */
	uint32_t next_wire;
	uint32_t pair;
	uint32_t next_pending;
	uint32_t seq;          /* order of creation: ties in the start order */
	uint32_t after;        /* the flow whose completion releases this one */
	uint64_t delay_ns;     /* and how long after that completion it starts */
	uint32_t dep_head;     /* the flows this one releases, */
	uint32_t dep_next;     /* linked through dep_next */
	enum sx_wc_status status;
	enum sx_scn_reject reject;
	bool started;
	bool posted;
	bool finished;
	bool failed;
	bool verify_error;
	uint8_t *src_buf;      /* verification only */
	uint8_t *dst_buf;
	struct sx_mr *src_mr;
	struct sx_mr *dst_mr;
};

struct sx_series_q {
	uint64_t t_ns;
	uint32_t link;
	uint32_t pad;
	uint64_t qbytes;
	double gbps;
};

struct sx_series_r {
	uint64_t t_ns;
	uint32_t pair;
	uint32_t pad;
	double cc_gbps;   /* the CC rate; the line rate when unlimited */
	double gbps;      /* acknowledged in the interval */
};

struct sx_scn {
	struct sx_scn_cfg cfg;
	bool cc_on;
	FILE *err;                /* messages during the run */
	struct sx_sched sched;
	struct sx_sim_pool *pool;
	struct sx_fabric fab;
	uint32_t nhosts;
	struct sx_host *hosts;
	struct sx_rng psn_rng;
	struct sx_cdf cdf;
	/* flows */
	struct sx_scn_flowrec *flows;
	uint32_t nflows;
	uint32_t flows_cap;
	uint32_t started;
	uint32_t done;
	/* pairs */
	struct sx_pair **pair_of; /* [src * nhosts + dst] */
	struct sx_pair **pairs;
	uint32_t npairs;
	uint32_t pairs_cap;
	/* payload regions without verification */
	uint8_t *src_region;
	uint8_t *sink_region;
	size_t region_len;
	/* measurement */
	bool ended;
	uint64_t win0_ps;
	uint64_t win1_ps;
	uint64_t *link_busy_win1; /* sx_fabric_busy_ps() per link at the window's end */
	uint64_t *link_drops_win1;
	uint64_t first_start_ps;  /* the first flow's start, 0: none started */
	uint64_t last_end_ps;     /* the last completion */
	uint64_t last_sample_ps;
	struct sx_series_q *series_q;
	size_t nseries_q, series_q_cap;
	struct sx_series_r *series_r;
	size_t nseries_r, series_r_cap;
	/* transport counters summed at the end */
	/* Transport counters summed over every host (counters API). */
	struct sx_scn_counter {
		const char *name; /* the descriptor's: static storage */
		uint64_t value;
	} qpc[SX_SCN_MAX_COUNTERS], edrop[SX_SCN_MAX_COUNTERS];
	uint32_t nqpc, nedrop;
	uint64_t nic_ring_full;
	struct sx_gw *gw;          /* gateway mode: sim/gateway.c; NULL: off */
	struct sx_coll_plan *coll; /* sim/coll.c; NULL without [coll] op */
	struct sx_scn_result res;
};

/* A work request of the gateway relay: wr_id = tag | chunk. */
#define SX_SCN_GW_TAG (1ull << 63)

/* The byte at offset @p i of flow @p id's payload (verification). */
static inline uint8_t
sx_scn_pattern(uint32_t id, uint64_t i)
{
	return (uint8_t)(sx_mix64(((uint64_t)id << 40) ^ (i >> 3)) >> ((i & 7) * 8));
}

/* scenario.c: the hosts' virtual clock (ns) and their sim ports' tx */
uint64_t sx_scn_clock(void *arg);
bool sx_scn_host_tx(void *arg, struct sx_port *port, struct sx_frame *f);
/* scenario.c: run host @p h now; refuse flow @p fi before the wire */
void sx_scn_host_wake(struct sx_scn *s, uint32_t h);
void sx_scn_flow_reject(struct sx_scn *s, uint32_t fi, enum sx_scn_reject why, const char *detail);
/* scenario.c: the end of flow @p fi, relayed or not (counts, verification,
 * the flows it releases, its buffers). */
void sx_scn_flow_end(struct sx_scn *s, uint32_t fi, enum sx_wc_status status);
/* The verification buffers of flow @p fi, registered at @p src and @p dst
 * (their inside contexts); 0 or -ENOMEM. */
int sx_scn_flow_bufs(struct sx_scn *s, uint32_t fi, struct sx_host *src, struct sx_host *dst);

/* gateway.c */
struct sx_gw;
int sx_scn_gw_create(struct sx_scn *s, FILE *err);
void sx_scn_gw_destroy(struct sx_scn *s);
/* Is host @p h a gateway; does a flow src -> dst go through the gateways? */
bool sx_scn_gw_host(const struct sx_scn *s, uint32_t h);
bool sx_scn_gw_relayed(const struct sx_scn *s, uint32_t src, uint32_t dst);
/* Start relayed flow @p fi. */
void sx_scn_gw_flow_start(struct sx_scn *s, uint32_t fi);
/* A completion whose wr_id carries SX_SCN_GW_TAG. */
void sx_scn_gw_wc(struct sx_scn *s, const struct sx_wc *wc);
/* Bytes of relayed flows written into their destinations so far. */
uint64_t sx_scn_gw_delivered(const struct sx_scn *s);
/* Add the gateway section to summary.json. */
struct json_t;
int sx_scn_gw_write(const struct sx_scn *s, struct json_t *root);
/* One side of DC @p dc's gateway: its context's counters (counters API)
 * and its staging (egress for the inside side, ingress for the WAN side). */
struct sx_scn_gw_side {
	uint32_t host;
	uint64_t tx_bytes;       /* frame bytes its port sent */
	uint64_t retransmits;
	uint64_t timeouts;
	uint64_t cnp_rcvd;
	uint32_t staging_slots;
	uint32_t staging_peak;   /* most slots in use at once */
	uint64_t credit_waits;   /* chunks that waited for a slot */
};
void sx_scn_gw_side(const struct sx_scn *s, uint32_t dc, bool wan, struct sx_scn_gw_side *out);
/* Slots per staging pool at most (a relay QP's send queue holds them all). */
#define SX_SCN_GW_MAX_SLOTS 4096u

/* report.c */
void sx_scn_sample(struct sx_scn *s);
void sx_scn_window(struct sx_scn *s, bool end);
void sx_scn_finish(struct sx_scn *s);
uint64_t sx_scn_pair_acked(const struct sx_scn *s, const struct sx_pair *p);

struct json_t;

/* scenario.c: add a flow; @p after_seq the creation number (the flows
 * added before it) of the flow whose completion, plus @p delay_ns, releases
 * it, or SCN_NO_FLOW. */
int sx_scn_flow_add(struct sx_scn *s, const struct sx_flow *f, uint32_t after_seq,
		    uint64_t delay_ns);

/* coll.c: the collective's flows; its section of summary.json; free. */
int sx_scn_coll_flows(struct sx_scn *s, FILE *err);
int sx_scn_coll_json(const struct sx_scn *s, struct json_t *root);
void sx_scn_coll_free(struct sx_scn *s);

/* multipath.c: a host's path parameters; the multipath section of
 * summary.json and uplinks.csv. */
int sx_scn_path_host(struct sx_scn *s, struct sx_host *h, FILE *err);
int sx_scn_write_multipath(const struct sx_scn *s, const char *dir, struct json_t *root);

#endif
