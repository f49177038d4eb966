/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Round-trip time estimation and the retransmit timeout (RFC 6298).
 *
 * The requester times one PSN at a time (rtt_probe, set in req.c when an
 * AckReq packet carrying new data goes out); the completer takes the sample
 * when an ACK moves snd_una past it. Karn's rule (RFC 6298 section 3): a
 * PSN that was sent twice gives no sample, so every resend at or before the
 * timed PSN cancels the probe (sx_rtt_resent) and a rewind always does.
 *
 * The timeout in force, rto_ns, is SRTT + max(G, 4 * RTTVAR) clamped to
 * [min_rto_ns, SX_MAX_TIMEOUT_NS] (2.2, 2.3, 2.4, 2.5); before the first
 * sample it is the QP's initial timeout (timeout_us, 2.1). Each expiry
 * doubles it (5.5); the next forward progress sets it back from the
 * estimate. Integer nanoseconds: the division by 8 and 4 truncates, at most
 * a few ns from the real-number equations.
 */
#include "qp.h"

void
sx_rtt_sample(struct sx_qp *qp, uint64_t rtt_ns)
{
	if (!qp->rtt_valid) {
		/* 2.2: SRTT <- R, RTTVAR <- R/2 */
		qp->srtt_ns = rtt_ns;
		qp->rttvar_ns = rtt_ns / 2;
		qp->rtt_valid = true;
		return;
	}
	/* 2.3, in this order (RTTVAR uses the old SRTT), alpha = 1/8, beta = 1/4:
	 * RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
	 * SRTT   <- (1 - alpha) * SRTT + alpha * R' */
	uint64_t err = qp->srtt_ns > rtt_ns ? qp->srtt_ns - rtt_ns : rtt_ns - qp->srtt_ns;

	qp->rttvar_ns = (3 * qp->rttvar_ns + err) / 4;
	qp->srtt_ns = (7 * qp->srtt_ns + rtt_ns) / 8;
}

uint64_t
sx_rtt_rto(const struct sx_qp *qp)
{
	uint64_t var, rto;

	if (!qp->rtt_valid)
		rto = qp->timeout_ns; /* 2.1: the initial RTO */
	else {
		var = 4 * qp->rttvar_ns;
		rto = qp->srtt_ns + (var > SX_RTO_GRANULARITY_NS ? var : SX_RTO_GRANULARITY_NS);
	}
	if (rto < qp->min_rto_ns)
		rto = qp->min_rto_ns; /* 2.4, with a per-QP floor */
	if (rto > SX_MAX_TIMEOUT_NS)
		rto = SX_MAX_TIMEOUT_NS; /* 2.5 */
	return rto;
}

void
sx_rtt_backoff(struct sx_qp *qp)
{
	/* 5.5: RTO <- RTO * 2, up to the maximum */
	qp->rto_ns = qp->rto_ns * 2 < SX_MAX_TIMEOUT_NS ? qp->rto_ns * 2 : SX_MAX_TIMEOUT_NS;
}

void
sx_rtt_resent(struct sx_qp *qp, uint32_t psn)
{
	if (qp->rtt_probe && sx_psn_cmp(psn, qp->rtt_psn) <= 0)
		qp->rtt_probe = false;
}
