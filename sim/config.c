/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario configuration: INI sections and keys, parsed with libinih.
 *
 * One table (keys[] below) names every key with its type, unit, range,
 * default and meaning. It drives parsing and validation, the defaults of
 * sx_scn_cfg_init(), `scalex-sim --help` and the key table of docs/sim.md
 * (`scalex-sim --keys-md`; tests/sim fails when the two differ). Adding a
 * key is one KEY_*() line here and a field in struct sx_scn_cfg.
 *
 * Every number is parsed whole: an integer key takes decimal digits only,
 * a real key a finite number (no nan, no inf), and both must lie in the
 * key's stated range, which is small enough that scaling to the stored unit
 * (Gb/s to bit/s, us to ns) cannot overflow. A bad entry gets a message
 * naming the file and line (or the -s override), the key, the value and
 * what is allowed. Relations between keys are checked by sx_scn_check().
 *
 * Units: as the key names them (_gbps, _ns, _us, _bytes); the fields of
 * struct sx_scn_cfg hold bit/s, ns and bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include <scalex/cc.h>
#include "scenario.h"

/* Times in the configuration: up to 100 s of virtual time (1e17 ps). */
#define MAX_US 1e8
/* Rates: 1 Mb/s to 10 Tb/s. */
#define MIN_GBPS 0.001
#define MAX_GBPS 10000.0
/* Sizes: buffers and thresholds up to 1 TB. */
#define MAX_BYTES 1000000000000ull
/* Tokens the MoE generator draws at most (a few seconds of work). */
#define MAX_MOE_TOKENS (1ull << 28)
/* One flow is one WRITE: at most 2 GiB (the sge length is 32 bits). */
#define MAX_FLOW_BYTES (1ull << 31)

enum key_type {
	K_UINT,   /* unsigned integer, decimal: a uint8/32/64 field */
	K_REAL,   /* finite real: a double field */
	K_SCALED, /* finite real in the key's unit, stored x scale rounded: uint64 */
	K_BOOL,
	K_CHOICE, /* one of names[], stored as its index: bool or enum field */
	K_STR,    /* text up to the field's size */
	K_CUSTOM, /* parsed by the key's own function */
};

#define K_OPEN_MIN 0x1u /* min excluded */
#define K_OPEN_MAX 0x2u /* max excluded */
#define K_POW2     0x4u /* a power of two */
#define K_REPEAT   0x8u /* may be given several times; each adds one */

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	unsigned int flags;
	size_t off;  /* in struct sx_scn_cfg */
	size_t size; /* of that field */
	const char *unit;
	uint64_t imin, imax; /* K_UINT */
	double min, max;     /* K_REAL, K_SCALED: in the key's unit */
	double scale;        /* K_SCALED */
	const char *const *names; /* K_CHOICE, NULL-terminated */
	int (*parse)(struct sx_scn_cfg *c, const char *v, char *why, size_t n); /* K_CUSTOM */
	const char *range;   /* K_CUSTOM, K_STR: the allowed values in words */
	const char *def;     /* applied by sx_scn_cfg_init(); NULL: none (field 0) */
	const char *def_doc; /* the default as the docs say it, when not def */
	const char *help;
};

#define F(fld) .off = offsetof(struct sx_scn_cfg, fld), .size = sizeof(((struct sx_scn_cfg *)0)->fld)

#define KEY_UINT(s, k, fld, u, lo, hi, d, h)                                               \
	{.section = s, .name = k, .type = K_UINT, F(fld), .unit = u, .imin = lo, .imax = hi, \
	 .def = d, .help = h}
#define KEY_REAL(s, k, fld, u, fl, lo, hi, d, h)                                              \
	{.section = s, .name = k, .type = K_REAL, .flags = fl, F(fld), .unit = u, .min = lo,  \
	 .max = hi, .def = d, .help = h}
#define KEY_SCALED(s, k, fld, u, sc, fl, lo, hi, d, h)                                        \
	{.section = s, .name = k, .type = K_SCALED, .flags = fl, F(fld), .unit = u, .min = lo, \
	 .max = hi, .scale = sc, .def = d, .help = h}
#define KEY_BOOL(s, k, fld, d, h) \
	{.section = s, .name = k, .type = K_BOOL, F(fld), .unit = "", .def = d, .help = h}
#define KEY_CHOICE(s, k, fld, nm, d, h)                                                  \
	{.section = s, .name = k, .type = K_CHOICE, F(fld), .unit = "", .names = nm, .def = d,   \
	 .help = h}
#define KEY_STR(s, k, fld, r, dd, h) \
	{.section = s, .name = k, .type = K_STR, F(fld), .unit = "", .range = r, .def_doc = dd, \
	 .help = h}
#define KEY_CUSTOM(s, k, fl, fn, r, d, dd, h)                                                \
	{.section = s, .name = k, .type = K_CUSTOM, .flags = fl, .unit = "", .parse = fn,       \
	 .range = r, .def = d, .def_doc = dd, .help = h}

/* ---- custom keys ---- */

static int parse_cc(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_cc_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_flow(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_fail(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_rate(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_path(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_path_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_wan_cc(struct sx_scn_cfg *c, const char *v, char *why, size_t n);
static int parse_wan_cc_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n);

const char *const sx_coll_op_names[SX_COLL_OPS + 1] = {
	[SX_COLL_NONE] = "none", [SX_COLL_ALLREDUCE] = "allreduce",
	[SX_COLL_ALLTOALL] = "alltoall", NULL};
const char *const sx_coll_algo_names[SX_COLL_ALGOS + 1] = {
	[SX_COLL_HIER] = "hier", [SX_COLL_FLAT] = "flat", NULL};
static const char *const ecn_mark_names[] = {"enqueue", "dequeue", NULL};
/* indexed by enum sx_reliability */
static const char *const rel_names[] = {[SX_REL_GBN] = "gbn", [SX_REL_SR] = "sr", NULL};

static const struct key keys[] = {
	/* [topology] */
	KEY_UINT("topology", "hosts_per_leaf", fab.hosts_per_leaf, "", 1, 4096, "2",
		 "hosts under each leaf switch"),
	KEY_UINT("topology", "leaves", fab.leaves, "", 1, 4096, "1",
		 "leaf switches per DC; one leaf in one DC needs no spines"),
	KEY_UINT("topology", "spines", fab.spines, "", 0, 4096, "0",
		 "spine switches per DC (ignored with one leaf in one DC)"),
	KEY_SCALED("topology", "host_rate_gbps", fab.host_rate_bps, "Gb/s", 1e9, 0, MIN_GBPS,
		   MAX_GBPS, "100", "host <-> leaf links"),
	KEY_SCALED("topology", "fabric_rate_gbps", fab.fabric_rate_bps, "Gb/s", 1e9, 0, MIN_GBPS,
		   MAX_GBPS, "100", "leaf <-> spine and spine <-> border links"),
	KEY_SCALED("topology", "host_delay_ns", fab.host_delay_ns, "ns", 1, 0, 0, 1e9, "1000",
		   "propagation delay of a host <-> leaf link"),
	KEY_SCALED("topology", "fabric_delay_ns", fab.fabric_delay_ns, "ns", 1, 0, 0, 1e9, "1000",
		   "propagation delay of a fabric link"),
	KEY_UINT("topology", "wire_overhead_bytes", fab.wire_overhead_bytes, "bytes", 0, 1000, "24",
		 "per frame on the wire beyond the frame: preamble, SFD, FCS, inter-frame gap"),
	KEY_UINT("topology", "nic_ring_frames", fab.nic_ring_frames, "frames", 2, 1u << 20, "8",
		 "host NIC transmit ring: the engine refills it as it drains"),
	/* [switch] */
	KEY_UINT("switch", "buffer_bytes", fab.buffer_bytes, "bytes", 1, MAX_BYTES, "1000000",
		 "per egress port (no shared buffer)"),
	KEY_BOOL("switch", "ecn", fab.ecn, "1", "RED/ECN marking of ECN-capable frames"),
	KEY_UINT("switch", "kmin_bytes", fab.kmin_bytes, "bytes", 0, MAX_BYTES, "5000",
		 "RED: no mark at or below this queue (DCQCN's 40G marking)"),
	KEY_UINT("switch", "kmax_bytes", fab.kmax_bytes, "bytes", 0, MAX_BYTES, "200000",
		 "RED: always mark above this queue; at least kmin_bytes"),
	KEY_REAL("switch", "pmax", fab.pmax, "", 0, 0, 1, "0.01",
		 "RED: marking probability at kmax_bytes"),
	KEY_SCALED("switch", "ecn_ref_gbps", fab.ecn_ref_bps, "Gb/s", 1e9, 0, 0, MAX_GBPS, "0",
		   "RED: kmin/kmax_bytes are for a port of this rate, and other ports scale them "
		   "by their rate (the HPCC authors' ns-3: per 25 Gb/s); 0: the same on every port"),
	KEY_CHOICE("switch", "ecn_mark", fab.ecn_dequeue, ecn_mark_names, "enqueue",
		   "mark on enqueue, or on dequeue as HPCC's ns-3 switches do"),
	KEY_BOOL("switch", "pfc", fab.pfc, "0", "PFC on every switch ingress link and host NIC"),
	KEY_BOOL("switch", "int", fab.int_stamp, "1",
		 "INT: every switch egress stamps a hop record into frames that reserve slots"),
	KEY_UINT("switch", "pfc_xoff_bytes", fab.pfc_xoff_bytes, "bytes", 1, MAX_BYTES, "50000",
		 "PFC: pause an ingress link holding more than this"),
	KEY_UINT("switch", "pfc_xon_bytes", fab.pfc_xon_bytes, "bytes", 0, MAX_BYTES, "25000",
		 "PFC: resume below this; at most pfc_xoff_bytes"),
	/* [wan] */
	KEY_UINT("wan", "dcs", fab.dcs, "", 1, 64, "1",
		 "datacenters joined by border switches; more than one needs spines"),
	KEY_SCALED("wan", "wan_rate_gbps", fab.wan_rate_bps, "Gb/s", 1e9, 0, MIN_GBPS, MAX_GBPS,
		   "100", "border <-> border links"),
	KEY_SCALED("wan", "wan_delay_us", fab.wan_delay_ns, "us", 1e3, 0, 0, 1e6, "1000",
		   "one-way propagation delay of a WAN link"),
	KEY_BOOL("wan", "cross", wl.cross_dc, "0", "permutation: DC d sends to DC d + 1"),
	/* [transport] */
	KEY_CUSTOM("transport", "cc", 0, parse_cc, "none or a name in docs/cc.md", "none", NULL,
		   "congestion control of every host (docs/cc.md)"),
	KEY_STR("transport", "cc_preset", cc_preset, "a preset of the algorithm",
		"the algorithm's first", "parameter preset, e.g. paper or nic (docs/cc.md)"),
	KEY_CUSTOM("transport", "cc_param", K_REPEAT, parse_cc_param, "name=value", NULL, "",
		   "one CC parameter, applied after the preset (docs/cc.md)"),
	KEY_CHOICE("transport", "reliability", rel, rel_names, "sr",
		   "selective repeat or go-back-N"),
	{.section = "transport", .name = "mtu", .type = K_UINT, .flags = K_POW2, F(mtu),
	 .unit = "bytes", .imin = 256, .imax = 4096, .def = "1024", .help = "RoCEv2 path MTU"},
	KEY_UINT("transport", "timeout_us", timeout_us, "us", 1, 10000000, "1000",
		 "initial retransmit timeout, and the RTO floor"),
	KEY_UINT("transport", "retry_cnt", retry_cnt, "", 0, 7, "7",
		 "retransmit timeouts before a WR fails"),
	KEY_UINT("transport", "window_pkts", window_pkts, "packets", 0, 1u << 22, "0",
		 "PSNs in flight per QP (rounded up to a power of two); 0: 1024"),
	KEY_UINT("transport", "max_send_wr", max_send_wr, "WRs", 1, 65536, "64",
		 "send queue per QP; more flows of a pair wait in the simulator"),
	KEY_BOOL("transport", "verify", verify, "0", "patterned payloads checked at completion"),
	/* [transport] path selection (docs/multipath.md) */
	KEY_CUSTOM("transport", "path", 0, parse_path, "flow, spray, flowlet or adaptive", "flow",
		   NULL, "path policy of every host; all but flow need reliability = sr"),
	KEY_CUSTOM("transport", "path_param", K_REPEAT, parse_path_param, "name=value", NULL, "",
		   "one path-policy parameter (docs/multipath.md)"),
	/* [gateway] (docs/longhaul.md) */
	KEY_BOOL("gateway", "enable", gw, "0",
		 "cross-DC flows go host -> its DC's gateway -> the peer DC's gateway -> host; "
		 "a DC's gateway is its last host"),
	KEY_UINT("gateway", "chunk_bytes", gw_chunk_bytes, "bytes", 4096, 1u << 30, "1048576",
		 "a relayed flow moves in WRITEs of at most this, each holding a staging slot"),
	KEY_UINT("gateway", "staging_bytes", gw_staging_bytes, "bytes", 4096, MAX_BYTES, "67108864",
		 "staging memory per gateway and direction: slots of chunk_bytes, the credits"),
	KEY_UINT("gateway", "wan_qps", gw_wan_qps, "QPs", 1, 64, "4",
		 "long-haul QPs from a gateway to each peer gateway; chunks take them in turn"),
	KEY_UINT("gateway", "deliver_bytes", gw_deliver_bytes, "bytes", 0, MAX_BYTES, "0",
		 "payload a gateway has in flight to one host at most (at least one chunk); "
		 "0: no bound beyond the staging"),
	KEY_CUSTOM("gateway", "wan_cc", 0, parse_wan_cc, "none or a name in docs/cc.md", "dcqcn",
		   NULL, "congestion control of the gateways' WAN side (transport.cc inside)"),
	KEY_STR("gateway", "wan_cc_preset", gw_wan_cc_preset, "a preset of wan_cc", "longhaul",
		"parameter preset of the WAN side (docs/cc.md); empty: the algorithm's first"),
	KEY_CUSTOM("gateway", "wan_cc_param", K_REPEAT, parse_wan_cc_param, "name=value", NULL, "",
		   "one WAN-side CC parameter, applied after its preset"),
	/* [workload] */
	KEY_CHOICE("workload", "type", wl.kind, sx_wl_kind_names, "none", "the traffic generator"),
	KEY_UINT("workload", "flow_bytes", wl.flow_bytes, "bytes", 1, MAX_FLOW_BYTES, NULL,
		 "incast, permutation, alltoall: per flow; moe: per host; allreduce: the buffer"),
	KEY_UINT("workload", "senders", wl.senders, "", 0, 1u << 24, "0",
		 "incast: senders, the hosts after the receiver; 0: every other host"),
	KEY_UINT("workload", "receiver", wl.receiver, "", 0, 1u << 24, "0", "incast: the receiver"),
	KEY_SCALED("workload", "start_us", wl.start_ns, "us", 1e3, 0, 0, MAX_US, "0",
		   "when the fixed patterns start"),
	KEY_STR("workload", "cdf", cdf_path, "a file name", "",
		"cdf: flow sizes, beside the config, else in tools/data"),
	KEY_REAL("workload", "load", wl.load, "", K_OPEN_MIN, 0, 1, "0.5",
		 "cdf: offered load per host, a fraction of its link rate"),
	KEY_REAL("workload", "moe_skew", wl.moe_skew, "", 0, 0, 10, "1",
		 "moe: Zipf exponent of expert popularity without hot experts (0: uniform)"),
	KEY_UINT("workload", "moe_hot_experts", wl.moe_hot_experts, "", 0, 1u << 24, "0",
		 "moe: hot experts, fewer than the hosts; 0: Zipf ranks"),
	KEY_REAL("workload", "moe_hot_share", wl.moe_hot_share, "", 0, 0, 1, "0.5",
		 "moe: share of tokens that go to the hot experts"),
	KEY_UINT("workload", "moe_token_bytes", wl.moe_token_bytes, "bytes", 1, 1u << 30, "4096",
		 "moe: token size (a 2048-wide bf16 hidden state)"),
	KEY_UINT("workload", "max_flows", wl.max_flows, "", 0, UINT32_MAX, "0",
		 "flows the generator makes at most; 0: no limit"),
	KEY_CUSTOM("workload", "flow", K_REPEAT, parse_flow, "src dst bytes [start_us [after]]",
		   NULL, "",
		   "one flow besides the generator's; after: the number (from 1) of an earlier "
		   "flow line whose completion releases it"),
	/* [fault] */
	KEY_REAL("fault", "loss", fab.loss, "", K_OPEN_MAX, 0, 1, "0",
		 "random loss per link traversal"),
	KEY_REAL("fault", "reorder", fab.reorder, "", K_OPEN_MAX, 0, 1, "0",
		 "a frame arrives 1-3 of its serialization times late on a link"),
	KEY_SCALED("fault", "detect_us", fab.detect_ns, "us", 1e3, 0, 0, MAX_US, "100",
		   "link failure -> ECMP update"),
	KEY_CUSTOM("fault", "fail", K_REPEAT, parse_fail, "link at_us", NULL, "",
		   "a cable fails: l0-s1 (both directions) or l0>s1"),
	KEY_CUSTOM("fault", "rate", K_REPEAT, parse_rate, "link at_us gbps", NULL, "",
		   "a cable's rate changes"),
	/* [coll] (sim/coll.h, docs/collectives.md) */
	KEY_CHOICE("coll", "op", coll.op, sx_coll_op_names, "none",
		   "a collective among GPUs, each host being one node's NIC"),
	KEY_CHOICE("coll", "algo", coll.algo, sx_coll_algo_names, "hier",
		   "hier: aggregate inside the node, one NIC flow per node pair; flat: a ring / "
		   "direct sends over all GPUs"),
	KEY_UINT("coll", "gpus_per_node", coll.gpus_per_node, "", 1, 64, "8",
		 "GPUs of one NVLink domain, behind the node's NIC"),
	KEY_UINT("coll", "bytes", coll.bytes, "bytes", 1, 1ull << 30, "67108864",
		 "per GPU: the all-reduce buffer, or what it sends in the all-to-all"),
	KEY_UINT("coll", "chunk_bytes", coll.chunk_bytes, "bytes", 1, 1ull << 30, "1048576",
		 "hier all-reduce: pipeline chunk (coll/: SCALEX_COLL_CHUNK)"),
	KEY_UINT("coll", "pipeline_chunks", coll.pipeline_chunks, "", 1, 1024, "2",
		 "hier all-reduce: chunks on the network at once per node (coll/: 2 buffers)"),
	KEY_SCALED("coll", "nvlink_gbps", coll.nvlink_bps, "Gb/s", 1e9, 0, MIN_GBPS, MAX_GBPS,
		   "3600", "intra-node copy and reduction rate per GPU and direction (H100 "
		   "NVLink 4: 450 GB/s)"),
	KEY_SCALED("coll", "nvlink_latency_ns", coll.nvlink_latency_ns, "ns", 1, 0, 0, 1e9, "1000",
		   "per intra-node stage or ring hop"),
	/* [sim] */
	KEY_SCALED("sim", "duration_us", duration_ns, "us", 1e3, K_OPEN_MIN, 0, MAX_US, "1000",
		   "flows start before this; the measurement window ends here"),
	KEY_SCALED("sim", "drain_us", drain_ns, "us", 1e3, 0, 0, MAX_US, "0",
		   "then unfinished flows get this long (the run stops when all are done)"),
	KEY_SCALED("sim", "window_us", window_ns, "us", 1e3, 0, 0, MAX_US, "0",
		   "start of the measurement window, before duration_us; 0: duration_us / 2"),
	KEY_SCALED("sim", "sample_us", sample_ns, "us", 1e3, K_OPEN_MIN, 0, MAX_US, "10",
		   "time-series period"),
	KEY_BOOL("sim", "series", series, "0", "write queues.csv and rates.csv"),
	KEY_UINT("sim", "seed", seed, "", 0, UINT64_MAX, "1", "of every random draw"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* ---- values ---- */

static void
say(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

static void
fmt_real(char *b, size_t n, double v)
{
	snprintf(b, n, "%.10g", v);
}

/* The allowed values of @p k, in words. */
static void
key_range(const struct key *k, char *b, size_t n)
{
	char lo[32], hi[32];
	size_t i, len;

	switch (k->type) {
	case K_UINT:
		snprintf(b, n, "%llu .. %llu%s", (unsigned long long)k->imin,
			 (unsigned long long)k->imax, k->flags & K_POW2 ? ", a power of two" : "");
		break;
	case K_REAL:
	case K_SCALED:
		fmt_real(lo, sizeof(lo), k->min);
		fmt_real(hi, sizeof(hi), k->max);
		snprintf(b, n, "%c%s, %s%c", k->flags & K_OPEN_MIN ? '(' : '[', lo, hi,
			 k->flags & K_OPEN_MAX ? ')' : ']');
		break;
	case K_BOOL:
		snprintf(b, n, "0 or 1");
		break;
	case K_CHOICE:
		b[0] = '\0';
		for (i = 0; k->names[i] != NULL; i++) {
			len = strlen(b);
			snprintf(b + len, n - len, "%s%s", i ? ", " : "", k->names[i]);
		}
		break;
	default:
		snprintf(b, n, "%s", k->range);
		break;
	}
}

/* A whole decimal number without sign. */
static int
parse_uint(const char *v, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = x;
	return 0;
}

/* A finite real (strtod's syntax: no nan, no inf). */
static int
parse_finite(const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end != '\0')
		return -EINVAL;
	if (!isfinite(x))
		return -ERANGE;
	*out = x;
	return 0;
}

static bool
in_range(const struct key *k, double x)
{
	return (k->flags & K_OPEN_MIN ? x > k->min : x >= k->min) &&
	       (k->flags & K_OPEN_MAX ? x < k->max : x <= k->max);
}

static void
store_uint(void *p, size_t size, uint64_t x)
{
	if (size == 1) {
		uint8_t y = (uint8_t)x;

		memcpy(p, &y, 1);
	} else if (size == 4) {
		uint32_t y = (uint32_t)x;

		memcpy(p, &y, 4);
	} else {
		memcpy(p, &x, 8);
	}
}

/* Set key @p k of @p c from @p v; 0, or -EINVAL with the reason in @p why. */
static int
key_set(struct sx_scn_cfg *c, const struct key *k, const char *v, char *why, size_t n)
{
	char *p = (char *)c + k->off, r[160];
	uint64_t u;
	double x;
	int rc;
	size_t i;

	switch (k->type) {
	case K_UINT:
		rc = parse_uint(v, &u);
		if (rc == -EINVAL) {
			key_range(k, r, sizeof(r));
			say(why, n, "not a whole number; allowed: %s", r);
			return -EINVAL;
		}
		if (rc < 0 || u < k->imin || u > k->imax || ((k->flags & K_POW2) && (u & (u - 1)))) {
			key_range(k, r, sizeof(r));
			say(why, n, "out of range; allowed: %s%s%s", r, *k->unit ? " " : "", k->unit);
			return -EINVAL;
		}
		store_uint(p, k->size, u);
		return 0;
	case K_REAL:
	case K_SCALED:
		rc = parse_finite(v, &x);
		key_range(k, r, sizeof(r));
		if (rc < 0 || !in_range(k, x)) {
			say(why, n, "%s; allowed: %s%s%s",
			    rc == -EINVAL   ? "not a number"
			    : rc == -ERANGE ? "not a finite number"
					    : "out of range",
			    r, *k->unit ? " " : "", k->unit);
			return -EINVAL;
		}
		if (k->type == K_REAL) {
			memcpy(p, &x, sizeof(x));
		} else {
			/* the range keeps x * scale far below 2^63 */
			u = (uint64_t)(x * k->scale + 0.5);
			memcpy(p, &u, sizeof(u));
		}
		return 0;
	case K_BOOL: {
		bool b;

		if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
			b = true;
		} else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
			   !strcmp(v, "off")) {
			b = false;
		} else {
			say(why, n, "not a boolean; allowed: 0, 1, true, false, yes, no, on, off");
			return -EINVAL;
		}
		memcpy(p, &b, sizeof(b));
		return 0;
	}
	case K_CHOICE:
		for (i = 0; k->names[i] != NULL; i++) {
			if (strcmp(v, k->names[i]) == 0) {
				if (k->size == sizeof(bool)) {
					bool b = i != 0;

					memcpy(p, &b, sizeof(b));
				} else {
					store_uint(p, k->size, i);
				}
				return 0;
			}
		}
		key_range(k, r, sizeof(r));
		say(why, n, "unknown; allowed: %s", r);
		return -EINVAL;
	case K_STR:
		if (strlen(v) >= k->size) {
			say(why, n, "longer than %zu characters", k->size - 1);
			return -EINVAL;
		}
		strcpy(p, v);
		return 0;
	case K_CUSTOM:
		return k->parse(c, v, why, n);
	}
	return -EINVAL;
}

static const struct key *
key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			return &keys[i];
	}
	return NULL;
}

/* ---- custom keys ---- */

static int
parse_cc(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	size_t len;
	unsigned int i;

	if (strcmp(v, "none") != 0 && sx_cc_find(v) == NULL) {
		say(why, n, "no such congestion control; known: none");
		for (i = 0; sx_cc_at(i) != NULL; i++) {
			len = strlen(why);
			snprintf(why + len, n - len, ", %s", sx_cc_at(i)->name);
		}
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->cc)) {
		say(why, n, "longer than %zu characters", sizeof(c->cc) - 1);
		return -EINVAL;
	}
	strcpy(c->cc, v);
	return 0;
}

static int
parse_cc_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || eq == v) {
		say(why, n, "expected name=value");
		return -EINVAL;
	}
	if (c->ncc_param == SX_SCN_MAX_CC_PARAMS) {
		say(why, n, "more than %u cc_param entries", SX_SCN_MAX_CC_PARAMS);
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->cc_param[0])) {
		say(why, n, "longer than %zu characters", sizeof(c->cc_param[0]) - 1);
		return -EINVAL;
	}
	strcpy(c->cc_param[c->ncc_param++], v);
	return 0;
}

static int
parse_wan_cc(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	struct sx_scn_cfg t;

	t.cc[0] = '\0';
	if (parse_cc(&t, v, why, n) < 0)
		return -EINVAL;
	_Static_assert(sizeof(t.cc) == sizeof(c->gw_wan_cc), "one size of CC name");
	strcpy(c->gw_wan_cc, t.cc);
	return 0;
}

static int
parse_wan_cc_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || eq == v) {
		say(why, n, "expected name=value");
		return -EINVAL;
	}
	if (c->ngw_wan_cc_param == SX_SCN_MAX_CC_PARAMS) {
		say(why, n, "more than %u wan_cc_param entries", SX_SCN_MAX_CC_PARAMS);
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->gw_wan_cc_param[0])) {
		say(why, n, "longer than %zu characters", sizeof(c->gw_wan_cc_param[0]) - 1);
		return -EINVAL;
	}
	strcpy(c->gw_wan_cc_param[c->ngw_wan_cc_param++], v);
	return 0;
}

/* ---- path selection (docs/multipath.md) ---- */

static int
parse_path(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	if (sx_path_check(v, SX_REL_SR) == -ENOENT) {
		say(why, n, "no such path policy");
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->path)) {
		say(why, n, "longer than %zu characters", sizeof(c->path) - 1);
		return -EINVAL;
	}
	strcpy(c->path, v);
	return 0;
}

static int
parse_path_param(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || eq == v) {
		say(why, n, "expected name=value");
		return -EINVAL;
	}
	if (c->npath_param == SX_SCN_MAX_PATH_PARAMS) {
		say(why, n, "more than %u path_param entries", SX_SCN_MAX_PATH_PARAMS);
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->path_param[0])) {
		say(why, n, "longer than %zu characters", sizeof(c->path_param[0]) - 1);
		return -EINVAL;
	}
	strcpy(c->path_param[c->npath_param++], v);
	return 0;
}

/* Split @p v into at most @p max blank-separated words (modifies @p buf). */
static unsigned int
words(char *buf, size_t cap, const char *v, char **w, unsigned int max)
{
	unsigned int nw = 0;
	char *save = NULL, *t;

	snprintf(buf, cap, "%s", v);
	for (t = strtok_r(buf, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (nw == max)
			return max + 1;
		w[nw++] = t;
	}
	return nw;
}

/* A time in us within [0, MAX_US], as ns. */
static int
parse_at_us(const char *v, const char *what, uint64_t *ns, char *why, size_t n)
{
	double x;

	if (parse_finite(v, &x) < 0 || x < 0 || x > MAX_US) {
		say(why, n, "%s '%s': allowed: a finite number in [0, %.10g] us", what, v, MAX_US);
		return -EINVAL;
	}
	*ns = (uint64_t)(x * 1e3 + 0.5);
	return 0;
}

static int
parse_flow(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	struct sx_scn_flow_spec fs = {0}, *nf;
	char buf[256], *w[5];
	unsigned int nw = words(buf, sizeof(buf), v, w, 5);
	uint64_t src, dst, after = 0;

	if (nw < 3 || nw > 5) {
		say(why, n, "expected: src dst bytes [start_us [after]]");
		return -EINVAL;
	}
	if (parse_uint(w[0], &src) < 0 || parse_uint(w[1], &dst) < 0 || src >= (1u << 24) ||
	    dst >= (1u << 24)) {
		say(why, n, "src and dst: host numbers in 0 .. %u", (1u << 24) - 1);
		return -EINVAL;
	}
	if (src == dst) {
		say(why, n, "src and dst are the same host");
		return -EINVAL;
	}
	if (parse_uint(w[2], &fs.bytes) < 0 || fs.bytes == 0 || fs.bytes > MAX_FLOW_BYTES) {
		say(why, n, "bytes '%s': allowed: 1 .. %llu", w[2], (unsigned long long)MAX_FLOW_BYTES);
		return -EINVAL;
	}
	if (nw >= 4 && parse_at_us(w[3], "start_us", &fs.start_ns, why, n) < 0)
		return -EINVAL;
	/* a dependency on an earlier flow line: no cycle can form */
	if (nw == 5 && (parse_uint(w[4], &after) < 0 || after < 1 || after > c->nflows)) {
		say(why, n, "after '%s': the number of an earlier flow line, 1 .. %u", w[4],
		    c->nflows);
		return -EINVAL;
	}
	fs.after = (uint32_t)after;
	fs.src = (uint32_t)src;
	fs.dst = (uint32_t)dst;
	nf = realloc(c->flows, (c->nflows + 1) * sizeof(*nf));
	if (nf == NULL) {
		say(why, n, "out of memory");
		return -EINVAL;
	}
	c->flows = nf;
	c->flows[c->nflows++] = fs;
	return 0;
}

static int
parse_link_event(struct sx_scn_cfg *c, const char *v, bool rate, char *why, size_t n)
{
	struct sx_scn_link_event e = {0};
	unsigned int want = rate ? 3 : 2;
	char buf[256], *w[3];
	double gbps;

	if (words(buf, sizeof(buf), v, w, 3) != want) {
		say(why, n, rate ? "expected: link at_us gbps" : "expected: link at_us");
		return -EINVAL;
	}
	if (c->nevents == SX_SCN_MAX_EVENTS) {
		say(why, n, "more than %u fail and rate entries", SX_SCN_MAX_EVENTS);
		return -EINVAL;
	}
	if (strlen(w[0]) >= sizeof(e.link)) {
		say(why, n, "link name longer than %zu characters", sizeof(e.link) - 1);
		return -EINVAL;
	}
	strcpy(e.link, w[0]);
	if (parse_at_us(w[1], "at_us", &e.at_ns, why, n) < 0)
		return -EINVAL;
	if (rate) {
		if (parse_finite(w[2], &gbps) < 0 || gbps < MIN_GBPS || gbps > MAX_GBPS) {
			say(why, n, "gbps '%s': allowed: a finite number in [%g, %g] Gb/s", w[2],
			    MIN_GBPS, MAX_GBPS);
			return -EINVAL;
		}
		e.rate_bps = (uint64_t)(gbps * 1e9 + 0.5);
	}
	c->events[c->nevents++] = e;
	return 0;
}

static int
parse_fail(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	return parse_link_event(c, v, false, why, n);
}

static int
parse_rate(struct sx_scn_cfg *c, const char *v, char *why, size_t n)
{
	return parse_link_event(c, v, true, why, n);
}

/* ---- defaults ---- */

void
sx_scn_cfg_init(struct sx_scn_cfg *c)
{
	char why[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		/* the table's own defaults are valid (tests/sim checks it) */
		if (keys[i].def != NULL && key_set(c, &keys[i], keys[i].def, why, sizeof(why)) < 0)
			abort();
	}
	strcpy(c->dir, ".");
	/* K_STR keys carry no default of their own */
	strcpy(c->gw_wan_cc_preset, "longhaul");
}

void
sx_scn_cfg_fini(struct sx_scn_cfg *c)
{
	free(c->flows);
	c->flows = NULL;
	c->nflows = 0;
}

/* ---- files ---- */

struct load_ctx {
	struct sx_scn_cfg *cfg;
	FILE *err;
	const char *name; /* for messages */
	FILE *f;          /* the source: a file, */
	const char *text; /* or a string */
	size_t pos;
	unsigned int line;
	unsigned int first_bad; /* the first line with a bad entry, 0: none */
};

static void
bad_line(struct load_ctx *l, const char *fmt, ...)
{
	va_list ap;

	if (l->first_bad == 0)
		l->first_bad = l->line;
	if (l->err == NULL)
		return;
	fprintf(l->err, "%s:%u: ", l->name, l->line);
	va_start(ap, fmt);
	vfprintf(l->err, fmt, ap);
	va_end(ap);
	fputc('\n', l->err);
}

/*
 * inih's reader: one line per call, as inih counts them, with leading
 * blanks removed (no multi-line values: an indented key is a key). A line
 * inih would reject without calling the handler (no '=', an unclosed
 * section, one longer than inih's buffer) is reported here, with its line
 * number, and handed on as a comment.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct load_ctx *l = stream;
	size_t len, skip;
	bool whole;
	char *s;

	if (l->f != NULL) {
		if (fgets(str, num, l->f) == NULL)
			return NULL;
		len = strlen(str);
		whole = (len > 0 && str[len - 1] == '\n') || feof(l->f);
		if (!whole) {
			int ch;

			while ((ch = fgetc(l->f)) != EOF && ch != '\n')
				;
		}
	} else {
		const char *t = l->text + l->pos, *nl;

		if (*t == '\0')
			return NULL;
		nl = strchr(t, '\n');
		len = nl != NULL ? (size_t)(nl - t) + 1 : strlen(t);
		whole = len < (size_t)num;
		if (!whole) {
			memcpy(str, t, (size_t)num - 1);
			str[num - 1] = '\0';
		} else {
			memcpy(str, t, len);
			str[len] = '\0';
		}
		l->pos += len;
	}
	l->line++;
	skip = strspn(str, " \t\r");
	memmove(str, str + skip, strlen(str + skip) + 1);
	if (!whole) {
		bad_line(l, "line longer than %d characters", num - 2);
		strcpy(str, ";\n");
		return str;
	}
	s = str;
	if (*s == '\0' || *s == '\n' || *s == ';' || *s == '#')
		return str;
	if (*s == '[') {
		if (strchr(s, ']') == NULL) {
			bad_line(l, "expected '[section]'");
			strcpy(str, ";\n");
		}
		return str;
	}
	len = strcspn(s, "=:;");
	if (s[len] != '=' && s[len] != ':') {
		bad_line(l, "expected 'key = value' or '[section]': %.*s", (int)strcspn(s, "\r\n"), s);
		strcpy(str, ";\n");
	} else if (len == 0) {
		bad_line(l, "no key before '%c'", s[len]);
		strcpy(str, ";\n");
	}
	return str;
}

static int
on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	const struct key *k = key_find(section, name);
	char why[320];

	if (k == NULL) {
		bad_line(l, "[%s] %s: unknown key (scalex-sim --help lists them)", section, name);
		return 1;
	}
	if (key_set(l->cfg, k, value, why, sizeof(why)) < 0)
		bad_line(l, "[%s] %s = %s: %s", section, name, value, why);
	return 1; /* go on: report every bad line */
}

static int
load(struct load_ctx *l)
{
	int rc = ini_parse_stream(reader, l, on_ini_entry, l);

	if (rc == -2) {
		if (l->err != NULL)
			fprintf(l->err, "%s: out of memory\n", l->name);
		return -ENOMEM;
	}
	if (rc > 0 && l->first_bad == 0) {
		/* what inih rejected and the reader let through */
		l->line = (unsigned int)rc;
		bad_line(l, "not an INI line");
	}
	return (int)l->first_bad;
}

int
sx_scn_load(struct sx_scn_cfg *cfg, const char *path, FILE *err)
{
	struct load_ctx l = {.cfg = cfg, .err = err, .name = path};
	const char *slash = strrchr(path, '/');
	struct stat st;
	int rc;

	if (slash == NULL) {
		strcpy(cfg->dir, ".");
	} else if ((size_t)(slash - path) < sizeof(cfg->dir)) {
		memcpy(cfg->dir, path, (size_t)(slash - path));
		cfg->dir[slash - path] = '\0';
		if (slash == path)
			strcpy(cfg->dir, "/");
	}
	l.f = fopen(path, "r");
	if (l.f == NULL) {
		rc = -errno;
		if (err != NULL)
			fprintf(err, "%s: %s\n", path, strerror(-rc));
		return rc;
	}
	/* fopen() opens a directory and fgets() then reads nothing */
	if (fstat(fileno(l.f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(l.f);
		if (err != NULL)
			fprintf(err, "%s: is a directory, not a configuration file\n", path);
		return -EISDIR;
	}
	rc = load(&l);
	if (rc == 0 && ferror(l.f)) {
		if (err != NULL)
			fprintf(err, "%s: read error\n", path);
		rc = -EIO;
	}
	fclose(l.f);
	return rc;
}

int
sx_scn_load_string(struct sx_scn_cfg *cfg, const char *name, const char *text, FILE *err)
{
	struct load_ctx l = {.cfg = cfg, .err = err, .name = name, .text = text};

	return load(&l);
}

int
sx_scn_set(struct sx_scn_cfg *cfg, const char *assignment, FILE *err)
{
	char buf[256], why[320], *dot, *eq;
	const struct key *k;

	if (strlen(assignment) >= sizeof(buf))
		goto bad;
	strcpy(buf, assignment);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (dot == NULL || eq == NULL || dot > eq)
		goto bad;
	*dot = '\0';
	*eq = '\0';
	k = key_find(buf, dot + 1);
	if (k == NULL) {
		if (err != NULL)
			fprintf(err, "-s %s: unknown key [%s] %s (scalex-sim --help lists them)\n",
				assignment, buf, dot + 1);
		return -EINVAL;
	}
	if (key_set(cfg, k, eq + 1, why, sizeof(why)) == 0)
		return 0;
	if (err != NULL)
		fprintf(err, "-s %s: [%s] %s = %s: %s\n", assignment, buf, dot + 1, eq + 1, why);
	return -EINVAL;
bad:
	if (err != NULL)
		fprintf(err, "-s %s: expected section.key=value\n", assignment);
	return -EINVAL;
}

/* ---- relations between keys ---- */

static int
check_fail(FILE *err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		fputs("config: ", err);
		va_start(ap, fmt);
		vfprintf(err, fmt, ap);
		va_end(ap);
		fputc('\n', err);
	}
	return -EINVAL;
}

int
sx_scn_check(const struct sx_scn_cfg *c, FILE *err)
{
	const struct sx_fabric_cfg *f = &c->fab;
	uint64_t hosts = (uint64_t)f->hosts_per_leaf * f->leaves * f->dcs;
	bool cc_on = c->cc[0] != '\0' && strcmp(c->cc, "none") != 0;
	const struct sx_cc_ops *ops = cc_on ? sx_cc_find(c->cc) : NULL;
	uint32_t i;

	if (f->kmin_bytes > f->kmax_bytes)
		return check_fail(err, "[switch] kmin_bytes = %llu is above kmax_bytes = %llu",
				  (unsigned long long)f->kmin_bytes,
				  (unsigned long long)f->kmax_bytes);
	if (f->pfc && f->pfc_xon_bytes > f->pfc_xoff_bytes)
		return check_fail(err, "[switch] pfc_xon_bytes = %llu is above pfc_xoff_bytes = %llu",
				  (unsigned long long)f->pfc_xon_bytes,
				  (unsigned long long)f->pfc_xoff_bytes);
	if ((f->leaves > 1 || f->dcs > 1) && f->spines == 0)
		return check_fail(err, "[topology] spines = 0: %s needs at least one spine",
				  f->dcs > 1 ? "more than one DC" : "more than one leaf");
	if (hosts >= (1u << 24) - 1)
		return check_fail(err, "%llu hosts: at most %u (addresses 10.a.b.c)",
				  (unsigned long long)hosts, (1u << 24) - 2);
	if (c->window_ns >= c->duration_ns)
		return check_fail(err,
				  "[sim] window_us = %.3f is not before the end of the measured "
				  "run (duration_us = %.3f); 0 puts it at the middle",
				  (double)c->window_ns / 1e3, (double)c->duration_ns / 1e3);
	/* A policy that reorders needs a receiver that places out of order. */
	if (sx_path_check(c->path, c->rel) == -EINVAL)
		return check_fail(err, "[transport] path = %s needs reliability = sr (it sends a "
				       "QP over several paths)",
				  c->path);
	if (!cc_on && (c->cc_preset[0] != '\0' || c->ncc_param > 0))
		return check_fail(err, "[transport] %s needs a congestion control (cc is none)",
				  c->ncc_param ? "cc_param" : "cc_preset");
	if (ops != NULL && c->cc_preset[0] != '\0') {
		for (i = 0; i < ops->npresets && strcmp(ops->presets[i].name, c->cc_preset); i++)
			;
		if (i == ops->npresets)
			return check_fail(err, "[transport] cc_preset = %s: %s has no such preset",
					  c->cc_preset, ops->name);
	}
	if (c->gw) {
		bool wan_on = strcmp(c->gw_wan_cc, "none") != 0;
		const struct sx_cc_ops *wops = wan_on ? sx_cc_find(c->gw_wan_cc) : NULL;

		if (f->dcs < 2 || (uint64_t)f->hosts_per_leaf * f->leaves < 2)
			return check_fail(err, "[gateway] enable needs dcs >= 2 and two hosts or more "
					       "per DC (the last is the gateway)");
		if (c->gw_staging_bytes < c->gw_chunk_bytes + SX_SCN_GW_HDR_BYTES)
			return check_fail(err, "[gateway] staging_bytes = %llu holds no slot of "
					       "chunk_bytes = %llu plus its %u-byte header",
					  (unsigned long long)c->gw_staging_bytes,
					  (unsigned long long)c->gw_chunk_bytes, SX_SCN_GW_HDR_BYTES);
		/* the preset has a default (longhaul): only parameters need a CC */
		if (!wan_on && c->ngw_wan_cc_param > 0)
			return check_fail(err, "[gateway] wan_cc_param needs a wan_cc (wan_cc is none)");
		if (wops != NULL && c->gw_wan_cc_preset[0] != '\0') {
			for (i = 0; i < wops->npresets &&
				    strcmp(wops->presets[i].name, c->gw_wan_cc_preset);
			     i++)
				;
			if (i == wops->npresets)
				return check_fail(err,
						  "[gateway] wan_cc_preset = %s: %s has no such preset",
						  c->gw_wan_cc_preset, wops->name);
		}
	}
	for (i = 0; i < c->nflows; i++) {
		if (c->flows[i].src >= hosts || c->flows[i].dst >= hosts)
			return check_fail(err, "[workload] flow %u -> %u: the fabric has hosts 0 .. %llu",
					  c->flows[i].src, c->flows[i].dst,
					  (unsigned long long)hosts - 1);
	}
	switch (c->wl.kind) {
	case SX_WL_INCAST:
	case SX_WL_PERMUTATION:
	case SX_WL_ALLTOALL:
	case SX_WL_MOE:
	case SX_WL_ALLREDUCE:
		if (c->wl.flow_bytes == 0)
			return check_fail(err, "[workload] type = %s needs flow_bytes",
					  sx_wl_kind_name(c->wl.kind));
		break;
	case SX_WL_CDF:
		if (c->cdf_path[0] == '\0')
			return check_fail(err, "[workload] type = cdf needs cdf (a file)");
		break;
	default:
		break;
	}
	if (c->wl.kind != SX_WL_NONE && hosts < 2)
		return check_fail(err, "[workload] type = %s needs two hosts or more",
				  sx_wl_kind_name(c->wl.kind));
	if (c->wl.kind == SX_WL_INCAST && (c->wl.receiver >= hosts || c->wl.senders >= hosts))
		return check_fail(err,
				  "[workload] incast: receiver = %u and senders = %u must be below "
				  "the %llu hosts",
				  c->wl.receiver, c->wl.senders, (unsigned long long)hosts);
	if (c->wl.kind == SX_WL_MOE && c->wl.moe_hot_experts >= hosts)
		return check_fail(err, "[workload] moe_hot_experts = %u: fewer than the %llu hosts",
				  c->wl.moe_hot_experts, (unsigned long long)hosts);
	/* the MoE generator draws every token of every host up front */
	if (c->wl.kind == SX_WL_MOE &&
	    (c->wl.flow_bytes + c->wl.moe_token_bytes - 1) / c->wl.moe_token_bytes * hosts >
		    MAX_MOE_TOKENS)
		return check_fail(err,
				  "[workload] moe: %llu hosts x flow_bytes / moe_token_bytes tokens "
				  "is more than %llu draws; use larger tokens",
				  (unsigned long long)hosts, (unsigned long long)MAX_MOE_TOKENS);
	if (c->wl.kind == SX_WL_ALLREDUCE && c->wl.flow_bytes < hosts)
		return check_fail(err,
				  "[workload] allreduce: flow_bytes = %llu is below the %llu hosts "
				  "(a chunk per host)",
				  (unsigned long long)c->wl.flow_bytes, (unsigned long long)hosts);
	if (c->coll.op != SX_COLL_NONE) {
		uint64_t gpus = hosts * c->coll.gpus_per_node;

		if (c->wl.kind != SX_WL_NONE || c->nflows != 0)
			return check_fail(err, "[coll] op = %s: no [workload] type or flow beside it",
					  sx_coll_op_names[c->coll.op]);
		if (hosts < 2)
			return check_fail(err, "[coll] op = %s needs two hosts (nodes) or more",
					  sx_coll_op_names[c->coll.op]);
		if (c->coll.op == SX_COLL_ALLREDUCE && c->coll.bytes < gpus)
			return check_fail(err,
					  "[coll] bytes = %llu is below the %llu GPUs (a piece per GPU)",
					  (unsigned long long)c->coll.bytes, (unsigned long long)gpus);
		if (c->coll.op == SX_COLL_ALLTOALL &&
		    c->coll.bytes * c->coll.gpus_per_node > MAX_FLOW_BYTES)
			return check_fail(err,
					  "[coll] alltoall: bytes x gpus_per_node (a node pair's "
					  "message at most) is above %llu",
					  (unsigned long long)MAX_FLOW_BYTES);
		if (c->coll.op == SX_COLL_ALLTOALL &&
		    (c->coll.bytes + c->wl.moe_token_bytes - 1) / c->wl.moe_token_bytes * gpus >
			    MAX_MOE_TOKENS)
			return check_fail(err,
					  "[coll] alltoall: %llu GPUs x bytes / moe_token_bytes tokens "
					  "is more than %llu draws; use larger tokens",
					  (unsigned long long)gpus, (unsigned long long)MAX_MOE_TOKENS);
		if (c->coll.op == SX_COLL_ALLTOALL && c->wl.moe_hot_experts >= gpus)
			return check_fail(err, "[workload] moe_hot_experts = %u: fewer than the %llu GPUs",
					  c->wl.moe_hot_experts, (unsigned long long)gpus);
	}
	if (c->wl.cross_dc && (f->dcs < 2 || hosts % f->dcs != 0))
		return check_fail(err, "[wan] cross needs dcs >= 2");
	return 0;
}

/* ---- the table, for people ---- */

static const char *
key_type_name(const struct key *k)
{
	switch (k->type) {
	case K_UINT:
		return "integer";
	case K_REAL:
	case K_SCALED:
		return "real";
	case K_BOOL:
		return "boolean";
	case K_CHOICE:
		return "choice";
	default:
		return k->flags & K_REPEAT ? "text, repeatable" : "text";
	}
}

static const char *
key_default(const struct key *k)
{
	if (k->def_doc != NULL)
		return k->def_doc;
	return k->def != NULL ? k->def : "";
}

void
sx_scn_cc_list(FILE *out)
{
	for (unsigned int i = 0; sx_cc_at(i) != NULL; i++)
		fprintf(out, ", %s", sx_cc_at(i)->name);
}

void
sx_scn_keys_help(FILE *out)
{
	char r[160], name[64];
	size_t i;

	fprintf(out, "configuration keys (INI: [section] key = value; -s section.key=value):\n");
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		key_range(k, r, sizeof(r));
		snprintf(name, sizeof(name), "%s.%s", k->section, k->name);
		fprintf(out, "  %-28s %s%s%s: %s%s%s\n", name, r, *k->unit ? " " : "", k->unit,
			k->help, *key_default(k) ? "; default " : "", key_default(k));
	}
}

void
sx_scn_keys_md(FILE *out)
{
	char r[160];
	size_t i;

	fprintf(out, "| key | type | unit | default | allowed | meaning |\n");
	fprintf(out, "| --- | --- | --- | --- | --- | --- |\n");
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		key_range(k, r, sizeof(r));
		fprintf(out, "| `[%s] %s` | %s | %s | %s | %s | %s |\n", k->section, k->name,
			key_type_name(k), k->unit, key_default(k), r, k->help);
	}
}

int
sx_scn_keys_selfcheck(FILE *err)
{
	size_t i, j;
	int bad = 0;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		bool ok = true;

		switch (k->type) {
		case K_UINT:
			ok = (k->size == 1 || k->size == 4 || k->size == 8) && k->imin <= k->imax &&
			     (k->size == 8 || k->imax < (1ull << (8 * k->size)));
			break;
		case K_REAL:
			ok = k->size == sizeof(double) && k->min < k->max;
			break;
		case K_SCALED:
			/* the largest value scaled stays below 2^63 */
			ok = k->size == sizeof(uint64_t) && k->min >= 0 && k->min < k->max &&
			     k->max * k->scale < 9.2e18;
			break;
		case K_BOOL:
			ok = k->size == sizeof(bool);
			break;
		case K_CHOICE:
			ok = k->names != NULL && (k->size == sizeof(bool) || k->size == 4);
			break;
		case K_STR:
			ok = k->size > 1 && k->range != NULL;
			break;
		case K_CUSTOM:
			ok = k->parse != NULL && k->range != NULL;
			break;
		}
		ok = ok && k->help != NULL && k->unit != NULL && strchr(k->help, '|') == NULL;
		for (j = 0; j < i; j++) {
			if (!strcmp(keys[j].section, k->section) && !strcmp(keys[j].name, k->name))
				ok = false;
		}
		if (!ok) {
			bad = -EINVAL;
			if (err != NULL)
				fprintf(err, "key table: [%s] %s is malformed\n", k->section, k->name);
		}
	}
	return bad;
}
