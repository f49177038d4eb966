/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane of a context (include/scalex/control.h): one control
 * thread serves the unix control socket (JSON lines through jansson) and the
 * Prometheus HTTP endpoint from one poll() loop; DPDK's telemetry thread
 * calls the /scalex/... commands. Only the public API: parameter reads and
 * writes go to the context's live store (scalex/live.h, any thread);
 * counters, the QP list and capture run on the engine thread through
 * sx_context_call(), so nothing here reads state the engine is changing.
 *
 * Robustness: a request line is at most SX_CTL_MAX_REQUEST bytes (longer:
 * an error reply, then the connection closes); a client that does not read
 * its replies is dropped rather than waited for; each client gets a bounded
 * number of requests per loop turn so that a flooding client cannot starve
 * the others; at most CTL_MAX_CLIENTS connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_telemetry.h>

#include <scalex/control.h>
#include <scalex/live.h>
#include <scalex/scalex.h>
#include <scalex/stats.h>

#define CTL_MAX_CLIENTS    16
#define CTL_REQS_PER_TURN  64    /* per client per loop turn: fairness */
#define CTL_ENGINE_WAIT_MS 2000  /* an engine that does not poll this long: error */
#define CTL_HTTP_MAX_REQ   8192
#define CTL_POLL_MS        200

enum client_kind { CLIENT_CTL, CLIENT_HTTP };

struct client {
	int fd;
	enum client_kind kind;
	char *buf;  /* SX_CTL_MAX_REQUEST + 1 bytes */
	size_t len;
};

struct sx_ctl {
	struct sx_context *ctx;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sock_fd;
	int http_fd;
	uint16_t http_port;
	int wake[2];          /* pipe: close() tells the thread to stop */
	pthread_t thread;
	bool running;
	struct client clients[CTL_MAX_CLIENTS];
	bool telemetry;
};

/* ---- engine-thread requests ---------------------------------------- */

struct stat_row {
	const struct sx_stat_desc *d;
	uint32_t id;
	uint64_t v;
};

struct stat_rows {
	struct stat_row *r;
	size_t n, cap;
	unsigned int mask;
	int err;
};

static int
stat_collect(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct stat_rows *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct stat_row *r = realloc(s->r, cap * sizeof(*r));

		if (r == NULL) {
			s->err = -ENOMEM;
			return 1;
		}
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n++] = (struct stat_row){d, id, value};
	return 0;
}

static void
req_stats(struct sx_context *ctx, void *arg)
{
	struct stat_rows *s = arg;

	sx_stats_foreach(ctx, s->mask, stat_collect, s);
}

struct qp_rows {
	struct sx_qp_info *r;
	size_t n, cap;
	int err;
};

static int
qp_collect(void *arg, const struct sx_qp_info *qi)
{
	struct qp_rows *q = arg;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct sx_qp_info *r = realloc(q->r, cap * sizeof(*r));

		if (r == NULL) {
			q->err = -ENOMEM;
			return 1;
		}
		q->r = r;
		q->cap = cap;
	}
	q->r[q->n++] = *qi; /* its strings are static names */
	return 0;
}

static void
req_qps(struct sx_context *ctx, void *arg)
{
	sx_qp_foreach(ctx, qp_collect, arg);
}

struct capture_req {
	const char *path; /* NULL: stop */
	int rc;
};

static void
req_capture(struct sx_context *ctx, void *arg)
{
	struct capture_req *c = arg;

	c->rc = sx_capture(ctx, c->path);
}

/* ---- replies ------------------------------------------------------- */

static json_t *
err_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
err_reply(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *
ok_reply(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
num(const struct sx_param_info *p, double v)
{
	if (p->integer && fabs(v) < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static const char *
param_err(int rc)
{
	switch (rc) {
	case -ENOENT: return "no such parameter";
	case -EINVAL: return "ambiguous name (give its group: cc.NAME, transport.NAME) "
			     "or a context-wide parameter that has no per-QP value";
	case -ERANGE: return "value outside the parameter's range (or not a whole number)";
	case -ENOSPC: return "too many QPs with their own values";
	case -ENOMEM: return "out of memory";
	}
	return strerror(-rc);
}

/* "qp" member: absent or 0 is the context. -1 when it is not a QPN. */
static long long
req_qpn(json_t *req)
{
	json_t *q = json_object_get(req, "qp");

	if (q == NULL || json_is_null(q))
		return 0;
	if (!json_is_integer(q) || json_integer_value(q) < 0 ||
	    json_integer_value(q) > 0xffffff)
		return -1;
	return json_integer_value(q);
}

static int
param_obj(void *arg, const struct sx_param_info *p, double v)
{
	char name[160];

	snprintf(name, sizeof(name), "%s.%s", p->group, p->name);
	json_array_append_new(arg, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:s}",
					     "name", name, "unit", p->unit, "value", num(p, v),
					     "default", num(p, p->def), "min", num(p, p->min),
					     "max", num(p, p->max), "integer", p->integer,
					     "per_qp", p->per_qp, "help", p->help));
	return 0;
}

static json_t *
cmd_param_list(struct sx_ctl *ctl)
{
	json_t *arr = json_array();

	sx_live_foreach(ctl->ctx, param_obj, arr);
	return json_pack("{s:b, s:o}", "ok", 1, "params", arr);
}

static json_t *
cmd_param_get(struct sx_ctl *ctl, json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	long long qpn = req_qpn(req);
	struct sx_param_info p;
	int own = 0, rc;
	double v;

	if (name == NULL)
		return err_reply("param.get: \"name\" must be a string");
	if (qpn < 0)
		return err_reply("param.get: \"qp\" must be a QP number");
	rc = sx_live_get(ctl->ctx, (uint32_t)qpn, name, &v, &own, &p);
	if (rc < 0)
		return err_reply("%s: %s", name, param_err(rc));
	return json_pack("{s:b, s:s, s:o, s:s, s:I, s:b}", "ok", 1, "name", name, "value",
			 num(&p, v), "unit", p.unit, "qp", qpn, "overridden", own);
}

static json_t *
cmd_param_set(struct sx_ctl *ctl, json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *val = json_object_get(req, "value");
	long long qpn = req_qpn(req);
	struct sx_param_info p;
	double old = 0, v;
	int rc;

	if (name == NULL)
		return err_reply("param.set: \"name\" must be a string");
	if (!json_is_number(val))
		return err_reply("param.set: \"value\" must be a number");
	if (qpn < 0)
		return err_reply("param.set: \"qp\" must be a QP number");
	v = json_number_value(val);
	rc = sx_live_get(ctl->ctx, (uint32_t)qpn, name, &old, NULL, &p);
	if (rc == 0)
		rc = sx_live_set(ctl->ctx, (uint32_t)qpn, name, v);
	if (rc == -ERANGE)
		return err_reply("%s=%.17g: outside [%.17g, %.17g] %s%s", name, v, p.min, p.max,
				 p.unit, p.integer ? " (whole numbers)" : "");
	if (rc < 0)
		return err_reply("%s: %s", name, param_err(rc));
	return json_pack("{s:b, s:s, s:o, s:o, s:I, s:I}", "ok", 1, "name", name, "value",
			 num(&p, v), "old", num(&p, old), "qp", qpn, "generation",
			 (json_int_t)sx_live_generation(ctl->ctx));
}

static json_t *
cmd_param_unset(struct sx_ctl *ctl, json_t *req)
{
	json_t *jn = json_object_get(req, "name");
	const char *name = json_string_value(jn);
	long long qpn = req_qpn(req);
	int rc;

	if (qpn <= 0)
		return err_reply("param.unset: \"qp\" must be a QP number (overrides are per QP)");
	if (jn != NULL && name == NULL)
		return err_reply("param.unset: \"name\" must be a string");
	rc = sx_live_unset(ctl->ctx, (uint32_t)qpn, name);
	if (rc < 0)
		return err_reply("%s: %s", name ? name : "qp", rc == -ENOENT ? "no override"
									: param_err(rc));
	return ok_reply();
}

static json_t *
cmd_param_preset(struct sx_ctl *ctl, json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));

	if (name == NULL)
		return err_reply("param.preset: \"name\" must be a string");
	if (sx_live_preset(ctl->ctx, name) < 0)
		return err_reply("%s: no such preset", name);
	return ok_reply();
}

/* Counters and gauges of the engine, through the engine thread. */
static int
collect_stats(struct sx_ctl *ctl, unsigned int mask, struct stat_rows *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->mask = mask;
	rc = sx_context_call(ctl->ctx, req_stats, s, CTL_ENGINE_WAIT_MS);
	if (rc == 0)
		rc = s->err;
	if (rc < 0) {
		free(s->r);
		s->r = NULL;
	}
	return rc;
}

static json_t *
stats_json(const struct stat_rows *s)
{
	json_t *out = json_object();

	for (size_t k = 0; k < s->n; k++) {
		const struct stat_row *r = &s->r[k];
		const char *scope = sx_stats_scope_name(r->d->scope);
		json_t *arr = json_object_get(out, scope), *obj;
		size_t n;

		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(out, scope, arr);
		}
		n = json_array_size(arr);
		obj = n > 0 ? json_array_get(arr, n - 1) : NULL;
		if (obj == NULL ||
		    json_integer_value(json_object_get(obj, "id")) != (json_int_t)r->id) {
			obj = json_pack("{s:I}", "id", (json_int_t)r->id);
			json_array_append_new(arr, obj);
		}
		json_object_set_new(obj, r->d->name, json_integer((json_int_t)r->v));
	}
	return out;
}

/* Prometheus text exposition format 0.0.4: one HELP/TYPE per metric, then
 * its samples; counters named *_total as the format's conventions ask. */
static char *
stats_prom(const struct stat_rows *s)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	bool *done;

	if (f == NULL)
		return NULL;
	done = calloc(s->n + 1, sizeof(*done));
	for (size_t k = 0; done != NULL && k < s->n; k++) {
		const struct sx_stat_desc *d = s->r[k].d;
		const char *scope = sx_stats_scope_name(d->scope);
		bool ctr = d->type == SX_STAT_COUNTER;
		char metric[160];

		if (done[k])
			continue;
		snprintf(metric, sizeof(metric), "scalex_%s_%s%s", scope, d->name,
			 ctr ? "_total" : "");
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, d->help ? d->help : "",
			metric, ctr ? "counter" : "gauge");
		for (size_t j = k; j < s->n; j++) {
			const struct stat_row *r = &s->r[j];

			if (done[j] || r->d->scope != d->scope || strcmp(r->d->name, d->name) != 0)
				continue;
			done[j] = true;
			if (d->scope == SX_STATS_QP || d->scope == SX_STATS_CC)
				fprintf(f, "%s{qpn=\"%u\"} %llu\n", metric, r->id,
					(unsigned long long)r->v);
			else
				fprintf(f, "%s{%s=\"%u\"} %llu\n", metric, scope, r->id,
					(unsigned long long)r->v);
		}
	}
	fclose(f);
	if (done == NULL) {
		free(text);
		return NULL;
	}
	free(done);
	return text;
}

static json_t *
cmd_stats(struct sx_ctl *ctl, json_t *req)
{
	json_t *jf = json_object_get(req, "format");
	const char *fmt = jf ? json_string_value(jf) : "json";
	struct stat_rows s;
	json_t *out;
	int rc;

	if (fmt == NULL || (strcmp(fmt, "json") != 0 && strcmp(fmt, "prom") != 0))
		return err_reply("stats: \"format\" must be \"json\" or \"prom\"");
	rc = collect_stats(ctl, SX_STATS_ALL, &s);
	if (rc < 0)
		return err_reply("stats: %s", rc == -ETIMEDOUT ? "the engine thread is not polling"
							       : strerror(-rc));
	if (strcmp(fmt, "prom") == 0) {
		char *text = stats_prom(&s);

		out = text ? json_pack("{s:b, s:s}", "ok", 1, "text", text)
			   : err_reply("stats: out of memory");
		free(text);
	} else {
		out = json_pack("{s:b, s:o}", "ok", 1, "stats", stats_json(&s));
	}
	free(s.r);
	return out;
}

static json_t *
cmd_qp_list(struct sx_ctl *ctl)
{
	struct qp_rows q = {0};
	json_t *arr;
	int rc = sx_context_call(ctl->ctx, req_qps, &q, CTL_ENGINE_WAIT_MS);

	if (rc == 0)
		rc = q.err;
	if (rc < 0) {
		free(q.r);
		return err_reply("qp.list: %s", rc == -ETIMEDOUT ? "the engine thread is not polling"
								 : strerror(-rc));
	}
	arr = json_array();
	for (size_t k = 0; k < q.n; k++) {
		const struct sx_qp_info *x = &q.r[k];

		json_array_append_new(arr,
			json_pack("{s:I, s:s, s:s, s:I, s:I, s:s?, s:I, s:I, s:b}", "qpn",
				  (json_int_t)x->qpn, "state", x->state, "rel", x->rel,
				  "remote_qpn", (json_int_t)x->remote_qpn, "mtu",
				  (json_int_t)x->mtu, "cc", x->cc, "rate_bps",
				  (json_int_t)x->rate_bps, "sq_outstanding",
				  (json_int_t)x->sq_outstanding, "own_params", x->own_params));
	}
	free(q.r);
	return json_pack("{s:b, s:o}", "ok", 1, "qps", arr);
}

static json_t *
cmd_capture(struct sx_ctl *ctl, json_t *req, bool start)
{
	struct capture_req c = {NULL, 0};
	int rc;

	if (start) {
		c.path = json_string_value(json_object_get(req, "file"));
		if (c.path == NULL || c.path[0] == '\0')
			return err_reply("capture.start: \"file\" must be a path");
	}
	rc = sx_context_call(ctl->ctx, req_capture, &c, CTL_ENGINE_WAIT_MS);
	if (rc == 0)
		rc = c.rc;
	if (rc < 0)
		return err_reply("capture.%s: %s", start ? "start" : "stop",
				 rc == -ETIMEDOUT ? "the engine thread is not polling"
				 : rc == -EBUSY   ? "a capture is already running"
				 : rc == -ENOENT  ? "no capture is running"
				 : rc == -ENOTSUP ? "this port cannot capture"
						  : strerror(-rc));
	return ok_reply();
}

static json_t *
cmd_info(struct sx_ctl *ctl)
{
	return json_pack("{s:b, s:I, s:s, s:s?, s:I}", "ok", 1, "pid", (json_int_t)getpid(),
			 "socket", ctl->sock_path, "cc", sx_context_cc(ctl->ctx), "prom_port",
			 (json_int_t)ctl->http_port);
}

static json_t *
dispatch(struct sx_ctl *ctl, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *rep;
	const char *cmd;

	if (req == NULL)
		return err_reply("malformed JSON: %s (column %d)", jerr.text, jerr.column);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || cmd == NULL)
		rep = err_reply("a request is a JSON object with a string \"cmd\"");
	else if (strcmp(cmd, "param.list") == 0)
		rep = cmd_param_list(ctl);
	else if (strcmp(cmd, "param.get") == 0)
		rep = cmd_param_get(ctl, req);
	else if (strcmp(cmd, "param.set") == 0)
		rep = cmd_param_set(ctl, req);
	else if (strcmp(cmd, "param.unset") == 0)
		rep = cmd_param_unset(ctl, req);
	else if (strcmp(cmd, "param.preset") == 0)
		rep = cmd_param_preset(ctl, req);
	else if (strcmp(cmd, "stats") == 0)
		rep = cmd_stats(ctl, req);
	else if (strcmp(cmd, "qp.list") == 0)
		rep = cmd_qp_list(ctl);
	else if (strcmp(cmd, "capture.start") == 0)
		rep = cmd_capture(ctl, req, true);
	else if (strcmp(cmd, "capture.stop") == 0)
		rep = cmd_capture(ctl, req, false);
	else if (strcmp(cmd, "info") == 0)
		rep = cmd_info(ctl);
	else
		rep = err_reply("unknown command \"%.64s\" (param.list, param.get, param.set, "
				"param.unset, param.preset, stats, qp.list, capture.start, "
				"capture.stop, info)", cmd);
	json_decref(req);
	return rep;
}

char *
sx_ctl_handle(struct sx_ctl *ctl, const char *req, size_t len)
{
	json_t *rep = dispatch(ctl, req, len);
	char *s;

	if (rep == NULL)
		return NULL;
	s = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	return s;
}

/* ---- DPDK telemetry ------------------------------------------------ */

/* DPDK 22.11's telemetry callbacks take no argument: the process's first
 * control plane answers them. */
static struct sx_ctl *tel_ctl;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static bool tel_registered;

struct tel_groups {
	struct rte_tel_data *sub[3]; /* cc, transport, any other group */
	unsigned int n[3];
};

static int
tel_param_row(void *arg, const struct sx_param_info *p, double value)
{
	struct tel_groups *tg = arg;
	int k = strcmp(p->group, "cc") == 0 ? 0 : strcmp(p->group, "transport") == 0 ? 1 : 2;
	struct rte_tel_data **sub = tg->sub;
	char v[64];

	if (sub[k] == NULL)
		return 0;
	tg->n[k]++;
	snprintf(v, sizeof(v), "%.17g", value);
	rte_tel_data_add_dict_string(sub[k], p->name, v);
	return 0;
}

static int
tel_params(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const names[3] = {"cc", "transport", "other"};
	struct tel_groups tg = {{NULL}, {0}};
	struct rte_tel_data **sub = tg.sub;

	(void)cmd;
	(void)params;
	/* Telemetry names allow no '.': one dict per group. */
	rte_tel_data_start_dict(d);
	for (int k = 0; k < 3; k++) {
		sub[k] = rte_tel_data_alloc();
		if (sub[k] != NULL)
			rte_tel_data_start_dict(sub[k]);
	}
	pthread_mutex_lock(&tel_lock);
	if (tel_ctl != NULL)
		sx_live_foreach(tel_ctl->ctx, tel_param_row, &tg);
	pthread_mutex_unlock(&tel_lock);
	for (int k = 0; k < 3; k++)
		if (sub[k] != NULL &&
		    (tg.n[k] == 0 || rte_tel_data_add_dict_container(d, names[k], sub[k], 0) < 0))
			rte_tel_data_free(sub[k]);
	return 0;
}

/* One dict per scope ("port", "engine", "qp", "cc") of the rows of @p qpn
 * (or of all rows): telemetry names allow no '.'. */
static void
tel_add_rows(struct rte_tel_data *d, const struct stat_rows *s, bool qp_only, uint32_t qpn)
{
	for (unsigned int scope = 0; scope < SX_STATS_SCOPE_MAX; scope++) {
		struct rte_tel_data *sub = NULL;

		for (size_t k = 0; k < s->n; k++) {
			const struct stat_row *r = &s->r[k];

			if (r->d->scope != scope || (qp_only && r->id != qpn))
				continue;
			if (sub == NULL) {
				sub = rte_tel_data_alloc();
				if (sub == NULL)
					return;
				rte_tel_data_start_dict(sub);
			}
			rte_tel_data_add_dict_u64(sub, r->d->name, r->v);
		}
		if (sub != NULL)
			rte_tel_data_add_dict_container(d, sx_stats_scope_name(scope), sub, 0);
	}
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d, unsigned int mask,
	  bool per_qp)
{
	struct stat_rows s;
	uint32_t qpn = 0;
	int rc = -EINVAL;

	(void)cmd;
	if (per_qp) {
		char *end;
		unsigned long v;

		if (params == NULL || *params == '\0')
			return -EINVAL;
		errno = 0;
		v = strtoul(params, &end, 0);
		if (errno != 0 || *end != '\0' || v > 0xffffff)
			return -EINVAL;
		qpn = (uint32_t)v;
	}
	pthread_mutex_lock(&tel_lock);
	if (tel_ctl != NULL)
		rc = collect_stats(tel_ctl, mask, &s);
	pthread_mutex_unlock(&tel_lock);
	if (rc < 0)
		return rc;
	rte_tel_data_start_dict(d);
	tel_add_rows(d, &s, per_qp, qpn);
	free(s.r);
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_stats(cmd, params, d, 1u << SX_STATS_PORT | 1u << SX_STATS_ENGINE, false);
}

static int
tel_qp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_stats(cmd, params, d, 1u << SX_STATS_QP | 1u << SX_STATS_CC, true);
}

static int
tel_qps(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct qp_rows q = {0};
	int rc = -EINVAL;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (tel_ctl != NULL)
		rc = sx_context_call(tel_ctl->ctx, req_qps, &q, CTL_ENGINE_WAIT_MS);
	pthread_mutex_unlock(&tel_lock);
	if (rc == 0)
		rc = q.err;
	if (rc == 0) {
		rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
		for (size_t k = 0; k < q.n; k++)
			rte_tel_data_add_array_int(d, (int)q.r[k].qpn);
	}
	free(q.r);
	return rc;
}

static void
tel_attach(struct sx_ctl *ctl)
{
	pthread_mutex_lock(&tel_lock);
	if (!tel_registered) {
		rte_telemetry_register_cmd("/scalex/params", tel_params,
					   "Live parameters: name -> value. No parameters");
		rte_telemetry_register_cmd("/scalex/port", tel_port,
					   "Port and engine counters. No parameters");
		rte_telemetry_register_cmd("/scalex/qps", tel_qps,
					   "QP numbers. No parameters");
		rte_telemetry_register_cmd("/scalex/qp", tel_qp,
					   "Counters and CC state of one QP. Parameters: QPN");
		tel_registered = true;
	}
	if (tel_ctl == NULL) {
		tel_ctl = ctl;
		ctl->telemetry = true;
	}
	pthread_mutex_unlock(&tel_lock);
}

static void
tel_detach(struct sx_ctl *ctl)
{
	/* A telemetry request may hold the lock while it waits for this (the
	 * engine) thread: serve it meanwhile. */
	while (pthread_mutex_trylock(&tel_lock) != 0) {
		sx_progress(ctl->ctx);
		usleep(100);
	}
	if (tel_ctl == ctl)
		tel_ctl = NULL;
	pthread_mutex_unlock(&tel_lock);
}

/* ---- the control thread -------------------------------------------- */

static void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Write all of @p s or fail: a client that does not read gets dropped. */
static int
send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* Give a slow reader a moment, never more. */
			struct pollfd p = {fd, POLLOUT, 0};

			if (errno != EAGAIN || poll(&p, 1, 100) <= 0)
				return -1;
			continue;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
reply_line(struct sx_ctl *ctl, struct client *c, const char *line, size_t len)
{
	char *rep = sx_ctl_handle(ctl, line, len);
	int rc;

	if (rep == NULL)
		return -1;
	rc = send_all(c->fd, rep, strlen(rep));
	if (rc == 0)
		rc = send_all(c->fd, "\n", 1);
	free(rep);
	return rc;
}

static void
http_reply(struct sx_ctl *ctl, struct client *c)
{
	char head[256];
	struct stat_rows s;
	char *text = NULL;
	int code = 200;

	if (strncmp(c->buf, "GET /metrics ", 13) != 0 && strncmp(c->buf, "GET / ", 6) != 0)
		code = 404;
	else if (collect_stats(ctl, SX_STATS_ALL, &s) < 0)
		code = 503;
	else {
		text = stats_prom(&s);
		free(s.r);
		if (text == NULL)
			code = 500;
	}
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		 code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Service Unavailable",
		 text ? strlen(text) : 0);
	if (send_all(c->fd, head, strlen(head)) == 0 && text != NULL)
		send_all(c->fd, text, strlen(text));
	free(text);
	client_close(c);
}

/* Answer the complete lines in @p c's buffer, at most CTL_REQS_PER_TURN. */
static void
client_serve(struct sx_ctl *ctl, struct client *c)
{
	unsigned int served = 0;
	char *nl;

	while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t line = (size_t)(nl - c->buf);

		if (line > 0 && reply_line(ctl, c, c->buf, line) < 0) {
			client_close(c);
			return;
		}
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
		if (++served == CTL_REQS_PER_TURN)
			return; /* the rest next turn, after the other clients */
	}
}

static bool
client_pending(const struct client *c)
{
	return c->fd >= 0 && c->kind == CLIENT_CTL && memchr(c->buf, '\n', c->len) != NULL;
}

/* Take what @p c sent and answer what is complete. */
static void
client_read(struct sx_ctl *ctl, struct client *c)
{
	size_t cap = c->kind == CLIENT_HTTP ? CTL_HTTP_MAX_REQ : SX_CTL_MAX_REQUEST;

	/* A buffer full of complete lines is served before more is read. */
	if (c->len < cap) {
		ssize_t r = recv(c->fd, c->buf + c->len, cap - c->len, MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(c); /* closed, possibly mid-message: nothing to answer */
			return;
		}
		if (r > 0)
			c->len += (size_t)r;
	}
	c->buf[c->len] = '\0';
	if (c->kind == CLIENT_HTTP) {
		if (strstr(c->buf, "\r\n\r\n") != NULL || strstr(c->buf, "\n\n") != NULL)
			http_reply(ctl, c);
		else if (c->len == cap)
			client_close(c);
		return;
	}
	client_serve(ctl, c);
	if (c->fd >= 0 && c->len == cap && memchr(c->buf, '\n', c->len) == NULL) {
		static const char msg[] = "{\"ok\":false,\"error\":\"request longer than 65536 "
					  "bytes\"}\n";

		send_all(c->fd, msg, sizeof(msg) - 1);
		client_close(c);
	}
}

static void
accept_one(struct sx_ctl *ctl, int lfd, enum client_kind kind)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *c = NULL;

	if (fd < 0)
		return;
	for (unsigned int k = 0; k < CTL_MAX_CLIENTS; k++)
		if (ctl->clients[k].fd < 0) {
			c = &ctl->clients[k];
			break;
		}
	if (c == NULL) {
		static const char msg[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

		send_all(fd, msg, sizeof(msg) - 1);
		close(fd);
		return;
	}
	c->buf = malloc(SX_CTL_MAX_REQUEST + 1);
	if (c->buf == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->kind = kind;
	c->len = 0;
}

static void *
ctl_thread(void *arg)
{
	struct sx_ctl *ctl = arg;

	for (;;) {
		struct pollfd p[CTL_MAX_CLIENTS + 3];
		int map[CTL_MAX_CLIENTS + 3];
		unsigned int n = 0;

		p[n] = (struct pollfd){ctl->wake[0], POLLIN, 0};
		map[n++] = -1;
		if (ctl->sock_fd >= 0) {
			p[n] = (struct pollfd){ctl->sock_fd, POLLIN, 0};
			map[n++] = -2;
		}
		if (ctl->http_fd >= 0) {
			p[n] = (struct pollfd){ctl->http_fd, POLLIN, 0};
			map[n++] = -3;
		}
		bool pending = false;

		for (int k = 0; k < CTL_MAX_CLIENTS; k++)
			if (ctl->clients[k].fd >= 0) {
				p[n] = (struct pollfd){ctl->clients[k].fd, POLLIN, 0};
				map[n++] = k;
				pending |= client_pending(&ctl->clients[k]);
			}
		/* Lines left over by the per-turn budget are served without waiting. */
		if (poll(p, n, pending ? 0 : CTL_POLL_MS) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		for (unsigned int k = 1; k < n; k++) {
			if (map[k] == -2 && p[k].revents)
				accept_one(ctl, ctl->sock_fd, CLIENT_CTL);
			else if (map[k] == -3 && p[k].revents)
				accept_one(ctl, ctl->http_fd, CLIENT_HTTP);
			else if (map[k] >= 0 && p[k].revents)
				client_read(ctl, &ctl->clients[map[k]]);
			else if (map[k] >= 0 && client_pending(&ctl->clients[map[k]]))
				client_serve(ctl, &ctl->clients[map[k]]);
		}
	}
	return NULL;
}

/* ---- open/close ----------------------------------------------------- */

void
sx_ctl_attr_init(struct sx_ctl_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->sock_mode = 0600;
}

int
sx_ctl_default_path(pid_t pid, char *buf, size_t len)
{
	const char *dir = getenv("SCALEX_CTL_DIR");
	int n = snprintf(buf, len, "%s/scalex-%ld.sock", dir && *dir ? dir : "/tmp", (long)pid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
listen_unix(struct sx_ctl *ctl, const char *path, unsigned int mode)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	snprintf(ctl->sock_path, sizeof(ctl->sock_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a socket left by a process that died */
	/* Created with the mode already right: no window in which others could connect. */
	old = umask(0777 & ~mode);
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc == 0)
		rc = chmod(path, mode);
	if (rc == 0)
		rc = listen(fd, 8);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ctl->sock_fd = fd;
	return 0;
}

static int
listen_http(struct sx_ctl *ctl, const char *addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t alen = sizeof(a);
	int one = 1, fd, rc;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc == 0)
		rc = listen(fd, 8);
	if (rc == 0)
		rc = getsockname(fd, (struct sockaddr *)&a, &alen);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ctl->http_fd = fd;
	ctl->http_port = ntohs(a.sin_port);
	return 0;
}

struct sx_ctl *
sx_ctl_open(struct sx_context *ctx, const struct sx_ctl_attr *attr)
{
	struct sx_ctl_attr def;
	struct sx_ctl *ctl;
	char path[PATH_MAX];
	int rc;

	if (ctx == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (attr == NULL) {
		sx_ctl_attr_init(&def);
		attr = &def;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctl->ctx = ctx;
	ctl->sock_fd = ctl->http_fd = ctl->wake[0] = ctl->wake[1] = -1;
	for (unsigned int k = 0; k < CTL_MAX_CLIENTS; k++)
		ctl->clients[k].fd = -1;
	if (pipe2(ctl->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	if (attr->sock_path == NULL) {
		rc = sx_ctl_default_path(getpid(), path, sizeof(path));
		if (rc < 0)
			goto fail;
	} else {
		snprintf(path, sizeof(path), "%s", attr->sock_path);
	}
	if (path[0] != '\0' && (rc = listen_unix(ctl, path, attr->sock_mode ? attr->sock_mode
									     : 0600)) < 0)
		goto fail;
	if (attr->prom &&
	    (rc = listen_http(ctl, attr->prom_addr ? attr->prom_addr : "127.0.0.1",
			      attr->prom_port)) < 0)
		goto fail;
	rc = -pthread_create(&ctl->thread, NULL, ctl_thread, ctl);
	if (rc < 0)
		goto fail;
	ctl->running = true;
	if (attr->telemetry)
		tel_attach(ctl);
	return ctl;
fail:
	sx_ctl_close(ctl);
	errno = -rc;
	return NULL;
}

void
sx_ctl_close(struct sx_ctl *ctl)
{
	if (ctl == NULL)
		return;
	tel_detach(ctl);
	if (ctl->running) {
		ssize_t w = write(ctl->wake[1], "x", 1);

		(void)w;
		/* The thread may be waiting for an engine request: this thread is
		 * the engine thread, so serve while it finishes. */
		while (pthread_tryjoin_np(ctl->thread, NULL) != 0) {
			sx_progress(ctl->ctx);
			usleep(100);
		}
	}
	for (unsigned int k = 0; k < CTL_MAX_CLIENTS; k++)
		if (ctl->clients[k].fd >= 0)
			client_close(&ctl->clients[k]);
	if (ctl->sock_fd >= 0) {
		close(ctl->sock_fd);
		unlink(ctl->sock_path);
	}
	if (ctl->http_fd >= 0)
		close(ctl->http_fd);
	if (ctl->wake[0] >= 0)
		close(ctl->wake[0]);
	if (ctl->wake[1] >= 0)
		close(ctl->wake[1]);
	free(ctl);
}

uint16_t
sx_ctl_prom_port(const struct sx_ctl *ctl)
{
	return ctl != NULL ? ctl->http_port : 0;
}
