/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reliable-connected QP core, split as Linux rxe splits it:
 *   req.c   requester: turns send WQEs into request packets, go-back-N and
 *           selective-repeat retransmission;
 *   resp.c  responder: validates and executes requests, places data, and
 *           queues ACK / NAK / READ responses / atomic ACKs;
 *   comp.c  completer: ACKs and responses -> completions, retry decisions,
 *           retransmit timer;
 *   qp.c    QP life cycle, posting, flushing; mr.c keys; cq.c completions.
 *
 * Pure: no clock (every entry point takes now_ns), no I/O. The engine moves
 * packets: it hands parsed packets to sx_qp_rx() and asks sx_qp_tx() for
 * the next packet to send.
 *
 * Units: PSNs are 24-bit (wire.h helpers only), lengths in bytes, times in ns.
 */
#ifndef SX_QP_H
#define SX_QP_H

#include <stdbool.h>
#include <stdint.h>

#include <scalex/scalex.h>
#include <scalex/wire.h>

#include "../../cc/cc.h"
#include "../path/path.h"

#define SX_QPN_BASE          0x100 /* QPN 0 and 1 are special in IBA */
#define SX_DEFAULT_MAX_RD    16
/* Default initial RTO, and the RTO's floor when none is given: above the
 * 30-100 ms a process waits for a core on a loaded machine (measured: see
 * docs/transport.md, Timeouts), as Linux's TCP_RTO_MIN (200 ms) is above
 * delayed ACKs. Losses are repaired by NAKs and SACKs long before it. */
#define SX_DEFAULT_TIMEOUT_NS 100000000ull
#define SX_MAX_TIMEOUT_NS    500000000ull
/* RFC 6298's clock granularity G: the engine checks timers every poll, and
 * an idle engine sleeps idle_sleep_us (20 us) between polls. */
#define SX_RTO_GRANULARITY_NS 20000ull
/* PSNs in flight per QP when the QP attribute asks for none: today's
 * datacenter window (4 MiB at MTU 4096, 3 x 128 B of scoreboard). */
#define SX_DEFAULT_WINDOW_PKTS 1024u
/* The most a QP may ask for: a quarter of the 24-bit PSN space, so every
 * PSN in flight compares unambiguously (sx_psn_cmp needs < 2^23). 4 Mi
 * packets is 100 Gb/s x 1.3 s at MTU 4096. */
#define SX_MAX_WINDOW_PKTS   (1u << 22)
/* Scoreboard memory all QPs of a context may hold when the context gives
 * no budget: 64 MiB, e.g. 150 QPs at 100 Gb/s x 50 ms (256 Ki packets). */
#define SX_DEFAULT_WINDOW_BUDGET_BYTES (64ull << 20)
/* Tail-loss probe (RFC 8985 7.2): PTO = 2 SRTT, plus this allowance for
 * the responder's ACK coalescing when one packet is in flight (WCDelAckT). */
#define SX_TLP_DELACK_NS     200000ull
/* ... and at least this: a round trip measured below the clock's reach
 * (a virtual-time harness, a loopback) must not probe at once; Linux
 * floors its PTO likewise (TCP_TIMEOUT_MIN). */
#define SX_TLP_MIN_NS        1000000ull
#define SX_ACK_REQ_EVERY     16    /* AckReq on every Nth packet of a long message */
/* ... and of an INT QP: HPCC reacts per ACK to the INT of the packet it
 * answers (Li et al., SIGCOMM 2019, section 3.2), and a flow with a small
 * window would otherwise hear of the path once every few RTTs. */
#define SX_ACK_REQ_EVERY_INT 1
#define SX_RESPQ_SIZE        64    /* responder's queue of pending responses */
#define SX_ATOMIC_CACHE      16    /* replies kept for duplicate atomics */
#define SX_RNR_TIMER_CODE    1     /* IBA 9.7.5.2.8: 0.01 ms */
#define SX_SR_DUPTHRESH      4     /* SACKed PSNs above a hole before it is resent */

/* Per-QP counters (telemetry reads them; names in qp.c). */
enum sx_qp_counter {
	SX_QPC_TX_PKTS,
	SX_QPC_TX_BYTES,
	SX_QPC_RX_PKTS,
	SX_QPC_RX_BYTES,
	SX_QPC_RETRANSMITS,
	SX_QPC_TIMEOUTS,
	SX_QPC_NAK_SEQ_SENT,
	SX_QPC_NAK_SEQ_RCVD,
	SX_QPC_NAK_RNR_SENT,
	SX_QPC_NAK_RNR_RCVD,
	SX_QPC_NAK_ACCESS_SENT,
	SX_QPC_NAK_ACCESS_RCVD,
	SX_QPC_NAK_INVALID_SENT,
	SX_QPC_NAK_INVALID_RCVD,
	SX_QPC_DUPLICATES,
	SX_QPC_OUT_OF_ORDER,
	SX_QPC_ACKS_SENT,
	SX_QPC_ACKS_RCVD,
	SX_QPC_STALE_RESPONSES,
	SX_QPC_DROP_STATE,
	SX_QPC_WRONG_MODE,
	SX_QPC_ECN_CE_RCVD,
	SX_QPC_CNP_SENT,
	SX_QPC_CNP_RCVD,
	SX_QPC_SPURIOUS_RETX, /* rack.c: resends the original beat */
	SX_QPC_ECE_SENT,      /* SR ACKs that echoed ECN-CE (SX_SR_ACK_ECE) */
	SX_QPC_RACK_LOST,     /* rack.c: resends its reorder window ordered */
	SX_QPC_TLP_PROBES,    /* tail-loss probes sent (RFC 8985 7) */
	SX_QPC_SACKR_SENT,    /* SR ACKs that carried SACK ranges */
	SX_QPC_INT_EMPTY,     /* INT echoes with no hop record: no INT switch on the path */
	SX_QPC_MAX,
};

const char *sx_qp_counter_name(enum sx_qp_counter c);

enum sx_qp_state {
	SX_QPS_RESET,
	SX_QPS_RTS,
	SX_QPS_ERROR,
};

struct sx_cq {
	struct sx_context *ctx;
	struct sx_wc *ring;
	uint32_t size; /* power of two */
	uint32_t head; /* next to poll */
	uint32_t tail; /* next to fill */
	uint64_t overflow;
};

/* Keys: index into the table << 8 | a generation byte, so a stale key misses. */
struct sx_mr_table {
	struct sx_mr **slot;
	uint32_t size;
	uint32_t used;
	uint8_t gen;
};

/* A send work request as the QP keeps it. */
struct sx_wqe {
	uint64_t wr_id;
	uint8_t opcode;   /* enum sx_wr_opcode */
	uint8_t flags;    /* enum sx_send_flags */
	uint8_t num_sge;
	bool done;        /* completed (acknowledged or answered) */
	bool rd_counted;  /* a READ/atomic counted in rd_outstanding */
	uint32_t length;
	uint32_t imm;     /* network order, as posted */
	uint64_t remote_addr;
	uint32_t rkey;
	uint64_t compare_add;
	uint64_t swap;
	uint8_t *sge_ptr[SX_MAX_SGE];
	uint32_t sge_len[SX_MAX_SGE];
	uint32_t first_psn;
	uint64_t psn_seq; /* first_psn counted without wrapping: the PSN index */
	uint32_t npkts;   /* PSNs the message uses (a READ: one per response) */
	uint32_t msg_seq; /* SR: index among receive-consuming messages */
	uint32_t rd_pkts; /* READ responses placed, in order (GBN) */
	uint64_t atomic_orig;
	enum sx_wc_status status;
};

struct sx_rqe {
	uint64_t wr_id;
	uint8_t num_sge;
	uint8_t *sge_ptr[SX_MAX_SGE];
	uint32_t sge_len[SX_MAX_SGE];
	uint32_t length;
	/* SR: the message's last packet was placed; it completes once every
	 * PSN before it has arrived */
	bool sr_last;
	bool sr_write_imm;
	bool sr_has_imm;
	uint32_t sr_done_psn;
	uint32_t sr_len;
	uint32_t sr_imm; /* host order */
};

/* Responder states (resp.c), in the spirit of rxe_resp.c: every request
 * packet runs from CHECK_MODE to DONE; the RESPST_ERR_* states decide the
 * NAK, the completion and the counters of a refused request. */
enum sx_resp_state {
	SX_RESPST_CHECK_STATE,
	SX_RESPST_CHECK_MODE,
	SX_RESPST_CHECK_PSN,
	SX_RESPST_SR_CHECK_PSN,
	SX_RESPST_CHECK_LENGTH,
	SX_RESPST_CHECK_OP,
	SX_RESPST_EXECUTE_SEND,
	SX_RESPST_CHECK_RKEY_WRITE,
	SX_RESPST_EXECUTE_WRITE,
	SX_RESPST_EXECUTE_READ,
	SX_RESPST_EXECUTE_ATOMIC,
	SX_RESPST_COMPLETE,
	SX_RESPST_SR_PLACE,
	SX_RESPST_SR_ACCEPT,
	SX_RESPST_SR_ADVANCE,
	SX_RESPST_DUPLICATE,
	SX_RESPST_ERR_WRONG_MODE,
	SX_RESPST_ERR_PSN_OUT_OF_SEQ,
	SX_RESPST_ERR_SR_OUT_OF_ORDER,
	SX_RESPST_ERR_SR_BEYOND_WINDOW,
	SX_RESPST_ERR_RNR,
	SX_RESPST_ERR_LENGTH,
	SX_RESPST_ERR_INVALID_REQ,
	SX_RESPST_ERR_MISALIGNED_ATOMIC,
	SX_RESPST_ERR_RKEY_VIOLATION,
	SX_RESPST_DONE,
	SX_RESPST_MAX,
};

const char *sx_resp_state_name(unsigned int state);

/* Completer states (comp.c), in the spirit of rxe_comp.c: every ACK, NAK,
 * READ response or atomic ACK runs from GET_ACK to DONE. */
enum sx_comp_state {
	SX_COMPST_GET_ACK,
	SX_COMPST_CHECK_AETH,
	SX_COMPST_ACK,
	SX_COMPST_SACK,
	SX_COMPST_RNR_NAK,
	SX_COMPST_CHECK_NAK,
	SX_COMPST_NAK_SEQ,
	SX_COMPST_NAK_CLASS_C,
	SX_COMPST_READ,
	SX_COMPST_READ_GAP,
	SX_COMPST_ATOMIC,
	SX_COMPST_STALE,
	SX_COMPST_ERROR,
	SX_COMPST_DONE,
	SX_COMPST_MAX,
};

const char *sx_comp_state_name(unsigned int state);

/* Requester states (req.c), in the spirit of rxe_req.c: each call for a
 * packet runs from CHECK_RNR to SENT or IDLE. */
enum sx_req_state {
	SX_REQST_CHECK_RNR,
	SX_REQST_SR_PROBE,
	SX_REQST_TLP,
	SX_REQST_SR_RESEND,
	SX_REQST_NEXT_WQE,
	SX_REQST_CHECK_WINDOW,
	SX_REQST_CHECK_LIMITS,
	SX_REQST_BUILD,
	SX_REQST_SENT,
	SX_REQST_IDLE,
	SX_REQST_MAX,
};

const char *sx_req_state_name(unsigned int state);

enum sx_resp_kind {
	SX_RESP_ACK,       /* ACK or NAK: AETH only */
	SX_RESP_READ,      /* a stream of READ response packets */
	SX_RESP_ATOMIC,    /* atomic ACK */
	SX_RESP_SACK,      /* SR ACK, filled from the scoreboard when sent */
};

struct sx_resp {
	uint8_t kind;
	bool dead;         /* a READ stream superseded by a repeated READ */
	bool fatal;        /* a class C NAK: the QP goes to error once it is sent */
	bool dup;          /* a READ stream answering a repeated READ */
	uint8_t syndrome;
	uint32_t psn;
	uint32_t msn;
	/* READ: the source is resolved again for every packet, so a region
	 * deregistered meanwhile ends the stream instead of being read */
	uint64_t va;
	uint32_t rkey;
	uint32_t len;
	uint32_t sent;     /* bytes already sent */
	uint64_t orig;     /* ATOMIC */
};

struct sx_atomic_reply {
	bool valid;
	uint32_t psn;
	uint64_t orig;
};

/* What sx_qp_tx() hands the engine: transport headers and payload pieces. */
struct sx_txd {
	struct sx_pkt hdr; /* bth, ext headers, payload_len; L2-L4 by the engine */
	uint8_t nseg;
	const uint8_t *seg[SX_MAX_SGE];
	uint32_t seg_len[SX_MAX_SGE];
};

struct sx_qp;

struct sx_qp_env {
	struct sx_mr_table *mrs;
	/* Congestion control events, for rate traces (NULL: off). */
	void (*cc_trace)(void *arg, const struct sx_qp *qp, enum sx_cc_event ev,
			 uint64_t now_ns);
	void *cc_trace_arg;
	/* Notification point (RoCEv2 annex A17.9): at most one CNP per QP per
	 * cnp_gap_ns. */
	uint64_t cnp_gap_ns;
	/* Path selection of every QP (NULL: `flow`, one entropy per QP). */
	const struct sx_path_params *path;
	/* Scoreboard memory (sx_qp_window_bytes) of every QP: what they hold
	 * and the most they may (0: SX_DEFAULT_WINDOW_BUDGET_BYTES). */
	uint64_t window_used_bytes;
	uint64_t window_budget_bytes;
	/* rack.c: the reorder window QPs learnt, where a new QP starts (the
	 * paths' reordering is the fabric's, not one QP's); 0: nothing yet */
	uint32_t rack_reo_mult;
};

struct sx_qp {
	struct sx_qp_env *env;
	struct sx_pd *pd;
	uint32_t qpn;
	enum sx_qp_state state;
	enum sx_reliability rel;
	uint32_t mtu;
	struct sx_qp_endpoint remote;
	struct sx_cq *scq;
	struct sx_cq *rcq;
	uint8_t retry_cnt;
	uint8_t rnr_retry;
	uint8_t max_rd;
	uint64_t timeout_ns; /* initial RTO, before any RTT sample (RFC 6298 2.1) */
	uint64_t min_rto_ns; /* floor of the RTO (RFC 6298 2.4) */
	/* ECMP entropy (UDP source port) of each packet: dataplane/path. */
	const struct sx_path_params *pathp;
	struct sx_path_state path;

	/* send queue: head <= cur <= tail (indices mod sq_size) */
	struct sx_wqe *sq;
	uint32_t sq_size;
	uint32_t sq_head;  /* oldest not completed */
	uint32_t sq_cur;   /* next to (re)transmit */
	uint32_t sq_tail;  /* next free */
	uint32_t sq_psn;   /* PSN the next posted WQE gets */
	uint64_t sq_psn_seq; /* and its psn_seq */
	uint32_t sq_msg_seq; /* SR: msg_seq the next receive-consuming WQE gets */

	/* requester / completer */
	uint32_t snd_nxt;  /* next PSN to transmit */
	uint32_t snd_una;  /* oldest unacknowledged PSN */
	uint32_t snd_max;  /* one past the highest PSN ever sent */
	uint32_t last_ackreq;
	uint8_t retries_left;
	uint8_t rnr_left;
	uint8_t rd_outstanding;
	uint8_t comp_state; /* enum sx_comp_state: the last state run (debug) */
	uint8_t req_state;  /* enum sx_req_state: the last state run (debug) */
	bool rd_gap;       /* READ response gap seen, re-read issued */
	uint64_t rto_ns;
	uint64_t rto_deadline; /* 0: not armed */
	uint64_t rnr_until;
	/* The window: PSNs in flight at most, a power of two (QP attribute
	 * max_inflight_pkts), and the memory its scoreboards hold. */
	uint32_t win_pkts;
	uint64_t win_bytes;
	/* SR: which PSNs in [snd_una, snd_una + win_pkts) were SACKed, and
	 * which were already resent since the last timeout. Rings of
	 * win_pkts bits indexed by PSN mod win_pkts (sx_ring_*), so the
	 * window slides by clearing what it leaves: O(advance / 64) words. */
	uint64_t *sacked;
	uint64_t *resent;
	uint32_t sr_high;  /* one past the highest SACKed PSN */
	/* Below this PSN every PSN from snd_una is SACKed or resent: the hole
	 * scan resumes here instead of at snd_una (req.c), so finding the
	 * next hole costs O(distance / 64) once per hole, not per packet. */
	uint32_t sr_scan;
	/* tail-loss probe (RFC 8985 7): when it fires, and a probe is due */
	uint64_t tlp_deadline; /* 0: not armed */
	bool tlp_due;
	bool tlp_out;      /* a probe is in flight: no second before an ACK */
	bool sr_probe;     /* timeout: resend snd_una even if SACKed */
	bool sr_recovering; /* holes were resent; sr_recover is snd_max then */
	uint32_t sr_recover;
	bool sr_answer_follows; /* last SACK: the answer at its base is on its way */
	uint32_t sr_answer_psn;

	/* receive queue */
	struct sx_rqe *rq;
	uint32_t rq_size;
	uint32_t rq_head;
	uint32_t rq_tail;

	/* responder */
	uint32_t epsn;     /* next expected request PSN */
	uint8_t resp_state; /* enum sx_resp_state: the last state run (debug) */
	uint32_t msn;
	bool nak_sent;     /* a sequence NAK is outstanding for epsn: send no more */
	bool resp_error;   /* a class C NAK is queued: drop requests until it is out */
	uint64_t wr_va;    /* current RDMA WRITE: next byte to place, and its key */
	uint32_t wr_rkey;
	uint32_t wr_left;  /* bytes of it still expected */
	uint32_t wr_len;   /* its length (RETH DMA length) */
	uint32_t rcv_off;  /* current SEND: bytes placed in rq[rq_head] */
	struct sx_resp respq[SX_RESPQ_SIZE];
	uint32_t rq_rhead; /* response queue head / tail (free-running) */
	uint32_t rq_rtail;
	struct sx_atomic_reply atomics[SX_ATOMIC_CACHE];
	uint32_t atomic_next;
	/* SR responder: PSNs in [epsn, epsn + win_pkts) already placed, a
	 * ring like sacked; rcv_high is one past the highest placed */
	uint64_t *rcvd;
	uint32_t rcv_high;
	/* SACK ranges (SX_SR_ACK_RANGES): the run of PSNs received in a row
	 * that ends at rcv_high starts at rcv_run; the runs before it that
	 * a gap ended, newest at sackr_hist[sackr_next - 1]: O(1) per packet */
	uint32_t rcv_run;
	struct sx_sack_range sackr_hist[SX_SACKR_MAX];
	uint32_t sackr_next;
	uint32_t rq_msg_seq; /* msg_seq of the message rq[rq_head] receives */

	uint64_t cnt[SX_QPC_MAX];
	/* pacing: granted by congestion control; 0 = unlimited */
	uint64_t rate_bps;
	/* congestion control (reaction point); ccp NULL: none */
	const struct sx_cc_params *ccp;
	struct sx_cc_state cc;
	uint64_t cc_timer_ns;  /* next CC timer, SX_CC_NO_TIMER: none */
	bool rtt_probe;        /* an RTT sample is in flight (Karn: not resent) */
	uint32_t rtt_psn;
	uint64_t rtt_sent_ns;
	/* RTT estimate (rtt.c, RFC 6298) */
	bool rtt_valid;        /* a sample was taken */
	uint64_t srtt_ns;
	uint64_t rttvar_ns;
	/* notification point */
	bool cnp_pending;
	uint64_t last_cnp_ns;
	bool active; /* on the engine's transmit list */
	/* multipath (rack.c): the sender's reorder-tolerant loss detector and
	 * per-PSN entropies, NULL unless sr with a policy that reorders; the
	 * responder's echo of ECN-CE marked requests for the next SR ACK */
	struct sx_rack *rack;
	uint16_t ece_entropy;
	uint16_t ece_count;
	bool dsack_pending; /* a duplicate arrived: tell the next SR ACK */
	bool int_want;      /* its CC reads INT: data carries the INT shim (sr) */
	struct sx_int int_echo; /* the latest request's INT records, for the next SR ACK */
	const struct sx_cc_int *cc_int; /* the INT of the ACK being processed */
};

/* mr.c */
int sx_mr_table_init(struct sx_mr_table *t, uint32_t size);
void sx_mr_table_fini(struct sx_mr_table *t);
int sx_mr_table_add(struct sx_mr_table *t, struct sx_mr *mr);
void sx_mr_table_del(struct sx_mr_table *t, struct sx_mr *mr);
/* The host address of [va, va + len) under @p key if it belongs to @p pd and
 * grants @p access; NULL otherwise. A zero length needs only a valid key. */
uint8_t *sx_mr_resolve(const struct sx_mr_table *t, const struct sx_pd *pd, uint32_t key,
		       uint64_t va, uint64_t len, unsigned int access);

/* cq.c */
int sx_cq_init(struct sx_cq *cq, uint32_t cqe);
void sx_cq_fini(struct sx_cq *cq);
void sx_cq_push(struct sx_cq *cq, const struct sx_wc *wc);
int sx_cq_pop(struct sx_cq *cq, int n, struct sx_wc *wc);

/* qp.c */
int sx_qp_init(struct sx_qp *qp, struct sx_qp_env *env, struct sx_pd *pd, uint32_t qpn,
	       const struct sx_qp_init_attr *attr, uint32_t default_mtu, uint32_t start_psn);
void sx_qp_fini(struct sx_qp *qp);
int sx_qp_do_connect(struct sx_qp *qp, const struct sx_qp_endpoint *remote);
int sx_qp_post_send(struct sx_qp *qp, struct sx_send_wr *wr, struct sx_send_wr **bad);
int sx_qp_post_recv(struct sx_qp *qp, struct sx_recv_wr *wr, struct sx_recv_wr **bad);
/* Move to ERROR and flush every outstanding send and receive WR. */
void sx_qp_error(struct sx_qp *qp);

/* Congestion control. Hooks run the algorithm, then take its rate. */
void sx_qp_set_cc(struct sx_qp *qp, const struct sx_cc_params *ccp, uint64_t line_rate_bps,
		  uint64_t now_ns);
/* A packet for this QP arrived marked ECN-CE: notify the sender (CNP). */
void sx_qp_on_ecn(struct sx_qp *qp, uint64_t now_ns);
/* A CNP for this QP arrived: slow down. */
void sx_qp_on_cnp(struct sx_qp *qp, uint64_t now_ns);
/* After any hook: take the granted rate and timer; trace @p ev (MAX: don't). */
void sx_cc_taken(struct sx_qp *qp, enum sx_cc_event ev, uint64_t now_ns);
void sx_cc_ack(struct sx_qp *qp, uint32_t acked_bytes, uint64_t rtt_ns, uint64_t now_ns);
void sx_cc_loss(struct sx_qp *qp, uint64_t now_ns);
void sx_cc_timeout(struct sx_qp *qp, uint64_t now_ns);

/* rtt.c: RFC 6298 estimator. A Karn-safe sample; the RTO it gives (clamped
 * to [min_rto_ns, SX_MAX_TIMEOUT_NS]); the doubling on expiry; a resend of
 * @p psn (cancels the sample if it is at or before the timed PSN). */
void sx_rtt_sample(struct sx_qp *qp, uint64_t rtt_ns);
uint64_t sx_rtt_rto(const struct sx_qp *qp);
void sx_rtt_backoff(struct sx_qp *qp);
void sx_rtt_resent(struct sx_qp *qp, uint32_t psn);

/* Engine entry points. @p payload is NULL when the port elides payloads. */
void sx_qp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload,
	      uint64_t now_ns);
/* The next packet to send; with @p data false only ACKs (no payload, no
 * request), which pacing does not hold back. */
bool sx_qp_tx(struct sx_qp *qp, uint64_t now_ns, struct sx_txd *txd, bool data);
uint64_t sx_qp_deadline(const struct sx_qp *qp); /* UINT64_MAX: none */
void sx_qp_timer(struct sx_qp *qp, uint64_t now_ns);

/* Between the roles. */
bool sx_req_tx(struct sx_qp *qp, uint64_t now_ns, struct sx_txd *txd);
void sx_req_rewind(struct sx_qp *qp, uint32_t psn);
void sx_req_arm_timer(struct sx_qp *qp, uint64_t now_ns);
void sx_req_arm_tlp(struct sx_qp *qp, uint64_t now_ns);
void sx_resp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload);
bool sx_resp_tx(struct sx_qp *qp, struct sx_txd *txd, bool data);
void sx_comp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload,
		uint64_t now_ns);
void sx_comp_timer(struct sx_qp *qp, uint64_t now_ns);
void sx_comp_wqe(struct sx_qp *qp, struct sx_wqe *w, enum sx_wc_status status,
		 uint32_t vendor_err);

/* rack.c: loss detection with a reorder window, and path feedback. */
int sx_rack_init(struct sx_qp *qp);
void sx_rack_fini(struct sx_qp *qp);
/* Request PSN @p psn (and the @p npsn - 1 after it: a READ's responses)
 * left now on entropy @p sport. */
void sx_rack_sent(struct sx_qp *qp, uint32_t psn, uint32_t npsn, uint16_t sport,
		  uint64_t now_ns);
/* An SR ACK arrived: before the completer applies it. */
void sx_rack_on_sack(struct sx_qp *qp, const struct sx_pkt *pkt, uint64_t now_ns);
/* A hole scan is worth it (news since the last one found nothing); it
 * re-arms the reorder timer through sx_rack_lost(). */
bool sx_rack_scan(struct sx_qp *qp);
void sx_rack_scan_done(struct sx_qp *qp);
/* Un-SACKed PSN @p psn is lost by now. */
bool sx_rack_lost(struct sx_qp *qp, uint32_t psn, uint64_t now_ns);
/* PSN @p psn is being resent as lost. */
void sx_rack_resent(struct sx_qp *qp, uint32_t psn, uint64_t now_ns);
void sx_rack_timeout(struct sx_qp *qp, uint64_t now_ns);
uint64_t sx_rack_deadline(const struct sx_qp *qp); /* 0: none */
void sx_rack_timer(struct sx_qp *qp, uint64_t now_ns);

/*
 * Scoreboard rings (SR): win_pkts bits, bit (psn & (win_pkts - 1)) for
 * PSN psn. win_pkts divides 2^24, so the mapping survives the PSN wrap.
 * Callers keep every PSN they touch within win_pkts of the window's start.
 */
static inline bool
sx_ring_test(const struct sx_qp *qp, const uint64_t *m, uint32_t psn)
{
	uint32_t i = psn & (qp->win_pkts - 1);

	return (m[i / 64] >> (i % 64)) & 1;
}

static inline void
sx_ring_set(const struct sx_qp *qp, uint64_t *m, uint32_t psn)
{
	uint32_t i = psn & (qp->win_pkts - 1);

	m[i / 64] |= 1ull << (i % 64);
}

/* Set (@p val true) or clear the bits of PSNs [psn, psn + n), n at most
 * win_pkts: O(n / 64 + 1) word operations. */
void sx_ring_fill(const struct sx_qp *qp, uint64_t *m, uint32_t psn, uint32_t n, bool val);
/* Clear the whole ring: O(win_pkts / 64), once per loss round, not per packet. */
void sx_ring_clear(const struct sx_qp *qp, uint64_t *m);
/* Offset from @p psn of the first PSN in [psn, psn + n) whose bit is clear
 * in @p a and (when @p b is not NULL) in @p b, or n if none: word-wise
 * find-first-set on the complement, O(n / 64 + 1). With @p want_set, the
 * first whose bit is set in @p a instead (@p b ignored). */
uint32_t sx_ring_find(const struct sx_qp *qp, const uint64_t *a, const uint64_t *b,
		      uint32_t psn, uint32_t n, bool want_set);

/* Scoreboard bytes of a QP of window @p win_pkts (a power of two): the
 * sender's sacked and resent rings, the responder's rcvd ring, and with
 * @p rack the multipath detector's per-PSN send times and entropies. */
uint64_t sx_qp_window_bytes(uint32_t win_pkts, bool rack);

/* Copy @p len bytes from @p src into a scatter list at @p off; nothing
 * when @p src is NULL (the port elides payloads). */
void sx_sg_copy_in(uint8_t *const *ptr, const uint32_t *lens, unsigned int n, uint32_t off,
		   const uint8_t *src, uint32_t len);

/*
 * The retransmit timeout in force: the backed-off timeout plus the time a
 * paced QP needs to send the packets between two ACK requests, so a slow
 * rate is not mistaken for loss.
 */
static inline uint64_t
sx_qp_rto(const struct sx_qp *qp)
{
	uint64_t spacing = 0;

	if (qp->rate_bps != 0)
		spacing = (uint64_t)SX_ACK_REQ_EVERY * (qp->mtu + 128) * 8 * 1000000000ull /
			  qp->rate_bps;
	return qp->rto_ns + 2 * spacing;
}

static inline struct sx_wqe *
sx_sq_at(const struct sx_qp *qp, uint32_t i)
{
	return &qp->sq[i & (qp->sq_size - 1)];
}

/*
 * The PSN index of the send queue: the first WQE in [sq_head, sq_tail) whose
 * PSNs reach @p psn (it holds @p psn, or starts after it), sq_tail if none,
 * sq_head if @p psn is before every WQE. PSNs are given out in send-queue
 * order, so psn_seq, which does not wrap, is sorted: a binary search, O(log
 * n), in place of a walk from the head.
 */
uint32_t sx_sq_find(const struct sx_qp *qp, uint32_t psn);

static inline uint32_t
sx_wqe_last_psn(const struct sx_wqe *w)
{
	return sx_psn_add(w->first_psn, w->npkts - 1);
}

static inline bool
sx_wqe_is_rd_atomic(const struct sx_wqe *w)
{
	return w->opcode == SX_WR_RDMA_READ || w->opcode == SX_WR_ATOMIC_CMP_AND_SWP ||
	       w->opcode == SX_WR_ATOMIC_FETCH_AND_ADD;
}

#endif
