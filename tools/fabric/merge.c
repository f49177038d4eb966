/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The merge of scalex-traffic's per-host records into one report with the
 * simulator's files and columns (sim/report.c):
 *
 *   flows.csv    id,src,dst,bytes,start_us,fct_us,ideal_us,slowdown,status
 *   summary.json flows, goodput, FCT slowdown percentiles per size bucket,
 *                per-host figures, transport counters, the fabric's ports
 *   rates.csv    time_us,src,dst,cc_gbps,goodput_gbps
 *
 * A flow's FCT runs from its first work request to its last completion at
 * the host that posted it; its status is that host's, or "corrupt" when the
 * receiver found other bytes than were sent, or "lost" when no host that
 * posted it left a record (it died).
 *
 * Units: time in us in the files, sizes in bytes, rates in Gb/s.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <scalex/wire.h>

#include "../../sim/scenario.h"
#include "traffic.h"

#define PROG "scalex-traffic merge"

struct mflow {
	bool seen;
	uint32_t src, dst;
	uint64_t bytes;
	double start_us, post_us, end_us;
	char status[40];
	bool tx;      /* the initiator's record is there */
	char rx[40];  /* the receiver's verdict, "" if none */
	uint32_t initiator;
};

/* The simulator's ideal FCT (sim/report.c ideal_fct_ns, one DC): every
 * frame at the bottleneck rate, store-and-forward of one full frame on each
 * other hop, propagation there and back, the returning ACK. */
static double
ideal_us(const struct sx_scn_cfg *s, const struct mflow *f)
{
	const struct sx_fabric_cfg *c = &s->fab;
	const double hdr = SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN + SX_BTH_LEN + SX_ICRC_LEN;
	uint64_t npkts = (f->bytes + s->mtu - 1) / s->mtu, rate[4], bottleneck;
	double delay[4], wire, full, ack, t;
	bool local = f->src / c->hosts_per_leaf == f->dst / c->hosts_per_leaf;
	uint32_t hops = 0, i;

	rate[hops] = c->host_rate_bps;
	delay[hops++] = (double)c->host_delay_ns;
	if (!local) {
		for (i = 0; i < 2; i++) {
			rate[hops] = c->fabric_rate_bps;
			delay[hops++] = (double)c->fabric_delay_ns;
		}
	}
	rate[hops] = c->host_rate_bps;
	delay[hops++] = (double)c->host_delay_ns;
	bottleneck = rate[0];
	for (i = 1; i < hops; i++)
		bottleneck = rate[i] < bottleneck ? rate[i] : bottleneck;
	wire = (double)f->bytes + (double)npkts * (hdr + c->wire_overhead_bytes) + SX_RETH_LEN;
	full = (double)(f->bytes < s->mtu ? f->bytes : s->mtu) + hdr + c->wire_overhead_bytes;
	ack = hdr + SX_AETH_LEN + c->wire_overhead_bytes;
	t = (wire - full) * 8e9 / (double)bottleneck;
	for (i = 0; i < hops; i++)
		t += (full + ack) * 8e9 / (double)rate[i] + 2 * delay[i];
	return t / 1e3;
}

static json_t *
jreal(double v)
{
	return json_real(round(v * 1e6) / 1e6);
}

static bool
flow_ok(const struct mflow *f)
{
	return f->tx && strcmp(f->status, "ok") == 0 && strcmp(f->rx, "corrupt") != 0;
}

static const char *
final_status(const struct mflow *f)
{
	if (!f->tx)
		return "lost";
	if (strcmp(f->status, "ok") == 0 && strcmp(f->rx, "corrupt") == 0)
		return "corrupt";
	return f->status;
}

/* One host-R.csv into @p fl (grown to the largest id). */
static int
read_host(const char *path, struct mflow **fl, uint32_t *nfl, uint32_t host)
{
	char line[512], role[8], st[40];
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned int id, src, dst;
		unsigned long long bytes;
		double start = 0, post = 0, end = 0;
		struct mflow *m;
		int n;

		/* the status is the rest of the line: it may hold spaces
		 * ("transport retry counter exceeded") */
		line[strcspn(line, "\r\n")] = '\0';
		n = sscanf(line, "%7[^,],%u,%u,%u,%llu,%lf,%lf,%lf,%39[^\n]", role, &id, &src,
			   &dst, &bytes, &start, &post, &end, st);
		if (n != 9) {
			n = sscanf(line, "%7[^,],%u,%u,%u,%llu,,,,%39[^\n]", role, &id, &src, &dst,
				   &bytes, st);
			if (n != 6) {
				rc = -EINVAL;
				break;
			}
		}
		if (id >= 10000000) {
			rc = -EINVAL;
			break;
		}
		if (id >= *nfl) {
			uint32_t cap = id + 1024;
			struct mflow *nf = realloc(*fl, cap * sizeof(*nf));

			if (nf == NULL) {
				rc = -ENOMEM;
				break;
			}
			memset(nf + *nfl, 0, (cap - *nfl) * sizeof(*nf));
			*fl = nf;
			*nfl = cap;
		}
		m = &(*fl)[id];
		m->seen = true;
		m->src = src;
		m->dst = dst;
		m->bytes = bytes;
		if (strcmp(role, "tx") == 0) {
			m->tx = true;
			m->start_us = start;
			m->post_us = post;
			m->end_us = end;
			m->initiator = host;
			snprintf(m->status, sizeof(m->status), "%s", st);
		} else {
			snprintf(m->rx, sizeof(m->rx), "%s", st);
		}
	}
	fclose(f);
	return rc;
}

static const struct {
	const char *name;
	uint64_t max;
} buckets[] = {
	{"<=10KB", 10000}, {"10KB-100KB", 100000}, {"100KB-1MB", 1000000},
	{"1MB-10MB", 10000000}, {">10MB", UINT64_MAX},
};
#define NB (sizeof(buckets) / sizeof(buckets[0]))

static json_t *
fct_json(const struct sx_scn_cfg *s, const struct mflow *fl, uint32_t nfl)
{
	json_t *arr = json_array();
	unsigned int b;
	uint32_t i;

	for (b = 0; b <= NB; b++) {
		double *sd = malloc((nfl + 1) * sizeof(double)), *fct = malloc((nfl + 1) * sizeof(double));
		double mean = 0;
		size_t n = 0, k;

		if (sd == NULL || fct == NULL) {
			free(sd);
			free(fct);
			continue;
		}
		for (i = 0; i < nfl; i++) {
			const struct mflow *f = &fl[i];
			unsigned int fb = 0;

			if (!f->seen || !flow_ok(f))
				continue;
			while (f->bytes > buckets[fb].max)
				fb++;
			if (b < NB && fb != b)
				continue;
			fct[n] = f->end_us - f->post_us;
			sd[n] = fct[n] / ideal_us(s, f);
			n++;
		}
		sx_sort_doubles(sd, n);
		sx_sort_doubles(fct, n);
		for (k = 0; k < n; k++)
			mean += sd[k];
		mean = n ? mean / (double)n : 0;
		json_array_append_new(
			arr, json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "bucket",
				       b < NB ? buckets[b].name : "all", "flows", (json_int_t)n,
				       "slowdown_mean", jreal(mean), "slowdown_p50",
				       jreal(sx_quantile_sorted(sd, n, 0.5)), "slowdown_p95",
				       jreal(sx_quantile_sorted(sd, n, 0.95)), "slowdown_p99",
				       jreal(sx_quantile_sorted(sd, n, 0.99)), "slowdown_max",
				       jreal(n ? sd[n - 1] : 0), "fct_p50_us",
				       jreal(sx_quantile_sorted(fct, n, 0.5)), "fct_p99_us",
				       jreal(sx_quantile_sorted(fct, n, 0.99))));
		free(sd);
		free(fct);
	}
	return arr;
}

static uint64_t
jint(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

int
sx_traffic_merge(const char *config, const char *const *sets, unsigned int nsets,
		 const char *dir, const char *fabric_stats)
{
	struct sx_scn_cfg scn;
	struct mflow *fl = NULL;
	uint32_t nfl = 0, nhosts, h, i;
	char path[1024], line[512];
	json_t *root = NULL, *hosts = json_array(), *qsum = json_object(), *fab = NULL;
	uint64_t total = 0, completed = 0, failed = 0, corrupt = 0, lost = 0, bytes = 0;
	double t_first = INFINITY, t_last = 0;
	FILE *rates = NULL;
	int rc = 2;

	sx_scn_cfg_init(&scn);
	if (sx_scn_load(&scn, config, stderr) != 0)
		goto out;
	for (i = 0; i < nsets; i++)
		if (sx_scn_set(&scn, sets[i], stderr) < 0)
			goto out;
	rc = 1;
	nhosts = scn.fab.hosts_per_leaf * scn.fab.leaves * scn.fab.dcs;
	for (h = 0; h < nhosts; h++) {
		snprintf(path, sizeof(path), "%s/host-%u.csv", dir, h);
		i = (uint32_t)read_host(path, &fl, &nfl, h);
		if ((int)i == -ENOENT) {
			fprintf(stderr, PROG ": no records of host %u (%s): it did not finish\n",
				h, path);
			continue;
		}
		if ((int)i < 0) {
			fprintf(stderr, PROG ": %s: malformed\n", path);
			goto out;
		}
	}
	/* flows.csv */
	snprintf(path, sizeof(path), "%s/flows.csv", dir);
	{
		FILE *f = fopen(path, "w");

		if (f == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			goto out;
		}
		fprintf(f, "id,src,dst,bytes,start_us,fct_us,ideal_us,slowdown,status\n");
		for (i = 0; i < nfl; i++) {
			const struct mflow *m = &fl[i];
			double ideal;

			if (!m->seen)
				continue;
			total++;
			ideal = ideal_us(&scn, m);
			if (flow_ok(m)) {
				double fct = m->end_us - m->post_us;

				completed++;
				bytes += m->bytes;
				t_first = m->post_us < t_first ? m->post_us : t_first;
				t_last = m->end_us > t_last ? m->end_us : t_last;
				fprintf(f, "%u,%u,%u,%" PRIu64 ",%.3f,%.3f,%.3f,%.4f,ok\n", i, m->src,
					m->dst, m->bytes, m->start_us, fct, ideal, fct / ideal);
			} else {
				const char *st = final_status(m);

				if (strcmp(st, "corrupt") == 0)
					corrupt++;
				else if (strcmp(st, "lost") == 0)
					lost++;
				else
					failed++;
				fprintf(f, "%u,%u,%u,%" PRIu64 ",%.3f,,%.3f,,%s\n", i, m->src, m->dst,
					m->bytes, m->start_us, ideal, st);
			}
		}
		if (fclose(f) != 0)
			goto out;
	}
	/* rates.csv: every host's, one header */
	snprintf(path, sizeof(path), "%s/rates.csv", dir);
	rates = fopen(path, "w");
	if (rates == NULL)
		goto out;
	fprintf(rates, "time_us,src,dst,cc_gbps,goodput_gbps\n");
	for (h = 0; h < nhosts; h++) {
		FILE *r;

		snprintf(path, sizeof(path), "%s/rates-%u.csv", dir, h);
		r = fopen(path, "r");
		if (r == NULL)
			continue;
		if (fgets(line, sizeof(line), r) != NULL)
			while (fgets(line, sizeof(line), r) != NULL)
				fputs(line, rates);
		fclose(r);
	}
	if (fclose(rates) != 0) {
		rates = NULL;
		goto out;
	}
	rates = NULL;

	/* per host */
	printf("%-5s %6s %9s %11s %11s %8s %8s %8s %9s %7s %8s  %s\n", "host", "flows",
	       "gbps", "fct_p50_us", "fct_p99_us", "ecn_ce", "cnp_sent", "cnp_rcvd", "rate_cuts",
	       "retx", "timeouts", "status");
	for (h = 0; h < nhosts; h++) {
		json_t *hj, *qp;
		double *fct = malloc((nfl + 1) * sizeof(double)), lo = INFINITY, hi = 0, gbps;
		uint64_t hb = 0;
		size_t n = 0;
		const char *err;

		snprintf(path, sizeof(path), "%s/host-%u.json", dir, h);
		hj = json_load_file(path, 0, NULL);
		for (i = 0; fct != NULL && i < nfl; i++) {
			const struct mflow *m = &fl[i];

			if (!m->seen || !m->tx || m->initiator != h || !flow_ok(m))
				continue;
			fct[n++] = m->end_us - m->post_us;
			hb += m->bytes;
			lo = m->post_us < lo ? m->post_us : lo;
			hi = m->end_us > hi ? m->end_us : hi;
		}
		if (fct != NULL)
			sx_sort_doubles(fct, n);
		gbps = n && hi > lo ? (double)hb * 8 / ((hi - lo) * 1e3) : 0;
		qp = json_object_get(hj, "qp");
		err = json_string_value(json_object_get(hj, "error"));
		printf("%-5u %6zu %9.3f %11.1f %11.1f %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %9" PRIu64 " %7" PRIu64 " %8" PRIu64 "  %s\n",
		       h, n, gbps, fct ? sx_quantile_sorted(fct, n, 0.5) : 0, fct ? sx_quantile_sorted(fct, n, 0.99) : 0,
		       jint(qp, "ecn_ce_rcvd", NULL), jint(qp, "cnp_sent", NULL),
		       jint(qp, "cnp_rcvd", NULL), jint(qp, "rate_cuts", NULL),
		       jint(qp, "retransmits", NULL), jint(qp, "timeouts", NULL),
		       hj == NULL ? "no record" : err ? err : "ok");
		if (qp != NULL) {
			const char *k;
			json_t *v;

			json_object_foreach(qp, k, v)
				json_object_set_new(qsum, k,
						    json_integer((json_int_t)(jint(qsum, k, NULL) +
									      jint(qp, k, NULL))));
		}
		json_array_append_new(
			hosts, json_pack("{s:I,s:b,s:I,s:o,s:o,s:o,s:o?,s:o?}", "host", (json_int_t)h,
					 "record", hj != NULL, "flows", (json_int_t)n, "goodput_gbps",
					 jreal(gbps), "fct_p50_us",
					 jreal(fct ? sx_quantile_sorted(fct, n, 0.5) : 0), "fct_p99_us",
					 jreal(fct ? sx_quantile_sorted(fct, n, 0.99) : 0), "qp",
					 json_incref(qp), "peers",
					 json_incref(json_object_get(hj, "peers"))));
		json_decref(hj);
		free(fct);
	}
	if (fabric_stats != NULL) {
		fab = json_load_file(fabric_stats, 0, NULL);
		if (fab == NULL)
			fprintf(stderr, PROG ": %s: not readable JSON\n", fabric_stats);
		else
			printf("fabric: %" PRIu64 " ECN marks, %" PRIu64
			       " drops (tail %" PRIu64 ", loss %" PRIu64 "), switch queue p99 %" PRIu64
			       " B, max %" PRIu64 " B\n",
			       jint(fab, "ecn_marked", NULL),
			       jint(fab, "drops", "tail") + jint(fab, "drops", "loss") +
				       jint(fab, "drops", "no_route") + jint(fab, "drops", "ttl") +
				       jint(fab, "drops", "wire_full") + jint(fab, "drops", "host"),
			       jint(fab, "drops", "tail"), jint(fab, "drops", "loss"),
			       jint(fab, "switch_queue_p99_bytes", NULL),
			       jint(fab, "switch_queue_max_bytes", NULL));
	}
	{
		double span_us = t_last > t_first ? t_last - t_first : 0;
		double gbps = span_us > 0 ? (double)bytes * 8 / (span_us * 1e3) : 0;

		printf("flows: %" PRIu64 " total, %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
		       " corrupt, %" PRIu64 " lost; goodput %.3f Gb/s over %.1f ms\n",
		       total, completed, failed, corrupt, lost, gbps, span_us / 1e3);
		root = json_pack(
			"{s:s,s:{s:I,s:I,s:I,s:I,s:o,s:o,s:I,s:I,s:o,s:b,s:I,s:I,s:o,s:s,s:s,s:I},"
			"s:{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o},s:o,s:o,s:o,s:o?}",
			"tool", "scalex-traffic", "config", "hosts", (json_int_t)nhosts,
			"hosts_per_leaf", (json_int_t)scn.fab.hosts_per_leaf, "leaves",
			(json_int_t)scn.fab.leaves, "spines", (json_int_t)scn.fab.spines,
			"host_rate_gbps", jreal((double)scn.fab.host_rate_bps / 1e9),
			"fabric_rate_gbps", jreal((double)scn.fab.fabric_rate_bps / 1e9),
			"buffer_bytes", (json_int_t)scn.fab.buffer_bytes, "kmin_bytes",
			(json_int_t)scn.fab.kmin_bytes, "pmax", jreal(scn.fab.pmax), "ecn",
			scn.fab.ecn, "kmax_bytes", (json_int_t)scn.fab.kmax_bytes, "mtu",
			(json_int_t)scn.mtu, "duration_us", jreal((double)scn.duration_ns / 1e3),
			"workload", sx_wl_kind_name(scn.wl.kind), "cc",
			scn.cc[0] ? scn.cc : "none", "seed", (json_int_t)scn.seed, "flows", "total",
			(json_int_t)total, "completed", (json_int_t)completed, "failed",
			(json_int_t)failed, "corrupt", (json_int_t)corrupt, "lost", (json_int_t)lost,
			"bytes_completed", (json_int_t)bytes, "goodput_gbps", jreal(gbps), "span_us",
			jreal(span_us), "fct_slowdown", fct_json(&scn, fl, nfl), "hosts", hosts,
			"transport", qsum, "fabric", fab);
		hosts = qsum = fab = NULL;
		if (root == NULL)
			goto out;
		snprintf(path, sizeof(path), "%s/summary.json", dir);
		if (json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
			fprintf(stderr, PROG ": %s: write failed\n", path);
			goto out;
		}
		rc = total > 0 && completed == total ? 0 : 1;
	}
out:
	if (rates != NULL)
		fclose(rates);
	json_decref(root);
	json_decref(hosts);
	json_decref(qsum);
	json_decref(fab);
	free(fl);
	sx_scn_cfg_fini(&scn);
	return rc;
}
