/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * scalex congestion control, public: one ops table per algorithm (the
 * shape of Linux tcp_congestion_ops and quicly's cc.h). An algorithm sees numbers, not
 * QPs: every hook gets the QP's CC state, the algorithm's parameter values
 * and now_ns, and reads no clock. It grants a sending rate (and optionally
 * a window) by writing them into the state.
 *
 * Units: time in ns, rates in bits per second, sizes in bytes. Parameter
 * values are doubles in the unit their table row names.
 *
 * An application adds its own algorithm by filling a struct sx_cc_ops
 * (static storage: the registry keeps the pointer) and calling
 * sx_cc_register() before it creates contexts; from then on attr.cc, the
 * tools' --cc and sx_cc_param()/sx_cc_preset() find it by name like the
 * built-ins. Its per-QP state must fit in sx_cc_state.priv
 * (SX_CC_PRIV_BYTES). docs/cc.md has a worked example.
 */
#ifndef SCALEX_CC_H
#define SCALEX_CC_H

#include <stddef.h>
#include <stdint.h>

#include <scalex/param.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SX_CC_PRIV_BYTES  192
#define SX_CC_MAX_PARAMS  32
#define SX_CC_NO_TIMER    UINT64_MAX

/* A named set of parameter values (e.g. DCQCN "paper", "nic"). */
struct sx_cc_preset {
	const char *name;
	const char *source; /* where the values come from */
	double v[SX_CC_MAX_PARAMS];
};

/*
 * Per-QP CC state: what the algorithm grants, plus its private area. The
 * QP paces its data at rate_bps and, when cwnd_bytes is not 0, holds new
 * data while that many bytes are in flight (one packet always may go).
 */
struct sx_cc_state {
	uint64_t line_rate_bps;
	uint64_t rate_bps;   /* current sending rate (Rc); pacing follows it */
	uint64_t target_bps; /* algorithm's target (DCQCN Rt), 0 if none */
	uint64_t cwnd_bytes; /* window the QP enforces; 0: none */
	double alpha;        /* DCQCN alpha (for traces), 0 if none */
	uint64_t priv[SX_CC_PRIV_BYTES / 8];
};

/* What happened, for traces. */
enum sx_cc_event {
	SX_CC_EV_INIT,
	SX_CC_EV_ACK,
	SX_CC_EV_CNP,
	SX_CC_EV_ECN,
	SX_CC_EV_LOSS,
	SX_CC_EV_TIMEOUT,
	SX_CC_EV_TIMER,
	SX_CC_EV_PARAM,
	SX_CC_EV_MAX,
};

const char *sx_cc_event_name(enum sx_cc_event ev);

/*
 * The notification point (RoCEv2 annex A17.9): how the receiver of marked
 * packets sends CNPs. An algorithm whose table carries these knobs (DCQCN:
 * min_time_between_cnps, cnp_dscp, cnp_802p_prio; NSCC: the first two)
 * fills them through np_config, so operators tune them with the rest; the
 * engine reads this struct, never parameter names.
 */
struct sx_cc_np {
	uint64_t cnp_gap_ns; /* at most one CNP per QP per this */
	uint8_t cnp_dscp;    /* DSCP of CNPs */
	uint8_t cnp_pcp;     /* 802.1p priority of CNPs (VLAN-tagged ports) */
};

/*
 * In-band network telemetry (INT) as HPCC uses it (Li et al., SIGCOMM
 * 2019, section 3.2): one record per switch egress port the data packet
 * left, in path order, as the receiver echoed them in its ACK. The wire
 * carries the counters modulo SX_CC_INT_TS_WRAP_NS and
 * SX_CC_INT_TX_WRAP_BYTES (docs/wire.md, "INT"): an algorithm takes
 * differences of two records of one hop modulo those.
 */
#define SX_CC_INT_MAX_HOPS      5
#define SX_CC_INT_TS_WRAP_NS    (1ull << 24)
#define SX_CC_INT_TX_WRAP_BYTES (1ull << 27)

struct sx_cc_int_hop {
	uint64_t rate_bps;   /* the port's link rate (B) */
	uint64_t ts_ns;      /* when the packet left the port (ts), mod TS_WRAP */
	uint64_t tx_bytes;   /* bytes the port has sent (txBytes), mod TX_WRAP */
	uint64_t qlen_bytes; /* the port's queue as the packet left it (qLen) */
};

struct sx_cc_int {
	unsigned int nhops; /* 0: the path had no INT switch */
	struct sx_cc_int_hop hop[SX_CC_INT_MAX_HOPS];
};

struct sx_cc_ops {
	const char *name;
	const struct sx_param *params; /* nparams rows */
	unsigned int nparams;
	const struct sx_cc_preset *presets; /* npresets; presets[0] is the default */
	unsigned int npresets;
	/* Mandatory. */
	void (*init)(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps,
		     uint64_t now_ns);
	/* Optional hooks (NULL: not interested). */
	void (*on_send)(struct sx_cc_state *s, const double *p, uint32_t bytes,
			uint64_t now_ns);
	void (*on_ack)(struct sx_cc_state *s, const double *p, uint32_t acked_bytes,
		       uint64_t rtt_ns /* 0: no sample */, uint64_t now_ns);
	void (*on_cnp)(struct sx_cc_state *s, const double *p, uint64_t now_ns);
	void (*on_ecn)(struct sx_cc_state *s, const double *p, uint64_t now_ns);
	void (*on_loss)(struct sx_cc_state *s, const double *p, uint64_t now_ns);
	void (*on_timeout)(struct sx_cc_state *s, const double *p, uint64_t now_ns);
	/* Periodic work (DCQCN timers); next_timer says when it is next due. */
	void (*on_timer)(struct sx_cc_state *s, const double *p, uint64_t now_ns);
	uint64_t (*next_timer)(const struct sx_cc_state *s, const double *p);
	/*
	 * Optional: an ACK that echoes INT records. An algorithm with this
	 * hook asks for INT (its QPs send data that switches stamp, sr only);
	 * for such an ACK the QP calls on_int instead of on_ack, also when
	 * the ACK acknowledges nothing new (acked_bytes 0).
	 */
	void (*on_int)(struct sx_cc_state *s, const double *p, const struct sx_cc_int *in,
		       uint32_t acked_bytes, uint64_t now_ns);
	/* Optional: overwrite the notification-point settings it owns. */
	void (*np_config)(const double *p, struct sx_cc_np *np);
};

/*
 * Registry: the built-in algorithms (cc/meson.build lists them; docs/cc.md
 * describes each) and any registered later. Registration rejects a missing
 * mandatory op (init; and next_timer when on_timer is set), a parameter
 * table larger than
 * SX_CC_MAX_PARAMS or one whose defaults or presets lie outside their own
 * ranges (-EINVAL), a duplicate name (-EEXIST), and a full registry
 * (-ENOSPC). Register before engines start; lookups are lock-free.
 */
const struct sx_cc_ops *sx_cc_find(const char *name);
int sx_cc_register(const struct sx_cc_ops *ops);
/* The i-th registered algorithm, NULL past the end (for listing). */
const struct sx_cc_ops *sx_cc_at(unsigned int i);

/*
 * Parameter values of one algorithm instance: shared read-mostly by every
 * QP that uses it (later swapped under RCU by the live control plane).
 */
struct sx_cc_params {
	const struct sx_cc_ops *ops;
	double v[SX_CC_MAX_PARAMS];
};

/* Defaults (presets[0] if any, else the table's defaults). */
void sx_cc_params_init(struct sx_cc_params *cp, const struct sx_cc_ops *ops);
/* Load preset @p name: 0 or -ENOENT. */
int sx_cc_params_preset(struct sx_cc_params *cp, const char *name);
/*
 * Set one parameter: 0, -ENOENT (no such name), -ERANGE (outside [min, max],
 * NaN, or a fraction for an SX_PARAM_INT row).
 */
int sx_cc_params_set(struct sx_cc_params *cp, const char *name, double value);
/* "name=value" as given on a command line: 0, -EINVAL, -ENOENT, -ERANGE. */
int sx_cc_params_parse(struct sx_cc_params *cp, const char *assignment);
/* Index of @p name in the table, or -1. */
int sx_cc_param_index(const struct sx_cc_ops *ops, const char *name);

#ifdef __cplusplus
}
#endif

#endif
