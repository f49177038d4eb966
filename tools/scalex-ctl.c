/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-ctl: read and change a running scalex process through its control
 * socket (include/scalex/control.h, docs/tuning.md). One JSON request per
 * line, one reply per line.
 *
 *   scalex-ctl [--sock PATH | --pid PID] info
 *   scalex-ctl ... param list|get NAME|set NAME=VALUE|unset NAME|preset NAME [--qp N]
 *   scalex-ctl ... stats [--json|--prom]
 *   scalex-ctl ... qp list [--json]
 *   scalex-ctl ... capture start FILE | capture stop
 *   scalex-ctl ... watch [--interval S] [--count N]
 *
 * Exit status: 0 done, 1 the process refused (the reason on stderr;
 * nothing changed) or could not be reached, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <scalex/control.h>

#define PROG "scalex-ctl"
#define MAX_REPLY (64u << 20)
#define MAX_WATCH_QPS 64

static const char usage_text[] =
	"usage: " PROG " [--sock PATH | --pid PID] COMMAND\n"
	"\n"
	"  info                          pid, socket, CC algorithm\n"
	"  param list [--json]           every parameter: value, unit, range\n"
	"  param get NAME [--qp N]       one value (NAME or group.NAME)\n"
	"  param set NAME=VALUE [--qp N] change it live (per QP with --qp)\n"
	"  param unset NAME|all --qp N   drop a QP's own value(s)\n"
	"  param preset NAME             load a CC preset (e.g. paper, nic)\n"
	"  stats [--json|--prom]         counters per port, engine, QP and CC\n"
	"  qp list [--json]              QPs and their state\n"
	"  capture start FILE            start a pcapng capture in the process\n"
	"  capture stop                  stop it\n"
	"  watch [--interval S] [--count N]\n"
	"                                live rates, CNPs, ECN marks, retransmits per QP\n"
	"\n"
	"The socket: --sock PATH, or --pid PID for the default\n"
	"$SCALEX_CTL_DIR/scalex-PID.sock (SCALEX_CTL_DIR defaults to /tmp), or the only\n"
	"scalex socket there is.\n"
	"exit status: 0 done, 1 refused or unreachable (nothing changed), 2 usage\n";

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, PROG ": %s\n", why);
	fputs(usage_text, stderr);
	return 2;
}

static int
connect_sock(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, PROG ": %s: path too long\n", path);
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send @p req, read one reply line; NULL after saying why. */
static json_t *
call(int fd, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	size_t len, cap = 65536, n = 0;
	char *buf = NULL, *nl = NULL;
	json_error_t jerr;
	json_t *rep = NULL;

	json_decref(req);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	s[len] = '\n'; /* json_dumps' NUL becomes the line end */
	if (send(fd, s, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1)) {
		fprintf(stderr, PROG ": send: %s\n", strerror(errno));
		free(s);
		return NULL;
	}
	free(s);
	buf = malloc(cap);
	while (buf != NULL && nl == NULL) {
		ssize_t r;

		if (n == cap) {
			char *b = cap < MAX_REPLY ? realloc(buf, cap * 2) : NULL;

			if (b == NULL)
				break;
			buf = b;
			cap *= 2;
		}
		r = recv(fd, buf + n, cap - n, 0);
		if (r <= 0) {
			fprintf(stderr, PROG ": the process closed the connection\n");
			break;
		}
		nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
	}
	if (nl != NULL) {
		rep = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
		if (rep == NULL)
			fprintf(stderr, PROG ": bad reply: %s\n", jerr.text);
	}
	free(buf);
	return rep;
}

/* The reply if it says ok; else NULL after printing its error. */
static json_t *
call_ok(int fd, json_t *req)
{
	json_t *rep = call(fd, req);

	if (rep != NULL && !json_is_true(json_object_get(rep, "ok"))) {
		const char *e = json_string_value(json_object_get(rep, "error"));

		fprintf(stderr, PROG ": %s\n", e ? e : "refused");
		json_decref(rep);
		return NULL;
	}
	return rep;
}

static void
print_num(json_t *v)
{
	if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else
		printf("%.17g", json_number_value(v));
}

static int
param_list(int fd, bool as_json)
{
	json_t *rep = call_ok(fd, json_pack("{s:s}", "cmd", "param.list"));
	json_t *p;
	size_t i;

	if (rep == NULL)
		return 1;
	if (as_json) {
		json_dumpf(json_object_get(rep, "params"), stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%-32s %14s %-8s %14s %14s  %s\n", "name", "value", "unit", "min", "max",
		       "help");
		json_array_foreach(json_object_get(rep, "params"), i, p) {
			printf("%-32s ", json_string_value(json_object_get(p, "name")));
			char v[3][32];
			const char *k[3] = {"value", "min", "max"};

			for (int j = 0; j < 3; j++) {
				json_t *x = json_object_get(p, k[j]);

				if (json_is_integer(x))
					snprintf(v[j], sizeof(v[j]), "%lld",
						 (long long)json_integer_value(x));
				else
					snprintf(v[j], sizeof(v[j]), "%.6g", json_number_value(x));
			}
			printf("%14s %-8s %14s %14s  %s\n", v[0],
			       json_string_value(json_object_get(p, "unit")), v[1], v[2],
			       json_string_value(json_object_get(p, "help")));
		}
	}
	json_decref(rep);
	return 0;
}

static int
param_cmd(int fd, int argc, char **argv, long qp, bool as_json)
{
	json_t *rep;

	if (argc < 1)
		return usage("param: list, get, set, unset or preset");
	if (strcmp(argv[0], "list") == 0)
		return argc == 1 ? param_list(fd, as_json) : usage("param list takes no argument");
	if (strcmp(argv[0], "get") == 0) {
		if (argc != 2)
			return usage("param get NAME");
		rep = call_ok(fd, json_pack("{s:s, s:s, s:i}", "cmd", "param.get", "name", argv[1],
					    "qp", (int)qp));
		if (rep == NULL)
			return 1;
		printf("%s = ", argv[1]);
		print_num(json_object_get(rep, "value"));
		printf(" %s%s\n", json_string_value(json_object_get(rep, "unit")),
		       json_is_true(json_object_get(rep, "overridden")) ? " (this QP's own)" : "");
		json_decref(rep);
		return 0;
	}
	if (strcmp(argv[0], "set") == 0) {
		char name[256], *eq, *end;
		const char *vs;
		double v;

		if (argc == 2 && (eq = strchr(argv[1], '=')) != NULL) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[1]), argv[1]);
			vs = eq + 1;
		} else if (argc == 3) {
			snprintf(name, sizeof(name), "%s", argv[1]);
			vs = argv[2];
		} else {
			return usage("param set NAME=VALUE");
		}
		errno = 0;
		v = strtod(vs, &end);
		if (end == vs || *end != '\0' || errno != 0 || !isfinite(v)) {
			fprintf(stderr, PROG ": %s: '%s' is not a number; nothing changed\n", name,
				vs);
			return 1;
		}
		rep = call_ok(fd, json_pack("{s:s, s:s, s:f, s:i}", "cmd", "param.set", "name",
					    name, "value", v, "qp", (int)qp));
		if (rep == NULL)
			return 1;
		printf("%s: ", name);
		print_num(json_object_get(rep, "old"));
		printf(" -> ");
		print_num(json_object_get(rep, "value"));
		if (qp > 0)
			printf(" (QP %ld)", qp);
		putchar('\n');
		json_decref(rep);
		return 0;
	}
	if (strcmp(argv[0], "unset") == 0) {
		if (argc != 2 || qp <= 0)
			return usage("param unset NAME|all --qp N");
		rep = strcmp(argv[1], "all") == 0
			      ? call_ok(fd, json_pack("{s:s, s:i}", "cmd", "param.unset", "qp",
						      (int)qp))
			      : call_ok(fd, json_pack("{s:s, s:s, s:i}", "cmd", "param.unset",
						      "name", argv[1], "qp", (int)qp));
		json_decref(rep);
		return rep != NULL ? 0 : 1;
	}
	if (strcmp(argv[0], "preset") == 0) {
		if (argc != 2)
			return usage("param preset NAME");
		rep = call_ok(fd, json_pack("{s:s, s:s}", "cmd", "param.preset", "name", argv[1]));
		json_decref(rep);
		return rep != NULL ? 0 : 1;
	}
	return usage("param: list, get, set, unset or preset");
}

static int
stats_cmd(int fd, bool prom)
{
	json_t *rep = call_ok(fd, json_pack("{s:s, s:s}", "cmd", "stats", "format",
					    prom ? "prom" : "json"));

	if (rep == NULL)
		return 1;
	if (prom)
		fputs(json_string_value(json_object_get(rep, "text")), stdout);
	else {
		json_dumpf(json_object_get(rep, "stats"), stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(rep);
	return 0;
}

static int
qp_cmd(int fd, int argc, char **argv, bool as_json)
{
	json_t *rep, *q;
	size_t i;

	if (argc != 1 || strcmp(argv[0], "list") != 0)
		return usage("qp list");
	rep = call_ok(fd, json_pack("{s:s}", "cmd", "qp.list"));
	if (rep == NULL)
		return 1;
	if (as_json) {
		json_dumpf(json_object_get(rep, "qps"), stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%8s %-6s %-4s %10s %5s %-7s %12s %8s %s\n", "qpn", "state", "rel",
		       "remote_qpn", "mtu", "cc", "rate_Gbps", "sq_busy", "own_params");
		json_array_foreach(json_object_get(rep, "qps"), i, q) {
			const char *cc = json_string_value(json_object_get(q, "cc"));

			printf("%8lld %-6s %-4s %10lld %5lld %-7s %12.3f %8lld %s\n",
			       (long long)json_integer_value(json_object_get(q, "qpn")),
			       json_string_value(json_object_get(q, "state")),
			       json_string_value(json_object_get(q, "rel")),
			       (long long)json_integer_value(json_object_get(q, "remote_qpn")),
			       (long long)json_integer_value(json_object_get(q, "mtu")),
			       cc ? cc : "-",
			       (double)json_integer_value(json_object_get(q, "rate_bps")) / 1e9,
			       (long long)json_integer_value(json_object_get(q, "sq_outstanding")),
			       json_is_true(json_object_get(q, "own_params")) ? "yes" : "no");
		}
	}
	json_decref(rep);
	return 0;
}

static int
capture_cmd(int fd, int argc, char **argv)
{
	json_t *rep;

	if (argc == 2 && strcmp(argv[0], "start") == 0) {
		char abs[PATH_MAX];

		/* The process may run elsewhere: it gets an absolute path. */
		if (argv[1][0] != '/') {
			char cwd[PATH_MAX];

			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[1]) >= (int)sizeof(abs)) {
				fprintf(stderr, PROG ": %s: path too long\n", argv[1]);
				return 1;
			}
		} else {
			snprintf(abs, sizeof(abs), "%s", argv[1]);
		}
		rep = call_ok(fd, json_pack("{s:s, s:s}", "cmd", "capture.start", "file", abs));
		if (rep != NULL)
			printf("capturing into %s\n", abs);
	} else if ((argc == 1 || argc == 2) && strcmp(argv[0], "stop") == 0) {
		rep = call_ok(fd, json_pack("{s:s}", "cmd", "capture.stop"));
		if (rep != NULL)
			printf("capture stopped\n");
	} else {
		return usage("capture start FILE | capture stop");
	}
	json_decref(rep);
	return rep != NULL ? 0 : 1;
}

/* watch: one row per QP from two samples of the counters. */
struct wq {
	long long qpn;
	double t;
	long long tx_bytes, rx_bytes, cnp_rcvd, cnp_sent, ecn, retx, timeouts, rate;
	bool seen;
};

static long long
jget(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
watch_cmd(int fd, double interval_s, long count)
{
	struct wq prev[MAX_WATCH_QPS] = {{0}};
	bool tty = isatty(STDOUT_FILENO);

	for (long it = 0; count <= 0 || it <= count; it++) {
		json_t *rep = call_ok(fd, json_pack("{s:s}", "cmd", "stats"));
		json_t *st, *qps, *ccs, *q, *c;
		double t = now_s();
		size_t i, j;

		if (rep == NULL)
			return 1;
		st = json_object_get(rep, "stats");
		qps = json_object_get(st, "qp");
		ccs = json_object_get(st, "cc");
		if (it > 0) {
			if (tty)
				printf("\033[H\033[2J");
			printf("%8s %10s %10s %10s %9s %9s %9s %9s %9s\n", "qpn", "tx_Gbps",
			       "rx_Gbps", "cc_Gbps", "cnp_rx/s", "cnp_tx/s", "ecn_ce/s", "retx/s",
			       "timeout/s");
		}
		json_array_foreach(qps, i, q) {
			struct wq cur = {0}, *p = NULL;
			double dt;

			cur.qpn = jget(q, "id");
			cur.t = t;
			cur.tx_bytes = jget(q, "tx_bytes");
			cur.rx_bytes = jget(q, "rx_bytes");
			cur.cnp_rcvd = jget(q, "cnp_rcvd");
			cur.cnp_sent = jget(q, "cnp_sent");
			cur.ecn = jget(q, "ecn_ce_rcvd");
			cur.retx = jget(q, "retransmits");
			cur.timeouts = jget(q, "timeouts");
			cur.rate = -1;
			json_array_foreach(ccs, j, c)
				if (jget(c, "id") == cur.qpn)
					cur.rate = jget(c, "rate_bps");
			cur.seen = true;
			for (int k = 0; k < MAX_WATCH_QPS; k++)
				if (prev[k].seen && prev[k].qpn == cur.qpn)
					p = &prev[k];
			if (p != NULL && it > 0 && (dt = t - p->t) > 0) {
				printf("%8lld %10.3f %10.3f ", cur.qpn,
				       (double)(cur.tx_bytes - p->tx_bytes) * 8 / dt / 1e9,
				       (double)(cur.rx_bytes - p->rx_bytes) * 8 / dt / 1e9);
				if (cur.rate >= 0)
					printf("%10.3f ", (double)cur.rate / 1e9);
				else
					printf("%10s ", "-");
				printf("%9.0f %9.0f %9.0f %9.0f %9.0f\n",
				       (double)(cur.cnp_rcvd - p->cnp_rcvd) / dt,
				       (double)(cur.cnp_sent - p->cnp_sent) / dt,
				       (double)(cur.ecn - p->ecn) / dt,
				       (double)(cur.retx - p->retx) / dt,
				       (double)(cur.timeouts - p->timeouts) / dt);
			}
			if (p == NULL)
				for (int k = 0; k < MAX_WATCH_QPS && p == NULL; k++)
					if (!prev[k].seen)
						p = &prev[k];
			if (p != NULL)
				*p = cur;
		}
		json_decref(rep);
		fflush(stdout);
		if (count <= 0 || it < count) {
			struct timespec ts = {(time_t)interval_s,
					      (long)((interval_s - floor(interval_s)) * 1e9)};

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* The only scalex socket in the default directory, if there is exactly one. */
static int
find_only(char *path, size_t len)
{
	const char *dir = getenv("SCALEX_CTL_DIR");
	char pat[PATH_MAX];
	glob_t g;
	int rc = -1;

	snprintf(pat, sizeof(pat), "%s/scalex-*.sock", dir && *dir ? dir : "/tmp");
	if (glob(pat, 0, NULL, &g) != 0)
		return -1;
	if (g.gl_pathc == 1) {
		snprintf(path, len, "%s", g.gl_pathv[0]);
		rc = 0;
	}
	globfree(&g);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"sock", required_argument, NULL, 'S'},
		{"pid", required_argument, NULL, 'P'},
		{"qp", required_argument, NULL, 'Q'},
		{"json", no_argument, NULL, 'J'},
		{"prom", no_argument, NULL, 'M'},
		{"interval", required_argument, NULL, 'I'},
		{"count", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char path[PATH_MAX] = "";
	bool as_json = false, prom = false;
	double interval_s = 1.0;
	long qp = 0, count = 0, pid = 0;
	char *end;
	int c, fd, rc;

	/* Options may follow the command words (GNU getopt permutes). */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		case 'P':
			pid = strtol(optarg, &end, 10);
			if (*end != '\0' || pid <= 0)
				return usage("--pid: not a process id");
			break;
		case 'Q':
			qp = strtol(optarg, &end, 0);
			if (*end != '\0' || qp <= 0 || qp > 0xffffff)
				return usage("--qp: not a QP number");
			break;
		case 'J':
			as_json = true;
			break;
		case 'M':
			prom = true;
			break;
		case 'I':
			interval_s = strtod(optarg, &end);
			if (*end != '\0' || !(interval_s >= 0.01 && interval_s <= 3600))
				return usage("--interval: 0.01..3600 seconds");
			break;
		case 'C':
			count = strtol(optarg, &end, 10);
			if (*end != '\0' || count < 1)
				return usage("--count: a positive number");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage("missing COMMAND");
	if (path[0] != '\0' && pid != 0)
		return usage("--sock or --pid, not both");
	if (pid != 0 && sx_ctl_default_path((pid_t)pid, path, sizeof(path)) < 0)
		return usage("socket path too long");
	if (path[0] == '\0' && find_only(path, sizeof(path)) < 0)
		return usage("which process? give --sock PATH or --pid PID");
	fd = connect_sock(path);
	if (fd < 0)
		return 1;
	if (strcmp(argv[0], "param") == 0)
		rc = param_cmd(fd, argc - 1, argv + 1, qp, as_json);
	else if (strcmp(argv[0], "stats") == 0)
		rc = argc == 1 ? stats_cmd(fd, prom) : usage("stats [--json|--prom]");
	else if (strcmp(argv[0], "qp") == 0)
		rc = qp_cmd(fd, argc - 1, argv + 1, as_json);
	else if (strcmp(argv[0], "capture") == 0)
		rc = capture_cmd(fd, argc - 1, argv + 1);
	else if (strcmp(argv[0], "watch") == 0)
		rc = argc == 1 ? watch_cmd(fd, interval_s, count) : usage("watch takes options only");
	else if (strcmp(argv[0], "info") == 0) {
		json_t *rep = call_ok(fd, json_pack("{s:s}", "cmd", "info"));

		rc = rep != NULL ? 0 : 1;
		if (rep != NULL) {
			json_dumpf(rep, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(rep);
	} else
		rc = usage("unknown command");
	close(fd);
	return rc;
}
