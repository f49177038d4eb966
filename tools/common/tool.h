/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every scalex benchmark tool shares, as perftest shares it between
 * ib_write_bw, ib_send_lat and the rest: one option struct filled by one
 * parser, one result printer (a fixed perftest-like header and table, and
 * the same rows as JSON), and the arithmetic behind the numbers (bandwidth
 * meter, latency percentiles).
 *
 * A tool describes itself with a struct sx_tool_spec (its name and modes)
 * and calls sx_tool_parse(); everything after a "--" goes to DPDK's EAL.
 *
 * Units: sizes in bytes, times in ns unless named _us or _s, bandwidth in
 * Gb/s (10^9 bit/s, as perftest reports it), message rate in Mpps (10^6
 * messages/s).
 */
#ifndef SX_TOOL_H
#define SX_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <scalex/scalex.h>
#include <scalex/stats.h>

/* Exit status of every tool. */
enum sx_tool_exit {
	SX_TOOL_EXIT_OK = 0,
	SX_TOOL_EXIT_FAIL = 1,  /**< a completion error, a failed check, a setup error */
	SX_TOOL_EXIT_USAGE = 2, /**< bad command line */
	/** 128 + N: stopped by signal N (SIGINT: 130, SIGTERM: 143), as a shell
	 *  reports a process killed by it, after an orderly shutdown. */
	SX_TOOL_EXIT_SIGNAL_BASE = 128,
};

#define SX_TOOL_MIN_SIZE          1u
#define SX_TOOL_MAX_SIZE          (8u << 20) /* -a goes up to 8 MiB, as perftest */
#define SX_TOOL_ALL_MIN_SIZE      2u
#define SX_TOOL_MAX_QPS           64u
#define SX_TOOL_MAX_TX_DEPTH      4096u
#define SX_TOOL_MAX_DURATION_S    3600.0
#define SX_TOOL_DEFAULT_BOOT_PORT 18515
#define SX_TOOL_MAX_QP_TIMEOUT_US 10000000u
#define SX_TOOL_MAX_MIN_RTO_US    500000u /* the library's maximum RTO */
#define SX_TOOL_MAX_CC_PARAMS     32
#define SX_TOOL_MAX_PATH_PARAMS   8
/* How long any wait on the peer may last (--peer-timeout); a server waits
 * SX_TOOL_ACCEPT_FACTOR times as long for its client to connect. */
#define SX_TOOL_DEFAULT_PEER_TIMEOUT_S 30
#define SX_TOOL_MAX_PEER_TIMEOUT_S     3600
#define SX_TOOL_ACCEPT_FACTOR          4
#define SX_TOOL_MAX_NEIGHBORS          8

/** What a mode of a tool is. */
enum sx_tool_kind {
	SX_TOOL_BW,  /**< bandwidth table */
	SX_TOOL_LAT, /**< latency table */
};

struct sx_tool_mode {
	const char *name;
	enum sx_tool_kind kind;
	uint32_t default_size;  /**< -s when not given */
	uint64_t default_iters; /**< -n when neither -n nor -D is given */
	bool fixed_size; /**< the size is the operation's (atomics): no -s, no -a */
	bool single_qp;  /**< ping-pong: -q must be 1 */
	const char *help;
};

/** A tool: its name, one line about it, and its modes. */
struct sx_tool_spec {
	const char *prog;
	const char *summary;
	const struct sx_tool_mode *modes;
	unsigned int nmodes;
};

/** A static neighbor entry (--neighbor IP=MAC): frames to IP go to MAC. */
struct sx_tool_neighbor {
	uint8_t ip_version;
	uint8_t ip[16];
	uint8_t mac[6];
	const char *spec;
};

/** Every option of every tool; sx_tool_parse() fills it. */
struct sx_tool_opts {
	const char *prog;
	const struct sx_tool_mode *mode;
	unsigned int mode_idx;
	bool server;
	const char
	    *host; /**< bootstrap peer (client) or bind address (server, NULL: any) */
	uint16_t boot_port;
	uint32_t peer_timeout_ms; /**< bound of every wait on the peer */
	const char *dev;   /**< DPDK vdev or "port=N"; NULL: a default memif */
	char dev_buf[256]; /**< storage for the default dev */
	uint8_t ip_version;
	uint8_t ip[16];
	char ip_str[64];
	struct sx_tool_neighbor neighbor[SX_TOOL_MAX_NEIGHBORS];
	unsigned int nneighbors;
	uint32_t size;
	bool all_sizes;
	uint64_t iters; /**< per QP; 0 with a duration */
	bool iters_given;
	double duration_s; /**< 0: run iters */
	uint32_t qps;
	uint32_t mtu;
	enum sx_reliability rel;
	uint32_t tx_depth;
	uint32_t qp_timeout_us; /**< initial retransmit timeout; 0: the library's */
	uint32_t qp_min_rto_us; /**< floor of the estimated RTO; 0: the library's */
	uint32_t window_pkts;   /**< max_inflight_pkts of each QP; 0: the library's */
	struct sx_fault_dir fault_tx;
	struct sx_fault_dir fault_rx;
	const char *fault_tx_spec;
	const char *fault_rx_spec;
	uint64_t seed;
	const char *pcap;
	const char *json; /**< NULL: none; "-": stdout (the table goes to stderr) */
	FILE *json_fp;  /**< --json FILE, opened before the run (sx_tool_open_outputs) */
	FILE *trace_fp; /**< --trace FILE, likewise */
	bool verify;
	uint64_t warmup; /**< untimed messages per QP before each size */
	/* congestion control (docs/cc.md) */
	const char *cc;        /**< algorithm; NULL: none */
	const char *cc_preset; /**< NULL: the algorithm's default */
	const char *cc_params[SX_TOOL_MAX_CC_PARAMS]; /**< "name=value", in order */
	unsigned int ncc_params;
	const char *trace;     /**< CC rate trace CSV; NULL: none */
	uint64_t line_rate_bps; /**< the link rate CC assumes; 0: the library's */
	/* path selection (docs/multipath.md) */
	const char *path;      /**< policy; NULL: flow */
	const char *path_params[SX_TOOL_MAX_PATH_PARAMS]; /**< "name=value", in order */
	unsigned int npath_params;
	/* control plane (docs/tuning.md) */
	const char *ctl_sock;  /**< NULL: the default path; "none": no socket */
	int prom_port;         /**< -1: no endpoint; 0: any free port */
	const char *prom_addr; /**< NULL: 127.0.0.1 */
	/* EAL: argv[0] and the defaults, or argv[0] and what followed "--". */
	int eal_argc;
	char **eal_argv;
	bool eal_default; /**< no "--": the defaults above */
	int cpu;          /**< the CPU the main thread runs on, -1: the EAL's choice */
	char eal_prefix[64];
};

/**
 * Parse "PROG MODE [options] [-- EAL args]". Returns 0, or
 * SX_TOOL_EXIT_USAGE after printing why and the usage to stderr; for -h
 * prints the usage to stdout and returns -1 (the caller exits 0).
 * Never exits the process.
 */
int sx_tool_parse(const struct sx_tool_spec *spec, int argc, char **argv,
                  struct sx_tool_opts *o);
void sx_tool_usage(const struct sx_tool_spec *spec, FILE *out);
/* One line listing the registered CC algorithms and their presets (for --help). */
void sx_tool_print_cc(FILE *out);
void sx_tool_opts_free(struct sx_tool_opts *o);

/**
 * Open every output file the options name (--json, --trace) and check that
 * --pcap can be created, before any device starts: a bad path must not
 * cost a run. Returns 0, or SX_TOOL_EXIT_FAIL after saying why.
 * sx_tool_opts_free() closes what is still open.
 */
int sx_tool_open_outputs(struct sx_tool_opts *o);

/**
 * Remove the EAL runtime directories (/var/run/dpdk/<prog>-<pid>, or under
 * $XDG_RUNTIME_DIR for a non-root user) and the default control sockets
 * (/tmp/scalex-<pid>.sock, or under $SCALEX_CTL_DIR) that processes left
 * when they were killed: those whose PID no longer exists. Says on stderr
 * what it removed; returns how many.
 */
int sx_tool_clean_runtime(const char *prog);

/**
 * If @p dev is a memif server device whose socket file exists but nobody
 * listens on it (its server was killed), remove it: DPDK would refuse to
 * create the socket again. 1 if removed, 0 if not, -errno.
 */
int sx_tool_clean_memif_socket(const char *dev);

/**
 * Initialize DPDK's EAL with the arguments in @p o. With the default
 * arguments the EAL pins the main thread to lcore 0, so the two processes
 * of a pair would share one core and time-slice at the scheduler tick
 * (milliseconds per round trip); instead the server takes the first CPU
 * the process may use and the client the last (o->cpu). Explicit EAL
 * arguments (-l, --lcores) are left as they pin (o->cpu = -1). Returns 0
 * or -1 with rte_errno set (sx_eal_init()).
 */
int sx_tool_eal_init(struct sx_tool_opts *o);

/**
 * Apply the congestion-control options to an open context: preset, then
 * each --cc-param in order (all checked by sx_tool_parse() already), then
 * the trace file opened by sx_tool_open_outputs(). 0, or -1 after saying
 * why.
 */
int sx_tool_apply_cc(const struct sx_tool_opts *o, struct sx_context *ctx);

/**
 * Apply --path-param to an open context, in order. 0, or -1 after saying why.
 */
int sx_tool_apply_path(const struct sx_tool_opts *o, struct sx_context *ctx);

/** A plain unsigned decimal (no sign, no space, no hex) in [min, max]; 0 or -EINVAL. */
int sx_tool_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** A size with an optional K/M/G suffix (powers of 1024); 0 or -EINVAL. */
int sx_tool_parse_size(const char *s, uint64_t max, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Measurements                                                              */

/** Nanoseconds on CLOCK_MONOTONIC. */
uint64_t sx_tool_now_ns(void);

/**
 * Bandwidth meter: bytes completed per fixed time bucket from the start.
 * The average is bytes / (last completion - start); the peak is the best
 * average over any window of SX_TOOL_PEAK_WINDOW_NS or 1/20 of the run,
 * whichever is longer (so one lucky burst is not a "peak").
 */
#define SX_TOOL_BUCKET_NS      100000ull  /* 100 us */
#define SX_TOOL_PEAK_WINDOW_NS 1000000ull /* 1 ms */

struct sx_tool_bw {
	uint64_t start_ns;
	uint64_t last_ns;
	uint64_t bytes;
	uint64_t msgs;
	uint64_t *bucket; /* bytes per bucket */
	uint64_t nbucket;
	uint64_t cap;
};

void sx_tool_bw_start(struct sx_tool_bw *m, uint64_t now_ns);
/* 0 or -ENOMEM. */
int sx_tool_bw_add(struct sx_tool_bw *m, uint64_t now_ns, uint64_t bytes, uint64_t msgs);
void sx_tool_bw_fini(struct sx_tool_bw *m);

/** Growable array of latency samples (ns). */
struct sx_tool_lat {
	uint64_t *ns;
	uint64_t n;
	uint64_t cap;
};

int sx_tool_lat_add(struct sx_tool_lat *l, uint64_t ns);
void sx_tool_lat_fini(struct sx_tool_lat *l);

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

struct sx_tool_row {
	uint64_t bytes;
	uint64_t iters;
	union {
		struct {
			double peak_gbps;
			double avg_gbps;
			double mpps;
		} bw;
		struct {
			double min_us;
			double median_us;
			double avg_us;
			double p99_us;
			double p999_us;
			double max_us;
		} lat;
	};
};

/** Fill the BW columns of @p r from a meter. */
void sx_tool_row_bw(struct sx_tool_row *r, const struct sx_tool_bw *m);
/** Fill the latency columns from samples, each multiplied by @p scale
 *  (0.5 for a ping-pong's half round trip); sorts the samples. */
void sx_tool_row_lat(struct sx_tool_row *r, struct sx_tool_lat *l, double scale);

/** A name and a value: header settings and counters. */
struct sx_tool_kv {
	const char *key;
	char val[96];
};

struct sx_tool_counter {
	const char *group; /* "qp", "engine", "port" */
	const char *name;
	uint64_t value;
};

/**
 * The printer: human output to stdout (stderr with "--json -"), and, with
 * --json, one JSON document at sx_tool_report_end().
 */
struct sx_tool_report {
	const struct sx_tool_opts *o;
	FILE *out;
	enum sx_tool_kind kind;
	const char *title;
	struct sx_tool_kv *settings;
	unsigned int nsettings;
	struct sx_tool_row *rows;
	unsigned int nrows;
	unsigned int rows_cap;
	struct sx_tool_counter *counters;
	unsigned int ncounters;
	char note[256];
	bool table_started;
	FILE *json_fp; /**< --json FILE, the caller's o->json_fp handed over */
};

void sx_tool_report_init(struct sx_tool_report *r, const struct sx_tool_opts *o,
                         const char *title);
/** A header setting; printed by sx_tool_report_header(). */
void sx_tool_report_set(struct sx_tool_report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** The banner with every setting, then free-form lines (@p lines may be NULL). */
void sx_tool_report_header(struct sx_tool_report *r, const char *lines);
void sx_tool_report_row(struct sx_tool_report *r, const struct sx_tool_row *row);
void sx_tool_report_counters(struct sx_tool_report *r, const struct sx_tool_counter *c,
                             unsigned int n);
/**
 * The counters of @p ctx, read through the counters API
 * (<scalex/stats.h>): every QP counter summed over the QPs, then the
 * engine's and the port's; drop and fault counters only when non-zero.
 * @p cq_overflow: completions the application's CQs lost.
 */
void sx_tool_report_stats(struct sx_tool_report *r, struct sx_context *ctx,
                          uint64_t cq_overflow);
/** A line under the table, also kept as "note" in the JSON. */
void sx_tool_report_note(struct sx_tool_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Close the table, write the JSON; 0 or -errno (the JSON file). */
int sx_tool_report_end(struct sx_tool_report *r, int exit_status);
void sx_tool_report_fini(struct sx_tool_report *r);

struct sx_ctl;
/**
 * Start the control plane of @p ctx as the options say (control socket,
 * DPDK telemetry commands, Prometheus endpoint; tools/common/ctl.c).
 * Returns it (NULL with *failed false: nothing asked for), or NULL with
 * *failed true after saying why.
 */
struct sx_ctl *sx_tool_open_ctl(const struct sx_tool_opts *o, struct sx_context *ctx,
                                bool *failed);

#endif
