/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * scalex public API: reliable-connected (RC) RDMA over RoCEv2, shaped like
 * libibverbs so RDMA programmers feel at home. Enum values for work-request
 * opcodes, access flags, completion opcodes and completion status are the
 * ibv_ values (checked against <infiniband/verbs.h> by tests/verbs_abi_test.c: a mismatch fails the build).
 *
 * Threading: a context is driven by one thread (run to completion). That
 * thread posts work and polls completions; sx_poll_cq() also makes progress
 * (receives, transmits, runs timers), and sx_progress() makes progress
 * without reading completions.
 *
 * Errors: functions return 0 or a negative errno, allocators a pointer or
 * NULL with errno set.
 */
#ifndef SCALEX_H
#define SCALEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <scalex/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sx_context;
struct sx_pd;
struct sx_cq;
struct sx_qp;

/** Memory-region access (ibv_access_flags values). */
enum sx_access {
	SX_ACCESS_LOCAL_WRITE = 1,
	SX_ACCESS_REMOTE_WRITE = 2,
	SX_ACCESS_REMOTE_READ = 4,
	SX_ACCESS_REMOTE_ATOMIC = 8,
};

/** Work-request opcodes (ibv_wr_opcode values). */
enum sx_wr_opcode {
	SX_WR_RDMA_WRITE = 0,
	SX_WR_RDMA_WRITE_WITH_IMM = 1,
	SX_WR_SEND = 2,
	SX_WR_SEND_WITH_IMM = 3,
	SX_WR_RDMA_READ = 4,
	SX_WR_ATOMIC_CMP_AND_SWP = 5,
	SX_WR_ATOMIC_FETCH_AND_ADD = 6,
};

/** Send flags (ibv_send_flags values). */
enum sx_send_flags {
	SX_SEND_FENCE = 1,
	SX_SEND_SIGNALED = 2,
	SX_SEND_SOLICITED = 4,
	SX_SEND_INLINE = 8,
};

/** Completion status (ibv_wc_status values). */
enum sx_wc_status {
	SX_WC_SUCCESS = 0,
	SX_WC_LOC_LEN_ERR = 1,
	SX_WC_LOC_QP_OP_ERR = 2,
	SX_WC_LOC_PROT_ERR = 4,
	SX_WC_WR_FLUSH_ERR = 5,
	SX_WC_BAD_RESP_ERR = 7,
	SX_WC_LOC_ACCESS_ERR = 8,
	SX_WC_REM_INV_REQ_ERR = 9,
	SX_WC_REM_ACCESS_ERR = 10,
	SX_WC_REM_OP_ERR = 11,
	SX_WC_RETRY_EXC_ERR = 12,
	SX_WC_RNR_RETRY_EXC_ERR = 13,
	SX_WC_GENERAL_ERR = 21,
};

/** Completion opcodes (ibv_wc_opcode values). */
enum sx_wc_opcode {
	SX_WC_SEND = 0,
	SX_WC_RDMA_WRITE = 1,
	SX_WC_RDMA_READ = 2,
	SX_WC_COMP_SWAP = 3,
	SX_WC_FETCH_ADD = 4,
	SX_WC_RECV = 1 << 7,
	SX_WC_RECV_RDMA_WITH_IMM = (1 << 7) + 1,
};

/** Completion flags (ibv_wc_flags values). */
enum sx_wc_flags {
	SX_WC_WITH_IMM = 2,
};

/** Reliability mode of a QP (docs/wire.md). */
enum sx_reliability {
	SX_REL_GBN = 0, /**< RoCEv2 RC as on the wire: go-back-N */
	SX_REL_SR = 1,  /**< scalex selective repeat: SACK, out-of-order placement */
};

/** Maximum scatter/gather entries per work request. */
#define SX_MAX_SGE 4

struct sx_sge {
	uint64_t addr;
	uint32_t length;
	uint32_t lkey;
};

struct sx_send_wr {
	uint64_t wr_id;
	struct sx_send_wr *next;
	struct sx_sge *sg_list;
	int num_sge;
	enum sx_wr_opcode opcode;
	unsigned int send_flags; /**< enum sx_send_flags */
	uint32_t imm_data;       /**< network order, as in verbs */
	union {
		struct {
			uint64_t remote_addr;
			uint32_t rkey;
		} rdma;
		struct {
			uint64_t remote_addr;
			uint64_t compare_add;
			uint64_t swap;
			uint32_t rkey;
		} atomic;
	} wr;
};

struct sx_recv_wr {
	uint64_t wr_id;
	struct sx_recv_wr *next;
	struct sx_sge *sg_list;
	int num_sge;
};

struct sx_wc {
	uint64_t wr_id;
	enum sx_wc_status status;
	enum sx_wc_opcode opcode;
	/** The AETH syndrome (IBA 9.7.5.1, table 43) of the NAK the peer sent
	 *  when that NAK ended this WR: 0x60 | code for a NAK (0x61 invalid
	 *  request, 0x62 remote access error, 0x63 remote operational error),
	 *  0x20 | timer for an RNR NAK (RNR_RETRY_EXC_ERR); 0 otherwise. */
	uint32_t vendor_err;
	uint32_t byte_len;
	uint32_t imm_data;   /**< network order */
	uint32_t qp_num;
	uint32_t src_qp;
	unsigned int wc_flags;
};

struct sx_mr {
	struct sx_pd *pd;
	void *addr;
	size_t length;
	uint32_t lkey;
	uint32_t rkey;
	unsigned int access;
};

/** What a peer needs to reach a QP: exchanged out of band (bootstrap). */
struct sx_qp_endpoint {
	uint32_t qpn;
	uint32_t psn;       /**< first PSN this side sends */
	uint8_t mac[6];
	uint8_t ip_version; /**< 4 or 6 */
	uint8_t ip[16];
};

struct sx_qp_init_attr {
	struct sx_cq *send_cq;
	struct sx_cq *recv_cq;
	uint32_t max_send_wr;
	uint32_t max_recv_wr;
	enum sx_reliability reliability;
	uint32_t mtu;          /**< 256, 512, 1024, 2048 or 4096; 0: the context's */
	uint32_t sq_psn;       /**< first PSN sent; 0: random */
	uint8_t retry_cnt;     /**< 0..7 transport retries (IBA 9.7.6.1.3) */
	uint8_t rnr_retry;     /**< 0..7; 7 = retry forever */
	uint32_t timeout_us;   /**< initial retransmit timeout, before any RTT
				    sample (RFC 6298 2.1); 0: default (100 ms) */
	uint32_t min_rto_us;   /**< floor of the RTT-estimated retransmit timeout
				    (RFC 6298 2.4); 0: timeout_us */
	uint8_t max_rd_atomic; /**< outstanding READ/atomic; 0: default (16) */
	/** PSNs in flight at most (the window), rounded up to a power of two,
	 *  at most 2^22; size it to the bandwidth-delay product (100 Gb/s x
	 *  10 ms at MTU 4096: 32768). Its scoreboards take about 3 bits per
	 *  packet (sr multipath: 6 more bytes) from the context's
	 *  window_budget_bytes: sx_create_qp() fails with ENOBUFS beyond it.
	 *  0: 1024 (docs/transport.md, Windows). */
	uint32_t max_inflight_pkts;
	/** set_dscp 1: this QP's packets (data and ACKs; CNPs keep the
	 *  context's cnp_dscp) carry DSCP @c dscp (0..63, RFC 2474) in place
	 *  of the context's dscp; the ECN bits stay the transport's. For
	 *  per-connection classes (NCCL's trafficClass). 0: the context's. */
	uint8_t dscp;
	uint8_t set_dscp;
};

/** Fault injection on one direction of a port: probabilities in [0, 1]. */
struct sx_fault_dir {
	double drop;
	double reorder;
	double duplicate;
	double corrupt;
	double ecn;  /**< mark ECN-capable packets CE, as a congested switch would */
	/* tx only (a wrapper with these on rx is refused): each frame waits
	 * delay_ns + uniform [0, jitter_ns], never passing an earlier frame,
	 * after leaving at rate_bps (0: no limit); at most SX_FAULT_DELAY_MAX
	 * frames wait, then tx_burst takes fewer (back-pressure) */
	uint64_t delay_ns;  /**< one-way delay added, at most 10 s */
	uint64_t jitter_ns; /**< extra delay, uniform in [0, jitter_ns], at most delay_ns */
	uint64_t rate_bps;  /**< serialization rate of the delayed link; 0: none */
};

struct sx_context_attr {
	/** DPDK device: a vdev string ("net_memif0,role=server,socket=/tmp/x.sock")
	 *  or "port=N" for a port the EAL already probed. */
	const char *port;
	uint8_t ip_version;      /**< 4 or 6 */
	uint8_t ip[16];          /**< local address */
	uint32_t mtu;            /**< default QP MTU (256..4096) */
	struct sx_fault_dir fault_tx;
	struct sx_fault_dir fault_rx;
	uint64_t fault_seed;
	const char *pcap_path;   /**< capture tx and rx here (pcapng); NULL: off */
	uint32_t idle_spins;     /**< empty polls before backing off; 0: default */
	uint32_t idle_sleep_us;  /**< sleep when idle after the spins; 0: default */
	/** Congestion control of every QP (a name in docs/cc.md: "dcqcn",
	 *  "timely", "fixed", "swift", "nscc", "hpcc"); NULL: none. "hpcc"
	 *  reads in-band telemetry that rides on the sr opcodes: sx_create_qp()
	 *  refuses a SX_REL_GBN QP (EINVAL), and without INT switches on the
	 *  path it keeps a fixed window (docs/cc.md, HPCC). */
	const char *cc;
	uint64_t line_rate_bps;  /**< the port's rate as CC sees it; 0: 100 Gb/s */
	uint8_t dscp;            /**< DSCP of data packets; 0: 26 */
	uint8_t cnp_dscp;        /**< DSCP of CNPs; 0: 48 */
	uint32_t cnp_gap_ns;     /**< at most one CNP per QP per this; 0: 4000 */
	uint8_t cnp_pcp;         /**< 802.1p priority of CNPs (VLAN only); 0: 6 */
	uint16_t vlan_id;        /**< 802.1Q VLAN ID of every frame, 1..4094; 0: untagged */
	uint8_t pcp;             /**< 802.1p priority of data frames (VLAN only); 0: 3 */
	/** Path policy of every QP: which UDP source port (ECMP entropy) each
	 *  request packet takes — "flow" (one per QP, RoCEv2's default),
	 *  "spray", "flowlet", "adaptive" (docs/multipath.md); NULL: "flow".
	 *  Every policy but "flow" sends one QP over several paths and needs
	 *  SX_REL_SR: sx_create_qp() refuses a SX_REL_GBN QP (EINVAL). */
	const char *path;
	/** Scoreboard memory all QPs' windows may hold (max_inflight_pkts);
	 *  0: 64 MiB. */
	uint64_t window_budget_bytes;
};

/** Initialize DPDK's EAL (arguments pass through); see rte_eal_init(). */
int sx_eal_init(int argc, char **argv);
/** rte_eal_cleanup(), then remove the EAL runtime directory of this
 *  (primary) process, which DPDK leaves behind. Call after every port is closed. */
int sx_eal_cleanup(void);

/**
 * The memif disconnect guard (docs/bootstrap.md): DPDK's memif PMD unmaps
 * its shared regions from the interrupt thread when the peer leaves, while
 * a poller may be inside a burst on them. libscalex defines munmap() so
 * that such an unmap waits for every polling pass in progress; its own
 * ports bracket their bursts already. A thread that polls DPDK ports
 * directly brackets each pass with these (they nest with nothing).
 */
void sx_poll_pass_begin(void);
void sx_poll_pass_end(void);

/** Set @p attr to defaults (IPv4 0.0.0.0, MTU 1024, no faults, no capture). */
void sx_context_attr_init(struct sx_context_attr *attr);

/** Parse "drop=P,reorder=P,duplicate=P,corrupt=P,ecn=P" into @p dir; 0 or -EINVAL. */
int sx_fault_parse(const char *spec, struct sx_fault_dir *dir);

struct sx_context *sx_open_device(const struct sx_context_attr *attr);
int sx_close_device(struct sx_context *ctx);
/** Local MAC and IP of the context. */
void sx_context_endpoint(const struct sx_context *ctx, struct sx_qp_endpoint *ep);

/** Make progress: one engine round (rx, protocol, timers, tx). Returns work done. */
int sx_progress(struct sx_context *ctx);

struct sx_pd *sx_alloc_pd(struct sx_context *ctx);
int sx_dealloc_pd(struct sx_pd *pd);

struct sx_mr *sx_reg_mr(struct sx_pd *pd, void *addr, size_t length, unsigned int access);
/** -EBUSY while a posted work request still points into the region; a READ
 *  the peer is still being answered from it ends with a remote access NAK. */
int sx_dereg_mr(struct sx_mr *mr);

struct sx_cq *sx_create_cq(struct sx_context *ctx, uint32_t cqe);
int sx_destroy_cq(struct sx_cq *cq);
/** Make progress, then return up to @p n completions. */
int sx_poll_cq(struct sx_cq *cq, int n, struct sx_wc *wc);
/** Completions lost because the CQ was full (the application polled too
 *  little for the work it posted; verbs reports this as IBV_EVENT_CQ_ERR). */
uint64_t sx_cq_overflows(const struct sx_cq *cq);

struct sx_qp *sx_create_qp(struct sx_pd *pd, const struct sx_qp_init_attr *attr);
int sx_destroy_qp(struct sx_qp *qp);
/** This QP's endpoint, to send to the peer. */
void sx_qp_local(const struct sx_qp *qp, struct sx_qp_endpoint *ep);
/** Connect to the peer's endpoint: the QP goes to ready-to-send. */
int sx_qp_connect(struct sx_qp *qp, const struct sx_qp_endpoint *remote);
/** Move the QP to the error state: every outstanding WR completes (flushed). */
int sx_qp_to_error(struct sx_qp *qp);
uint32_t sx_qp_num(const struct sx_qp *qp);

int sx_post_send(struct sx_qp *qp, struct sx_send_wr *wr, struct sx_send_wr **bad_wr);
int sx_post_recv(struct sx_qp *qp, struct sx_recv_wr *wr, struct sx_recv_wr **bad_wr);

const char *sx_wc_status_str(enum sx_wc_status status);

/**
 * Congestion-control parameters, live: "name=value" (docs/cc.md) changes
 * the value every QP of the context reads from its next event on.
 * 0, -ENOENT (no such parameter or no CC), -ERANGE, -EINVAL (syntax).
 */
int sx_cc_param(struct sx_context *ctx, const char *assignment);
/** Load a named preset (e.g. DCQCN "paper" or "nic"): 0 or -ENOENT. */
int sx_cc_preset(struct sx_context *ctx, const char *preset);
/**
 * Write a CSV line per CC event to @p out (NULL: stop):
 * time_ns,qpn,event,rate_bps,target_bps,alpha
 */
int sx_cc_trace(struct sx_context *ctx, FILE *out);

/**
 * Can QPs of reliability @p rel use path policy @p path (NULL: "flow")?
 * 0; -ENOENT: no such policy; -EINVAL: the policy reorders packets and
 * needs SX_REL_SR (a go-back-N receiver would take reordering for loss).
 * Tools call it to explain a refusal before sx_create_qp() makes one.
 */
int sx_path_check(const char *path, enum sx_reliability rel);
/**
 * Path-policy parameters, live: "name=value" (docs/multipath.md) changes
 * the value every QP of the context reads from its next packet on.
 * 0, -ENOENT (no such parameter), -ERANGE, -EINVAL (syntax).
 */
int sx_path_param(struct sx_context *ctx, const char *assignment);

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_H */
