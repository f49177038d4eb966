/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-fabric: the switches of a leaf-spine, in one DPDK process, for
 * real scalex host processes on this machine. Each host gets a memif
 * server port (one socket per host, DIR/h<N>.sock); frames go through the
 * emulated fabric (emu.h: the simulator's topology keys, ECMP, shapers,
 * buffers, RED/ECN, delay lines, fault injection) and out of the port of
 * the host their destination IP names (10.a.b.c: host a.b.c - 1, as in the
 * simulator). At exit (SIGINT, SIGTERM, --duration) it writes per-port
 * counters and queue percentiles as JSON.
 *
 * The fabric outlives its hosts. A memif server whose client goes away
 * can crash in DPDK 22.11: the EAL interrupt thread unmaps the shared
 * regions while the polling thread may be inside a burst on them. libscalex
 * defines munmap (exported from the executable, so the memif PMD, a plugin
 * loaded at run time, binds to it): this file's polling thread brackets
 * each pass with sx_poll_pass_begin/end, which makes its counter odd while
 * it polls, and a munmap from any other thread waits until a pass in
 * progress has ended.
 * A burst that starts later sees the port disconnected (the driver clears
 * its flag before unmapping) and touches nothing; frames for a host that
 * is gone are refused by its port and counted as drops ("host").
 *
 * Idle backoff: when a pass moved nothing it spins, then sleeps until the
 * fabric's next deadline (at most --idle-sleep-us), so it shares two CPUs
 * with the hosts.
 *
 * Exit status: 0, 1 (a setup or output error), 2 (bad command line).
 * Units: time in ns unless named, sizes in bytes, rates in bit/s.
 */
/* rte_pcapng is experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <fcntl.h>
#include <rte_dev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_pcapng.h>

#include <scalex/scalex.h>

#include "emu.h"
#include "../../sim/scenario.h"
#include "../common/tool.h"

#define PROG           "scalex-fabric"
#define MAX_HOSTS      64
#define BURST          32
#define MAX_SETS       64
#define DEFAULT_FRAME  (4096 + 128)
#define RING_DESC      1024
#define POOL_MBUFS     8191 /* rings, frames held in queues, copies */
#define CAPTURE_MBUFS  511
#define IDLE_SPINS     2000

/* ---- the memif disconnect guard (see the file comment) ---- */

/* Each polling pass is bracketed for libscalex's munmap guard
 * (sx_poll_pass_begin/end, dataplane/port/ethdev.c). */
static void
pass_begin(void)
{
	sx_poll_pass_begin();
}

static void
pass_end(void)
{
	sx_poll_pass_end();
}

/* ---- options ---- */

struct opts {
	const char *config;
	const char *sets[MAX_SETS];
	unsigned int nsets;
	const char *sock_dir;
	const char *pcap_dir;
	const char *stats;
	const char *ready;
	struct sx_fault_dir fault;
	uint64_t burst_bytes;
	uint32_t max_frame;
	uint32_t idle_sleep_us;
	double duration_s;
	int eal_argc;
	char **eal_argv;
	char eal_prefix[64];
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " --config FILE.ini --sock-dir DIR [options] [-- EAL args]\n"
		"The switches of a leaf-spine for scalex host processes on this machine:\n"
		"host N connects a memif client to DIR/hN.sock and uses IPv4 address\n"
		"10.a.b.c with a.b.c = N + 1 (as in scalex-sim). docs/fabric.md.\n"
		"\n"
		"  --config FILE       scalex-sim INI: [topology] hosts_per_leaf, leaves,\n"
		"                      spines, host/fabric_rate_gbps, host/fabric_delay_ns,\n"
		"                      [switch] buffer_bytes, ecn, kmin/kmax_bytes, pmax,\n"
		"                      ecn_mark, [fault] loss, reorder; other sections are\n"
		"                      read and ignored\n"
		"  --set S.K=V         override one key (repeatable)\n"
		"  --sock-dir DIR      where the hosts' memif sockets go (made if missing)\n"
		"  --fault SPEC        on every link: drop=P,reorder=P,duplicate=P,corrupt=P\n"
		"  --burst-bytes N     shaper burst tolerance per link (default 16384)\n"
		"  --max-frame N       largest frame (default 4224: MTU 4096 + headers)\n"
		"  --pcap-dir DIR      capture each host port to DIR/hN.pcapng\n"
		"  --stats FILE        per-port counters as JSON at exit ('-': stdout)\n"
		"  --ready FILE        written once every port is up\n"
		"  --duration SEC      stop after SEC seconds (default: at SIGINT/SIGTERM)\n"
		"  --idle-sleep-us N   longest sleep when idle (default 50)\n"
		"  -h, --help          this text\n"
		"\n"
		"EAL args after '--' replace the defaults: --no-huge -m 512 --no-pci\n"
		"--file-prefix " PROG "-<pid> --log-level=error.\n"
		"exit status: 0 ok, 1 setup or output error, 2 usage\n");
}

static int
bad(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	usage(stderr);
	return 2;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 'S'},
		{"sock-dir", required_argument, NULL, 'd'},
		{"fault", required_argument, NULL, 'f'},
		{"burst-bytes", required_argument, NULL, 'b'},
		{"max-frame", required_argument, NULL, 'M'},
		{"pcap-dir", required_argument, NULL, 'p'},
		{"stats", required_argument, NULL, 's'},
		{"ready", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'D'},
		{"idle-sleep-us", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const defaults[] = {"--no-huge", "-m", "512", "--no-pci",
					       "--file-prefix"};
	uint64_t v;
	char *end;
	int c, i, n = 0;

	memset(o, 0, sizeof(*o));
	o->max_frame = DEFAULT_FRAME;
	o->idle_sleep_us = 50;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'S':
			if (o->nsets == MAX_SETS)
				return bad("--set: more than %s", "64");
			o->sets[o->nsets++] = optarg;
			break;
		case 'd':
			o->sock_dir = optarg;
			break;
		case 'f':
			if (sx_fault_parse(optarg, &o->fault) < 0 || o->fault.ecn != 0)
				return bad("--fault: '%s' is not drop=P,reorder=P,duplicate=P,"
					   "corrupt=P with P in [0, 1]",
					   optarg);
			break;
		case 'b':
			if (sx_tool_parse_u64(optarg, 64, 1ull << 30, &v) < 0)
				return bad("--burst-bytes: '%s' is not 64..2^30", optarg);
			o->burst_bytes = v;
			break;
		case 'M':
			if (sx_tool_parse_u64(optarg, 128, 9216, &v) < 0)
				return bad("--max-frame: '%s' is not 128..9216", optarg);
			o->max_frame = (uint32_t)v;
			break;
		case 'p':
			o->pcap_dir = optarg;
			break;
		case 's':
			o->stats = optarg;
			break;
		case 'r':
			o->ready = optarg;
			break;
		case 'D':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || *end != '\0' || !(o->duration_s > 0) || o->duration_s > 86400)
				return bad("--duration: '%s' is not in (0, 86400] seconds", optarg);
			break;
		case 'i':
			if (sx_tool_parse_u64(optarg, 0, 1000000, &v) < 0)
				return bad("--idle-sleep-us: '%s' is not 0..10^6", optarg);
			o->idle_sleep_us = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return bad("unknown option or missing value: '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return bad("unexpected argument '%s'", argv[optind]);
	if (o->config == NULL)
		return bad("%s", "--config is required");
	if (o->sock_dir == NULL || *o->sock_dir == '\0')
		return bad("%s", "--sock-dir is required");
	snprintf(o->eal_prefix, sizeof(o->eal_prefix), PROG "-%ld", (long)getpid());
	o->eal_argv = calloc((size_t)(argc - optind) + 8, sizeof(char *));
	if (o->eal_argv == NULL)
		return 1;
	o->eal_argv[n++] = argv[0];
	if (optind >= argc) {
		for (i = 0; i < 5; i++)
			o->eal_argv[n++] = (char *)defaults[i];
		o->eal_argv[n++] = o->eal_prefix;
		o->eal_argv[n++] = (char *)"--log-level=error";
	} else {
		for (i = optind; i < argc; i++)
			o->eal_argv[n++] = argv[i];
	}
	o->eal_argc = n;
	return 0;
}

/* ---- the process ---- */

/* One host's memif server port, driven by DPDK directly (tools reach the
 * library only through its public API). Frames stay mbufs from the
 * receiving port's pool until the fabric sends or drops them. */
struct host_port {
	uint16_t port_id;
	bool open;
	struct rte_device *dev; /* hot-plugged here, removed at exit */
	struct rte_mempool *pool;
	rte_pcapng_t *pcap;
	struct rte_mempool *pcap_pool;
	struct rte_mbuf *out[BURST];
	uint16_t nout;
	uint64_t refused; /* frames its port did not take */
	uint64_t rx_frames;
	uint64_t rx_dropped; /* multi-segment: longer than --max-frame */
	uint64_t tx_frames;
	uint64_t capture_drop;
	char sock[256];
};

struct fabric {
	struct opts o;
	struct sx_scn_cfg scn;
	struct fx fx;
	bool fx_on;
	uint32_t nhosts;
	struct host_port hosts[MAX_HOSTS];
	uint64_t idle_sleeps;
	uint64_t passes;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Capture copies of @p m[0..n), written after the burst. */
static void
capture(struct host_port *hp, struct rte_mbuf **m, uint16_t n, enum rte_pcapng_direction dir)
{
	struct rte_mbuf *c[BURST];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		c[k] = rte_pcapng_copy(hp->port_id, 0, m[i], hp->pcap_pool, UINT32_MAX,
				       rte_get_tsc_cycles(), dir);
		if (c[k] != NULL)
			k++;
		else
			hp->capture_drop++;
	}
	if (k > 0 && rte_pcapng_write_packets(hp->pcap, c, k) < 0)
		hp->capture_drop += k;
	/* 22.11 does not free the copies it wrote (dataplane/port/ethdev.c) */
	rte_pktmbuf_free_bulk(c, k);
}

static void
flush_host(struct fabric *fb, uint32_t h)
{
	struct host_port *hp = &fb->hosts[h];
	uint16_t sent;

	if (hp->nout == 0)
		return;
	if (hp->pcap != NULL)
		capture(hp, hp->out, hp->nout, RTE_PCAPNG_DIRECTION_OUT);
	sent = rte_eth_tx_burst(hp->port_id, 0, hp->out, hp->nout);
	hp->tx_frames += sent;
	if (sent < hp->nout) {
		hp->refused += hp->nout - sent;
		fx_host_refused(&fb->fx, h, hp->nout - sent);
		rte_pktmbuf_free_bulk(hp->out + sent, hp->nout - sent);
	}
	hp->nout = 0;
}

static bool
hook_deliver(void *arg, uint32_t h, struct fx_pkt *p)
{
	struct fabric *fb = arg;
	struct host_port *hp = &fb->hosts[h];

	if (hp->nout == BURST)
		flush_host(fb, h);
	hp->out[hp->nout++] = p->h;
	return true;
}

static void
hook_free(void *arg, struct fx_pkt *p)
{
	(void)arg;
	rte_pktmbuf_free(p->h);
}

static bool
hook_copy(void *arg, const struct fx_pkt *in, struct fx_pkt *out)
{
	struct rte_mbuf *m = in->h, *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

	(void)arg;
	if (c == NULL)
		return false;
	out->h = c;
	out->data = rte_pktmbuf_mtod(c, uint8_t *);
	out->len = rte_pktmbuf_data_len(c);
	return true;
}

/* One pass: receive from every host that has room, move frames, send. */
static uint32_t
pass(struct fabric *fb, uint64_t now)
{
	struct rte_mbuf *m[BURST];
	uint32_t work = 0, h;
	uint16_t n, i;

	for (h = 0; h < fb->nhosts; h++) {
		struct host_port *hp = &fb->hosts[h];

		if (!fx_host_ready(&fb->fx, h))
			continue;
		n = rte_eth_rx_burst(hp->port_id, 0, m, BURST);
		if (n > 0 && hp->pcap != NULL)
			capture(hp, m, n, RTE_PCAPNG_DIRECTION_IN);
		hp->rx_frames += n;
		for (i = 0; i < n; i++) {
			struct fx_pkt p = {.h = m[i], .data = rte_pktmbuf_mtod(m[i], uint8_t *),
					   .len = rte_pktmbuf_data_len(m[i])};

			/* buffers hold --max-frame: a chain is a frame too long */
			if (m[i]->nb_segs > 1) {
				hp->rx_dropped++;
				rte_pktmbuf_free(m[i]);
				continue;
			}
			fx_ingress(&fb->fx, h, &p, now);
		}
		work += n;
	}
	work += fx_poll(&fb->fx, now);
	for (h = 0; h < fb->nhosts; h++)
		flush_host(fb, h);
	return work;
}

/* Open host @p h's memif server: buffers that hold a whole frame (DPDK
 * 22.11 memif corrupts frames spread over several buffers, see
 * dataplane/port/ethdev.c), one rx and one tx queue. */
static int
open_port(struct fabric *fb, uint32_t h)
{
	struct host_port *hp = &fb->hosts[h];
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char name[32], args[512];
	uint32_t room = RTE_ALIGN_CEIL(RTE_MAX(fb->o.max_frame, 2048u), 64);
	int ret;

	snprintf(name, sizeof(name), "net_memif%u", h);
	snprintf(args, sizeof(args), "%s,role=server,id=0,bsize=%u,socket=%s", name, room,
		 hp->sock);
	ret = rte_dev_probe(args);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_get_port_by_name(name, &hp->port_id);
	if (ret == 0)
		ret = rte_eth_dev_info_get(hp->port_id, &info);
	if (ret != 0)
		return ret;
	hp->dev = info.device;
	hp->open = true;
	snprintf(name, sizeof(name), "fx_pool%u", h);
	hp->pool = rte_pktmbuf_pool_create(name, POOL_MBUFS, 256, 0,
					   (uint16_t)(room + RTE_PKTMBUF_HEADROOM), SOCKET_ID_ANY);
	if (hp->pool == NULL)
		return -rte_errno;
	ret = rte_eth_dev_configure(hp->port_id, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(hp->port_id, 0, RING_DESC, SOCKET_ID_ANY, NULL,
					     hp->pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(hp->port_id, 0, RING_DESC, SOCKET_ID_ANY, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(hp->port_id);
	if (ret != 0 || fb->o.pcap_dir == NULL)
		return ret;
	snprintf(name, sizeof(name), "fx_cap%u", h);
	hp->pcap_pool = rte_pktmbuf_pool_create(name, CAPTURE_MBUFS, 0, 0,
						(uint16_t)rte_pcapng_mbuf_size(fb->o.max_frame),
						SOCKET_ID_ANY);
	if (hp->pcap_pool == NULL)
		return -rte_errno;
	snprintf(args, sizeof(args), "%s/h%u.pcapng", fb->o.pcap_dir, h);
	ret = open(args, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ret < 0)
		return -errno;
	hp->pcap = rte_pcapng_fdopen(ret, NULL, NULL, PROG, NULL);
	if (hp->pcap == NULL) {
		close(ret);
		return -EIO;
	}
	return 0;
}

static void
close_port(struct host_port *hp)
{
	if (hp->open) {
		rte_eth_dev_stop(hp->port_id);
		rte_eth_dev_close(hp->port_id);
		rte_dev_remove(hp->dev);
	}
	if (hp->pcap != NULL)
		rte_pcapng_close(hp->pcap);
	rte_mempool_free(hp->pcap_pool);
	rte_mempool_free(hp->pool);
}

static int
open_ports(struct fabric *fb)
{
	uint32_t h;
	int ret;

	if (mkdir(fb->o.sock_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": --sock-dir %s: %s\n", fb->o.sock_dir, strerror(errno));
		return -1;
	}
	for (h = 0; h < fb->nhosts; h++) {
		struct host_port *hp = &fb->hosts[h];

		if ((size_t)snprintf(hp->sock, sizeof(hp->sock), "%s/h%u.sock", fb->o.sock_dir, h) >=
		    sizeof(hp->sock)) {
			fprintf(stderr, PROG ": --sock-dir: path too long\n");
			return -1;
		}
		ret = open_port(fb, h);
		if (ret != 0) {
			fprintf(stderr, PROG ": host %u port (%s): %s\n", h, hp->sock,
				rte_strerror(-ret));
			return -1;
		}
	}
	return 0;
}

static int
write_stats(struct fabric *fb, double elapsed_s)
{
	json_t *root = fx_json(&fb->fx, elapsed_s), *hosts = json_array();
	uint32_t h;
	int rc = 0;

	if (root == NULL || hosts == NULL) {
		json_decref(root);
		json_decref(hosts);
		return -ENOMEM;
	}
	for (h = 0; h < fb->nhosts; h++) {
		const struct host_port *hp = &fb->hosts[h];

		json_array_append_new(hosts, json_pack("{s:I,s:s,s:I,s:I,s:I,s:I}", "host",
						       (json_int_t)h, "socket", hp->sock,
						       "rx_frames", (json_int_t)hp->rx_frames,
						       "tx_frames", (json_int_t)hp->tx_frames,
						       "tx_refused", (json_int_t)hp->refused,
						       "rx_too_long",
						       (json_int_t)hp->rx_dropped));
	}
	json_object_set_new(root, "hosts", hosts);
	json_object_set_new(root, "passes", json_integer((json_int_t)fb->passes));
	json_object_set_new(root, "idle_sleeps", json_integer((json_int_t)fb->idle_sleeps));
	json_object_set_new(root, "held_at_exit", json_integer((json_int_t)fx_held(&fb->fx)));
	if (strcmp(fb->o.stats, "-") == 0) {
		rc = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		rc = rc == 0 && fflush(stdout) == 0 ? 0 : -EIO;
	} else {
		rc = json_dump_file(root, fb->o.stats, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0
			     ? 0
			     : -EIO;
	}
	json_decref(root);
	return rc;
}

static void
run(struct fabric *fb)
{
	uint64_t t0 = now_ns(), end = 0, idle = 0;

	if (fb->o.duration_s > 0)
		end = t0 + (uint64_t)(fb->o.duration_s * 1e9);
	while (!stop) {
		uint64_t now = now_ns(), next;

		uint32_t work;

		if (end != 0 && now >= end)
			break;
		pass_begin();
		work = pass(fb, now);
		pass_end();
		fb->passes++;
		if (work != 0) {
			idle = 0;
			continue;
		}
		if (++idle < IDLE_SPINS) {
			rte_pause();
			continue;
		}
		/* frames held: stay runnable (a sleep on a busy machine lasts
		 * milliseconds); otherwise sleep, no longer than the next
		 * frame's deadline */
		next = fx_next_ns(&fb->fx);
		if (next != UINT64_MAX) {
			sched_yield();
		} else {
			uint64_t us = fb->o.idle_sleep_us;

			if (us > 0) {
				usleep((useconds_t)us);
				fb->idle_sleeps++;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct fabric *fb = calloc(1, sizeof(*fb));
	struct fx_cfg fc;
	struct fx_hooks hooks;
	uint64_t t0;
	unsigned int i;
	int rc, exit_rc = 1, eal = 0;

	if (fb == NULL)
		return 1;
	rc = parse_opts(argc, argv, &fb->o);
	if (rc != 0) {
		exit_rc = rc < 0 ? 0 : rc;
		goto out;
	}
	/* every input checked before any device starts */
	sx_scn_cfg_init(&fb->scn);
	/* The simulator's default ring (8) is what its engine keeps queued at
	 * its NIC; here the hosts' engines run over memif and cannot see this
	 * queue, which models the device's own: keep a device-sized default. */
	fb->scn.fab.nic_ring_frames = 64;
	rc = sx_scn_load(&fb->scn, fb->o.config, stderr);
	if (rc != 0) {
		exit_rc = 2;
		goto out;
	}
	for (i = 0; i < fb->o.nsets; i++) {
		if (sx_scn_set(&fb->scn, fb->o.sets[i], stderr) < 0) {
			exit_rc = 2;
			goto out;
		}
	}
	memset(&fc, 0, sizeof(fc));
	fc.fab = fb->scn.fab;
	fc.fault = fb->o.fault;
	fc.burst_bytes = fb->o.burst_bytes;
	fc.seed = fb->scn.seed;
	hooks = (struct fx_hooks){.deliver = hook_deliver, .free = hook_free, .copy = hook_copy,
				  .arg = fb};
	rc = fx_init(&fb->fx, &fc, &hooks);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: %s\n", fb->o.config,
			rc == -EINVAL ? "a topology the fabric does not run (one DC, no PFC, "
					"spines when there are several leaves)"
				      : strerror(-rc));
		exit_rc = 2;
		goto out;
	}
	fb->fx_on = true;
	fb->nhosts = fb->fx.nhosts;
	if (fb->nhosts > MAX_HOSTS) {
		fprintf(stderr, PROG ": %u hosts; at most %u\n", fb->nhosts, MAX_HOSTS);
		exit_rc = 2;
		goto out;
	}
	if (fb->o.stats != NULL && strcmp(fb->o.stats, "-") != 0) {
		FILE *t = fopen(fb->o.stats, "w");

		if (t == NULL || fclose(t) != 0) {
			fprintf(stderr, PROG ": --stats %s: %s\n", fb->o.stats, strerror(errno));
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (sx_eal_init(fb->o.eal_argc, fb->o.eal_argv) < 0) {
		fprintf(stderr, PROG ": EAL: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	eal = 1;
	if (open_ports(fb) < 0)
		goto out;
	if (fb->o.ready != NULL) {
		FILE *r = fopen(fb->o.ready, "w");

		if (r == NULL || fprintf(r, "%ld\n", (long)getpid()) < 0 || fclose(r) != 0) {
			fprintf(stderr, PROG ": --ready %s: %s\n", fb->o.ready, strerror(errno));
			goto out;
		}
	}
	fprintf(stderr, PROG ": %u hosts, %u leaves, %u spines, %u links; sockets %s/h*.sock\n",
		fb->nhosts, fb->scn.fab.leaves, fb->fx.cfg.fab.spines, fb->fx.nlinks,
		fb->o.sock_dir);
	t0 = now_ns();
	run(fb);
	exit_rc = 0;
	if (fb->o.stats != NULL && write_stats(fb, (double)(now_ns() - t0) / 1e9) < 0) {
		fprintf(stderr, PROG ": --stats %s: write failed\n", fb->o.stats);
		exit_rc = 1;
	}
out:
	if (fb->fx_on)
		fx_fini(&fb->fx); /* frees held mbufs: before their pools go */
	for (i = 0; i < fb->nhosts; i++)
		close_port(&fb->hosts[i]);
	if (eal)
		sx_eal_cleanup();
	sx_scn_cfg_fini(&fb->scn);
	free(fb->o.eal_argv);
	free(fb);
	return exit_rc;
}
