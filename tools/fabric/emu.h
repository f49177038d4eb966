/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real-time leaf-spine that scalex-fabric runs between host processes:
 * the same topology, routing, buffers and RED/ECN marking as the
 * simulator's fabric (sim/fabric.h, configured by the same INI keys), but
 * driven by a wall clock that the caller passes in, with frames that are
 * real packets (DPDK mbufs in scalex-fabric, plain buffers in the tests).
 *
 * A link is one direction of a cable: an egress queue at its sending node
 * (drop-tail at buffer_bytes, RED/ECN on enqueue or dequeue with Kmin /
 * Kmax / Pmax as DCQCN's switches mark, SIGCOMM'15 section 5.1), a shaper
 * at the link rate, and a delay line (propagation). The shaper is the
 * Generic Cell Rate Algorithm (ITU-T I.371 "virtual scheduling"): a frame
 * may start when its theoretical start time is at most burst_ns ahead of
 * now; its wire time (frame + preamble, FCS, gap) then moves the
 * theoretical time on. The burst tolerance (burst_bytes at the link rate,
 * and at least burst_min_ns) lets a link catch up on the time the polling
 * loop was not scheduled, sharing its CPUs with host processes, without
 * letting the average exceed the rate.
 *
 * Host h's frames enter on its uplink (host -> leaf: the NIC's wire),
 * leaves reach their own hosts directly and other leaves by ECMP over the
 * spines, hashing the 5-tuple with a per-leaf salt (the RoCEv2 UDP source
 * port is the entropy), as sim/fabric.c does. Each switch hop decrements
 * the IPv4 TTL (RFC 1812 5.3.1) and fixes the header checksum.
 *
 * Faults on every link, as frames leave its queue: loss, corruption (one
 * payload byte flipped: the receiver's ICRC check drops it), duplication
 * (a copy follows the frame), reordering (the frame is held back until the
 * next frame on the link has passed it, or hold_ns at the latest).
 *
 * Nothing here reads a clock or does I/O: fx_poll(now_ns) moves frames,
 * the hooks hand them to hosts, free them and copy them.
 *
 * Units: time in ns, rates in bit/s, sizes in bytes.
 */
#ifndef SX_FABRIC_EMU_H
#define SX_FABRIC_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <scalex/scalex.h>

/* The simulator's fabric configuration, link kinds, addresses, RNG and
 * histogram: by path, since sim/ has a sched.h that would hide <sched.h>. */
#include "../../sim/fabric.h"
#include "../../dataplane/util/rng.h"
#include "../../sim/sim.h"

/* A frame: the caller's handle (an mbuf) and its bytes. */
struct fx_pkt {
	void *h;
	uint8_t *data;
	uint32_t len;
};

struct fx_hooks {
	/* Hand @p p to host @p host; false if the host's port refused it
	 * (it is then dropped and counted). */
	bool (*deliver)(void *arg, uint32_t host, struct fx_pkt *p);
	/* A dropped frame. */
	void (*free)(void *arg, struct fx_pkt *p);
	/* A copy of @p in into @p out; false when none can be made. */
	bool (*copy)(void *arg, const struct fx_pkt *in, struct fx_pkt *out);
	void *arg;
};

/* Why a frame was dropped. */
enum fx_drop {
	FX_DROP_TAIL,      /* egress buffer full */
	FX_DROP_LOSS,      /* injected loss */
	FX_DROP_NOROUTE,   /* not IPv4/UDP, or no host at that address */
	FX_DROP_TTL,       /* TTL expired */
	FX_DROP_WIRE_FULL, /* more frames in flight on the link than its delay line holds */
	FX_DROP_HOST,      /* the host's port refused it (host gone or its ring full) */
	FX_DROP_MAX,
};

const char *fx_drop_name(enum fx_drop d);

struct fx_cfg {
	struct sx_fabric_cfg fab; /* topology, rates, delays, buffer, ECN, loss, reorder */
	struct sx_fault_dir fault; /* drop, reorder, duplicate, corrupt on every link
				    * (drop and reorder add to fab.loss / fab.reorder) */
	uint64_t burst_bytes;     /* shaper burst tolerance; 0: 4 frames of 4 KiB */
	uint64_t burst_min_ns;    /* ... and at least this much time; 0: 4 ms */
	uint64_t hold_ns;         /* a reordered frame waits at most this; 0: 100 us */
	uint32_t ring_frames;     /* per link queue and delay line, frames (power of 2) */
	uint64_t seed;
};

struct fx_slot {
	struct fx_pkt p;
	uint64_t t_ns; /* delay line: arrival at the far end; hold: when held */
	uint64_t hash; /* of the 5-tuple */
	uint32_t dst;  /* host */
	bool ect;      /* ECN-capable, not yet marked */
};

/* A ring of frames (a queue or a delay line). */
struct fx_ring {
	struct fx_slot *s;
	uint32_t mask;
	uint32_t head; /* next out */
	uint32_t tail; /* next in */
};

struct fx_link {
	uint32_t id;
	enum sx_link_kind kind;
	uint32_t from;          /* node index: hosts, then leaves, then spines */
	uint32_t to;
	char name[24];          /* "l0>s1", as the simulator names it */
	uint64_t rate_bps;
	uint64_t delay_ns;
	bool ecn;               /* a switch port */
	struct fx_ring q;       /* egress queue */
	uint64_t qbytes;
	struct fx_ring wire;    /* delay line */
	uint64_t tat_ns;        /* shaper: theoretical start time of the next frame */
	uint64_t burst_ns;
	bool held;              /* reorder: a frame waits in hold */
	struct fx_slot hold;
	/* counters */
	uint64_t rx_pkts;       /* offered to the egress queue */
	uint64_t rx_bytes;
	uint64_t tx_pkts;       /* sent on the wire */
	uint64_t tx_bytes;
	uint64_t drop[FX_DROP_MAX];
	uint64_t ecn_marked;
	uint64_t reordered;
	uint64_t duplicated;
	uint64_t corrupted;
	struct sx_hist qhist;   /* queue seen by arriving frames, bytes */
};

struct fx_node {
	enum sx_node_kind kind;
	uint32_t index;     /* among its kind */
	uint64_t salt;      /* ECMP hash seed */
};

struct fx {
	struct fx_cfg cfg;
	struct fx_hooks hooks;
	struct sx_rng rng;
	uint32_t nhosts;
	uint32_t nnodes;
	struct fx_node *nodes;
	uint32_t nlinks;
	struct fx_link *links;
	struct fx_link **host_up;    /* [host] */
	struct fx_link **leaf_down;  /* [host] */
	struct fx_link **leaf_up;    /* [leaf * spines + spine] */
	struct fx_link **spine_down; /* [spine * leaves + leaf] */
	uint64_t drop[FX_DROP_MAX];
	uint64_t ecn_marked;
	uint64_t delivered;
};

/* Build the links; 0, -EINVAL (a topology this emulator does not run:
 * several DCs, PFC, several leaves without spines) or -ENOMEM. */
int fx_init(struct fx *f, const struct fx_cfg *cfg, const struct fx_hooks *hooks);
/* Free every frame still held and the links. */
void fx_fini(struct fx *f);

/* Whether host @p host's uplink takes frames: at most nic_ring_frames wait
 * there, as on the simulator's host NIC; the caller leaves the rest in the
 * host's port, whose full ring then holds the host back (no loss). */
bool fx_host_ready(const struct fx *f, uint32_t host);
/* A frame sent by host @p host enters its uplink at @p now_ns. */
void fx_ingress(struct fx *f, uint32_t host, struct fx_pkt *p, uint64_t now_ns);
/* @p n frames that fx_poll handed to host @p host's port were refused
 * after all (its ring was full when the caller flushed them): counted as
 * FX_DROP_HOST on the host's downlink. */
void fx_host_refused(struct fx *f, uint32_t host, uint64_t n);
/* Move every frame that may move at @p now_ns; returns the frames moved. */
uint32_t fx_poll(struct fx *f, uint64_t now_ns);
/* When fx_poll next has something to do (UINT64_MAX: nothing held). */
uint64_t fx_next_ns(const struct fx *f);
/* Frames held in queues, delay lines and reorder slots. */
uint64_t fx_held(const struct fx *f);

/* Per-port counters (rx, tx, drops by reason, ECN marks, faults, queue
 * depth p50/p99/max) and the fabric's totals; NULL without memory. Rates
 * over @p elapsed_s. */
json_t *fx_json(const struct fx *f, double elapsed_s);

/* The classification fx_ingress uses: the host an IPv4 RoCEv2 frame is
 * for and its 5-tuple hash; false if it has no route. */
bool fx_classify(const uint8_t *d, uint32_t len, uint32_t *dst, uint64_t *hash);

#endif
