/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coll/ links: one reliable, in-order message channel between two ranks,
 * carried by one scalex RC QP on its own context (a DPDK port).
 *
 * The layer knows nothing of collectives, so another engine (a Gloo
 * transport, an NCCL net plugin) can reuse it. What it needs from the
 * outside is a port for each link, which a sx_coll_net decides: today
 * "memif", a memif pair per link with the lower rank as server and its
 * socket under a per-job directory; a fabric (one port per host, L3
 * forwarding) or a real NIC would only change sx_coll_net_port_spec().
 *
 * Flow control: the receiver posts SX_LINK_SLOTS receives of
 * SX_LINK_MSG_BYTES; the sender has as many credits and copies each
 * message into a registered send slot (SEND). The receiver returns
 * credits by RDMA WRITE of its consumed count into the sender's credit
 * word, every SX_LINK_SLOTS/4 messages. Message boundaries are the
 * sender's: a segment of n bytes arrives as ceil(n / SX_LINK_MSG_BYTES)
 * messages, all full but the last.
 *
 * Zero copy: sx_coll_link_write_imm() writes straight from registered
 * memory of the caller's into memory the peer registered and advertised
 * (RDMA WRITE WITH IMMEDIATE). The immediate consumes one of the peer's
 * posted receives, so it takes a credit like a message, and it arrives as
 * a message of its own, in order with the others (in IBA RC a WRITE with
 * immediate consumes a receive WQE), which sx_coll_link_peek_imm() tells
 * apart. sx_coll_link_read() fetches from a region the peer advertised
 * (RDMA READ): no credit, at most SX_LINK_READS in flight.
 */
#ifndef SX_COLL_LINK_H
#define SX_COLL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scalex/scalex.h>

#define SX_LINK_MSG_BYTES (64u * 1024)
#define SX_LINK_SLOTS     16u
#define SX_LINK_READS     4u  /* RDMA READs in flight per link */

/* The process-wide part: the EAL and how ports are named. */
struct sx_coll_net {
	bool eal_up;
	char dir[128];     /* memif sockets */
	int nports;        /* vdev names used so far */
	uint32_t mtu;
	struct sx_fault_dir fault_tx, fault_rx;
	uint64_t fault_seed;
};

/* What the peer needs: the QP and where to write credits. */
struct sx_coll_link_ep {
	struct sx_qp_endpoint qp;
	uint64_t credit_addr;
	uint32_t credit_rkey;
	uint32_t pad;
};

struct sx_coll_link {
	int peer;
	bool server, inter;
	struct sx_context *ctx;
	struct sx_pd *pd;
	struct sx_cq *cq;
	struct sx_qp *qp;
	struct sx_mr *mr;
	uint8_t *mem, *tx, *rx;
	volatile uint64_t *credit_in; /* the peer's consumed count, written by it */
	uint64_t *credit_out;         /* source of our credit writes */
	uint64_t remote_credit_addr;
	uint32_t remote_rkey;
	uint64_t tx_posted, tx_done;
	uint64_t rx_arrived, rx_consumed, credit_sent;
	unsigned int writes_inflight;
	uint32_t rx_len[SX_LINK_SLOTS];
	uint32_t rx_imm[SX_LINK_SLOTS];  /* host order */
	bool rx_has_imm[SX_LINK_SLOTS];  /* a WRITE's immediate, not a message */
	uint64_t tx_bytes;            /* payload posted through the slots (copied) */
	uint64_t write_bytes;         /* payload posted by sx_coll_link_write_imm */
	uint64_t rd_posted, rd_done;  /* sx_coll_link_read */
	uint64_t read_bytes;          /* payload asked for by sx_coll_link_read */
	int error;                    /* -errno once a work request failed */
	char spec[256];
};

/* EAL up once per process (unique file prefix), ports to memif sockets in @p dir. */
int sx_coll_net_init(struct sx_coll_net *net, const char *prefix, const char *dir, int mem_mb);
void sx_coll_net_fini(struct sx_coll_net *net);

/* Context, QP, buffers; @p server decides the memif role. @p key names the socket. */
int sx_coll_link_open(struct sx_coll_net *net, struct sx_coll_link *l, int peer, bool server,
		      const char *key, uint32_t ip);
void sx_coll_link_local(const struct sx_coll_link *l, struct sx_coll_link_ep *ep);
int sx_coll_link_connect(struct sx_coll_link *l, const struct sx_coll_link_ep *remote);
void sx_coll_link_close(struct sx_coll_link *l);

/* Progress and completions: >0 work done, 0 none, -errno a failed request. */
int sx_coll_link_poll(struct sx_coll_link *l);
/* Send up to SX_LINK_MSG_BYTES of @p buf as one message: bytes taken (0: no room). */
size_t sx_coll_link_send(struct sx_coll_link *l, const void *buf, size_t len);
/* The oldest message received and not released: true if there is one. */
bool sx_coll_link_peek(struct sx_coll_link *l, const uint8_t **msg, size_t *len);
/* Give the oldest message's buffer back (reposted; credits returned). */
int sx_coll_link_release(struct sx_coll_link *l);
/*
 * RDMA WRITE WITH IMMEDIATE of @p len bytes at @p buf (inside the local
 * region of @p lkey) to @p remote_addr under the peer's @p rkey; @p imm
 * (host order) reaches the peer as a message of its own. *@p seq: the
 * message's number, complete once tx_done passes it (a send queue
 * completes in order). 1 posted, 0 no credit or send-queue room (try again
 * after a poll), -errno.
 */
int sx_coll_link_write_imm(struct sx_coll_link *l, const void *buf, uint32_t len, uint32_t lkey,
			   uint64_t remote_addr, uint32_t rkey, uint32_t imm, uint64_t *seq);
/*
 * RDMA READ of @p len bytes at the peer's @p remote_addr (under @p rkey)
 * into @p buf (local region of @p lkey, local write). No credit: a READ
 * takes none of the peer's receives. *@p seq: complete once rd_done passes
 * it. 1 posted, 0 SX_LINK_READS in flight or no send-queue room, -errno.
 */
int sx_coll_link_read(struct sx_coll_link *l, void *buf, uint32_t len, uint32_t lkey,
		      uint64_t remote_addr, uint32_t rkey, uint64_t *seq);
/* The oldest message (as peek) is a WRITE's immediate: true and *@p imm. */
bool sx_coll_link_peek_imm(const struct sx_coll_link *l, uint32_t *imm);
/* Every posted send acknowledged. */
bool sx_coll_link_idle(const struct sx_coll_link *l);

#endif
