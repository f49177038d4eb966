/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic generators: which host sends how many bytes to which, when.
 * Independent of the simulator (no fabric, no engine), so scalex-perf can
 * drive real processes with the same patterns: incast N:1, permutation,
 * all-to-all, flow sizes drawn from a CDF with Poisson arrivals at a target
 * load, a mixture-of-experts all-to-all with skewed expert popularity, and
 * the phases of a ring all-reduce.
 *
 * Flows come out in start order from sx_wl_next(); every draw comes from
 * the generator's own seeded PRNG, so a seed names one sequence. A flow may
 * name an earlier flow (by its position in that sequence) whose completion
 * releases it: the all-reduce's step k + 1 waits for step k's chunk.
 *
 * Units: time in ns, sizes in bytes, rates in bit/s, load in [0, 1] of each
 * host's link rate.
 */
#ifndef SX_SIM_WORKLOAD_H
#define SX_SIM_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../dataplane/util/rng.h"

enum sx_wl_kind {
	SX_WL_NONE,
	SX_WL_INCAST,      /* senders hosts -> one receiver, flow_bytes each */
	SX_WL_PERMUTATION, /* every host sends flow_bytes to one other; a derangement
			    * (cross_dc: to a host of the next DC) */
	SX_WL_ALLTOALL,    /* every host sends flow_bytes to every other */
	SX_WL_CDF,         /* sizes from a CDF, Poisson arrivals, uniform pairs */
	SX_WL_MOE,         /* every host sends flow_bytes in tokens to the others,
			    * each token to an expert of skewed popularity */
	SX_WL_ALLREDUCE,   /* ring all-reduce of flow_bytes: 2 (N - 1) dependent steps */
	SX_WL_KINDS,
};

/* The kinds' names, indexed by kind, NULL-terminated. */
extern const char *const sx_wl_kind_names[SX_WL_KINDS + 1];

const char *sx_wl_kind_name(enum sx_wl_kind k);
/* The kind named @p name, or SX_WL_KINDS. */
enum sx_wl_kind sx_wl_kind_parse(const char *name);

/* A piecewise-linear CDF of flow sizes. */
struct sx_cdf {
	uint32_t n;
	double *bytes; /* ascending */
	double *pct;   /* cumulative percent, ascending, last = 100 */
};

/* The largest flow a CDF may name: one WRITE (32-bit length). */
#define SX_CDF_MAX_BYTES (1ull << 31)
/* The largest CDF file read. */
#define SX_CDF_MAX_FILE (1 << 20)

/*
 * Parse "bytes percent" lines ('#' comments, blank lines): finite numbers,
 * sizes in [0, SX_CDF_MAX_BYTES], percents in [0, 100], neither
 * decreasing, the last percent 100 and a mean of at least one byte. A first
 * percent above 0 is a point mass at the first size. 0, or -EINVAL with a
 * message naming @p name and the line on @p err, or -ENOMEM.
 */
int sx_cdf_parse(struct sx_cdf *cdf, const char *name, const char *text, FILE *err);
/* The same from a file; also -errno when it cannot be read. */
int sx_cdf_load(struct sx_cdf *cdf, const char *path, FILE *err);
void sx_cdf_free(struct sx_cdf *cdf);
/* Mean flow size, bytes. */
double sx_cdf_mean(const struct sx_cdf *cdf);
/* A size drawn by inverse transform (at least 1 byte). */
uint64_t sx_cdf_sample(const struct sx_cdf *cdf, struct sx_rng *rng);

/* sx_flow.after of a flow that starts at its start_ns, released by nothing. */
#define SX_FLOW_INDEPENDENT 0u

struct sx_flow {
	uint32_t src;
	uint32_t dst;
	uint64_t bytes;
	uint64_t start_ns; /* from the workload's origin */
	/* SX_FLOW_INDEPENDENT, or 1 + the sx_wl_next() position of the flow
	 * whose completion releases this one (it then starts at the later of
	 * that completion and start_ns); always an earlier flow */
	uint64_t after;
};

/* MoE token size when the configuration names none: a 2048-wide bf16 hidden
 * state. */
#define SX_WL_MOE_TOKEN_BYTES 4096u

struct sx_wl_cfg {
	enum sx_wl_kind kind;
	uint32_t nhosts;
	uint64_t flow_bytes;      /* incast, permutation, all-to-all */
	uint32_t senders;         /* incast: 0 = every other host */
	uint32_t receiver;        /* incast */
	uint64_t start_ns;        /* when the fixed patterns start */
	const struct sx_cdf *cdf; /* cdf */
	double load;              /* cdf: offered load per host */
	uint64_t host_rate_bps;   /* cdf: what load is a fraction of */
	uint64_t stop_ns;         /* cdf: no arrival at or after this */
	uint32_t max_flows;       /* 0: no limit */
	uint32_t dcs;             /* hosts split in this many equal DCs (0, 1: one) */
	bool cross_dc;            /* permutation: DC d sends to DC d + 1 (mod dcs) */
	/* moe: expert popularity. With moe_hot_experts > 0, that many hosts
	 * (chosen by the seed) are hot and a token goes to one of them with
	 * probability moe_hot_share; otherwise expert ranks follow Zipf with
	 * exponent moe_skew (0: uniform). */
	double moe_skew;
	uint32_t moe_hot_experts;
	double moe_hot_share;     /* [0, 1] */
	uint32_t moe_token_bytes; /* 0: SX_WL_MOE_TOKEN_BYTES */
	uint64_t seed;
};

struct sx_workload {
	struct sx_wl_cfg cfg;
	struct sx_rng rng;
	uint32_t *perm; /* permutation; moe: hosts by popularity rank */
	uint64_t *moe_bytes; /* moe: [src * nhosts + dst] */
	uint64_t i;     /* flows produced */
	uint64_t j;     /* all-to-all round */
	double next_ns; /* cdf: next arrival */
	double mean_gap_ns;
};

/* 0, -EINVAL (bad configuration), -ENOMEM. */
int sx_wl_init(struct sx_workload *w, const struct sx_wl_cfg *cfg);
void sx_wl_fini(struct sx_workload *w);
/* The next flow in start order; false when the workload is exhausted. */
bool sx_wl_next(struct sx_workload *w, struct sx_flow *f);

#endif
