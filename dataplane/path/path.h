/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Path selection: which UDP source port — the ECMP entropy of RoCEv2 —
 * each packet of a QP carries. Switches hash the 5-tuple to pick one of
 * the equal-cost next hops, so the source port chooses the path without any
 * switch support (DESIGN.md, "Paths").
 *
 * One ops table per policy, like cc/: a policy sees numbers (a base port,
 * now_ns, feedback about the entropies it used), never a QP, and reads no
 * clock. Its per-QP state lives in a fixed private area; its knobs are a
 * parameter table (dataplane/param) validated on every set.
 *
 * Units: time in ns. Entropies are UDP source ports in 0xc000..0xffff, the
 * range RoCEv2 recommends for them.
 */
#ifndef SX_PATH_H
#define SX_PATH_H

#include <stdint.h>

#include "../param/param.h"

#define SX_PATH_PRIV_BYTES 256
#define SX_PATH_MAX_PARAMS 16
#define SX_PATH_SPORT_BASE 0xc000u
#define SX_PATH_SPORT_MASK 0x3fffu
/* Counter slots per QP: the entropies a policy keeps, or buckets of them. */
#define SX_PATH_SLOTS 16

/* What one counter slot saw: the telemetry of an entropy (or bucket). */
struct sx_path_slot {
	uint16_t entropy; /* the slot's current entropy (spray: the last one sent) */
	uint64_t pkts;    /* request packets sent on it */
	uint64_t ecn;     /* ECN-CE marks the receiver echoed for it */
	uint64_t losses;  /* packets on it declared lost, and timeouts */
	uint64_t retired; /* times the policy gave its entropy up for another */
};

/* Per-QP path state: the QP's own entropy, counters, the policy's private area. */
struct sx_path_state {
	uint16_t base;   /* the QP's flow entropy: ACKs, CNPs, and `flow` data */
	uint16_t nslots; /* counter slots in use, 1..SX_PATH_SLOTS */
	uint32_t ack_seq; /* ACKs of a QP whose policy reorders: sprayed */
	struct sx_path_slot slot[SX_PATH_SLOTS];
	uint64_t priv[SX_PATH_PRIV_BYTES / 8];
};

/* What the peer or the QP learnt about packets sent on an entropy. */
enum sx_path_signal {
	SX_PATH_SIG_ACK,     /* delivered (marks are reported apart, as ECN) */
	SX_PATH_SIG_ECN,     /* delivered marked ECN-CE */
	SX_PATH_SIG_LOSS,    /* declared lost (SACK hole, NAK) */
	SX_PATH_SIG_TIMEOUT, /* retransmit timeout */
	SX_PATH_SIG_MAX,
};

struct sx_path_ops {
	const char *name;
	const char *help;
	const struct sx_param *params; /* nparams rows */
	unsigned int nparams;
	/* Mandatory. */
	void (*init)(struct sx_path_state *s, const double *p, uint16_t base);
	uint16_t (*next)(struct sx_path_state *s, const double *p, uint64_t now_ns);
	/* Optional (NULL: the policy ignores feedback). The QP reports, per
	 * packet, ACK when it is delivered, LOSS when the loss detector gives
	 * it up, TIMEOUT for the oldest one when the retransmit timer fires;
	 * ECN when the receiver echoes a mark on the entropy. */
	void (*feedback)(struct sx_path_state *s, const double *p, uint16_t entropy,
			 enum sx_path_signal sig, uint64_t now_ns);
	/* The counter slot @p entropy belongs to, or -1 (not one of ours). */
	int (*slot_of)(const struct sx_path_state *s, const double *p, uint16_t entropy);
	/* Needs the receiver to place out-of-order packets (selective repeat). */
	unsigned int reorders : 1;
};

/* Parameter values of one policy instance, shared read-mostly by its QPs. */
struct sx_path_params {
	const struct sx_path_ops *ops;
	double v[SX_PATH_MAX_PARAMS];
};

/* The built-in policies, NULL for an unknown name; the i-th, NULL past the end. */
const struct sx_path_ops *sx_path_find(const char *name);
const struct sx_path_ops *sx_path_at(unsigned int i);
/* The `flow` policy with its defaults: for QPs that were given none. */
const struct sx_path_params *sx_path_params_default(void);
/* A QP's flow entropy: a hash of its QPN folded into 0xc000..0xffff. */
uint16_t sx_path_base(uint32_t qpn);
/* Defaults of @p ops into @p pp. */
void sx_path_params_init(struct sx_path_params *pp, const struct sx_path_ops *ops);
/* "name=value": 0, -EINVAL, -ENOENT, -ERANGE (dataplane/param). */
int sx_path_params_parse(struct sx_path_params *pp, const char *assignment);

/* A QP's path state at creation: counters zero, the policy's init. */
void sx_path_init(struct sx_path_state *s, const struct sx_path_params *pp, uint16_t base);

/* The entropy of the next request packet. */
static inline uint16_t
sx_path_next(struct sx_path_state *s, const struct sx_path_params *pp, uint64_t now_ns)
{
	return pp->ops->next(s, pp->v, now_ns);
}

/*
 * The entropy of an ACK: the QP's own under a policy that keeps one path;
 * under one that reorders, round robin over the entropy set, so that a
 * dead path costs a QP a few ACKs, not all of them (an SR ACK is
 * cumulative: the next one, on another path, says everything).
 */
uint16_t sx_path_ack_entropy(struct sx_path_state *s, const struct sx_path_params *pp);

/* What became of a packet sent on @p entropy: counters, then the policy. */
void sx_path_feedback(struct sx_path_state *s, const struct sx_path_params *pp,
		      uint16_t entropy, enum sx_path_signal sig, uint64_t now_ns);

#endif
