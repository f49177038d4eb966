/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coll/ internals: the communicator, its links and its shared memory.
 * Units: sizes in bytes, counts in elements, times in ms unless named.
 */
#ifndef SX_COLL_PRIV_H
#define SX_COLL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scalex/coll.h>

#include "link.h"

float sx_coll_f16_to_f32(uint16_t h);
uint16_t sx_coll_f32_to_f16(float f);
float sx_coll_bf16_to_f32(uint16_t h);
uint16_t sx_coll_f32_to_bf16(float f);

/* Pipeline buffers per stage (double buffering: chunk p+1 is reduced in
 * shared memory while chunk p is on the network). */
#define SX_COLL_NBUF 2
#define SX_COLL_MAX_LOCAL 64

/*
 * Per-node shared control block. Every field is a monotonic sequence a
 * single rank writes (release) and others read (acquire): no locks, and a
 * dead writer leaves a value that simply stops moving.
 */
struct sx_coll_shm_rank {
	uint64_t in_seq;   /* chunks of input copied into this rank's slot */
	uint64_t red_seq;  /* chunks whose share this rank has reduced */
	uint64_t net_seq;  /* chunks this rank has finished on the network */
	uint64_t out_seq;  /* chunks copied out of the result */
	uint64_t bar_seq;  /* barrier arrivals */
	uint64_t pad[3];
} __attribute__((aligned(64)));

struct sx_coll_shm_ctl {
	uint64_t magic;
	struct sx_coll_shm_rank r[SX_COLL_MAX_LOCAL];
};

struct sx_coll_group {
	int n, me;
	int *ranks; /* global ranks, index order */
};

struct sx_coll_comm {
	struct sx_coll_attr attr;
	int rank, size, node, nnodes, local_rank, local_size;
	int *node_of, *local_of;   /* per rank */
	int *node_size;            /* per node */
	int **node_ranks;          /* per node, by local rank */
	int max_local;
	int failed_peer;
	int err;                   /* sticky: the first failure */
	char jobdir[128];          /* memif sockets */
	uint64_t jobid;

	/* Control channel: rank 0 is the hub, one TCP connection per rank. */
	int *hub_fd;               /* rank 0: per rank; others: [0] only */
	uint64_t last_hub_poll_ns;

	struct sx_coll_net net;
	struct sx_coll_link **link; /* per peer rank, NULL where none */

	/* Shared memory of the node. */
	struct sx_coll_shm_ctl *ctl;
	uint8_t *shm;              /* data area */
	size_t shm_bytes, map_bytes;
	uint8_t *stage;            /* after the all-reduce buffers */
	size_t stage_bytes;
	uint64_t seq;              /* chunk sequence, same on every rank of a node */
	uint64_t bar;

	struct sx_coll_group leaders, rail, ring;
	uint64_t idle;

	/* Between calls a thread polls the links, so that peers already in
	 * the next collective get their acknowledgements while this rank
	 * computes (no NIC here acknowledges on its own). The lock is the
	 * right to drive the links: held by a call for its whole length. */
	pthread_mutex_t lock;
	pthread_t progress;
	bool progress_on;
	volatile bool progress_stop;
};

void sx_coll_enter(struct sx_coll_comm *c);
void sx_coll_leave(struct sx_coll_comm *c);

uint64_t sx_coll_now_ns(void);
/* Progress every link, watch the control channel and the deadline; sleeps
 * a little when @p progressed is false. 0 or -errno (failure recorded). */
int sx_coll_tick(struct sx_coll_comm *c, bool progressed, uint64_t deadline_ns);
void sx_coll_fail(struct sx_coll_comm *c, int peer, int err);
uint64_t sx_coll_deadline(const struct sx_coll_comm *c);

/* Concurrent point-to-point operations over links, run to completion. */
enum sx_coll_xop_kind { SX_XOP_SEND, SX_XOP_RECV_COPY, SX_XOP_RECV_REDUCE };
struct sx_coll_xop {
	enum sx_coll_xop_kind kind;
	int peer;
	const uint8_t *src;
	uint8_t *dst;
	size_t len, done;
	enum sx_coll_dtype dt;
	enum sx_coll_op op;
};
int sx_coll_run(struct sx_coll_comm *c, struct sx_coll_xop *ops, int n);

/* Inter-node algorithms over a group (leaders or a rail). */
int sx_coll_group_allreduce(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
			    size_t count, enum sx_coll_dtype dt, enum sx_coll_op op,
			    enum sx_coll_inter alg);
/* Ring reduce-scatter / all-gather of blocks, block b = [off[b], off[b+1])
 * elements: after the reduce-scatter, group index i holds block i whole. */
int sx_coll_group_ring_rs(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf,
			  const size_t *off, enum sx_coll_dtype dt, enum sx_coll_op op);
int sx_coll_group_ring_ag(struct sx_coll_comm *c, const struct sx_coll_group *g, uint8_t *buf,
			  const size_t *off, size_t esize);
int sx_coll_group_bcast(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
			size_t bytes, int root_idx);
int sx_coll_group_reduce(struct sx_coll_comm *c, const struct sx_coll_group *g, void *buf,
			 size_t count, enum sx_coll_dtype dt, enum sx_coll_op op,
			 int root_idx);

/* Hub (rank 0) control channel. */
int sx_coll_hub_connect(struct sx_coll_comm *c);
int sx_coll_hub_allgather(struct sx_coll_comm *c, const void *mine, size_t len, void *all);
int sx_coll_hub_barrier(struct sx_coll_comm *c);
void sx_coll_hub_close(struct sx_coll_comm *c);
int sx_coll_hub_poll(struct sx_coll_comm *c);

/* Shared memory. */
int sx_coll_shm_open(struct sx_coll_comm *c);
void sx_coll_shm_close(struct sx_coll_comm *c);
int sx_coll_shm_wait(struct sx_coll_comm *c, int local, size_t field_off, uint64_t want);
void sx_coll_shm_set(struct sx_coll_comm *c, size_t field_off, uint64_t v);
int sx_coll_shm_barrier(struct sx_coll_comm *c);

/* Topology files. */
int sx_coll_topo_load(const char *path, int size, int *node_of);

#endif
