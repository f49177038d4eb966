/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one result printer of the scalex tools: a perftest-like banner and
 * table users can grep, and the same numbers as JSON. Also the arithmetic
 * behind the columns (bandwidth windows, latency percentiles), so every
 * tool computes "peak" and "p99" the same way.
 *
 * Units: Gb/s = 10^9 bit/s, Mpps = 10^6 messages/s, latencies in us.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../../dataplane/util/quantile.h"
#include "tool.h"

#define RULE                                                                             \
	"------------------------------------------------------------------------------" \
	"---------"

uint64_t
sx_tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Bandwidth meter                                                           */

void
sx_tool_bw_start(struct sx_tool_bw *m, uint64_t now_ns)
{
	free(m->bucket);
	memset(m, 0, sizeof(*m));
	m->start_ns = now_ns;
	m->last_ns = now_ns;
}

int
sx_tool_bw_add(struct sx_tool_bw *m, uint64_t now_ns, uint64_t bytes, uint64_t msgs)
{
	uint64_t b =
	    now_ns > m->start_ns ? (now_ns - m->start_ns) / SX_TOOL_BUCKET_NS : 0;

	if (b >= m->cap) {
		uint64_t cap = m->cap ? m->cap : 1024;
		uint64_t *nb;

		while (cap <= b)
			cap *= 2;
		nb = realloc(m->bucket, cap * sizeof(*nb));
		if (nb == NULL)
			return -ENOMEM;
		memset(nb + m->cap, 0, (cap - m->cap) * sizeof(*nb));
		m->bucket = nb;
		m->cap = cap;
	}
	m->bucket[b] += bytes;
	if (b + 1 > m->nbucket)
		m->nbucket = b + 1;
	if (now_ns > m->last_ns)
		m->last_ns = now_ns;
	m->bytes += bytes;
	m->msgs += msgs;
	return 0;
}

void
sx_tool_bw_fini(struct sx_tool_bw *m)
{
	free(m->bucket);
	m->bucket = NULL;
	m->cap = m->nbucket = 0;
}

static double
gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8.0 / (double)ns : 0.0;
}

void
sx_tool_row_bw(struct sx_tool_row *r, const struct sx_tool_bw *m)
{
	uint64_t ns = m->last_ns - m->start_ns;
	uint64_t w = SX_TOOL_PEAK_WINDOW_NS / SX_TOOL_BUCKET_NS, i, sum = 0, best = 0;
	double avg = gbps(m->bytes, ns), peak;

	/* Peak: the best sliding window of w buckets, w at least 1/20 of the
	 * run; a run shorter than two windows has no peak but its average. */
	if (m->nbucket / 20 > w)
		w = m->nbucket / 20;
	if (m->nbucket < 2 * w) {
		peak = avg;
	} else {
		for (i = 0; i < m->nbucket; i++) {
			sum += m->bucket[i];
			if (i >= w)
				sum -= m->bucket[i - w];
			if (i + 1 >= w && sum > best)
				best = sum;
		}
		peak = gbps(best, w * SX_TOOL_BUCKET_NS);
		if (peak < avg)
			peak = avg;
	}
	r->bw.avg_gbps = avg;
	r->bw.peak_gbps = peak;
	r->bw.mpps = ns ? (double)m->msgs * 1e3 / (double)ns : 0.0;
}

/* ------------------------------------------------------------------------ */
/* Latency                                                                   */

int
sx_tool_lat_add(struct sx_tool_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : 4096;
		uint64_t *p = realloc(l->ns, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		l->ns = p;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
	return 0;
}

void
sx_tool_lat_fini(struct sx_tool_lat *l)
{
	free(l->ns);
	memset(l, 0, sizeof(*l));
}

/* The q-quantile of the sorted samples (dataplane/util/quantile.h: the one
 * definition of a percentile, shared with the simulator and the fabric). */
static double
rank(const struct sx_tool_lat *l, double q)
{
	return sx_quantile_sorted_u64(l->ns, l->n, q);
}

void
sx_tool_row_lat(struct sx_tool_row *r, struct sx_tool_lat *l, double scale)
{
	double us = scale / 1e3, sum = 0;
	uint64_t i;

	memset(&r->lat, 0, sizeof(r->lat));
	if (l->n == 0)
		return;
	sx_sort_u64(l->ns, l->n);
	for (i = 0; i < l->n; i++)
		sum += (double)l->ns[i];
	r->lat.min_us = (double)l->ns[0] * us;
	r->lat.median_us = rank(l, 0.5) * us;
	r->lat.avg_us = sum / (double)l->n * us;
	r->lat.p99_us = rank(l, 0.99) * us;
	r->lat.p999_us = rank(l, 0.999) * us;
	r->lat.max_us = (double)l->ns[l->n - 1] * us;
}

/* ------------------------------------------------------------------------ */
/* Printer                                                                   */

void
sx_tool_report_init(struct sx_tool_report *r, const struct sx_tool_opts *o,
                    const char *title)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->kind = o->mode->kind;
	r->title = title;
	r->out = o->json != NULL && strcmp(o->json, "-") == 0 ? stderr : stdout;
}

void
sx_tool_report_set(struct sx_tool_report *r, const char *key, const char *fmt, ...)
{
	struct sx_tool_kv *kv;
	va_list ap;

	kv = realloc(r->settings, (r->nsettings + 1) * sizeof(*kv));
	if (kv == NULL)
		return;
	r->settings = kv;
	kv = &r->settings[r->nsettings++];
	kv->key = key;
	va_start(ap, fmt);
	vsnprintf(kv->val, sizeof(kv->val), fmt, ap);
	va_end(ap);
}

static void
table_header(struct sx_tool_report *r)
{
	if (r->table_started)
		return;
	r->table_started = true;
	if (r->kind == SX_TOOL_BW)
		fprintf(r->out, " %-10s %-14s %-18s %-20s %s\n", "#bytes", "#iterations",
		        "BW peak[Gb/sec]", "BW average[Gb/sec]", "MsgRate[Mpps]");
	else
		fprintf(r->out, " %-10s %-12s %-13s %-16s %-13s %-13s %-15s %s\n",
		        "#bytes", "#iterations", "t_min[usec]", "t_median[usec]",
		        "t_avg[usec]", "t_p99[usec]", "t_p99.9[usec]", "t_max[usec]");
}

void
sx_tool_report_header(struct sx_tool_report *r, const char *lines)
{
	unsigned int i;

	fprintf(r->out, "%s\n", RULE);
	fprintf(r->out, "%*s%s\n", (int)(43 - strlen(r->title) / 2), "", r->title);
	for (i = 0; i < r->nsettings; i++)
		fprintf(r->out, " %-16s: %s\n", r->settings[i].key, r->settings[i].val);
	fprintf(r->out, "%s\n", RULE);
	if (lines != NULL && *lines != '\0')
		fprintf(r->out, "%s%s\n", lines, RULE);
	table_header(r);
	fflush(r->out);
}

void
sx_tool_report_row(struct sx_tool_report *r, const struct sx_tool_row *row)
{
	struct sx_tool_row *rows;

	table_header(r);
	if (r->kind == SX_TOOL_BW)
		fprintf(r->out, " %-10llu %-14llu %-18.2f %-20.2f %.6f\n",
		        (unsigned long long)row->bytes, (unsigned long long)row->iters,
		        row->bw.peak_gbps, row->bw.avg_gbps, row->bw.mpps);
	else
		fprintf(r->out,
		        " %-10llu %-12llu %-13.2f %-16.2f %-13.2f %-13.2f %-15.2f %.2f\n",
		        (unsigned long long)row->bytes, (unsigned long long)row->iters,
		        row->lat.min_us, row->lat.median_us, row->lat.avg_us,
		        row->lat.p99_us, row->lat.p999_us, row->lat.max_us);
	fflush(r->out);
	if (r->nrows == r->rows_cap) {
		unsigned int cap = r->rows_cap ? r->rows_cap * 2 : 32;

		rows = realloc(r->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return;
		r->rows = rows;
		r->rows_cap = cap;
	}
	r->rows[r->nrows++] = *row;
}

void
sx_tool_report_counters(struct sx_tool_report *r, const struct sx_tool_counter *c,
                        unsigned int n)
{
	const char *group = NULL;
	unsigned int i, col = 0;

	free(r->counters);
	r->counters = calloc(n ? n : 1, sizeof(*c));
	if (r->counters != NULL) {
		memcpy(r->counters, c, n * sizeof(*c));
		r->ncounters = n;
	}
	fprintf(r->out, "%s\n", RULE);
	for (i = 0; i < n; i++) {
		if (group == NULL || strcmp(group, c[i].group) != 0) {
			if (group != NULL)
				fputc('\n', r->out);
			group = c[i].group;
			fprintf(r->out, " %-7s", group);
			col = 0;
		} else if (col == 3) {
			fprintf(r->out, "\n %-7s", "");
			col = 0;
		}
		fprintf(r->out, " %-18s %-10llu", c[i].name,
		        (unsigned long long)c[i].value);
		col++;
	}
	if (n > 0)
		fputc('\n', r->out);
	fflush(r->out);
}

/* Collects counters for sx_tool_report_stats(). */
struct stats_acc {
	struct sx_tool_counter *c;
	unsigned int n;
	unsigned int cap;
	unsigned int qp0; /* first QP row: QPs are summed by name */
};

static int
stats_acc_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct stats_acc *a = arg;
	const char *group = sx_stats_scope_name(d->scope);
	unsigned int i;

	(void)id;
	if (d->type == SX_STAT_GAUGE)
		return 0;
	if (d->scope == SX_STATS_QP) {
		for (i = a->qp0; i < a->n; i++) {
			if (strcmp(a->c[i].name, d->name) == 0) {
				a->c[i].value += value;
				return 0;
			}
		}
	} else if (value == 0 && (strncmp(d->name, "drop_", 5) == 0 ||
				  strncmp(d->name, "fault_", 6) == 0 ||
				  strcmp(d->name, "capture_drop") == 0)) {
		return 0;
	}
	if (a->n == a->cap) {
		unsigned int cap = a->cap ? 2 * a->cap : 64;
		struct sx_tool_counter *c = realloc(a->c, cap * sizeof(*c));

		if (c == NULL)
			return -ENOMEM;
		a->c = c;
		a->cap = cap;
	}
	a->c[a->n++] = (struct sx_tool_counter){group, d->name, value};
	return 0;
}

/* Path counters by slot (docs/multipath.md), summed over the QPs. */
enum { PATH_PKTS, PATH_ECN, PATH_LOSSES, PATH_RETIRED, NPATH };
#define PATH_SLOTS 16

static const char *const path_names[NPATH] = {"tx_pkts", "ecn_marks", "losses", "retirements"};
static const char *const path_groups[PATH_SLOTS] = {
    "path.s0", "path.s1", "path.s2",  "path.s3",  "path.s4",  "path.s5",  "path.s6",  "path.s7",
    "path.s8", "path.s9", "path.s10", "path.s11", "path.s12", "path.s13", "path.s14", "path.s15",
};

static int
path_acc_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	uint64_t (*sum)[NPATH] = arg;
	uint32_t slot = id & 0xff;

	if (slot >= PATH_SLOTS)
		return 0;
	for (unsigned int k = 0; k < NPATH; k++)
		if (strcmp(d->name, path_names[k]) == 0)
			sum[slot][k] += value;
	return 0;
}

/* One group per slot that carried packets; none at all under `flow`. */
static void
stats_path(struct stats_acc *a, struct sx_context *ctx)
{
	uint64_t sum[PATH_SLOTS][NPATH] = {{0}};
	unsigned int used = 0, s, k;

	if (sx_stats_foreach(ctx, 1u << SX_STATS_PATH, path_acc_cb, sum) < 0)
		return;
	for (s = 0; s < PATH_SLOTS; s++)
		used += sum[s][PATH_PKTS] != 0;
	if (used < 2)
		return;
	for (s = 0; s < PATH_SLOTS; s++) {
		if (sum[s][PATH_PKTS] == 0)
			continue;
		for (k = 0; k < NPATH; k++) {
			if (a->n == a->cap) {
				unsigned int cap = a->cap ? 2 * a->cap : 64;
				struct sx_tool_counter *c = realloc(a->c, cap * sizeof(*c));

				if (c == NULL)
					return;
				a->c = c;
				a->cap = cap;
			}
			a->c[a->n++] = (struct sx_tool_counter){path_groups[s], path_names[k],
								sum[s][k]};
		}
	}
}

void
sx_tool_report_stats(struct sx_tool_report *r, struct sx_context *ctx, uint64_t cq_overflow)
{
	struct stats_acc a = {0};

	/* QPs first, summed; then one row for the CQs; then engine and port. */
	if (sx_stats_foreach(ctx, 1u << SX_STATS_QP, stats_acc_cb, &a) == 0 &&
	    stats_acc_cb(&a, &(struct sx_stat_desc){SX_STATS_QP, SX_STAT_COUNTER,
						       "cq_overflow", NULL},
			 0, cq_overflow) == 0) {
		a.qp0 = a.n; /* engine and port rows are never merged */
		sx_stats_foreach(ctx, 1u << SX_STATS_ENGINE | 1u << SX_STATS_PORT,
				 stats_acc_cb, &a);
		stats_path(&a, ctx);
	}
	sx_tool_report_counters(r, a.c, a.n);
	free(a.c);
}

void
sx_tool_report_note(struct sx_tool_report *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(r->out, " %s\n", line);
	fflush(r->out);
	if (len + strlen(line) + 3 < sizeof(r->note))
		snprintf(r->note + len, sizeof(r->note) - len, "%s%s", len ? "; " : "",
		         line);
}

/* A JSON number: finite, or null (JSON has no NaN or infinity). */
static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The run as one JSON document (jansson: one JSON library everywhere):
 * 0, or -EIO when it could not be built or written. */
static int
json_write(const struct sx_tool_report *r, FILE *f, int exit_status)
{
	const struct sx_tool_opts *o = r->o;
	json_t *root, *settings, *results, *counters;
	unsigned int i;
	int rc;

	settings = json_object();
	for (i = 0; i < r->nsettings; i++)
		json_object_set_new(settings, r->settings[i].key, json_string(r->settings[i].val));
	results = json_array();
	for (i = 0; i < r->nrows; i++) {
		const struct sx_tool_row *w = &r->rows[i];
		json_t *row = json_pack("{s:I,s:I}", "bytes", (json_int_t)w->bytes,
					"iterations", (json_int_t)w->iters);

		if (r->kind == SX_TOOL_BW) {
			json_object_set_new(row, "bw_peak_gbps", jnum(w->bw.peak_gbps));
			json_object_set_new(row, "bw_avg_gbps", jnum(w->bw.avg_gbps));
			json_object_set_new(row, "msg_rate_mpps", jnum(w->bw.mpps));
		} else {
			json_object_set_new(row, "t_min_us", jnum(w->lat.min_us));
			json_object_set_new(row, "t_median_us", jnum(w->lat.median_us));
			json_object_set_new(row, "t_avg_us", jnum(w->lat.avg_us));
			json_object_set_new(row, "t_p99_us", jnum(w->lat.p99_us));
			json_object_set_new(row, "t_p99_9_us", jnum(w->lat.p999_us));
			json_object_set_new(row, "t_max_us", jnum(w->lat.max_us));
		}
		json_array_append_new(results, row);
	}
	counters = json_object();
	for (i = 0; i < r->ncounters; i++) {
		char key[96];

		snprintf(key, sizeof(key), "%s.%s", r->counters[i].group, r->counters[i].name);
		json_object_set_new(counters, key, json_integer((json_int_t)r->counters[i].value));
	}
	root = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:i}", "tool", o->prog, "mode",
			 o->mode->name, "role", o->server ? "server" : "client", "kind",
			 r->kind == SX_TOOL_BW ? "bw" : "lat", "settings", settings, "results",
			 results, "counters", counters, "note", r->note, "exit_status",
			 exit_status);
	rc = root != NULL && json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 &&
		     fputc('\n', f) != EOF
		 ? 0
		 : -EIO;
	json_decref(root);
	return rc;
}

int
sx_tool_report_end(struct sx_tool_report *r, int exit_status)
{
	FILE *f;
	int rc = 0;

	fprintf(r->out, "%s\n", RULE);
	fflush(r->out);
	if (r->o->json == NULL)
		return 0;
	if (strcmp(r->o->json, "-") == 0) {
		rc = json_write(r, stdout, exit_status);
		fflush(stdout);
		return rc;
	}
	/* Opened before the run (sx_tool_open_outputs()); closed here, so
	 * that a full disk is an error now and not a lost result. */
	f = r->json_fp;
	if (f == NULL)
		return -EBADF;
	r->json_fp = NULL;
	errno = 0;
	if (json_write(r, f, exit_status) != 0 || fflush(f) != 0 || ferror(f))
		rc = errno != 0 ? -errno : -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

void
sx_tool_report_fini(struct sx_tool_report *r)
{
	free(r->settings);
	free(r->rows);
	free(r->counters);
	if (r->json_fp != NULL)
		fclose(r->json_fp);
	memset(r, 0, sizeof(*r));
}
