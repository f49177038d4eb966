/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a run measured, and the files it writes:
 *
 *   flows.csv    one line per flow: size, start, FCT, ideal FCT, slowdown
 *   summary.json FCT slowdown percentiles per size bucket, goodput, link
 *                utilization, queue-depth percentiles per switch port,
 *                drops, ECN marks, CNPs, the window's fairness
 *   queues.csv   (series) per switch port and sample: queue, throughput
 *   rates.csv    (series) per QP pair and sample: CC rate, goodput
 *
 * Nothing here reads a clock or depends on addresses: the same run writes
 * the same bytes.
 *
 * The ideal FCT of a flow is its time on an empty fabric: every frame
 * (headers and Ethernet overhead included) at the path's bottleneck rate,
 * plus store-and-forward of one full frame on each other hop, propagation
 * there and back, and the returning ACK's serialization.
 *
 * Link utilization is the fraction of an interval the link's wire was busy
 * (frame + preamble, FCS, gap at the rate the frame was sent at): never
 * above 1, even across a rate change. Goodput is acknowledged bytes over
 * the interval they were delivered in (scenario.h). Queue depths: per
 * switch port, the fabric's pooled distribution, and the worst port named.
 *
 * A run ends with invariant checks: no link started a frame before the
 * last one ended or was busy more than 100% of the run, hosts received no
 * more bytes than hosts sent, no pair had more acknowledged than posted and
 * no host received payload faster than its link. A broken one is a
 * simulator bug: the result says which, and sx_scn_run() fails.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <scalex/stats.h>

#include "scenario_priv.h"

/* RoCEv2 WRITE packet without payload: Eth, IPv4, UDP, BTH, ICRC. */
#define WRITE_HDR_BYTES (SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN + SX_BTH_LEN + SX_ICRC_LEN)
#define ACK_BYTES       (WRITE_HDR_BYTES + SX_AETH_LEN)

/* ---- during the run ---- */

static bool
is_switch_port(const struct sx_fab_link *l)
{
	return l->kind != SX_LINK_HOST_UP;
}

void
sx_scn_sample(struct sx_scn *s)
{
	uint64_t now = s->sched.now_ps, dt = now - s->last_sample_ps;
	uint64_t t_ns = now / SX_PS_PER_NS - SCN_T0_NS;
	uint32_t i;

	if (s->last_sample_ps == 0)
		dt = now - SCN_T0_NS * SX_PS_PER_NS;
	for (i = 0; i < s->fab.nlinks; i++) {
		struct sx_fab_link *l = &s->fab.links[i];
		uint64_t d = l->tx_bytes - l->tx_bytes_sampled;

		if (!is_switch_port(l) || (d == 0 && l->qbytes == 0))
			continue;
		if (s->nseries_q == s->series_q_cap) {
			size_t cap = s->series_q_cap ? 2 * s->series_q_cap : 4096;
			struct sx_series_q *n = realloc(s->series_q, cap * sizeof(*n));

			if (n == NULL)
				return;
			s->series_q = n;
			s->series_q_cap = cap;
		}
		s->series_q[s->nseries_q++] = (struct sx_series_q){
			.t_ns = t_ns,
			.link = i,
			.qbytes = l->qbytes,
			.gbps = (double)d * 8 / ((double)dt / 1000.0),
		};
		l->tx_bytes_sampled = l->tx_bytes;
	}
	for (i = 0; i < s->npairs; i++) {
		struct sx_pair *p = s->pairs[i];
		uint64_t acked = sx_scn_pair_acked(s, p), d = acked - p->acked_sampled;

		if (p->outstanding == 0 && d == 0)
			continue;
		if (s->nseries_r == s->series_r_cap) {
			size_t cap = s->series_r_cap ? 2 * s->series_r_cap : 4096;
			struct sx_series_r *n = realloc(s->series_r, cap * sizeof(*n));

			if (n == NULL)
				return;
			s->series_r = n;
			s->series_r_cap = cap;
		}
		s->series_r[s->nseries_r++] = (struct sx_series_r){
			.t_ns = t_ns,
			.pair = i,
			.cc_gbps = (double)(p->sq->rate_bps ? p->sq->rate_bps
							    : s->cfg.fab.host_rate_bps) / 1e9,
			.gbps = (double)d * 8 / ((double)dt / 1000.0),
		};
		p->acked_sampled = acked;
	}
	s->last_sample_ps = now;
}

void
sx_scn_window(struct sx_scn *s, bool end)
{
	uint32_t i, d;

	if (!end) {
		s->win0_ps = s->sched.now_ps;
		sx_fabric_window(&s->fab);
		for (i = 0; i < s->npairs; i++)
			s->pairs[i]->acked_win0 = sx_scn_pair_acked(s, s->pairs[i]);
		return;
	}
	if (s->win0_ps == 0) {
		/* the run ended before the window opened */
		s->win0_ps = s->sched.now_ps;
		sx_fabric_window(&s->fab);
	}
	s->win1_ps = s->sched.now_ps;
	s->fab.in_window = false;
	for (i = 0; i < s->npairs; i++)
		s->pairs[i]->acked_win1 = sx_scn_pair_acked(s, s->pairs[i]);
	s->link_busy_win1 = calloc(s->fab.nlinks, sizeof(uint64_t));
	s->link_drops_win1 = calloc(s->fab.nlinks, sizeof(uint64_t));
	if (s->link_busy_win1 == NULL || s->link_drops_win1 == NULL)
		return;
	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];

		s->link_busy_win1[i] = sx_fabric_busy_ps(&s->fab, l);
		for (d = 0; d < SX_DROP_MAX; d++)
			s->link_drops_win1[i] += l->drop[d];
	}
}

/* ---- after the run ---- */

static double
ser_ns(double bytes, uint64_t rate_bps)
{
	return bytes * 8 * 1e9 / (double)rate_bps;
}

static double
ideal_fct_ns(const struct sx_scn *s, const struct sx_scn_flowrec *f)
{
	const struct sx_fabric_cfg *c = &s->cfg.fab;
	uint32_t mtu = s->cfg.mtu, hops, i;
	uint64_t npkts = (f->bytes + mtu - 1) / mtu, rate[7], bottleneck;
	double delay[7], wire, full, ack, t = 0;
	bool local = f->src / c->hosts_per_leaf == f->dst / c->hosts_per_leaf;
	bool wan = sx_fabric_dc_of(&s->fab, f->src) != sx_fabric_dc_of(&s->fab, f->dst);

	/* host, then (across leaves) two fabric hops, or (across DCs) up to
	 * the border, the WAN, and down again; the last hop to the host */
	rate[0] = c->host_rate_bps;
	delay[0] = (double)c->host_delay_ns;
	hops = 1;
	if (!local) {
		uint32_t nfab = wan ? 4 : 2;

		for (i = 0; i < nfab; i++) {
			rate[hops] = c->fabric_rate_bps;
			delay[hops++] = (double)c->fabric_delay_ns;
			if (wan && i == 1) {
				rate[hops] = c->wan_rate_bps;
				delay[hops++] = (double)c->wan_delay_ns;
			}
		}
	}
	rate[hops] = c->host_rate_bps;
	delay[hops++] = (double)c->host_delay_ns;
	bottleneck = rate[0];
	for (i = 1; i < hops; i++)
		bottleneck = rate[i] < bottleneck ? rate[i] : bottleneck;
	/* payload, per-packet headers, the RETH of the first packet */
	wire = (double)f->bytes + (double)npkts * (WRITE_HDR_BYTES + c->wire_overhead_bytes) +
	       SX_RETH_LEN;
	full = (double)(f->bytes < mtu ? f->bytes : mtu) + WRITE_HDR_BYTES + c->wire_overhead_bytes;
	ack = ACK_BYTES + c->wire_overhead_bytes;
	t = ser_ns(wire, bottleneck) - ser_ns(full, bottleneck);
	for (i = 0; i < hops; i++)
		t += ser_ns(full, rate[i]) + ser_ns(ack, rate[i]) + 2 * delay[i];
	return t;
}

/* Record a broken invariant (the first in words). */
static void
broken(struct sx_scn *s, const char *fmt, ...)
{
	struct sx_scn_result *r = &s->res;
	va_list ap;

	if (r->invariants_broken++ == 0) {
		va_start(ap, fmt);
		vsnprintf(r->invariant, sizeof(r->invariant), fmt, ap);
		va_end(ap);
	}
}

/* Utilization of @p l over the run: busy time over [T0, now]. */
static double
run_util(const struct sx_scn *s, const struct sx_fab_link *l)
{
	uint64_t span = s->sched.now_ps - SCN_T0_NS * SX_PS_PER_NS;

	return span ? (double)sx_fabric_busy_ps(&s->fab, l) / (double)span : 0;
}

/* The pooled queue distribution of every switch port, and the worst port's
 * p99 (the highest). */
static void
queues(const struct sx_scn *s, bool win, uint64_t *p50, uint64_t *p99, uint64_t *max,
       uint64_t *worst_p99, char *worst, size_t worst_cap)
{
	struct sx_hist *all = calloc(1, sizeof(*all));
	uint32_t i, k;

	*p50 = *p99 = *max = *worst_p99 = 0;
	snprintf(worst, worst_cap, "%s", "");
	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];
		const struct sx_hist *h = win ? l->qhist_win : l->qhist;
		uint64_t q;

		if (!is_switch_port(l) || h == NULL || h->count == 0)
			continue;
		q = sx_hist_quantile(h, 0.99);
		if (q > *worst_p99) {
			*worst_p99 = q;
			snprintf(worst, worst_cap, "%s", l->name);
		}
		if (h->max > *max)
			*max = h->max;
		if (all == NULL)
			continue;
		for (k = 0; k < SX_HIST_BUCKETS; k++)
			all->b[k] += h->b[k];
		all->count += h->count;
		all->sum += h->sum;
		if (h->max > all->max)
			all->max = h->max;
	}
	if (all != NULL) {
		*p50 = sx_hist_quantile(all, 0.5);
		*p99 = sx_hist_quantile(all, 0.99);
	}
	free(all);
}

/* The physical invariants of a finished run. */
static void
check_invariants(struct sx_scn *s)
{
	struct sx_scn_result *r = &s->res;
	double span_s = (double)(r->goodput_end_ns - r->goodput_start_ns) / 1e9, max_rate = 0;
	uint64_t sent = 0, *rx = calloc(s->nhosts ? s->nhosts : 1, sizeof(uint64_t));
	uint32_t i;

	if (s->fab.overruns)
		broken(s, "%lu frames started on a link before the previous frame ended (faster "
			  "than the line rate)", (unsigned long)s->fab.overruns);
	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];
		double u = run_util(s, l);

		if (l->kind == SX_LINK_HOST_UP)
			sent += l->tx_bytes;
		if (u > 1 + 1e-9)
			broken(s, "link %s busy %.4f%% of the run", l->name, 100 * u);
	}
	if (r->win_max_util > 1 + 1e-9)
		broken(s, "switch port %s busy %.4f%% of the window", r->win_max_util_port,
		       100 * r->win_max_util);
	if (s->fab.bytes_delivered > sent)
		broken(s, "hosts received %lu frame bytes but sent %lu",
		       (unsigned long)s->fab.bytes_delivered, (unsigned long)sent);
	/* payload a host received over the goodput interval, against what its
	 * downlink can carry then (the fastest rate it may have had) */
	max_rate = (double)s->cfg.fab.host_rate_bps;
	for (i = 0; i < s->cfg.nevents; i++) {
		if ((double)s->cfg.events[i].rate_bps > max_rate)
			max_rate = (double)s->cfg.events[i].rate_bps;
	}
	for (i = 0; i < s->npairs; i++) {
		const struct sx_pair *p = s->pairs[i];
		uint64_t acked = sx_scn_pair_acked(s, p);

		if (acked > p->posted_bytes)
			broken(s, "pair %u -> %u: %lu bytes acknowledged of %lu posted", p->src, p->dst,
			       (unsigned long)acked, (unsigned long)p->posted_bytes);
		if (rx != NULL)
			rx[p->dst] += acked;
	}
	for (i = 0; rx != NULL && span_s > 0 && i < s->nhosts; i++) {
		/* one frame of slack: the interval ends at an ACK, not at the data */
		if ((double)rx[i] * 8 > max_rate * span_s + 8.0 * (s->cfg.mtu + 128))
			broken(s, "host %u received %.3f Gb/s of payload through a %.3f Gb/s link", i,
			       (double)rx[i] * 8 / span_s / 1e9, max_rate / 1e9);
	}
	free(rx);
	if (r->invariants_broken && s->err != NULL)
		fprintf(s->err, "scalex-sim: %u broken invariant(s), a simulator bug; the first: %s\n",
			r->invariants_broken, r->invariant);
}

/* Adds one counter to the named sums of its scope. */
static int
sum_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct sx_scn *s = arg;
	struct sx_scn_counter *t = d->scope == SX_STATS_QP ? s->qpc : s->edrop;
	uint32_t *n = d->scope == SX_STATS_QP ? &s->nqpc : &s->nedrop;
	uint32_t i;

	(void)id;
	if (d->type != SX_STAT_COUNTER)
		return 0;
	if (d->scope == SX_STATS_PORT) {
		if (strcmp(d->name, "tx_full") == 0)
			s->nic_ring_full += value;
		return 0;
	}
	if (d->scope == SX_STATS_ENGINE && strncmp(d->name, "drop_", 5) != 0)
		return 0;
	for (i = 0; i < *n; i++) {
		if (strcmp(t[i].name, d->name) == 0) {
			t[i].value += value;
			return 0;
		}
	}
	if (*n == SX_SCN_MAX_COUNTERS)
		return 0;
	t[(*n)++] = (struct sx_scn_counter){d->name, value};
	return 0;
}

/* The transport's counters, summed over the hosts, through the counters API. */
static void
sum_counters(struct sx_scn *s)
{
	s->nqpc = s->nedrop = 0;
	s->nic_ring_full = 0;
	for (uint32_t i = 0; i < s->nhosts; i++) {
		sx_stats_foreach(s->hosts[i].ctx,
				 1u << SX_STATS_QP | 1u << SX_STATS_ENGINE | 1u << SX_STATS_PORT,
				 sum_cb, s);
		/* a gateway's WAN side (its per-side split: summary.json "gateway") */
		if (s->hosts[i].wan_ctx != NULL)
			sx_stats_foreach(s->hosts[i].wan_ctx,
					 1u << SX_STATS_QP | 1u << SX_STATS_ENGINE |
						 1u << SX_STATS_PORT,
					 sum_cb, s);
	}
}

static uint64_t
counter_sum(const struct sx_scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->nqpc; i++)
		if (strcmp(s->qpc[i].name, name) == 0)
			return s->qpc[i].value;
	return 0;
}

void
sx_scn_finish(struct sx_scn *s)
{
	struct sx_scn_result *r = &s->res;
	uint64_t win_ps = s->win1_ps - s->win0_ps, end_ps;
	double win_s = (double)win_ps / 1e12;
	double sum = 0, sumsq = 0, span_s;
	uint32_t i, c;

	sum_counters(s);
	for (i = 0; i < s->npairs; i++) {
		struct sx_pair *p = s->pairs[i];
		double x = (double)(p->acked_win1 - p->acked_win0);

		r->bytes_acked += sx_scn_pair_acked(s, p);
		if (x > 0) {
			r->win_pairs++;
			sum += x;
			sumsq += x * x;
		}
	}
	/* relayed flows: what the gateways wrote into the destinations */
	if (s->gw != NULL)
		r->bytes_acked += sx_scn_gw_delivered(s);
	r->win_jain = r->win_pairs ? sum * sum / (r->win_pairs * sumsq) : 0;
	r->win_goodput_gbps = win_s > 0 ? sum * 8 / win_s / 1e9 : 0;
	/* delivered over the interval of delivery: first start to the last
	 * completion, or to the end while flows are unfinished */
	end_ps = s->done == s->nflows && s->last_end_ps ? s->last_end_ps : s->sched.now_ps;
	if (s->first_start_ps != 0 && end_ps > s->first_start_ps) {
		r->goodput_start_ns = s->first_start_ps / SX_PS_PER_NS - SCN_T0_NS;
		r->goodput_end_ns = end_ps / SX_PS_PER_NS - SCN_T0_NS;
		span_s = (double)(end_ps - s->first_start_ps) / 1e12;
		r->goodput_gbps = (double)r->bytes_acked * 8 / span_s / 1e9;
	}
	r->cnp_sent = counter_sum(s, "cnp_sent");
	r->cnp_rcvd = counter_sum(s, "cnp_rcvd");
	r->retransmits = counter_sum(s, "retransmits");
	r->timeouts = counter_sum(s, "timeouts");
	for (c = 0; c < SX_DROP_MAX; c++) {
		r->drops[c] = s->fab.drop[c];
		r->drops_total += s->fab.drop[c];
	}
	r->ecn_marked = s->fab.ecn_marked;
	r->pfc_pauses = s->fab.pfc_pauses;
	r->pfc_pauses_host = s->fab.pfc_pauses_host;
	for (i = 0; i < s->fab.nlinks; i++)
		r->pfc_paused_ps += sx_fabric_paused_ps(&s->fab, &s->fab.links[i]);
	r->frames = s->fab.pkts_delivered;
	r->hops = s->fab.hops;
	queues(s, false, &r->q_p50_bytes, &r->q_p99_bytes, &r->q_max_bytes, &r->q_worst_p99_bytes,
	       r->q_worst_port, sizeof(r->q_worst_port));
	queues(s, true, &r->win_q_p50_bytes, &r->win_q_p99_bytes, &r->win_q_max_bytes,
	       &r->win_q_worst_p99_bytes, r->win_q_worst_port, sizeof(r->win_q_worst_port));
	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];
		double u = run_util(s, l);

		if (u > r->max_util)
			r->max_util = u;
		if (!is_switch_port(l))
			continue;
		if (s->link_busy_win1 != NULL && win_ps > 0) {
			u = (double)(s->link_busy_win1[i] - l->busy_win_ps) / (double)win_ps;
			if (u > r->win_max_util) {
				r->win_max_util = u;
				snprintf(r->win_max_util_port, sizeof(r->win_max_util_port), "%s",
					 l->name);
			}
			r->win_drops += s->link_drops_win1[i] - l->drops_win;
		}
	}
	check_invariants(s);
}

/* ---- files ---- */

static const struct {
	const char *name;
	uint64_t max; /* bytes, inclusive */
} buckets[] = {
	{"<=10KB", 10000},
	{"10KB-100KB", 100000},
	{"100KB-1MB", 1000000},
	{"1MB-10MB", 10000000},
	{">10MB", UINT64_MAX},
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static unsigned int
bucket_of(uint64_t bytes)
{
	unsigned int b = 0;

	while (bytes > buckets[b].max)
		b++;
	return b;
}

static int
write_flows(struct sx_scn *s, const char *dir)
{
	char path[SX_SCN_PATH + 32];
	FILE *f;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/flows.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "id,src,dst,bytes,start_us,fct_us,ideal_us,slowdown,status,host_queue_us,"
		   "goodput_gbps\n");
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *fl = &s->flows[i];
		double ideal = ideal_fct_ns(s, fl) / 1e3;
		const char *st = !fl->started           ? "not_started"
				 : fl->reject           ? sx_scn_reject_name(fl->reject)
				 : !fl->finished        ? "unfinished"
				 : fl->verify_error     ? "corrupt"
				 : fl->failed           ? sx_wc_status_str(fl->status)
							: "ok";
		char hq[32] = "";

		/* host queueing: start (post) to the first frame on the wire */
		if (fl->wire_ps != 0)
			snprintf(hq, sizeof(hq), "%.3f", (double)(fl->wire_ps - fl->start_ps) / 1e6);
		if (fl->finished && !fl->failed) {
			double fct = (double)(fl->end_ps - fl->start_ps) / 1e6;

			fprintf(f, "%u,%u,%u,%lu,%.3f,%.3f,%.3f,%.4f,%s,%s,%.3f\n", i, fl->src, fl->dst,
				(unsigned long)fl->bytes, (double)fl->at_ns / 1e3, fct, ideal,
				fct / ideal, st, hq, (double)fl->bytes * 8 / fct / 1e3);
		} else {
			fprintf(f, "%u,%u,%u,%lu,%.3f,,%.3f,,%s,%s,\n", i, fl->src, fl->dst,
				(unsigned long)fl->bytes, (double)fl->at_ns / 1e3, ideal, st, hq);
		}
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static int
write_series(struct sx_scn *s, const char *dir)
{
	char path[SX_SCN_PATH + 32];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/queues.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "time_us,link,queue_bytes,tx_gbps\n");
	for (i = 0; i < s->nseries_q; i++) {
		const struct sx_series_q *q = &s->series_q[i];

		fprintf(f, "%.3f,%s,%lu,%.3f\n", (double)q->t_ns / 1e3, s->fab.links[q->link].name,
			(unsigned long)q->qbytes, q->gbps);
	}
	if (fclose(f) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/rates.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "time_us,src,dst,cc_gbps,goodput_gbps\n");
	for (i = 0; i < s->nseries_r; i++) {
		const struct sx_series_r *q = &s->series_r[i];
		const struct sx_pair *p = s->pairs[q->pair];

		fprintf(f, "%.3f,%u,%u,%.3f,%.3f\n", (double)q->t_ns / 1e3, p->src, p->dst,
			q->cc_gbps, q->gbps);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

/* Round to 6 significant decimals so the JSON stays readable. */
static json_t *
jreal(double v)
{
	return json_real(round(v * 1e6) / 1e6);
}

static json_t *
json_config(const struct sx_scn *s)
{
	const struct sx_scn_cfg *c = &s->cfg;
	const struct sx_fabric_cfg *f = &c->fab;
	json_t *params = json_array();
	uint32_t i;

	for (i = 0; i < c->ncc_param; i++)
		json_array_append_new(params, json_string(c->cc_param[i]));
	return json_pack("{s:{s:I,s:I,s:I,s:I,s:o,s:o,s:I,s:I},"
			 "s:{s:I,s:b,s:I,s:I,s:o,s:o,s:b,s:I,s:I},"
			 "s:{s:I,s:o,s:o,s:b},"
			 "s:{s:s,s:s,s:o,s:s,s:I,s:I},"
			 "s:{s:s,s:I,s:o,s:s},"
			 "s:{s:o,s:I,s:I},"
			 "s:{s:o,s:o,s:I}}",
			 "topology", "hosts", (json_int_t)s->nhosts, "hosts_per_leaf",
			 (json_int_t)f->hosts_per_leaf, "leaves", (json_int_t)f->leaves, "spines",
			 (json_int_t)f->spines, "host_rate_gbps", jreal((double)f->host_rate_bps / 1e9),
			 "fabric_rate_gbps", jreal((double)f->fabric_rate_bps / 1e9), "host_delay_ns",
			 (json_int_t)f->host_delay_ns, "fabric_delay_ns", (json_int_t)f->fabric_delay_ns,
			 "switch", "buffer_bytes", (json_int_t)f->buffer_bytes, "ecn", f->ecn,
			 "kmin_bytes", (json_int_t)f->kmin_bytes, "kmax_bytes",
			 (json_int_t)f->kmax_bytes, "pmax", jreal(f->pmax), "ecn_ref_gbps",
			 jreal((double)f->ecn_ref_bps / 1e9), "pfc", f->pfc,
			 "pfc_xoff_bytes", (json_int_t)f->pfc_xoff_bytes, "pfc_xon_bytes",
			 (json_int_t)f->pfc_xon_bytes,
			 "wan", "dcs", (json_int_t)f->dcs, "wan_rate_gbps",
			 jreal((double)f->wan_rate_bps / 1e9), "wan_delay_us",
			 jreal((double)f->wan_delay_ns / 1e3), "cross", c->wl.cross_dc,
			 "transport", "cc", s->cc_on ? c->cc : "none", "cc_preset", c->cc_preset,
			 "cc_param", params, "reliability", c->rel == SX_REL_SR ? "sr" : "gbn", "mtu",
			 (json_int_t)c->mtu, "timeout_us", (json_int_t)c->timeout_us,
			 "workload", "type", sx_wl_kind_name(c->wl.kind), "flows", (json_int_t)s->nflows,
			 "load", jreal(c->wl.kind == SX_WL_CDF ? c->wl.load : 0), "cdf", c->cdf_path,
			 "fault", "loss", jreal(f->loss), "link_events", (json_int_t)c->nevents,
			 "detect_us", (json_int_t)(f->detect_ns / 1000),
			 "sim", "duration_us", jreal((double)c->duration_ns / 1e3), "window_us",
			 jreal((double)c->window_ns / 1e3), "seed", (json_int_t)c->seed);
}

static json_t *
json_fct(const struct sx_scn *s)
{
	json_t *arr = json_array();
	double *sd[NBUCKETS + 1], *fct[NBUCKETS + 1];
	size_t n[NBUCKETS + 1] = {0};
	unsigned int b;
	uint32_t i;

	for (b = 0; b <= NBUCKETS; b++) {
		sd[b] = malloc((s->nflows + 1) * sizeof(double));
		fct[b] = malloc((s->nflows + 1) * sizeof(double));
	}
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *fl = &s->flows[i];
		double t, ideal;

		if (!fl->finished || fl->failed || sd[0] == NULL)
			continue;
		t = (double)(fl->end_ps - fl->start_ps) / 1e3;
		ideal = ideal_fct_ns(s, fl);
		b = bucket_of(fl->bytes);
		if (sd[b] == NULL || fct[b] == NULL || sd[NBUCKETS] == NULL || fct[NBUCKETS] == NULL)
			continue;
		sd[b][n[b]] = t / ideal;
		fct[b][n[b]++] = t / 1e3;
		sd[NBUCKETS][n[NBUCKETS]] = t / ideal;
		fct[NBUCKETS][n[NBUCKETS]++] = t / 1e3;
	}
	for (b = 0; b <= NBUCKETS; b++) {
		double mean = 0;
		size_t k;

		if (sd[b] == NULL || fct[b] == NULL)
			continue;
		sx_sort_doubles(sd[b], n[b]);
		sx_sort_doubles(fct[b], n[b]);
		for (k = 0; k < n[b]; k++)
			mean += sd[b][k];
		mean = n[b] ? mean / (double)n[b] : 0;
		json_array_append_new(
			arr, json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "bucket",
				       b < NBUCKETS ? buckets[b].name : "all", "flows",
				       (json_int_t)n[b], "slowdown_mean", jreal(mean), "slowdown_p50",
				       jreal(sx_quantile_sorted(sd[b], n[b], 0.5)), "slowdown_p95",
				       jreal(sx_quantile_sorted(sd[b], n[b], 0.95)), "slowdown_p99",
				       jreal(sx_quantile_sorted(sd[b], n[b], 0.99)), "slowdown_max",
				       jreal(n[b] ? sd[b][n[b] - 1] : 0), "fct_p50_us",
				       jreal(sx_quantile_sorted(fct[b], n[b], 0.5)), "fct_p99_us",
				       jreal(sx_quantile_sorted(fct[b], n[b], 0.99))));
	}
	for (b = 0; b <= NBUCKETS; b++) {
		free(sd[b]);
		free(fct[b]);
	}
	return arr;
}

static json_t *
json_fabric(const struct sx_scn *s)
{
	const struct sx_scn_result *r = &s->res;
	json_t *kinds = json_object(), *ports = json_array(), *drops = json_object();
	json_t *pfc_ports = json_array();
	double util_sum[SX_LINK_KINDS] = {0}, util_max[SX_LINK_KINDS] = {0};
	uint32_t nk[SX_LINK_KINDS] = {0}, i, d;

	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];
		double u = run_util(s, l);
		uint64_t ldrops = 0;

		util_sum[l->kind] += u;
		nk[l->kind]++;
		if (u > util_max[l->kind])
			util_max[l->kind] = u;
		for (d = 0; d < SX_DROP_MAX; d++)
			ldrops += l->drop[d];
		if (l->pfc_pauses)
			json_array_append_new(
				pfc_ports,
				json_pack("{s:s,s:I,s:o}", "port", l->name, "pauses",
					  (json_int_t)l->pfc_pauses, "paused_us",
					  jreal((double)sx_fabric_paused_ps(&s->fab, l) / 1e6)));
		if (!is_switch_port(l) || (l->tx_pkts == 0 && ldrops == 0))
			continue;
		json_array_append_new(
			ports, json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "port", l->name, "util",
					 jreal(u), "queue_p50_bytes",
					 (json_int_t)sx_hist_quantile(l->qhist, 0.5), "queue_p99_bytes",
					 (json_int_t)sx_hist_quantile(l->qhist, 0.99),
					 "queue_max_bytes", (json_int_t)l->qhist->max, "ecn_marked",
					 (json_int_t)l->ecn_marked, "drops", (json_int_t)ldrops,
					 "tx_pkts", (json_int_t)l->tx_pkts));
	}
	for (i = 0; i < SX_LINK_KINDS; i++) {
		if (nk[i] == 0)
			continue;
		json_object_set_new(kinds, sx_link_kind_name((enum sx_link_kind)i),
				    json_pack("{s:I,s:o,s:o}", "links", (json_int_t)nk[i], "util_mean",
					      jreal(util_sum[i] / nk[i]), "util_max",
					      jreal(util_max[i])));
	}
	for (d = 0; d < SX_DROP_MAX; d++)
		json_object_set_new(drops, sx_drop_name((enum sx_drop)d),
				    json_integer((json_int_t)s->fab.drop[d]));
	return json_pack("{s:o,s:I,s:I,s:I,s:{s:b,s:I,s:I,s:o,s:o},s:o,s:{s:I,s:I,s:I,s:s,s:I},s:o}",
			 "drops", drops,
			 "ecn_marked", (json_int_t)s->fab.ecn_marked, "frames_delivered",
			 (json_int_t)s->fab.pkts_delivered, "reordered",
			 (json_int_t)s->fab.reordered, "pfc", "enabled", s->cfg.fab.pfc, "pauses",
			 (json_int_t)s->fab.pfc_pauses, "pauses_host_nic",
			 (json_int_t)s->fab.pfc_pauses_host, "paused_us",
			 jreal((double)s->res.pfc_paused_ps / 1e6), "ports", pfc_ports,
			 "link_kinds", kinds, "queue", "fabric_p50_bytes", (json_int_t)r->q_p50_bytes,
			 "fabric_p99_bytes", (json_int_t)r->q_p99_bytes, "max_bytes",
			 (json_int_t)r->q_max_bytes, "worst_port", r->q_worst_port,
			 "worst_port_p99_bytes", (json_int_t)r->q_worst_p99_bytes, "ports", ports);
}

static json_t *
json_window(const struct sx_scn *s)
{
	const struct sx_scn_result *r = &s->res;
	double win_s = (double)(s->win1_ps - s->win0_ps) / 1e12;
	json_t *pairs = json_array();
	uint32_t i;

	for (i = 0; i < s->npairs; i++) {
		const struct sx_pair *p = s->pairs[i];
		uint64_t d = p->acked_win1 - p->acked_win0;

		if (d == 0 || s->npairs > 64)
			continue;
		json_array_append_new(pairs,
				      json_pack("{s:I,s:I,s:o}", "src", (json_int_t)p->src, "dst",
						(json_int_t)p->dst, "goodput_gbps",
						jreal(win_s > 0 ? (double)d * 8 / win_s / 1e9 : 0)));
	}
	return json_pack("{s:o,s:o,s:o,s:o,s:I,s:o,s:s,s:I,s:{s:I,s:I,s:I,s:s,s:I},s:o}",
			 "start_us", jreal((double)(s->win0_ps / SX_PS_PER_NS - SCN_T0_NS) / 1e3),
			 "end_us", jreal((double)(s->win1_ps / SX_PS_PER_NS - SCN_T0_NS) / 1e3),
			 "goodput_gbps", jreal(r->win_goodput_gbps), "jain", jreal(r->win_jain),
			 "pairs_active", (json_int_t)r->win_pairs, "max_switch_port_util",
			 jreal(r->win_max_util), "max_switch_port", r->win_max_util_port, "drops",
			 (json_int_t)r->win_drops, "queue", "fabric_p50_bytes",
			 (json_int_t)r->win_q_p50_bytes, "fabric_p99_bytes",
			 (json_int_t)r->win_q_p99_bytes, "max_bytes", (json_int_t)r->win_q_max_bytes,
			 "worst_port", r->win_q_worst_port, "worst_port_p99_bytes",
			 (json_int_t)r->win_q_worst_p99_bytes, "pairs", pairs);
}

static json_t *
json_transport(const struct sx_scn *s)
{
	json_t *o = json_object(), *edrop = json_object();
	uint32_t c;

	for (c = 0; c < s->nqpc; c++)
		json_object_set_new(o, s->qpc[c].name, json_integer((json_int_t)s->qpc[c].value));
	for (c = 0; c < s->nedrop; c++) {
		if (s->edrop[c].value) /* the reason, without "drop_" */
			json_object_set_new(edrop, s->edrop[c].name + 5,
					    json_integer((json_int_t)s->edrop[c].value));
	}
	json_object_set_new(o, "engine_drops", edrop);
	json_object_set_new(o, "nic_ring_full", json_integer((json_int_t)s->nic_ring_full));
	json_object_set_new(o, "qp_pairs", json_integer((json_int_t)s->npairs));
	return o;
}

int
sx_scn_write(struct sx_scn *s, const char *dir)
{
	const struct sx_scn_result *r = &s->res;
	char path[SX_SCN_PATH + 32];
	json_t *root, *rejected;
	unsigned int i;
	int rc;

	if (strlen(dir) >= SX_SCN_PATH)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return -errno;
	rc = write_flows(s, dir);
	if (rc == 0 && s->cfg.series)
		rc = write_series(s, dir);
	if (rc < 0)
		return rc;
	rejected = json_object();
	for (i = 1; i < SX_SCN_REJECT_MAX; i++) {
		if (r->rejected[i])
			json_object_set_new(rejected, sx_scn_reject_name(i),
					    json_integer((json_int_t)r->rejected[i]));
	}
	root = json_pack("{s:s,s:o,s:{s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:o,s:o,s:o},s:o,s:o,s:o,s:o,"
			 "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
			 "tool", "scalex-sim", "config", json_config(s), "flows", "total",
			 (json_int_t)r->flows, "completed", (json_int_t)r->completed, "failed",
			 (json_int_t)r->failed, "rejected", rejected, "corrupt",
			 (json_int_t)r->verify_errors, "bytes_completed",
			 (json_int_t)r->bytes_completed, "bytes_acked", (json_int_t)r->bytes_acked,
			 "goodput_gbps", jreal(r->goodput_gbps), "goodput_start_us",
			 jreal((double)r->goodput_start_ns / 1e3), "goodput_end_us",
			 jreal((double)r->goodput_end_ns / 1e3), "fct_slowdown", json_fct(s), "window",
			 json_window(s), "fabric", json_fabric(s), "transport", json_transport(s),
			 "sim", "events", (json_int_t)r->events, "host_steps",
			 (json_int_t)r->host_steps, "frames_delivered", (json_int_t)r->frames,
			 "hops", (json_int_t)r->hops, "end_us", (json_int_t)(r->end_ns / 1000),
			 "pool_buffers", (json_int_t)sx_sim_pool_allocated(s->pool),
			 "invariants_broken", (json_int_t)r->invariants_broken);
	if (root == NULL)
		return -ENOMEM;
	rc = sx_scn_write_multipath(s, dir, root);
	if (rc == 0)
		rc = sx_scn_coll_json(s, root);
	if (rc == 0 && s->gw != NULL)
		rc = sx_scn_gw_write(s, root);
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(root);
	return rc == 0 ? 0 : -EIO;
}
