/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multipath support of a selective-repeat QP: a time-based loss detector
 * that tolerates reordering, and the feedback a path policy learns from.
 *
 * Loss detection (RACK, RFC 8985, adapted to PSNs and SACK bitmaps): a
 * packet counts as lost once a packet sent after it has been delivered and
 * it has been out longer than that packet's round trip plus a reorder
 * window, not after a count of SACKed PSNs above it: a packet sprayed over
 * a path a few microseconds slower than the others arrives behind
 * hundreds of later ones, which SX_SR_DUPTHRESH would take for loss. The
 * window is the larger of the queueing the latest delivered packet saw and
 * reo_mult quarters of the minimum RTT. reo_mult starts at 8, two min RTTs
 * (RFC 8985 6.2 starts at a quarter; sprayed traffic reorders by the
 * queueing difference between paths, routinely more), and doubles (RFC
 * 8985 adds a quarter: queues differ by up to a switch buffer, hundreds of
 * min RTTs, which linear growth reaches too late) each time a resend proves
 * spurious (the receiver saw the PSN twice and said so in the SACK's
 * SX_SACK_F_DUPLICATE flag, the DSACK of RFC 8985 7.2), back to 8 after 16
 * resends without one. Every QP uses at least the window the context's QPs
 * learnt
 * (qp->env->rack_reo_mult): reordering is the fabric's, not one QP's.
 *
 * Feedback: the QP records which entropy each PSN left on; every PSN a
 * SACK newly acknowledges reports ACK for its entropy, every PSN the
 * detector gives up reports LOSS, a timeout reports TIMEOUT for the oldest
 * PSN's entropy, and the receiver's SX_SR_ACK_ECE echo reports ECN for the
 * entropy it names (docs/multipath.md).
 *
 * Units: ns; per-PSN send times are kept as the low 32 bits (4.29 s wrap,
 * far beyond any reorder window), compared by signed difference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

/* Quarters of min_rtt: sprayed packets reorder by the queueing difference
 * between paths, routinely more than RFC 8985's quarter RTT, so a
 * multipath QP starts at one whole min_rtt. */
#define RACK_REO_MULT_INIT 8u
#define RACK_REO_MULT_MAX 1024u
#define RACK_REO_RESET_LOSSES 16u
/* Least time a packet is given before it counts as lost: a round trip the
 * clock could not resolve (packets sent and answered within one poll, as
 * on an in-process port in virtual time) must not make every hole lost at
 * once and every resend lost again before its answer could return. */
#define RACK_MIN_WAIT_NS 1000u

struct sx_rack {
	uint32_t *sent_ns; /* by PSN mod win_pkts: last (re)send */
	uint16_t *sport;   /* by PSN mod win_pkts: its entropy */
	uint32_t mask;     /* win_pkts - 1 */
	uint32_t xmit_ns;     /* send time of the latest-sent delivered packet */
	uint32_t xmit_psn;    /* its PSN: the tie-break of equal send times */
	uint64_t rtt_ns;      /* that packet's round trip */
	uint64_t min_rtt_ns;  /* 0: no sample yet */
	uint64_t deadline_ns; /* reorder timer; 0: off */
	uint32_t reo_mult;    /* reorder window in quarters of min_rtt */
	uint32_t real_losses; /* since the window last grew */
	bool valid;           /* a packet was delivered: xmit_ns means something */
	bool dirty;           /* news since the last scan found nothing lost */
};

static inline uint32_t
slot(const struct sx_rack *r, uint32_t psn)
{
	return psn & r->mask;
}

/* a - b for 32-bit ns stamps, a and b less than 2^31 ns apart. */
static inline int64_t
ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

int
sx_rack_init(struct sx_qp *qp)
{
	struct sx_rack *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	qp->rack = r;
	r->mask = qp->win_pkts - 1;
	r->sent_ns = calloc(qp->win_pkts, sizeof(*r->sent_ns));
	r->sport = calloc(qp->win_pkts, sizeof(*r->sport));
	if (r->sent_ns == NULL || r->sport == NULL) {
		sx_rack_fini(qp);
		return -ENOMEM;
	}
	r->reo_mult = RACK_REO_MULT_INIT;
	return 0;
}

void
sx_rack_fini(struct sx_qp *qp)
{
	if (qp->rack != NULL) {
		free(qp->rack->sent_ns);
		free(qp->rack->sport);
	}
	free(qp->rack);
	qp->rack = NULL;
}

void
sx_rack_sent(struct sx_qp *qp, uint32_t psn, uint32_t npsn, uint16_t sport, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;

	/* A READ request stands for its responses' PSNs too. */
	for (uint32_t i = 0; i < npsn && i <= r->mask; i++) {
		r->sent_ns[slot(r, psn + i)] = (uint32_t)now_ns;
		r->sport[slot(r, psn + i)] = sport;
	}
}

/*
 * The reorder window: reo_mult quarters of min_rtt, and at least the
 * queueing the latest delivered packet saw (rack.rtt - min_rtt): paths
 * whose queues differ by about that much reorder by about that much, which
 * a window in min RTTs alone would learn only through a spurious resend
 * per QP.
 */
static uint64_t
reo_wnd(const struct sx_qp *qp)
{
	const struct sx_rack *r = qp->rack;
	uint32_t m = r->reo_mult > qp->env->rack_reo_mult ? r->reo_mult : qp->env->rack_reo_mult;
	uint64_t w = m * (r->min_rtt_ns / 4), q = r->rtt_ns - r->min_rtt_ns;

	return q > w ? q : w;
}

/* PSN @p psn (not yet SACKed, inside the window) was delivered. */
static void
delivered(struct sx_qp *qp, uint32_t psn, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;
	uint32_t sent = r->sent_ns[slot(r, psn)];
	uint64_t rtt = (uint64_t)ts_diff((uint32_t)now_ns, sent);
	bool resent = sx_ring_test(qp, qp->resent, psn);

	sx_path_feedback(&qp->path, qp->pathp, r->sport[slot(r, psn)], SX_PATH_SIG_ACK, now_ns);
	if (resent)
		return; /* Karn: which transmission arrived is ambiguous */
	if (r->min_rtt_ns == 0 || rtt < r->min_rtt_ns)
		r->min_rtt_ns = rtt;
	if (!r->valid || ts_diff(sent, r->xmit_ns) > 0 ||
	    (sent == r->xmit_ns && sx_psn_cmp(psn, r->xmit_psn) > 0)) {
		r->valid = true;
		r->xmit_ns = sent;
		r->xmit_psn = psn;
		r->rtt_ns = rtt;
		r->dirty = true;
	}
}

void
sx_rack_on_sack(struct sx_qp *qp, const struct sx_pkt *pkt, uint64_t now_ns)
{
	uint32_t next = sx_psn_add(pkt->bth.psn, 1), p, i;

	if (pkt->sack.flags & SX_SACK_F_DUPLICATE) {
		/* A resend was not needed: the reordering was deeper than the
		 * window. Widen it (RFC 8985 7.2). */
		qp->cnt[SX_QPC_SPURIOUS_RETX]++;
		if (qp->rack->reo_mult < RACK_REO_MULT_MAX)
			qp->rack->reo_mult *= 2;
		if (qp->rack->reo_mult > qp->env->rack_reo_mult)
			qp->env->rack_reo_mult = qp->rack->reo_mult;
		qp->rack->real_losses = 0;
	}
	/* The same window checks as the completer's: a stale or forged ACK
	 * reports nothing. Deliveries first, then the mark: the marked
	 * packet may be among them, and the mark must have the last word. */
	if (sx_psn_cmp(next, qp->snd_max) > 0 || sx_psn_cmp(next, qp->snd_una) < 0)
		return;
	for (p = qp->snd_una; sx_psn_cmp(p, next) < 0; p = sx_psn_add(p, 1))
		if (!sx_ring_test(qp, qp->sacked, p))
			delivered(qp, p, now_ns);
	for (i = 0; i < SX_SACK_BITS; i++) {
		if (!((pkt->sack.bitmap[i / 8] >> (i % 8)) & 1))
			continue;
		p = sx_psn_add(pkt->sack.base, i + 1);
		if (sx_psn_cmp(p, qp->snd_una) < 0 || sx_psn_cmp(p, qp->snd_max) >= 0 ||
		    sx_psn_fwd(qp->snd_una, p) >= qp->win_pkts)
			continue;
		if (!sx_ring_test(qp, qp->sacked, p))
			delivered(qp, p, now_ns);
	}
	if ((pkt->op->flags & SX_OPF_ECE) && pkt->ece.count != 0)
		sx_path_feedback(&qp->path, qp->pathp, pkt->ece.entropy, SX_PATH_SIG_ECN, now_ns);
}

bool
sx_rack_scan(struct sx_qp *qp)
{
	struct sx_rack *r = qp->rack;

	if (!r->dirty)
		return false;
	r->deadline_ns = 0;
	return true;
}

void
sx_rack_scan_done(struct sx_qp *qp)
{
	qp->rack->dirty = false;
}

bool
sx_rack_lost(struct sx_qp *qp, uint32_t psn, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;
	uint32_t sent = r->sent_ns[slot(r, psn)];
	uint64_t age, wait, due;

	/* Only a packet sent before one that was delivered can be lost
	 * (equal send times: the lower PSN went first, RFC 8985 6.2). */
	if (!r->valid || ts_diff(sent, r->xmit_ns) > 0 ||
	    (sent == r->xmit_ns && sx_psn_cmp(psn, r->xmit_psn) >= 0))
		return false;
	/* RFC 8985 6.2: lost once out longer than rack.rtt + reo_wnd. */
	age = (uint64_t)ts_diff((uint32_t)now_ns, sent);
	wait = r->rtt_ns + reo_wnd(qp);
	if (wait < RACK_MIN_WAIT_NS)
		wait = RACK_MIN_WAIT_NS;
	if (age >= wait)
		return true;
	due = now_ns + (wait - age);
	if (r->deadline_ns == 0 || due < r->deadline_ns)
		r->deadline_ns = due;
	return false;
}

void
sx_rack_resent(struct sx_qp *qp, uint32_t psn, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;

	qp->cnt[SX_QPC_RACK_LOST]++;
	sx_path_feedback(&qp->path, qp->pathp, r->sport[slot(r, psn)], SX_PATH_SIG_LOSS, now_ns);
	if (++r->real_losses >= RACK_REO_RESET_LOSSES) {
		r->real_losses = 0;
		r->reo_mult = RACK_REO_MULT_INIT;
		qp->env->rack_reo_mult /= 2; /* the fabric's hint fades too */
	}
}

void
sx_rack_timeout(struct sx_qp *qp, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;

	sx_path_feedback(&qp->path, qp->pathp, r->sport[slot(r, qp->snd_una)],
			 SX_PATH_SIG_TIMEOUT, now_ns);
	r->dirty = true;
}

uint64_t
sx_rack_deadline(const struct sx_qp *qp)
{
	return qp->rack->deadline_ns;
}

void
sx_rack_timer(struct sx_qp *qp, uint64_t now_ns)
{
	struct sx_rack *r = qp->rack;

	if (r->deadline_ns != 0 && now_ns >= r->deadline_ns) {
		r->deadline_ns = 0;
		r->dirty = true;
	}
}
