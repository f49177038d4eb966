/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the simulator's input parsers: the scenario configuration
 * (INI through inih and the key table, overrides, the checks between keys)
 * and the flow-size CDF (and the Poisson generator that draws from it).
 *
 * An input whose first byte is 'C' is a CDF (the rest of it); any other is
 * a configuration. Built with libFuzzer under clang (sim_fuzz), and with
 * tests/fuzz/replay.c for any compiler (sim_fuzz_replay) over the seeds in
 * tests/fuzz/sim_corpus.
 *
 * What must hold for any input: no crash, no sanitizer report, no hang;
 * a configuration that loads and passes sx_scn_check() has every value in
 * its key's range; a CDF that parses has a finite mean of at least one
 * byte, draws sizes within its range, and its generator stops.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "sim_fuzz: %s\n", what);
		abort();
	}
}

static void
fuzz_config(const char *text)
{
	struct sx_scn_cfg cfg;
	char line[256];
	const char *p;
	size_t n;

	sx_scn_cfg_init(&cfg);
	if (sx_scn_load_string(&cfg, "fuzz.ini", text, NULL) == 0 && sx_scn_check(&cfg, NULL) == 0) {
		/* what the run would rely on */
		check(cfg.duration_ns > 0 && cfg.duration_ns <= 100000000000ull, "duration");
		check(cfg.window_ns < cfg.duration_ns, "window");
		check(cfg.fab.kmin_bytes <= cfg.fab.kmax_bytes, "kmin <= kmax");
		check(cfg.fab.host_rate_bps >= 1000000 && cfg.fab.host_rate_bps <= 10000000000000ull,
		      "host rate");
		check(cfg.fab.pmax >= 0 && cfg.fab.pmax <= 1, "pmax");
		check(cfg.wl.load > 0 && cfg.wl.load <= 1, "load");
		check(cfg.fab.loss >= 0 && cfg.fab.loss < 1, "loss");
		check(cfg.mtu >= 256 && cfg.mtu <= 4096 && (cfg.mtu & (cfg.mtu - 1)) == 0, "mtu");
		check(cfg.sample_ns > 0, "sample");
	}
	/* each line again as a -s override */
	for (p = text; *p != '\0'; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			sx_scn_set(&cfg, line, NULL);
		}
	}
	sx_scn_cfg_fini(&cfg);
}

static void
fuzz_cdf(const char *text)
{
	struct sx_cdf cdf;
	struct sx_wl_cfg c = {.kind = SX_WL_CDF,
			      .nhosts = 4,
			      .seed = 1,
			      .load = 1,
			      .host_rate_bps = 100000000000ull,
			      .stop_ns = 1000000,
			      .max_flows = 256};
	struct sx_workload w;
	struct sx_flow f;
	struct sx_rng rng;
	double mean;
	int i;

	if (sx_cdf_parse(&cdf, "fuzz.cdf", text, NULL) != 0)
		return;
	mean = sx_cdf_mean(&cdf);
	check(isfinite(mean) && mean >= 1 && mean <= (double)SX_CDF_MAX_BYTES, "cdf mean");
	sx_rng_seed(&rng, 7);
	for (i = 0; i < 64; i++) {
		uint64_t b = sx_cdf_sample(&cdf, &rng);

		check(b >= 1 && b <= SX_CDF_MAX_BYTES, "cdf sample");
	}
	c.cdf = &cdf;
	check(sx_wl_init(&w, &c) == 0, "cdf workload");
	for (i = 0; sx_wl_next(&w, &f); i++) {
		check(i < 256, "max_flows");
		check(f.src != f.dst && f.bytes >= 1, "cdf flow");
	}
	sx_wl_fini(&w);
	sx_cdf_free(&cdf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	bool cdf = size > 0 && data[0] == 'C';

	if (cdf) {
		data++;
		size--;
	}
	/* the parsers take C strings: a NUL ends the text */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cdf)
		fuzz_cdf(text);
	else
		fuzz_config(text);
	free(text);
	return 0;
}
