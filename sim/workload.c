/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic generators. The fixed patterns (incast, permutation, all-to-all)
 * start every flow at start_ns; the CDF workload draws Poisson arrivals
 * whose rate makes each host's offered load `load` of its link:
 *
 *   lambda = load * host_rate_bps / 8 * nhosts / mean_bytes   (flows per s)
 *
 * with the source and the destination uniform over distinct hosts, as HPCC's
 * and DCQCN's evaluations generate them.
 *
 * Units: time in ns, sizes in bytes, rates in bit/s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static const char *const kind_names[SX_WL_KINDS] = {
	[SX_WL_NONE] = "none",
	[SX_WL_INCAST] = "incast",
	[SX_WL_PERMUTATION] = "permutation",
	[SX_WL_ALLTOALL] = "alltoall",
	[SX_WL_CDF] = "cdf",
};

const char *
sx_wl_kind_name(enum sx_wl_kind k)
{
	return k < SX_WL_KINDS ? kind_names[k] : "invalid";
}

enum sx_wl_kind
sx_wl_kind_parse(const char *name)
{
	unsigned int k;

	for (k = 0; k < SX_WL_KINDS; k++) {
		if (strcmp(name, kind_names[k]) == 0)
			return (enum sx_wl_kind)k;
	}
	return SX_WL_KINDS;
}

int
sx_cdf_load(struct sx_cdf *cdf, const char *path)
{
	char line[256];
	uint32_t cap = 0;
	FILE *f;
	int rc = 0;

	memset(cdf, 0, sizeof(*cdf));
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		double b, p;
		char *hash = strchr(line, '#');

		if (hash != NULL)
			*hash = '\0';
		if (sscanf(line, "%lf %lf", &b, &p) != 2)
			continue;
		if (cdf->n == cap) {
			double *nb, *np;

			cap = cap ? 2 * cap : 32;
			nb = realloc(cdf->bytes, cap * sizeof(*nb));
			if (nb != NULL)
				cdf->bytes = nb;
			np = realloc(cdf->pct, cap * sizeof(*np));
			if (np != NULL)
				cdf->pct = np;
			if (nb == NULL || np == NULL) {
				rc = -ENOMEM;
				goto out;
			}
		}
		if (b < 0 || p < 0 || p > 100 ||
		    (cdf->n > 0 && (b < cdf->bytes[cdf->n - 1] || p < cdf->pct[cdf->n - 1]))) {
			rc = -EINVAL;
			goto out;
		}
		cdf->bytes[cdf->n] = b;
		cdf->pct[cdf->n] = p;
		cdf->n++;
	}
	if (cdf->n < 2 || cdf->pct[cdf->n - 1] != 100)
		rc = -EINVAL;
out:
	fclose(f);
	if (rc < 0)
		sx_cdf_free(cdf);
	return rc;
}

void
sx_cdf_free(struct sx_cdf *cdf)
{
	free(cdf->bytes);
	free(cdf->pct);
	memset(cdf, 0, sizeof(*cdf));
}

double
sx_cdf_mean(const struct sx_cdf *cdf)
{
	double m = 0;
	uint32_t i;

	/* Uniform within each segment: its mass times its midpoint. */
	for (i = 1; i < cdf->n; i++)
		m += (cdf->pct[i] - cdf->pct[i - 1]) / 100.0 * (cdf->bytes[i] + cdf->bytes[i - 1]) / 2;
	return m;
}

uint64_t
sx_cdf_sample(const struct sx_cdf *cdf, struct sx_rng *rng)
{
	double u = sx_rng_double(rng) * 100.0, b;
	uint32_t i;

	for (i = 1; i < cdf->n - 1 && cdf->pct[i] <= u; i++)
		;
	if (cdf->pct[i] == cdf->pct[i - 1])
		b = cdf->bytes[i];
	else
		b = cdf->bytes[i - 1] + (cdf->bytes[i] - cdf->bytes[i - 1]) *
						(u - cdf->pct[i - 1]) / (cdf->pct[i] - cdf->pct[i - 1]);
	return b < 1 ? 1 : (uint64_t)(b + 0.5);
}

int
sx_wl_init(struct sx_workload *w, const struct sx_wl_cfg *cfg)
{
	uint32_t i;

	memset(w, 0, sizeof(*w));
	if (cfg->kind == SX_WL_NONE || cfg->kind >= SX_WL_KINDS)
		return -EINVAL;
	if (cfg->kind != SX_WL_NONE && cfg->nhosts < 2)
		return -EINVAL;
	if (cfg->kind != SX_WL_CDF && cfg->flow_bytes == 0)
		return -EINVAL;
	if (cfg->kind == SX_WL_INCAST &&
	    (cfg->receiver >= cfg->nhosts || cfg->senders >= cfg->nhosts))
		return -EINVAL;
	if (cfg->kind == SX_WL_CDF &&
	    (cfg->cdf == NULL || cfg->load <= 0 || cfg->host_rate_bps == 0))
		return -EINVAL;
	if (cfg->cross_dc && (cfg->dcs < 2 || cfg->nhosts % cfg->dcs != 0))
		return -EINVAL;
	w->cfg = *cfg;
	sx_rng_seed(&w->rng, cfg->seed ^ 0x30c1d);
	if (cfg->kind == SX_WL_PERMUTATION && cfg->cross_dc) {
		uint32_t per = cfg->nhosts / cfg->dcs, *sigma;

		w->perm = malloc(cfg->nhosts * sizeof(*w->perm));
		sigma = malloc(per * sizeof(*sigma));
		if (w->perm == NULL || sigma == NULL) {
			free(sigma);
			return -ENOMEM;
		}
		/* one shuffle of the hosts of a DC (Fisher-Yates), used by
		 * every DC: each host of DC d + 1 receives exactly once */
		for (i = 0; i < per; i++)
			sigma[i] = i;
		for (i = per - 1; i > 0; i--) {
			uint32_t j = sx_rng_below(&w->rng, i + 1), t = sigma[i];

			sigma[i] = sigma[j];
			sigma[j] = t;
		}
		for (i = 0; i < cfg->nhosts; i++)
			w->perm[i] = (i / per + 1) % cfg->dcs * per + sigma[i % per];
		free(sigma);
	} else if (cfg->kind == SX_WL_PERMUTATION) {
		w->perm = malloc(cfg->nhosts * sizeof(*w->perm));
		if (w->perm == NULL)
			return -ENOMEM;
		for (i = 0; i < cfg->nhosts; i++)
			w->perm[i] = i;
		/* Sattolo's shuffle: one cycle through every host, so nobody
		 * sends to itself. */
		for (i = cfg->nhosts - 1; i > 0; i--) {
			uint32_t j = sx_rng_below(&w->rng, i), t = w->perm[i];

			w->perm[i] = w->perm[j];
			w->perm[j] = t;
		}
	}
	if (cfg->kind == SX_WL_CDF) {
		double flows_per_ns = cfg->load * (double)cfg->host_rate_bps / 8.0 * cfg->nhosts /
				      sx_cdf_mean(cfg->cdf) / 1e9;

		w->mean_gap_ns = 1.0 / flows_per_ns;
		w->next_ns = (double)cfg->start_ns + sx_rng_exp(&w->rng, w->mean_gap_ns);
	}
	if (cfg->kind == SX_WL_ALLTOALL)
		w->j = 1;
	return 0;
}

void
sx_wl_fini(struct sx_workload *w)
{
	free(w->perm);
	w->perm = NULL;
}

bool
sx_wl_next(struct sx_workload *w, struct sx_flow *f)
{
	const struct sx_wl_cfg *c = &w->cfg;
	uint32_t n = c->nhosts;

	if (c->max_flows && w->i >= c->max_flows)
		return false;
	f->start_ns = c->start_ns;
	f->bytes = c->flow_bytes;
	switch (c->kind) {
	case SX_WL_INCAST: {
		uint32_t senders = c->senders ? c->senders : n - 1;

		if (w->i >= senders)
			return false;
		/* the hosts after the receiver, wrapping: spread over leaves */
		f->src = (uint32_t)((c->receiver + 1 + w->i) % n);
		f->dst = c->receiver;
		break;
	}
	case SX_WL_PERMUTATION:
		if (w->i >= n)
			return false;
		f->src = (uint32_t)w->i;
		f->dst = w->perm[w->i];
		break;
	case SX_WL_ALLTOALL: {
		/* round j: every host sends to the host j after it */
		uint64_t k = w->i % n;

		if (w->i >= (uint64_t)n * (n - 1))
			return false;
		f->src = (uint32_t)k;
		f->dst = (uint32_t)((k + 1 + w->i / n) % n);
		break;
	}
	case SX_WL_CDF:
		if (c->stop_ns && w->next_ns >= (double)c->stop_ns)
			return false;
		f->start_ns = (uint64_t)w->next_ns;
		f->bytes = sx_cdf_sample(c->cdf, &w->rng);
		f->src = sx_rng_below(&w->rng, n);
		f->dst = sx_rng_below(&w->rng, n - 1);
		if (f->dst >= f->src)
			f->dst++;
		w->next_ns += sx_rng_exp(&w->rng, w->mean_gap_ns);
		break;
	default:
		return false;
	}
	w->i++;
	return true;
}
