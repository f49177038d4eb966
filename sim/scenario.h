/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A scenario: a fabric, a host per fabric host — each a real scalex context
 * (engine, QPs, CC) on a sim port with the simulator's virtual clock — and a
 * workload of RDMA WRITEs, run by one discrete-event loop.
 *
 * Hosts run only when something happens to them: at their engine's next
 * deadline (sx_engine_next_deadline), when a frame arrives, when a flow
 * starts, and when their NIC ring has room again after it was full.
 *
 * The configuration is an INI file (docs/sim.md lists every key); a run
 * writes flows.csv, summary.json and, with [sim] series = 1, queues.csv and
 * rates.csv. Same configuration and seed: byte-identical outputs.
 *
 * Units: time in ns (configuration in us where the key says so), sizes in
 * bytes, rates in bit/s (Gb/s in the configuration and the outputs).
 */
#ifndef SX_SIM_SCENARIO_H
#define SX_SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <scalex/scalex.h>

#include "coll.h"
#include "fabric.h"
#include "workload.h"

#define SX_SCN_MAX_CC_PARAMS 32
#define SX_SCN_MAX_EVENTS    64
#define SX_SCN_PATH          512
#define SX_SCN_MAX_PATH_PARAMS 8
/* The relay header at the start of each staging slot (docs/longhaul.md). */
#define SX_SCN_GW_HDR_BYTES 64

/* A flow given explicitly in the configuration. */
struct sx_scn_flow_spec {
	uint32_t src;
	uint32_t dst;
	uint64_t bytes;
	uint64_t start_ns;
	uint32_t after; /* 0, or 1 + the index of an earlier explicit flow whose
			 * completion releases this one */
};

/* A scheduled fabric change: fail a cable, or change its rate. */
struct sx_scn_link_event {
	char link[32];
	uint64_t at_ns;
	uint64_t rate_bps; /* 0: failure */
};

struct sx_scn_cfg {
	struct sx_fabric_cfg fab;
	/* transport */
	char cc[32];     /* "none": no congestion control */
	char cc_preset[32];
	char cc_param[SX_SCN_MAX_CC_PARAMS][64];
	uint32_t ncc_param;
	enum sx_reliability rel;
	uint32_t mtu;
	uint32_t timeout_us;
	uint8_t retry_cnt;
	uint32_t max_send_wr;
	uint32_t window_pkts;
	bool verify;     /* payloads with a pattern, checked at completion */
	/* path selection (sim/multipath.c): policy, "name=value" parameters */
	char path[32];   /* "": flow */
	char path_param[SX_SCN_MAX_PATH_PARAMS][64];
	uint32_t npath_param;
	/* gateway mode (sim/gateway.c): cross-DC flows relayed by a gateway
	 * host per DC, the last host of the DC (on its last leaf, the border
	 * leaf) */
	bool gw;
	uint64_t gw_chunk_bytes;   /* one relayed WRITE at most */
	uint64_t gw_staging_bytes; /* per gateway and direction */
	uint32_t gw_wan_qps;       /* long-haul QPs per ordered gateway pair */
	uint64_t gw_deliver_bytes; /* in flight from a gateway to one host; 0: no bound */
	char gw_wan_cc[32];        /* the gateways' WAN side; "none": no CC */
	char gw_wan_cc_preset[32];
	char gw_wan_cc_param[SX_SCN_MAX_CC_PARAMS][64];
	uint32_t ngw_wan_cc_param;
	/* workload */
	struct sx_wl_cfg wl;
	char cdf_path[SX_SCN_PATH];
	struct sx_scn_flow_spec *flows; /* explicit flows, besides the generator's */
	uint32_t nflows;
	/* faults */
	struct sx_scn_link_event events[SX_SCN_MAX_EVENTS];
	uint32_t nevents;
	/* a collective among GPUs, the hosts being node NICs (sim/coll.h) */
	struct sx_coll_cfg coll;
	/* run */
	uint64_t duration_ns;  /* flows start before this; window ends here */
	uint64_t drain_ns;     /* then let unfinished flows complete this long */
	uint64_t window_ns;    /* measurement window start; 0: duration / 2 */
	uint64_t sample_ns;    /* time-series period */
	bool series;           /* write queues.csv and rates.csv */
	uint64_t seed;
	char dir[SX_SCN_PATH]; /* the config file's directory (relative paths) */
	char data_dir[SX_SCN_PATH]; /* where a bare CDF name is looked up last */
};

/* Why the simulator refused a flow before it reached the wire. */
enum sx_scn_reject {
	SX_SCN_REJECT_NONE,
	SX_SCN_REJECT_QP_LIMIT, /* a host has no QP left for a new peer */
	SX_SCN_REJECT_POST,     /* sx_post_send refused the WRITE */
	SX_SCN_REJECT_MEMORY,   /* verification buffers: out of memory or MRs */
	SX_SCN_REJECT_PREDECESSOR, /* the flow that releases it failed */
	SX_SCN_REJECT_MAX,
};

/*
 * What the tests and the benchmark read after a run.
 *
 * Goodput is bytes the receivers acknowledged (completed flows, and the
 * acknowledged part of unfinished ones) over the interval they were
 * delivered in: from the first flow's start to the last completion, or to
 * the end of the run if a flow is still unfinished. Utilization is the
 * time a link's wire was busy over an interval, so neither can exceed what
 * the links carry. Queue depths are those seen by frames arriving at switch
 * ports (bytes): "fabric" figures pool every switch port's samples, the
 * worst port is the one with the highest p99, named.
 */
struct sx_scn_result {
	uint64_t flows;
	uint64_t completed;
	uint64_t failed;         /* completed with an error status, or rejected */
	uint64_t rejected[SX_SCN_REJECT_MAX]; /* of the failed: refused before the wire */
	uint64_t verify_errors;  /* completed but the data differs */
	uint64_t bytes_completed;
	uint64_t bytes_acked;    /* completed + acknowledged parts of the others */
	double goodput_gbps;     /* bytes_acked over [goodput_start, goodput_end] */
	uint64_t goodput_start_ns;
	uint64_t goodput_end_ns;
	/* measurement window [window, duration) */
	double win_goodput_gbps; /* acknowledged bytes, all pairs */
	double win_jain;         /* over pairs that moved data */
	uint32_t win_pairs;
	double win_max_util;     /* busiest switch port */
	char win_max_util_port[24];
	uint64_t win_drops;
	uint64_t win_q_p50_bytes; /* fabric: every switch port's samples */
	uint64_t win_q_p99_bytes;
	uint64_t win_q_max_bytes; /* deepest at any switch port */
	uint64_t win_q_worst_p99_bytes; /* the switch port with the highest p99 */
	char win_q_worst_port[24];
	/* whole run */
	uint64_t drops[SX_DROP_MAX];
	uint64_t drops_total;
	uint64_t ecn_marked;
	uint64_t pfc_pauses;      /* XOFFs that took effect */
	uint64_t pfc_pauses_host; /* of which on host NICs */
	uint64_t pfc_paused_ps;   /* summed over links */
	uint64_t q_p50_bytes;     /* fabric: every switch port's samples */
	uint64_t q_p99_bytes;
	uint64_t q_max_bytes;
	uint64_t q_worst_p99_bytes;
	char q_worst_port[24];
	double max_util;          /* busiest link of any kind, over the run */
	uint64_t cnp_sent;
	uint64_t cnp_rcvd;
	uint64_t retransmits;
	uint64_t timeouts;
	/* figures that cannot be physically true: a simulator bug */
	uint32_t invariants_broken;
	char invariant[256];      /* the first one, in words */
	/* the simulator itself */
	uint64_t events;
	uint64_t host_steps;
	uint64_t frames;         /* delivered to hosts */
	uint64_t hops;           /* frame arrivals at switches and hosts */
	uint64_t end_ns;         /* virtual time at the end */
};

struct sx_scn;

/* Defaults: a 2-host, 1-leaf, 100 Gb/s fabric, no workload. */
void sx_scn_cfg_init(struct sx_scn_cfg *cfg);
/* Free what loading allocated (the explicit flow list). */
void sx_scn_cfg_fini(struct sx_scn_cfg *cfg);
/*
 * Read an INI file into @p cfg (on top of what it holds).
 * @return 0, -errno when unreadable, or the line of the first bad entry
 * (> 0), with a message on @p err.
 */
int sx_scn_load(struct sx_scn_cfg *cfg, const char *path, FILE *err);
/* The same from a string; @p name stands for the file in messages. */
int sx_scn_load_string(struct sx_scn_cfg *cfg, const char *name, const char *text, FILE *err);
/* One "section.key=value" override; 0 or -EINVAL (message on @p err). */
int sx_scn_set(struct sx_scn_cfg *cfg, const char *assignment, FILE *err);
/*
 * The relations between keys that no single key can check (kmin <= kmax,
 * the window inside the run, what a workload needs...): 0, or -EINVAL with
 * a message on @p err. sx_scn_create() calls it.
 */
int sx_scn_check(const struct sx_scn_cfg *cfg, FILE *err);
/* Every key with its range, unit, default and meaning (scalex-sim --help). */
void sx_scn_keys_help(FILE *out);
/* ", name" for every registered congestion control, for --help. */
void sx_scn_cc_list(FILE *out);
/* The same as the Markdown table docs/sim.md carries (scalex-sim --keys-md). */
void sx_scn_keys_md(FILE *out);
/* The key table's own consistency (field sizes against ranges); 0 or -EINVAL. */
int sx_scn_keys_selfcheck(FILE *err);

/* Build the fabric, the hosts and the workload; NULL with a message on @p err,
 * which later also gets the run's messages (flows refused, broken invariants). */
struct sx_scn *sx_scn_create(const struct sx_scn_cfg *cfg, FILE *err);
/*
 * Run to the end (duration + drain, or every flow done); 0, or -ERANGE when
 * a figure broke a physical invariant (no link above its line rate or 100%
 * busy, no more bytes delivered than sent, no host receiving faster than
 * its link): the result's invariant says which.
 */
int sx_scn_run(struct sx_scn *s);
const struct sx_scn_result *sx_scn_result(const struct sx_scn *s);
const char *sx_scn_reject_name(enum sx_scn_reject r);
/*
 * The collective's figures after sx_scn_run() ([coll] op, sim/coll.c):
 * 0, or -ENOENT when the run has no collective.
 */
int sx_scn_coll_result(const struct sx_scn *s, struct sx_coll_result *r);
/* Write flows.csv, summary.json (and the series) into @p dir; 0 or -errno. */
int sx_scn_write(struct sx_scn *s, const char *dir);
void sx_scn_destroy(struct sx_scn *s);

#endif
