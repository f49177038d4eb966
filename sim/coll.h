/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collectives in the simulator: each fabric host is one node's NIC, and
 * each node holds gpus_per_node GPUs joined by an NVLink/NVSwitch domain
 * that is modelled, not simulated: an intra-node stage that moves B bytes
 * per GPU takes nvlink_latency + B / nvlink_rate. The inter-node transfers
 * are RDMA WRITEs between the node NICs, carried by the real protocol code
 * on the simulated fabric (sim/scenario.c), with dependencies between them
 * that follow the algorithm's data flow.
 *
 * Algorithms (docs/collectives.md has the cost model; docs/sim.md the keys):
 *  - all-reduce, hier: per chunk of chunk_bytes, an intra-node
 *    reduce-scatter, a ring all-reduce among the N node NICs (2 (N-1) steps
 *    of chunk / N), an intra-node all-gather; chunks pipeline (chunk p + 1 is
 *    reduced inside the node while chunk p is on the network), as coll/'s
 *    leader mode does. NIC bytes per node: 2 S (N-1) / N.
 *  - all-reduce, flat: one ring over all n = N L GPUs, node by node: of
 *    its n edges, N cross a NIC and the others NVLink; 2 (n-1) steps of
 *    S / n. NIC bytes per node: 2 S (n-1) / n.
 *  - all-to-all(v), hier: each GPU writes its blocks into the node's staging
 *    buffer (NVLink), the node sends one message per destination node, the
 *    destination copies the blocks out (NVLink).
 *  - all-to-all(v), flat: each GPU sends each off-node block directly
 *    (L^2 messages per node pair), on-node blocks over NVLink at the same time.
 *  Block sizes of the all-to-all come from the MoE generator (sim/workload.h)
 *  over the n GPUs: skewed by [workload] moe_* keys.
 *
 * Units: time in ns, sizes in bytes, rates in bit/s.
 */
#ifndef SX_SIM_COLL_H
#define SX_SIM_COLL_H

#include <stdint.h>
#include <stdio.h>

enum sx_coll_op {
	SX_COLL_NONE,
	SX_COLL_ALLREDUCE,
	SX_COLL_ALLTOALL,
	SX_COLL_OPS,
};

enum sx_coll_algo {
	SX_COLL_HIER,
	SX_COLL_FLAT,
	SX_COLL_ALGOS,
};

/* Names, indexed by the enums, NULL-terminated (sim/config.c). */
extern const char *const sx_coll_op_names[SX_COLL_OPS + 1];
extern const char *const sx_coll_algo_names[SX_COLL_ALGOS + 1];

struct sx_coll_cfg {
	enum sx_coll_op op;
	enum sx_coll_algo algo;
	uint32_t gpus_per_node;     /* L */
	uint64_t bytes;             /* S per GPU */
	uint64_t chunk_bytes;       /* hier all-reduce pipeline chunk */
	uint32_t pipeline_chunks;   /* hier all-reduce: chunks in flight per node */
	uint64_t nvlink_bps;        /* per GPU, per direction */
	uint64_t nvlink_latency_ns; /* per intra-node stage or ring hop */
};

/* What a collective run measured (sx_scn_coll_result). */
struct sx_coll_result {
	uint32_t nodes;          /* N */
	uint32_t gpus;           /* n = N L */
	uint64_t bytes;          /* S per GPU */
	uint64_t time_ns;        /* start to the last GPU's completion */
	uint64_t net_ns;         /* start to the last NIC transfer's completion */
	double algbw_gbs;        /* S / time, GB/s */
	double busbw_gbs;        /* algbw x 2 (n-1)/n (all-reduce), (n-1)/n (all-to-all) */
	uint64_t nic_bytes_max;  /* payload a node's NIC sent, the busiest node */
	uint64_t nic_bytes_min;
	uint64_t nic_rx_bytes_max; /* payload a node's NIC received, the busiest node */
	uint64_t nic_wire_bytes_max; /* frames on the host uplink (headers, ACKs, CNPs) */
	uint64_t nic_bytes_model; /* all-reduce: 2 S (N-1)/N or 2 S (n-1)/n; all-to-all: 0 */
	uint64_t messages;       /* NIC transfers (RDMA WRITEs) */
	uint64_t failed;         /* of them, failed or refused */
	double nic_util_max;     /* busiest node's uplink busy time / time */
};

#endif
