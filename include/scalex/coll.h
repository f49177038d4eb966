/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * scalex collectives (docs/collectives.md): a communicator of processes
 * (ranks) grouped into nodes, bootstrapped from the environment of an
 * existing launcher (torchrun, Open MPI's mpirun), with intra-node
 * aggregation over shared memory and inter-node traffic over scalex RC QPs,
 * one QP per node pair (per rail).
 *
 * Every call is collective (all ranks call it, in the same order, with
 * matching arguments) and blocking; one thread per process drives the
 * communicator. Counts are in elements, sizes in bytes. Functions return 0
 * or a negative errno: -EPIPE when a peer failed (sx_coll_failed_peer()
 * names it), -ETIMEDOUT when a step did not finish in time.
 */
#ifndef SCALEX_COLL_H
#define SCALEX_COLL_H

#include <stddef.h>
#include <stdint.h>

#include <scalex/stats.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sx_coll_comm;

enum sx_coll_dtype {
	SX_COLL_F32,
	SX_COLL_F16, /**< IEEE 754 binary16, reduced in f32 and rounded to nearest even */
	SX_COLL_BF16, /**< bfloat16, reduced in f32 and rounded to nearest even */
	SX_COLL_F64,
	SX_COLL_I32,
	SX_COLL_I64,
	SX_COLL_DTYPE_MAX,
};

enum sx_coll_op {
	SX_COLL_SUM,
	SX_COLL_PROD,
	SX_COLL_MAX,
	SX_COLL_MIN,
	SX_COLL_OP_MAX,
};

/** All-reduce algorithm. */
enum sx_coll_algo {
	SX_COLL_ALGO_HIER, /**< intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather */
	SX_COLL_ALGO_FLAT, /**< one ring over every rank, each rank on its own links */
};

/** Which ranks carry a node's inter-node traffic in the hierarchical algorithms. */
enum sx_coll_hier {
	SX_COLL_HIER_LEADER, /**< local rank 0: one NIC per node */
	SX_COLL_HIER_RAIL,   /**< local rank i with local rank i of every node (one rail each) */
};

/** Inter-node all-reduce among the leaders (or the ranks of one rail). */
enum sx_coll_inter {
	SX_COLL_INTER_AUTO,
	SX_COLL_INTER_RING,
	SX_COLL_INTER_RHD,  /**< recursive halving-doubling (Rabenseifner) */
	SX_COLL_INTER_TREE, /**< binomial reduce then broadcast: small messages */
};

/** Communicator settings; sx_coll_attr_init() fills defaults from the environment. */
struct sx_coll_attr {
	/* Identity; -1: from the launcher's environment (docs/collectives.md). */
	int rank, size, node, local_rank, local_size;
	const char *master_addr; /**< NULL: MASTER_ADDR, else 127.0.0.1 */
	int master_port;         /**< 0: MASTER_PORT, else 29500 */
	const char *topo_path;   /**< NCCL topology XML or "ranks per node" config; NULL: none */
	enum sx_coll_algo algo;
	enum sx_coll_hier hier;
	enum sx_coll_inter inter;
	size_t chunk_bytes;      /**< pipeline chunk of the hierarchical stages */
	size_t shm_bytes;        /**< shared staging per node (a limit for all-to-all) */
	int timeout_ms;          /**< bound on every wait (failure detection) */
	/** Inter-node links to build: a bit per enum sx_coll_links value. */
	unsigned int links;
	const char *fault_tx, *fault_rx; /**< sx_fault_parse() specs on every link; NULL: none */
	uint64_t fault_seed;
	int verbose;
};

/** Link sets (attr.links bits). */
enum sx_coll_links {
	SX_COLL_LINKS_LEADER = 1, /**< full mesh among local rank 0 of every node */
	SX_COLL_LINKS_RAIL = 2,   /**< full mesh among local rank i of every node, per i */
	SX_COLL_LINKS_FLAT = 4,   /**< a ring over all ranks (the flat baseline) */
};

/** Defaults, then SCALEX_COLL_* and launcher variables (docs/collectives.md). */
int sx_coll_attr_init(struct sx_coll_attr *attr);

/** Rendezvous, shared memory, links: collective over all ranks. NULL, errno set. */
struct sx_coll_comm *sx_coll_comm_create(const struct sx_coll_attr *attr);
/** Collective when healthy (an orderly link shutdown); after a failure it only frees. */
int sx_coll_comm_destroy(struct sx_coll_comm *comm);

int sx_coll_rank(const struct sx_coll_comm *comm);
int sx_coll_size(const struct sx_coll_comm *comm);
int sx_coll_node(const struct sx_coll_comm *comm);
int sx_coll_nnodes(const struct sx_coll_comm *comm);
int sx_coll_local_rank(const struct sx_coll_comm *comm);
int sx_coll_local_size(const struct sx_coll_comm *comm);
/** The rank that failed (-1: none, or unknown). */
int sx_coll_failed_peer(const struct sx_coll_comm *comm);
/** Change the algorithm between calls (same on every rank). */
int sx_coll_set_algo(struct sx_coll_comm *comm, enum sx_coll_algo algo, enum sx_coll_hier hier,
		     enum sx_coll_inter inter);

size_t sx_coll_dtype_size(enum sx_coll_dtype dt);
const char *sx_coll_dtype_name(enum sx_coll_dtype dt);
const char *sx_coll_op_name(enum sx_coll_op op);

/* Out of place or in place (sendbuf == recvbuf) unless said otherwise. */
int sx_coll_allreduce(struct sx_coll_comm *comm, const void *sendbuf, void *recvbuf, size_t count,
		      enum sx_coll_dtype dt, enum sx_coll_op op);
/** @p count elements per rank: recvbuf gets block @p rank of the reduced size*count. */
int sx_coll_reduce_scatter(struct sx_coll_comm *comm, const void *sendbuf, void *recvbuf,
			   size_t count, enum sx_coll_dtype dt, enum sx_coll_op op);
/** @p count elements per rank; recvbuf holds size*count in rank order. */
int sx_coll_allgather(struct sx_coll_comm *comm, const void *sendbuf, void *recvbuf, size_t count,
		      enum sx_coll_dtype dt);
/** @p buf of @p root goes to every rank's @p buf. */
int sx_coll_broadcast(struct sx_coll_comm *comm, void *buf, size_t count, enum sx_coll_dtype dt,
		      int root);
/** The reduction lands in @p recvbuf of @p root only (others may pass NULL). */
int sx_coll_reduce(struct sx_coll_comm *comm, const void *sendbuf, void *recvbuf, size_t count,
		   enum sx_coll_dtype dt, enum sx_coll_op op, int root);
int sx_coll_barrier(struct sx_coll_comm *comm);
/**
 * All-to-all-v, hierarchical: the ranks of a node aggregate what goes to
 * each other node and one message per node pair carries it. @p sendcounts[d]
 * elements from @p sendbuf + sdispls[d] go to rank d, which receives them at
 * recvbuf + its rdispls[me] with its recvcounts[me] equal. Out of place only.
 */
int sx_coll_alltoallv(struct sx_coll_comm *comm, const void *sendbuf, const size_t *sendcounts,
		      const size_t *sdispls, void *recvbuf, const size_t *recvcounts,
		      const size_t *rdispls, enum sx_coll_dtype dt);
/** All-to-all with @p count elements per destination. */
int sx_coll_alltoall(struct sx_coll_comm *comm, const void *sendbuf, void *recvbuf, size_t count,
		     enum sx_coll_dtype dt);

/**
 * Wait until every message this rank posted has been acknowledged (a
 * collective returns once its own part is done, possibly before its last
 * messages left): for reading the counters. Collective.
 */
int sx_coll_flush(struct sx_coll_comm *comm);
/** Payload bytes this rank posted on its inter-node links since creation. */
uint64_t sx_coll_nic_tx_bytes(const struct sx_coll_comm *comm);
/** Same, on links to ranks of the same node (only the flat ring has them). */
uint64_t sx_coll_local_link_tx_bytes(const struct sx_coll_comm *comm);
/** Number of inter-node links (QPs) of this rank, with at least one byte sent (@p used). */
int sx_coll_nic_links(const struct sx_coll_comm *comm, int *used);
/**
 * Sum of one counter of the counters API (include/scalex/stats.h) over this
 * rank's links: @p scope SX_STATS_PORT (each link's port) or SX_STATS_QP
 * (each link's QP); @p inter_only: only links to other nodes. 0 or -ENOENT.
 * E.g. ("tx_bytes", SX_STATS_PORT): the frames the NIC carried, headers,
 * ACKs and credit writes included.
 */
int sx_coll_stats_sum(const struct sx_coll_comm *comm, enum sx_stats_scope scope,
		      const char *name, int inter_only, uint64_t *sum);

/**
 * Scalar reference of one reduction step, acc[i] = acc[i] op in[i], for
 * tests and tools; the communicator uses a vectorized version with the
 * same per-element results.
 */
void sx_coll_reduce_ref(void *acc, const void *in, size_t count, enum sx_coll_dtype dt,
			enum sx_coll_op op);
/** The vectorized kernel the communicator uses. */
void sx_coll_reduce_fast(void *acc, const void *in, size_t count, enum sx_coll_dtype dt,
			 enum sx_coll_op op);

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_COLL_H */
