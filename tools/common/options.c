/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one option parser of the scalex tools (perftest's shape): a mode, then
 * options, then "--" and EAL arguments. Every value is range-checked here;
 * a bad command line is a message, the usage and SX_TOOL_EXIT_USAGE, never
 * a crash or an exit from inside the parser.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <scalex/cc.h>
#include <scalex/control.h>

#include "tool.h"

#define DEFAULT_SERVER_IP "10.0.0.1"
#define DEFAULT_CLIENT_IP "10.0.0.2"
#define DEFAULT_MTU       4096
#define DEFAULT_TX_DEPTH  128

enum opt_id {
	OPT_SERVER = 256,
	OPT_CONNECT,
	OPT_BOOT_PORT,
	OPT_DEV,
	OPT_IP,
	OPT_MTU,
	OPT_REL,
	OPT_TX_DEPTH,
	OPT_FAULT_TX,
	OPT_FAULT_RX,
	OPT_SEED,
	OPT_PCAP,
	OPT_JSON,
	OPT_VERIFY,
	OPT_WARMUP,
	OPT_QP_TIMEOUT,
	OPT_MIN_RTO,
	OPT_WINDOW,
	OPT_CC,
	OPT_CC_PRESET,
	OPT_CC_PARAM,
	OPT_TRACE,
	OPT_LINE_RATE,
	OPT_PATH,
	OPT_PATH_PARAM,
	OPT_PEER_TIMEOUT,
	OPT_NEIGHBOR,
	OPT_CTL_SOCK,
	OPT_PROM_PORT,
	OPT_PROM_ADDR,
};

static const struct option long_opts[] = {
    {"server", optional_argument, NULL, OPT_SERVER},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"boot-port", required_argument, NULL, OPT_BOOT_PORT},
    {"peer-timeout", required_argument, NULL, OPT_PEER_TIMEOUT},
    {"dev", required_argument, NULL, OPT_DEV},
    {"ip", required_argument, NULL, OPT_IP},
    {"neighbor", required_argument, NULL, OPT_NEIGHBOR},
    {"size", required_argument, NULL, 's'},
    {"all", no_argument, NULL, 'a'},
    {"iters", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'D'},
    {"qps", required_argument, NULL, 'q'},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"rel", required_argument, NULL, OPT_REL},
    {"tx-depth", required_argument, NULL, OPT_TX_DEPTH},
    {"fault-tx", required_argument, NULL, OPT_FAULT_TX},
    {"fault-rx", required_argument, NULL, OPT_FAULT_RX},
    {"seed", required_argument, NULL, OPT_SEED},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"json", required_argument, NULL, OPT_JSON},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"qp-timeout", required_argument, NULL, OPT_QP_TIMEOUT},
    {"min-rto", required_argument, NULL, OPT_MIN_RTO},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"cc", required_argument, NULL, OPT_CC},
    {"cc-preset", required_argument, NULL, OPT_CC_PRESET},
    {"cc-param", required_argument, NULL, OPT_CC_PARAM},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"line-rate", required_argument, NULL, OPT_LINE_RATE},
    {"path", required_argument, NULL, OPT_PATH},
    {"path-param", required_argument, NULL, OPT_PATH_PARAM},
    {"ctl-sock", required_argument, NULL, OPT_CTL_SOCK},
    {"prom-port", required_argument, NULL, OPT_PROM_PORT},
    {"prom-addr", required_argument, NULL, OPT_PROM_ADDR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The option lines of the usage; %-free, so that they print as they are. */
static const char *const usage_text[] = {
    "",
    "roles (bootstrap over TCP, as perftest):",
    "  --server[=ADDR]     wait for a client, listening on ADDR (default: any)",
    "  --connect HOST      client of HOST (default 127.0.0.1)",
    "  --boot-port N       bootstrap TCP port (default 18515)",
    "  --peer-timeout SEC  bound of every wait on the peer: connecting,",
    "                      each bootstrap line, silence on the link while",
    "                      the peer should send (default 30; a server waits",
    "                      4 times as long for its client to connect)",
    "",
    "device:",
    "  --dev VDEV          DPDK device, e.g.",
    "                      net_memif0,role=server,socket=/tmp/x.sock, or port=N",
    "                      (default: net_memif0,role=<server|client>,",
    "                      socket=/tmp/<prog>-<boot-port>.sock)",
    "  --ip ADDR           local IPv4 or IPv6 address",
    "                      (default 10.0.0.1 server, 10.0.0.2 client)",
    "  --neighbor IP=MAC   static neighbor entry: frames to IP go to MAC",
    "                      instead of the MAC the peer announced (a peer",
    "                      behind a router: its IP, the router's MAC);",
    "                      repeatable, up to 8",
    "  --mtu N             256, 512, 1024, 2048 or 4096 (default 4096)",
    "  --pcap FILE         capture every frame sent and received (pcapng)",
    "",
    "test:",
    "  -s, --size SIZE     message size in bytes, K/M suffixes (1 B..8 MiB)",
    "  -a, --all           every power of two from 2 B to 8 MiB",
    "  -n, --iters N       messages per QP (default: the mode's)",
    "  -D, --duration SEC  run for SEC seconds instead of -n",
    "  -q, --qps N         QPs (1..64; latency modes: 1)",
    "  --tx-depth N        outstanding work requests per QP (1..4096,",
    "                      default 128)",
    "  --rel gbn|sr        go-back-N (RoCEv2, default) or selective repeat",
    "  --min-rto US        floor of the RTT-estimated retransmit timeout (us;",
    "                      default: the initial timeout)",
    "  --window PKTS       PSNs in flight per QP, rounded up to a power of",
    "                      two (1..4194304; default 1024): the bandwidth-delay",
    "                      product in packets, docs/transport.md",
    "  --qp-timeout US     initial retransmit timeout in microseconds",
    "                      (default: the library's)",
    "  --fault-tx SPEC     inject faults on transmit:",
    "                      drop=P,reorder=P,duplicate=P,corrupt=P,ecn=P",
    "                      (0..1; ecn marks ECN-capable frames CE),",
    "                      delay=T,jitter=T (10ms, 500us; tx only),",
    "                      rate=R (10Gbps, 500Mbps)",
    "  --fault-rx SPEC     the same on receive",
    "  --seed N            seed of the fault injection (default 1)",
    "  --verify            checksum the target buffers at the end and compare",
    "                      across the bootstrap connection (mismatch: exit 1)",
    "  --warmup N          N untimed messages per QP before each size",
    "                      (default 0; the first use of DPDK buffers",
    "                      page-faults under --no-huge)",
    "",
    "congestion control (docs/cc.md):",
    "  --cc NAME           an algorithm below (default: none)",
    "  --cc-preset NAME    one of the algorithm's presets",
    "  --cc-param N=V      set one parameter; repeatable, applied in order",
    "  --trace FILE        CSV of every CC event: time_ns,qpn,event,rate_bps,",
    "                      target_bps,alpha",
    "  --line-rate GBPS    the link rate CC starts from (default 100)",
    "",
    "path selection (docs/multipath.md):",
    "  --path NAME         flow (default), spray, flowlet or adaptive; all but",
    "                      flow send a QP over several paths and need --rel sr",
    "  --path-param N=V    set one policy parameter; repeatable, in order",
    "",
    "control (docs/tuning.md):",
    "  --ctl-sock PATH     control socket for scalex-ctl (default",
    "                      /tmp/scalex-<pid>.sock, or $SCALEX_CTL_DIR/...;",
    "                      'none': no socket)",
    "  --prom-port N       serve Prometheus metrics over HTTP on port N",
    "                      (0: any free port, printed; default: off)",
    "  --prom-addr ADDR    address of that endpoint (default 127.0.0.1)",
    "",
    "output:",
    "  --json FILE         results as JSON too; '-' for stdout (the table",
    "                      then goes to stderr)",
    "  -h, --help          this text",
    "",
    "EAL args after '--' replace the defaults: --no-huge -m 512 --no-pci",
    "--file-prefix <prog>-<pid> --log-level=error (the device is hot-plugged).",
    "With the defaults the server runs on the first CPU it may use and the",
    "client on the last (the EAL would put both on core 0); pin with -l N",
    "after '--'.",
    "",
    "Every option is checked and every output file opened before the",
    "device starts. At start-up the EAL runtime directories and control",
    "sockets of dead processes and a dead server's memif socket are removed",
    "(docs/bootstrap.md).",
    "",
    "exit status: 0 pass, 1 completion error, failed check, peer failure or",
    "timeout, 2 usage, 128+N stopped by signal N (SIGINT 130, SIGTERM 143)",
};

_Static_assert(SX_TOOL_DEFAULT_BOOT_PORT == 18515 && DEFAULT_MTU == 4096 &&
                   SX_TOOL_MAX_QPS == 64 && SX_TOOL_MAX_TX_DEPTH == 4096 &&
                   DEFAULT_TX_DEPTH == 128,
               "the usage text quotes these values");

void
sx_tool_usage(const struct sx_tool_spec *spec, FILE *out)
{
	unsigned int i;

	fprintf(out, "usage: %s MODE [options] [-- EAL args]\n", spec->prog);
	fprintf(out, "%s\n\nmodes:\n", spec->summary);
	for (i = 0; i < spec->nmodes; i++)
		fprintf(out, "  %-12s %s\n", spec->modes[i].name, spec->modes[i].help);
	for (i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++) {
		fprintf(out, "%s\n", usage_text[i]);
		if (strncmp(usage_text[i], "  --cc-preset", 13) == 0)
			sx_tool_print_cc(out);
	}
}

void
sx_tool_print_cc(FILE *out)
{
	const struct sx_cc_ops *ops;

	/* From the registry, so that a new algorithm shows up without an edit here. */
	fprintf(out, "                      algorithms (presets):");
	for (unsigned int i = 0; (ops = sx_cc_at(i)) != NULL; i++) {
		fprintf(out, "%s %s", i ? "," : "", ops->name);
		for (unsigned int k = 0; k < ops->npresets; k++)
			fprintf(out, "%s%s", k ? " " : " (", ops->presets[k].name);
		if (ops->npresets)
			fputc(')', out);
	}
	fputc('\n', out);
}

__attribute__((format(printf, 2, 3))) static int
usage_error(const struct sx_tool_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", spec->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	sx_tool_usage(spec, stderr);
	return SX_TOOL_EXIT_USAGE;
}

int
sx_tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
sx_tool_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift != 0 && end[1] != '\0')
		return -EINVAL;
	if (v > (max >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Seconds: a positive plain decimal with an optional fraction. */
static int
parse_seconds(const char *s, double *out)
{
	double v;
	char *end;

	if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v > 0.0) || v > SX_TOOL_MAX_DURATION_S)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_ip(const char *s, struct sx_tool_opts *o)
{
	memset(o->ip, 0, sizeof(o->ip));
	if (inet_pton(AF_INET, s, o->ip) == 1)
		o->ip_version = 4;
	else if (inet_pton(AF_INET6, s, o->ip) == 1)
		o->ip_version = 6;
	else
		return -EINVAL;
	snprintf(o->ip_str, sizeof(o->ip_str), "%s", s);
	return 0;
}

/* "xx:xx:xx:xx:xx:xx", two hex digits per byte. */
static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int i;

	for (i = 0; i < 6; i++) {
		char hex[3] = {s[0], s[0] != '\0' ? s[1] : '\0', '\0'};
		char *end;

		if (strlen(hex) != 2 || !isxdigit((unsigned char)hex[0]) ||
		    !isxdigit((unsigned char)hex[1]))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		s += 2;
		if (*s != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		if (i < 5)
			s++;
	}
	return 0;
}

/* --neighbor IP=MAC */
static int
parse_neighbor(const char *arg, struct sx_tool_neighbor *n)
{
	const char *eq = strchr(arg, '=');
	char ip[INET6_ADDRSTRLEN];
	size_t len;

	if (eq == NULL || (len = (size_t)(eq - arg)) == 0 || len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, arg, len);
	ip[len] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, ip, n->ip) == 1)
		n->ip_version = 4;
	else if (inet_pton(AF_INET6, ip, n->ip) == 1)
		n->ip_version = 6;
	else
		return -EINVAL;
	n->spec = arg;
	return parse_mac(eq + 1, n->mac);
}

static int
build_default_eal(struct sx_tool_opts *o, const char *argv0)
{
	static const char *const fixed[] = {"--no-huge", "-m", "512", "--no-pci",
	                                    "--file-prefix"};
	unsigned int i, n = 0;

	o->eal_argv = calloc(sizeof(fixed) / sizeof(fixed[0]) + 4, sizeof(char *));
	if (o->eal_argv == NULL)
		return -ENOMEM;
	o->eal_argv[n++] = (char *)argv0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		o->eal_argv[n++] = (char *)fixed[i];
	o->eal_argv[n++] = o->eal_prefix;
	o->eal_argv[n++] = (char *)"--log-level=error";
	o->eal_argc = (int)n;
	return 0;
}

static int
copy_eal(struct sx_tool_opts *o, const char *argv0, int argc, char **argv)
{
	int i;

	o->eal_argv = calloc((size_t)argc + 2, sizeof(char *));
	if (o->eal_argv == NULL)
		return -ENOMEM;
	o->eal_argv[0] = (char *)argv0;
	for (i = 0; i < argc; i++)
		o->eal_argv[i + 1] = argv[i];
	o->eal_argc = argc + 1;
	return 0;
}

static void
opts_defaults(struct sx_tool_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->boot_port = SX_TOOL_DEFAULT_BOOT_PORT;
	o->qps = 1;
	o->mtu = DEFAULT_MTU;
	o->rel = SX_REL_GBN;
	o->tx_depth = DEFAULT_TX_DEPTH;
	o->seed = 1;
	o->peer_timeout_ms = SX_TOOL_DEFAULT_PEER_TIMEOUT_S * 1000u;
	o->prom_port = -1;
}

static const struct sx_tool_mode *
find_mode(const struct sx_tool_spec *spec, const char *name, unsigned int *idx)
{
	unsigned int i;

	for (i = 0; i < spec->nmodes; i++) {
		if (strcmp(spec->modes[i].name, name) == 0) {
			*idx = i;
			return &spec->modes[i];
		}
	}
	return NULL;
}

/* The algorithms the registry knows, for a message. */
static void
cc_names(char *out, size_t cap)
{
	const struct sx_cc_ops *ops;
	size_t len = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; (ops = sx_cc_at(i)) != NULL && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "",
		                        ops->name);
}

/*
 * The congestion-control options, checked against the registry and the
 * algorithm's parameter table now, so that a typo is a usage error before
 * any device starts (a device torn down while a memif peer is meeting it
 * is what crashed processes). sx_tool_apply_cc() applies them later.
 */
static int
check_cc(const struct sx_tool_spec *spec, const struct sx_tool_opts *o)
{
	const struct sx_cc_ops *ops;
	struct sx_cc_params cp;
	char names[128];
	unsigned int i;
	int rc;

	if (o->cc == NULL) {
		if (o->cc_preset || o->ncc_params || o->trace)
			return usage_error(
			    spec, "--cc-preset, --cc-param and --trace need --cc");
		return 0;
	}
	ops = sx_cc_find(o->cc);
	if (ops == NULL) {
		cc_names(names, sizeof(names));
		return usage_error(spec, "--cc: no congestion control '%s' (%s or none)",
		                   o->cc, names);
	}
	sx_cc_params_init(&cp, ops);
	if (o->cc_preset != NULL && sx_cc_params_preset(&cp, o->cc_preset) < 0)
		return usage_error(spec, "--cc-preset: %s has no preset '%s'", o->cc,
		                   o->cc_preset);
	for (i = 0; i < o->ncc_params; i++) {
		rc = sx_cc_params_parse(&cp, o->cc_params[i]);
		if (rc < 0)
			return usage_error(spec, "--cc-param %s: %s", o->cc_params[i],
			                   rc == -ENOENT ? "no such parameter"
			                   : rc == -ERANGE
			                       ? "outside the parameter's range"
			                       : "not name=value");
	}
	return 0;
}

int
sx_tool_parse(const struct sx_tool_spec *spec, int argc, char **argv,
              struct sx_tool_opts *o)
{
	const char *ip = NULL, *argv0 = argc > 0 ? argv[0] : spec->prog;
	bool have_size = false, have_connect = false;
	uint64_t v;
	int c, rc;

	opts_defaults(o);
	o->prog = spec->prog;
	if (argc < 2)
		return usage_error(spec, "missing MODE");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		sx_tool_usage(spec, stdout);
		return -1;
	}
	o->mode = find_mode(spec, argv[1], &o->mode_idx);
	if (o->mode == NULL)
		return usage_error(spec, "unknown mode '%s'", argv[1]);

	/* "+": stop at the first non-option, so that "--" ends our options
	 * and nothing after it is permuted into them. */
	optind = 1;
	opterr = 0;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "+:s:an:D:q:h", long_opts, NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case OPT_SERVER:
			if (arg != NULL && *arg == '\0')
				return usage_error(spec, "--server=: empty address");
			o->server = true;
			o->host = arg; /* NULL: any address */
			break;
		case OPT_PEER_TIMEOUT: {
			double sec;

			if (parse_seconds(arg, &sec) < 0 || sec < 0.001 ||
			    sec > SX_TOOL_MAX_PEER_TIMEOUT_S)
				return usage_error(spec,
				                   "--peer-timeout: '%s' is not a time "
				                   "in [0.001, %d] seconds",
				                   arg, SX_TOOL_MAX_PEER_TIMEOUT_S);
			o->peer_timeout_ms = (uint32_t)(sec * 1000.0 + 0.5);
			break;
		}
		case OPT_CONNECT:
			if (*arg == '\0')
				return usage_error(spec, "--connect: empty host");
			o->host = arg;
			have_connect = true;
			break;
		case OPT_BOOT_PORT:
			if (sx_tool_parse_u64(arg, 1, 65535, &v) < 0)
				return usage_error(
				    spec, "--boot-port: '%s' is not 1..65535", arg);
			o->boot_port = (uint16_t)v;
			break;
		case OPT_DEV:
			if (*arg == '\0')
				return usage_error(spec, "--dev: empty device");
			o->dev = arg;
			break;
		case OPT_IP:
			ip = arg;
			break;
		case OPT_NEIGHBOR:
			if (o->nneighbors == SX_TOOL_MAX_NEIGHBORS)
				return usage_error(spec, "--neighbor: more than %u",
				                   SX_TOOL_MAX_NEIGHBORS);
			if (parse_neighbor(arg, &o->neighbor[o->nneighbors]) < 0)
				return usage_error(
				    spec, "--neighbor: '%s' is not IP=xx:xx:xx:xx:xx:xx",
				    arg);
			o->nneighbors++;
			break;
		case 's':
			if (sx_tool_parse_size(arg, SX_TOOL_MAX_SIZE, &v) < 0 ||
			    v < SX_TOOL_MIN_SIZE)
				return usage_error(
				    spec, "-s: '%s' is not a size of 1 B..8 MiB", arg);
			o->size = (uint32_t)v;
			have_size = true;
			break;
		case 'a':
			o->all_sizes = true;
			break;
		case 'n':
			if (sx_tool_parse_u64(arg, 1, UINT64_MAX / 2, &v) < 0)
				return usage_error(
				    spec, "-n: '%s' is not a positive count", arg);
			o->iters = v;
			o->iters_given = true;
			break;
		case 'D':
			if (parse_seconds(arg, &o->duration_s) < 0)
				return usage_error(
				    spec, "-D: '%s' is not a time in (0, %.0f] seconds",
				    arg, SX_TOOL_MAX_DURATION_S);
			break;
		case 'q':
			if (sx_tool_parse_u64(arg, 1, SX_TOOL_MAX_QPS, &v) < 0)
				return usage_error(spec, "-q: '%s' is not 1..%u", arg,
				                   SX_TOOL_MAX_QPS);
			o->qps = (uint32_t)v;
			break;
		case OPT_MTU:
			if (sx_tool_parse_u64(arg, 256, 4096, &v) < 0 || (v & (v - 1)) != 0)
				return usage_error(
				    spec,
				    "--mtu: '%s' is not 256, 512, 1024, 2048 or 4096",
				    arg);
			o->mtu = (uint32_t)v;
			break;
		case OPT_REL:
			if (strcmp(arg, "gbn") == 0)
				o->rel = SX_REL_GBN;
			else if (strcmp(arg, "sr") == 0)
				o->rel = SX_REL_SR;
			else
				return usage_error(spec, "--rel: '%s' is not gbn or sr",
				                   arg);
			break;
		case OPT_TX_DEPTH:
			if (sx_tool_parse_u64(arg, 1, SX_TOOL_MAX_TX_DEPTH, &v) < 0)
				return usage_error(spec, "--tx-depth: '%s' is not 1..%u",
				                   arg, SX_TOOL_MAX_TX_DEPTH);
			o->tx_depth = (uint32_t)v;
			break;
		case OPT_FAULT_TX:
			if (sx_fault_parse(arg, &o->fault_tx) < 0)
				return usage_error(spec, "--fault-tx: bad spec '%s'",
				                   arg);
			o->fault_tx_spec = arg;
			break;
		case OPT_FAULT_RX:
			if (sx_fault_parse(arg, &o->fault_rx) < 0)
				return usage_error(spec, "--fault-rx: bad spec '%s'",
				                   arg);
			if (o->fault_rx.delay_ns || o->fault_rx.jitter_ns || o->fault_rx.rate_bps)
				return usage_error(spec, "--fault-rx: delay, jitter and rate "
				                   "are tx only: '%s'", arg);
			o->fault_rx_spec = arg;
			break;
		case OPT_SEED:
			if (sx_tool_parse_u64(arg, 0, UINT64_MAX, &v) < 0)
				return usage_error(spec, "--seed: '%s' is not a number",
				                   arg);
			o->seed = v;
			break;
		case OPT_PCAP:
			if (*arg == '\0')
				return usage_error(spec, "--pcap: empty file name");
			o->pcap = arg;
			break;
		case OPT_JSON:
			if (*arg == '\0')
				return usage_error(spec, "--json: empty file name");
			o->json = arg;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_QP_TIMEOUT:
			if (sx_tool_parse_u64(arg, 1, SX_TOOL_MAX_QP_TIMEOUT_US, &v) < 0)
				return usage_error(spec,
				                   "--qp-timeout: '%s' is not 1..%u us",
				                   arg, SX_TOOL_MAX_QP_TIMEOUT_US);
			o->qp_timeout_us = (uint32_t)v;
			break;
		case OPT_MIN_RTO:
			if (sx_tool_parse_u64(arg, 1, SX_TOOL_MAX_MIN_RTO_US, &v) < 0)
				return usage_error(spec, "--min-rto: '%s' is not 1..%u us",
				                   arg, SX_TOOL_MAX_MIN_RTO_US);
			o->qp_min_rto_us = (uint32_t)v;
			break;
		case OPT_WINDOW:
			if (sx_tool_parse_u64(arg, 1, 1u << 22, &v) < 0)
				return usage_error(spec, "--window: '%s' is not 1..%u packets",
				                   arg, 1u << 22);
			o->window_pkts = (uint32_t)v;
			break;
		case OPT_CC:
			if (strcmp(arg, "none") != 0 && *arg == '\0')
				return usage_error(spec, "--cc: empty name");
			o->cc = strcmp(arg, "none") == 0 ? NULL : arg;
			break;
		case OPT_CC_PRESET:
			o->cc_preset = arg;
			break;
		case OPT_CC_PARAM:
			if (strchr(arg, '=') == NULL)
				return usage_error(spec, "--cc-param: '%s' is not name=value",
				                   arg);
			if (o->ncc_params == SX_TOOL_MAX_CC_PARAMS)
				return usage_error(spec, "--cc-param: more than %u",
				                   SX_TOOL_MAX_CC_PARAMS);
			o->cc_params[o->ncc_params++] = arg;
			break;
		case OPT_TRACE:
			if (*arg == '\0')
				return usage_error(spec, "--trace: empty file name");
			o->trace = arg;
			break;
		case OPT_PATH:
			o->path = arg;
			break;
		case OPT_PATH_PARAM:
			if (strchr(arg, '=') == NULL)
				return usage_error(spec, "--path-param: '%s' is not name=value",
				                   arg);
			if (o->npath_params == SX_TOOL_MAX_PATH_PARAMS)
				return usage_error(spec, "--path-param: more than %u",
				                   SX_TOOL_MAX_PATH_PARAMS);
			o->path_params[o->npath_params++] = arg;
			break;
		case OPT_LINE_RATE:
			if (sx_tool_parse_u64(arg, 1, 1600, &v) < 0)
				return usage_error(spec, "--line-rate: '%s' is not 1..1600 Gb/s",
				                   arg);
			o->line_rate_bps = v * 1000000000ull;
			break;
		case OPT_CTL_SOCK:
			if (*arg == '\0')
				return usage_error(spec, "--ctl-sock: empty path");
			o->ctl_sock = arg;
			break;
		case OPT_PROM_PORT:
			if (sx_tool_parse_u64(arg, 0, 65535, &v) < 0)
				return usage_error(spec, "--prom-port: '%s' is not 0..65535", arg);
			o->prom_port = (int)v;
			break;
		case OPT_PROM_ADDR:
			o->prom_addr = arg;
			break;
		case OPT_WARMUP:
			if (sx_tool_parse_u64(arg, 0, 1000000000, &v) < 0)
				return usage_error(spec, "--warmup: '%s' is not 0..10^9",
				                   arg);
			o->warmup = v;
			break;
		case 'h':
			sx_tool_usage(spec, stdout);
			return -1;
		case ':':
			return usage_error(spec, "option '%s' needs a value",
			                   argv[optind - 1]);
		default:
			return usage_error(spec, "unknown option '%s'", argv[optind - 1]);
		}
	}
	/* What is left must follow "--": EAL arguments. */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return usage_error(spec, "unexpected argument '%s'", argv[optind]);

	switch (sx_path_check(o->path, o->rel)) {
	case 0:
		break;
	case -ENOENT:
		return usage_error(spec, "--path: '%s' is not flow, spray, flowlet or adaptive",
		                   o->path);
	default:
		/* It sends one QP over several paths: only a selective-repeat
		 * receiver places what arrives out of order. */
		return usage_error(spec, "--path %s needs --rel sr", o->path);
	}
	if (o->npath_params > 0 && o->path == NULL)
		return usage_error(spec, "--path-param needs --path");
	if (o->server && have_connect)
		return usage_error(spec, "--server and --connect exclude each other");
	rc = check_cc(spec, o);
	if (rc != 0)
		return rc;
	if (!o->server && o->host == NULL)
		o->host = "127.0.0.1";
	if (o->iters_given && o->duration_s > 0)
		return usage_error(spec, "-n and -D exclude each other");
	if (o->mode->fixed_size && (have_size || o->all_sizes))
		return usage_error(spec, "%s: the message size is fixed (%u bytes)",
		                   o->mode->name, o->mode->default_size);
	if (have_size && o->all_sizes)
		return usage_error(spec, "-s and -a exclude each other");
	if (o->all_sizes && o->duration_s > 0)
		return usage_error(spec, "-a runs a count per size: use -n, not -D");
	if (o->mode->single_qp && o->qps != 1)
		return usage_error(spec, "%s: ping-pong runs on one QP (-q 1)",
		                   o->mode->name);
	if (!have_size)
		o->size = o->mode->default_size;
	if (!o->iters_given && o->duration_s == 0)
		o->iters = o->mode->default_iters;

	if (ip == NULL)
		ip = o->server ? DEFAULT_SERVER_IP : DEFAULT_CLIENT_IP;
	if (parse_ip(ip, o) < 0)
		return usage_error(spec, "--ip: '%s' is not an IPv4 or IPv6 address", ip);
	if (o->dev == NULL) {
		snprintf(o->dev_buf, sizeof(o->dev_buf),
		         "net_memif0,role=%s,socket=/tmp/%s-%u.sock",
		         o->server ? "server" : "client", spec->prog, o->boot_port);
		o->dev = o->dev_buf;
	}

	snprintf(o->eal_prefix, sizeof(o->eal_prefix), "%s-%ld", spec->prog,
	         (long)getpid());
	o->eal_default = optind >= argc;
	if (!o->eal_default)
		rc = copy_eal(o, argv0, argc - optind, argv + optind);
	else
		rc = build_default_eal(o, argv0);
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", spec->prog);
		return SX_TOOL_EXIT_FAIL;
	}
	return 0;
}

int
sx_tool_eal_init(struct sx_tool_opts *o)
{
	cpu_set_t allowed, one;
	bool have = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;
	int rc = sx_eal_init(o->eal_argc, o->eal_argv), cpu, pick = -1;

	o->cpu = -1;
	if (rc < 0)
		return -1;
	if (!o->eal_default || !have)
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		pick = cpu;
		if (o->server)
			break;
	}
	if (pick < 0)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(pick, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		fprintf(stderr, "%s: warning: cannot move to CPU %d: %s\n", o->prog, pick,
		        strerror(errno));
	else
		o->cpu = pick;
	return 0;
}

void
sx_tool_opts_free(struct sx_tool_opts *o)
{
	free(o->eal_argv);
	o->eal_argv = NULL;
	if (o->json_fp != NULL)
		fclose(o->json_fp);
	o->json_fp = NULL;
	if (o->trace_fp != NULL)
		fclose(o->trace_fp);
	o->trace_fp = NULL;
}

int
sx_tool_open_outputs(struct sx_tool_opts *o)
{
	int fd;

	if (o->json != NULL && strcmp(o->json, "-") != 0) {
		o->json_fp = fopen(o->json, "w");
		if (o->json_fp == NULL)
			goto fail_json;
	}
	if (o->trace != NULL) {
		o->trace_fp = fopen(o->trace, "w");
		if (o->trace_fp == NULL) {
			fprintf(stderr, "%s: --trace %s: %s\n", o->prog, o->trace,
			        strerror(errno));
			return SX_TOOL_EXIT_FAIL;
		}
	}
	/* The port opens (and truncates) the capture itself, once the
	 * device exists; here only whether it can. */
	if (o->pcap != NULL) {
		fd = open(o->pcap, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "%s: --pcap %s: %s\n", o->prog, o->pcap,
			        strerror(errno));
			return SX_TOOL_EXIT_FAIL;
		}
		close(fd);
	}
	return 0;
fail_json:
	fprintf(stderr, "%s: --json %s: %s\n", o->prog, o->json, strerror(errno));
	return SX_TOOL_EXIT_FAIL;
}

/* ------------------------------------------------------------------------ */
/* Leftovers of killed processes                                             */

/* DPDK's runtime directory (eal_get_runtime_dir()): /var/run/dpdk for root,
 * else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk. */
static void
runtime_base(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0)
		snprintf(out, cap, "/var/run/dpdk");
	else
		snprintf(out, cap, "%s/dpdk", xdg != NULL ? xdg : "/tmp");
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* Errors are left to the final rmdir: a concurrent cleaner may have
	 * removed an entry first. */
	remove(path);
	return 0;
}

/* Does process @p pid exist? EPERM: it does, as someone else's. */
static bool
pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/*
 * The default control sockets (sx_ctl_default_path(): <dir>/scalex-<pid>.sock)
 * of processes that are gone: a killed process cannot remove its own.
 */
static int
clean_ctl_sockets(const char *prog)
{
	char dir[PATH_MAX], path[PATH_MAX + 256], *slash;
	struct dirent *d;
	struct stat st;
	int removed = 0;
	DIR *dp;

	if (sx_ctl_default_path(getpid(), dir, sizeof(dir)) != 0)
		return 0;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	dp = opendir(dir[0] != '\0' ? dir : "/");
	if (dp == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL) {
		const char *num = d->d_name + strlen("scalex-");
		char *end;
		long pid;

		if (strncmp(d->d_name, "scalex-", strlen("scalex-")) != 0 || *num < '1' ||
		    *num > '9')
			continue;
		errno = 0;
		pid = strtol(num, &end, 10);
		if (errno != 0 || strcmp(end, ".sock") != 0 || pid > INT_MAX ||
		    pid == (long)getpid() || pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || unlink(path) != 0)
			continue;
		fprintf(stderr, "%s: removed %s, left by process %ld (gone)\n", prog, path,
		        pid);
		removed++;
	}
	closedir(dp);
	return removed;
}

int
sx_tool_clean_runtime(const char *prog)
{
	char base[PATH_MAX], path[PATH_MAX + 256];
	size_t plen = strlen(prog);
	struct dirent *d;
	int removed = 0;
	DIR *dir;

	runtime_base(base, sizeof(base));
	dir = opendir(base);
	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		const char *num = d->d_name + plen + 1;
		char *end;
		long pid;

		/* Exactly "<prog>-<pid>": the file prefix sx_tool_parse() gives. */
		if (strncmp(d->d_name, prog, plen) != 0 || d->d_name[plen] != '-' ||
		    *num < '1' || *num > '9')
			continue;
		errno = 0;
		pid = strtol(num, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT_MAX ||
		    pid == (long)getpid() || pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, d->d_name);
		if (nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0 &&
		    access(path, F_OK) != 0) {
			fprintf(stderr, "%s: removed %s, left by process %ld (gone)\n",
			        prog, path, pid);
			removed++;
		}
	}
	closedir(dir);
	return removed + clean_ctl_sockets(prog);
}

/* The value of "key=" in a devargs string, into @p out. */
static bool
devarg(const char *dev, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = strchr(dev, ',');

	while (p != NULL) {
		p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, ",");

			if (n >= cap)
				return false;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ',');
	}
	return false;
}

int
sx_tool_clean_memif_socket(const char *dev)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char role[16];
	struct stat st;
	int fd, rc;

	if (strncmp(dev, "net_memif", strlen("net_memif")) != 0 ||
	    !devarg(dev, "role", role, sizeof(role)) || strcmp(role, "server") != 0 ||
	    !devarg(dev, "socket", sa.sun_path, sizeof(sa.sun_path)))
		return 0;
	/* An abstract socket (memif's socket-abstract=yes) leaves no file. */
	if (lstat(sa.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	rc = rc == 0 ? 0 : errno;
	close(fd);
	/* Refused: a socket file nobody listens on. Anything else (a live
	 * server, a permission problem) is left alone. */
	if (rc != ECONNREFUSED)
		return 0;
	if (unlink(sa.sun_path) != 0)
		return -errno;
	fprintf(stderr, "memif: removed %s, left by a server that is gone\n",
	        sa.sun_path);
	return 1;
}

int
sx_tool_apply_cc(const struct sx_tool_opts *o, struct sx_context *ctx)
{
	unsigned int i;
	int rc;

	if (o->cc == NULL)
		return 0;
	if (o->cc_preset != NULL && (rc = sx_cc_preset(ctx, o->cc_preset)) < 0) {
		fprintf(stderr, "%s: --cc-preset %s: %s\n", o->prog, o->cc_preset,
		        rc == -ENOENT ? "no such preset" : strerror(-rc));
		return -1;
	}
	for (i = 0; i < o->ncc_params; i++) {
		rc = sx_cc_param(ctx, o->cc_params[i]);
		if (rc < 0) {
			fprintf(stderr, "%s: --cc-param %s: %s\n", o->prog, o->cc_params[i],
			        rc == -ENOENT   ? "no such parameter"
			        : rc == -ERANGE ? "outside the parameter's range"
			                        : "not name=value");
			return -1;
		}
	}
	if (o->trace_fp != NULL)
		sx_cc_trace(ctx, o->trace_fp);
	return 0;
}

int
sx_tool_apply_path(const struct sx_tool_opts *o, struct sx_context *ctx)
{
	unsigned int i;
	int rc;

	for (i = 0; i < o->npath_params; i++) {
		rc = sx_path_param(ctx, o->path_params[i]);
		if (rc < 0) {
			fprintf(stderr, "%s: --path-param %s: %s\n", o->prog, o->path_params[i],
			        rc == -ENOENT   ? "no such parameter"
			        : rc == -ERANGE ? "outside the parameter's range"
			                        : "not name=value");
			return -1;
		}
	}
	return 0;
}
