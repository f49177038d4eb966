/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fabric model: hosts, leaf and spine switches, and links between them.
 *
 * A link is one direction of a cable: an egress queue at its sending node
 * and a wire (rate, propagation delay). Switches are output-queued: a frame
 * arriving at a switch is routed to an egress link and enqueued there, with
 * drop-tail at the port's buffer and RED/ECN marking (instant queue length,
 * Kmin / Kmax / Pmax as DCQCN's switches use them) on enqueue or, as
 * HPCC's ns-3 switches do, on dequeue, where the mark reaches the receiver
 * without first waiting out the queue it reports. A host's
 * uplink queue is its NIC's tx ring, bounded in frames: when it is full the
 * host's port refuses frames and the host waits for room.
 *
 * INT (HPCC's in-band telemetry, docs/wire.md): with int_stamp, a switch
 * egress port writes a hop record (link rate, time, bytes sent, queue
 * left behind) into the next free slot of a frame that reserved INT slots,
 * as it starts the frame on the wire, like HPCC's ns-3 switches.
 *
 * Routing: a leaf sends to its own hosts directly and to other leaves over
 * ECMP across the spines, hashing the 5-tuple (so the UDP source port picks
 * the path); a spine has one link down to each leaf. A failed link drops
 * what it holds and what reaches it; after the detection delay the leaves
 * leave it out of their ECMP sets (and every path through it).
 *
 * Several datacenters (dcs > 1): each is such a leaf-spine; every spine of
 * a DC has one cable up to its DC's border switch, and the borders are
 * joined pairwise by WAN cables. Host h is in DC h / (leaves *
 * hosts_per_leaf), leaf h / hosts_per_leaf (numbered across DCs); its
 * address 10.a.b.c (a.b.c = h + 1) encodes the three. A leaf reaches
 * another DC over ECMP across its spines to the border; a border reaches its
 * own leaves over ECMP across its spines, and another DC over its WAN cable.
 *
 * PFC (802.1Qbb, one lossless priority that data, ACKs and CNPs share): a
 * switch counts per ingress link the bytes it holds that came in on it.
 * Above pfc_xoff_bytes it pauses the link's sender, which stops starting
 * frames on that link one propagation delay later (a frame on the wire
 * finishes); below pfc_xon_bytes it resumes it the same way. A paused host
 * NIC refuses frames as a full tx ring does.
 *
 * Units: time in ps, rates in bit/s, sizes in bytes.
 */
#ifndef SX_SIM_FABRIC_H
#define SX_SIM_FABRIC_H

#include <stdbool.h>
#include <stdint.h>

#include "../dataplane/port/port.h"
#include "../dataplane/util/rng.h"
#include "sched.h"
#include "sim.h"

enum sx_node_kind {
	SX_NODE_HOST,
	SX_NODE_LEAF,
	SX_NODE_SPINE,
	SX_NODE_BORDER, /* a DC's gateway to the WAN */
};

enum sx_link_kind {
	SX_LINK_HOST_UP,    /* host NIC -> leaf */
	SX_LINK_LEAF_DOWN,  /* leaf -> host */
	SX_LINK_LEAF_UP,    /* leaf -> spine */
	SX_LINK_SPINE_DOWN, /* spine -> leaf */
	SX_LINK_SPINE_UP,   /* spine -> border */
	SX_LINK_BORDER_DOWN, /* border -> spine */
	SX_LINK_WAN,        /* border -> border */
	SX_LINK_KINDS,
};

const char *sx_link_kind_name(enum sx_link_kind k);

struct sx_fabric_cfg {
	uint32_t hosts_per_leaf;
	uint32_t leaves;           /* per DC */
	uint32_t spines;           /* per DC; 0 with one leaf and one DC */
	uint32_t dcs;              /* datacenters, joined by borders and WAN links */
	uint64_t wan_rate_bps;     /* border <-> border */
	uint64_t wan_delay_ns;
	uint64_t host_rate_bps;    /* host <-> leaf */
	uint64_t fabric_rate_bps;  /* leaf <-> spine */
	uint64_t host_delay_ns;    /* propagation, host <-> leaf */
	uint64_t fabric_delay_ns;  /* propagation, leaf <-> spine */
	uint32_t wire_overhead_bytes; /* preamble, SFD, FCS, IFG: 24 */
	uint32_t nic_ring_frames;  /* host tx ring */
	uint64_t buffer_bytes;     /* per switch egress port */
	bool ecn;
	uint64_t kmin_bytes;
	uint64_t kmax_bytes;
	double pmax;
	uint64_t ecn_ref_bps;      /* Kmin/Kmax are for a port of this rate; 0: for every port */
	bool ecn_dequeue;          /* mark on dequeue (feedback without the queue's delay) */
	bool pfc;                  /* pause upstream per ingress link */
	bool int_stamp;            /* INT: switch egress ports stamp hop records */
	uint64_t pfc_xoff_bytes;   /* held from one ingress link: pause above */
	uint64_t pfc_xon_bytes;    /* resume below */
	double loss;               /* random loss on every link */
	double reorder;            /* a frame held back 1-3 frame times on a link */
	uint64_t detect_ns;        /* link failure -> ECMP update */
	uint64_t seed;
};

/* Why a frame was dropped. */
enum sx_drop {
	SX_DROP_TAIL,    /* buffer full */
	SX_DROP_DOWN,    /* link down */
	SX_DROP_LOSS,    /* random loss */
	SX_DROP_NOROUTE, /* no live path */
	SX_DROP_MAX,
};

const char *sx_drop_name(enum sx_drop d);

/* A frame in the fabric: lives in the pool buffer's scratch area. */
struct sx_fab_pkt {
	struct sx_fab_pkt *next;
	struct sx_fab_link *link; /* the link it is on */
	uint8_t *data;
	uint32_t len;      /* frame bytes */
	uint32_t hash;     /* of the 5-tuple */
	uint32_t src;      /* host */
	uint32_t dst;      /* host */
	uint8_t ect;       /* ECN-capable */
	uint8_t pad[7];
};

struct sx_fab_node;

struct sx_fab_link {
	uint32_t id;
	enum sx_link_kind kind;
	struct sx_fab_node *from;
	struct sx_fab_node *to;
	char name[24];          /* "l0>s1" */
	uint64_t rate_bps;
	uint64_t delay_ps;
	bool up;                /* carries frames */
	bool routed;            /* the routing knows it up */
	double loss;
	double reorder;
	/* egress queue */
	struct sx_fab_pkt *head;
	struct sx_fab_pkt *tail;
	uint64_t qbytes;
	uint32_t qpkts;
	uint32_t cap_frames;    /* host ring; 0: bytes bound */
	uint64_t buffer_bytes;
	bool ecn;
	bool host_blocked;      /* its host was refused: wake it on room */
	bool paused;            /* PFC: the receiver paused this link */
	bool pause_sent;        /* PFC: this link's receiver sent XOFF (in effect or flying) */
	uint64_t ingress_bytes; /* PFC: bytes its receiving switch holds from it */
	bool txdone_pending;
	uint64_t busy_until_ps;
	uint64_t busy_ps;       /* wire time of every frame started (utilization) */
	uint32_t ser_len;       /* the last frame length started, 0: none */
	uint64_t ser_ps;        /* its serialization time at rate_bps */
	/* counters */
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t ecn_marked;
	uint64_t int_stamped;      /* INT hop records written */
	uint64_t drop[SX_DROP_MAX];
	uint64_t pfc_pauses;       /* XOFFs that took effect on it */
	uint64_t paused_since_ps;
	uint64_t paused_ps;        /* time spent paused */
	uint64_t tx_bytes_sampled; /* at the last time-series sample */
	uint64_t tx_bytes_win;     /* at the measurement window's start */
	uint64_t tx_pkts_win;
	uint64_t busy_win_ps;      /* sx_fabric_busy_ps() at the window's start */
	uint64_t drops_win;        /* drops at the window's start */
	uint64_t qmax_win;         /* deepest queue seen in the window */
	struct sx_hist *qhist;     /* queue seen by arriving frames (switch ports) */
	struct sx_hist *qhist_win; /* the same, in the window */
};

struct sx_fab_node {
	enum sx_node_kind kind;
	uint32_t index; /* among its kind */
	uint32_t nout;
	struct sx_fab_link **out; /* egress links by port */
	uint64_t salt;            /* ECMP hash seed */
	uint32_t dc;
	/* leaf: per destination leaf of its DC (and, last, the border), the
	 * usable uplink ports; border: per leaf of its DC, the usable spine
	 * ports */
	uint16_t *ecmp;           /* [leaves + 1][spines] */
	uint16_t *necmp;          /* [leaves + 1] */
};

/* What the fabric needs from the hosts. */
struct sx_fabric_hooks {
	/* A frame arrived at host @p h (the host takes it). */
	void (*deliver)(void *arg, uint32_t h, struct sx_frame *f);
	/* Host @p h's tx ring has room again after it was refused. */
	void (*tx_room)(void *arg, uint32_t h);
	/* Optional: host @p h starts @p len bytes of @p frame for host @p dst
	 * on its wire (the end of its host queueing). */
	void (*tx_start)(void *arg, uint32_t h, uint32_t dst, const uint8_t *frame, uint32_t len);
	void *arg;
};

/* A scheduled change of a link (both directions of its cable). */
struct sx_fab_change {
	uint32_t link;     /* one direction; its reverse changes too */
	int kind;          /* 0: fail, 1: detect failure, 2: rate */
	uint64_t rate_bps;
};

struct sx_fabric {
	struct sx_fabric_cfg cfg;
	struct sx_sched *sched;
	struct sx_sim_pool *pool;
	struct sx_fabric_hooks hooks;
	struct sx_rng rng;
	uint32_t nhosts;
	uint32_t nnodes;
	uint32_t hosts_per_dc;
	uint32_t nleaves;          /* over every DC */
	uint32_t nspines;
	struct sx_fab_node *nodes; /* hosts, then leaves, spines, borders */
	uint32_t nlinks;
	struct sx_fab_link *links;
	struct sx_fab_link **host_up; /* by host */
	struct sx_fab_change *changes;
	uint32_t nchanges;
	bool in_window;
	uint64_t drop[SX_DROP_MAX];
	uint64_t ecn_marked;
	uint64_t pkts_delivered;
	uint64_t bytes_delivered;  /* frame bytes handed to hosts */
	uint64_t overruns;         /* frames started before the wire was free: a bug */
	uint64_t hops;
	uint64_t reordered;      /* frames held back for later ones to overtake */
	uint64_t pfc_pauses;       /* XOFFs that took effect, every link */
	uint64_t pfc_pauses_host;  /* of which on host NICs */
};

int sx_fabric_init(struct sx_fabric *fab, const struct sx_fabric_cfg *cfg, struct sx_sched *sched,
		   struct sx_sim_pool *pool, const struct sx_fabric_hooks *hooks);
void sx_fabric_fini(struct sx_fabric *fab);

/* Frames host @p h's tx ring takes now; 0 also arranges a tx_room call. */
uint32_t sx_fabric_host_room(struct sx_fabric *fab, uint32_t h);
/* Host @p h sends @p f: false if its tx ring is full (the host keeps it). */
bool sx_fabric_host_tx(struct sx_fabric *fab, uint32_t h, struct sx_frame *f);
/* Run a fabric event (SX_EV_TXDONE, SX_EV_ARRIVE, SX_EV_LINK_CHANGE, SX_EV_PFC). */
void sx_fabric_event(struct sx_fabric *fab, const struct sx_sim_event *ev);

/* The link named "a>b" or either direction of "a-b" (nodes h3, l0, s1, b0). */
struct sx_fab_link *sx_fabric_link(struct sx_fabric *fab, const char *name);
/* Schedule a failure (and its detection) or a rate change of a cable. */
int sx_fabric_fail_at(struct sx_fabric *fab, struct sx_fab_link *l, uint64_t at_ps);
int sx_fabric_rate_at(struct sx_fabric *fab, struct sx_fab_link *l, uint64_t at_ps,
		      uint64_t rate_bps);
/* Time spent paused by @p l up to now, ps. */
uint64_t sx_fabric_paused_ps(const struct sx_fabric *fab, const struct sx_fab_link *l);
/* The DC of host @p h. */
static inline uint32_t
sx_fabric_dc_of(const struct sx_fabric *fab, uint32_t h)
{
	return h / fab->hosts_per_dc;
}
/*
 * Time @p l's wire has been busy up to now, ps: the serialization of every
 * frame started, less what the frame on the wire still has to go. Over an
 * interval it is at most the interval (a link sends one frame at a time),
 * whatever the rate was, so utilization from it cannot exceed 100%.
 */
static inline uint64_t
sx_fabric_busy_ps(const struct sx_fabric *fab, const struct sx_fab_link *l)
{
	uint64_t now = fab->sched->now_ps;

	return l->busy_ps - (l->busy_until_ps > now ? l->busy_until_ps - now : 0);
}
/* Start of the measurement window: counters snapshot from here. */
void sx_fabric_window(struct sx_fabric *fab);

/* Serialization time of a @p len-byte frame on @p l, ps. */
static inline uint64_t
sx_fab_ser_ps(const struct sx_fab_link *l, uint32_t len, uint32_t overhead)
{
	return ((uint64_t)(len + overhead) * 8 * 1000000000000ull) / l->rate_bps;
}

/* The host index a destination address names (10.a.b.c: a.b.c - 1), or
 * UINT32_MAX. */
uint32_t sx_fabric_host_of_ip(const uint8_t *ip4);
/* The address of host @p h. */
void sx_fabric_ip_of_host(uint32_t h, uint8_t ip[16]);

/*
 * RED on the instant queue (DCQCN, SIGCOMM'15 5.1), for the simulator's
 * switches and the real-time fabric's alike: no mark up to Kmin,
 * probability rising linearly to Pmax at Kmax, every frame above Kmax.
 * With ecn_ref_bps, a port of @p rate_bps marks at Kmin and Kmax scaled by
 * rate_bps / ecn_ref_bps (the HPCC authors' ns-3 scales them per 25 Gb/s),
 * so that every port marks at the same queueing delay.
 */
static inline bool
sx_red_mark(const struct sx_fabric_cfg *c, uint64_t rate_bps, uint64_t qbytes,
	    struct sx_rng *rng)
{
	double scale = c->ecn_ref_bps ? (double)rate_bps / (double)c->ecn_ref_bps : 1.0;
	double kmin = (double)c->kmin_bytes * scale, kmax = (double)c->kmax_bytes * scale;
	double q = (double)qbytes;

	if (q <= kmin)
		return false;
	if (q > kmax)
		return true;
	return sx_rng_double(rng) < c->pmax * (q - kmin) / (kmax - kmin);
}

#endif
