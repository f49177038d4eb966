/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one option parser of the scalex tools (perftest's shape): a mode, then
 * options, then "--" and EAL arguments. Every value is range-checked here;
 * a bad command line is a message, the usage and SX_TOOL_EXIT_USAGE, never
 * a crash or an exit from inside the parser.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <scalex/cc.h>

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
	OPT_CC,
	OPT_CC_PRESET,
	OPT_CC_PARAM,
	OPT_TRACE,
	OPT_LINE_RATE,
	OPT_PATH,
	OPT_PATH_PARAM,
	OPT_CTL_SOCK,
	OPT_PROM_PORT,
	OPT_PROM_ADDR,
};

static const struct option long_opts[] = {
    {"server", no_argument, NULL, OPT_SERVER},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"boot-port", required_argument, NULL, OPT_BOOT_PORT},
    {"dev", required_argument, NULL, OPT_DEV},
    {"ip", required_argument, NULL, OPT_IP},
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
    "  --server            wait for a client",
    "  --connect HOST      client of HOST (default 127.0.0.1)",
    "  --boot-port N       bootstrap TCP port (default 18515)",
    "",
    "device:",
    "  --dev VDEV          DPDK device, e.g.",
    "                      net_memif0,role=server,socket=/tmp/x.sock, or port=N",
    "                      (default: net_memif0,role=<server|client>,",
    "                      socket=/tmp/<prog>-<boot-port>.sock)",
    "  --ip ADDR           local IPv4 or IPv6 address",
    "                      (default 10.0.0.1 server, 10.0.0.2 client)",
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
    "exit status: 0 pass, 1 completion error or failed check, 2 usage",
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

/* A plain unsigned decimal (no sign, no space, no hex) in [min, max]. */
static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
			o->server = true;
			break;
		case OPT_CONNECT:
			if (*arg == '\0')
				return usage_error(spec, "--connect: empty host");
			o->host = arg;
			have_connect = true;
			break;
		case OPT_BOOT_PORT:
			if (parse_u64(arg, 1, 65535, &v) < 0)
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
			if (parse_u64(arg, 1, UINT64_MAX / 2, &v) < 0)
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
			if (parse_u64(arg, 1, SX_TOOL_MAX_QPS, &v) < 0)
				return usage_error(spec, "-q: '%s' is not 1..%u", arg,
				                   SX_TOOL_MAX_QPS);
			o->qps = (uint32_t)v;
			break;
		case OPT_MTU:
			if (parse_u64(arg, 256, 4096, &v) < 0 || (v & (v - 1)) != 0)
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
			if (parse_u64(arg, 1, SX_TOOL_MAX_TX_DEPTH, &v) < 0)
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
			if (parse_u64(arg, 0, UINT64_MAX, &v) < 0)
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
			if (parse_u64(arg, 1, SX_TOOL_MAX_QP_TIMEOUT_US, &v) < 0)
				return usage_error(spec,
				                   "--qp-timeout: '%s' is not 1..%u us",
				                   arg, SX_TOOL_MAX_QP_TIMEOUT_US);
			o->qp_timeout_us = (uint32_t)v;
			break;
		case OPT_MIN_RTO:
			if (parse_u64(arg, 1, SX_TOOL_MAX_MIN_RTO_US, &v) < 0)
				return usage_error(spec, "--min-rto: '%s' is not 1..%u us",
				                   arg, SX_TOOL_MAX_MIN_RTO_US);
			o->qp_min_rto_us = (uint32_t)v;
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
			if (parse_u64(arg, 1, 1600, &v) < 0)
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
			if (parse_u64(arg, 0, 65535, &v) < 0)
				return usage_error(spec, "--prom-port: '%s' is not 0..65535", arg);
			o->prom_port = (int)v;
			break;
		case OPT_PROM_ADDR:
			o->prom_addr = arg;
			break;
		case OPT_WARMUP:
			if (parse_u64(arg, 0, 1000000000, &v) < 0)
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
}

int
sx_tool_apply_cc(const struct sx_tool_opts *o, struct sx_context *ctx, FILE **trace_out)
{
	unsigned int i;
	int rc;

	*trace_out = NULL;
	if (o->cc == NULL) {
		if (o->cc_preset || o->ncc_params || o->trace) {
			fprintf(stderr, "%s: --cc-preset, --cc-param and --trace need --cc\n",
			        o->prog);
			return -1;
		}
		return 0;
	}
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
	if (o->trace != NULL) {
		*trace_out = fopen(o->trace, "w");
		if (*trace_out == NULL) {
			fprintf(stderr, "%s: --trace %s: %s\n", o->prog, o->trace,
			        strerror(errno));
			return -1;
		}
		sx_cc_trace(ctx, *trace_out);
	}
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
