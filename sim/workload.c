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
 * The MoE all-to-all (expert-parallel dispatch) cuts each host's flow_bytes
 * into tokens of moe_token_bytes (the last one shorter) and sends each token
 * to one expert, an expert being another host. A seeded shuffle ranks the
 * hosts by popularity. With H = moe_hot_experts > 0 the first H are hot and
 *
 *   P(token -> hot) = moe_hot_share, uniform over the hot hosts but the
 *   sender, and uniform over the cold ones otherwise,
 *
 * so the hot experts receive moe_hot_share of all bytes (less when H = 1:
 * the one hot host cannot send to itself). Without hot experts, the host of
 * rank r (from 1) has the Zipf weight 1 / r^moe_skew and a token goes to
 * host d != src with probability w_d / (sum of w - w_src). Each ordered pair
 * is then one flow of its tokens' bytes, all starting at start_ns, in the
 * all-to-all's round order; pairs that drew no token have no flow.
 *
 * The ring all-reduce of flow_bytes over N hosts (ring in host order) is
 * 2 (N - 1) steps: N - 1 of reduce-scatter, then N - 1 of all-gather. In
 * step k host r sends one chunk (flow_bytes / N, the first flow_bytes mod N
 * chunks one byte more) to r + 1: chunk r - k (mod N) while reducing, then
 * chunk r + 1 - (k - N + 1) (mod N). Step k + 1 of host r is released by
 * step k of host r - 1, the chunk r has to reduce or forward; the flows of
 * step 0 start at start_ns.
 *
 * Units: time in ns, sizes in bytes, rates in bit/s.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workload.h"

const char *const sx_wl_kind_names[SX_WL_KINDS + 1] = {
	[SX_WL_NONE] = "none",
	[SX_WL_INCAST] = "incast",
	[SX_WL_PERMUTATION] = "permutation",
	[SX_WL_ALLTOALL] = "alltoall",
	[SX_WL_CDF] = "cdf",
	[SX_WL_MOE] = "moe",
	[SX_WL_ALLREDUCE] = "allreduce",
	[SX_WL_KINDS] = NULL,
};

const char *
sx_wl_kind_name(enum sx_wl_kind k)
{
	return k < SX_WL_KINDS ? sx_wl_kind_names[k] : "invalid";
}

enum sx_wl_kind
sx_wl_kind_parse(const char *name)
{
	unsigned int k;

	for (k = 0; k < SX_WL_KINDS; k++) {
		if (strcmp(name, sx_wl_kind_names[k]) == 0)
			return (enum sx_wl_kind)k;
	}
	return SX_WL_KINDS;
}

/* A CDF entry's message: "name:line: why". */
static int
cdf_bad(FILE *err, const char *name, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		if (line)
			fprintf(err, "%s:%u: ", name, line);
		else
			fprintf(err, "%s: ", name);
		va_start(ap, fmt);
		vfprintf(err, fmt, ap);
		va_end(ap);
		fputc('\n', err);
	}
	return -EINVAL;
}

/* One number of a CDF line: finite, whole token. */
static bool
cdf_number(char **p, double *out)
{
	char *end;

	*out = strtod(*p, &end);
	if (end == *p || (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\r' &&
			  *end != '\n'))
		return false;
	*p = end;
	return isfinite(*out);
}

int
sx_cdf_parse(struct sx_cdf *cdf, const char *name, const char *text, FILE *err)
{
	const char *t = text;
	uint32_t cap = 0;
	unsigned int line = 0;
	char buf[256];
	int rc = 0;

	memset(cdf, 0, sizeof(*cdf));
	while (*t != '\0') {
		size_t len = strcspn(t, "\n");
		char *p = buf, *hash;
		double b, pct;

		line++;
		if (len >= sizeof(buf)) {
			rc = cdf_bad(err, name, line, "line longer than %zu characters",
				     sizeof(buf) - 1);
			goto out;
		}
		memcpy(buf, t, len);
		buf[len] = '\0';
		t += len + (t[len] == '\n');
		hash = strchr(buf, '#');
		if (hash != NULL)
			*hash = '\0';
		p += strspn(p, " \t\r");
		if (*p == '\0')
			continue;
		if (!cdf_number(&p, &b) || !cdf_number(&p, &pct) || p[strspn(p, " \t\r")] != '\0') {
			rc = cdf_bad(err, name, line,
				     "expected two finite numbers, 'bytes percent': %s", buf);
			goto out;
		}
		if (b < 0 || b > SX_CDF_MAX_BYTES) {
			rc = cdf_bad(err, name, line, "size %.10g: allowed [0, %llu] bytes", b,
				     (unsigned long long)SX_CDF_MAX_BYTES);
			goto out;
		}
		if (pct < 0 || pct > 100) {
			rc = cdf_bad(err, name, line, "percent %.10g: allowed [0, 100]", pct);
			goto out;
		}
		if (cdf->n > 0 && (b < cdf->bytes[cdf->n - 1] || pct < cdf->pct[cdf->n - 1])) {
			rc = cdf_bad(err, name, line,
				     "'%.10g %.10g' after '%.10g %.10g': sizes and percents must "
				     "not decrease",
				     b, pct, cdf->bytes[cdf->n - 1], cdf->pct[cdf->n - 1]);
			goto out;
		}
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
		cdf->bytes[cdf->n] = b;
		cdf->pct[cdf->n] = pct;
		cdf->n++;
	}
	if (cdf->n < 2) {
		rc = cdf_bad(err, name, 0, "%u entries: a CDF needs two or more", cdf->n);
		goto out;
	}
	if (cdf->pct[cdf->n - 1] != 100) {
		rc = cdf_bad(err, name, 0, "the last entry is at %.10g%%, not 100%%",
			     cdf->pct[cdf->n - 1]);
		goto out;
	}
	/* a flow carries at least one byte; a mean below that means flows of
	 * nothing, and Poisson arrivals at a load of nothing never end */
	if (!(sx_cdf_mean(cdf) >= 1)) {
		rc = cdf_bad(err, name, 0, "mean flow size %.10g bytes: at least 1 needed",
			     sx_cdf_mean(cdf));
		goto out;
	}
out:
	if (rc < 0)
		sx_cdf_free(cdf);
	return rc;
}

int
sx_cdf_load(struct sx_cdf *cdf, const char *path, FILE *err)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	FILE *f;
	int rc;

	memset(cdf, 0, sizeof(*cdf));
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		if (err != NULL)
			fprintf(err, "%s: %s\n", path, strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SX_CDF_MAX_FILE) {
		fclose(f);
		return cdf_bad(err, path, 0, "not a regular file of at most %d bytes",
			       SX_CDF_MAX_FILE);
	}
	len = (size_t)st.st_size;
	text = malloc(len + 1);
	if (text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(text, 1, len, f) != len) {
		free(text);
		fclose(f);
		return cdf_bad(err, path, 0, "read error");
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len)
		rc = cdf_bad(err, path, 0, "a NUL byte in the file");
	else
		rc = sx_cdf_parse(cdf, path, text, err);
	free(text);
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

	/* The mass at the first size, then uniform within each segment: its
	 * mass times its midpoint. */
	m = cdf->pct[0] / 100.0 * cdf->bytes[0];
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
	if (u < cdf->pct[0])
		b = cdf->bytes[0]; /* the mass at the first size */
	else if (cdf->pct[i] == cdf->pct[i - 1])
		b = cdf->bytes[i];
	else
		b = cdf->bytes[i - 1] + (cdf->bytes[i] - cdf->bytes[i - 1]) *
						(u - cdf->pct[i - 1]) / (cdf->pct[i] - cdf->pct[i - 1]);
	return b < 1 ? 1 : (uint64_t)(b + 0.5);
}

/* Host d != src drawn with probability w[d] / (total - w[src]); cum[d] is
 * the sum of w[0..d]. */
static uint32_t
moe_zipf_draw(const double *w, const double *cum, uint32_t n, uint32_t src, struct sx_rng *rng)
{
	double u = sx_rng_double(rng) * (cum[n - 1] - w[src]);
	uint32_t lo = 0, hi = n - 1;

	/* skip the sender's own segment of the line */
	if (u >= cum[src] - w[src])
		u += w[src];
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* rounding can land on the sender's edge: take its neighbour */
	return lo == src ? (src + 1) % n : lo;
}

/* The k-th of the @p cnt hosts of ranks [first, first + cnt) of @p rank_host,
 * the sender left out (k < cnt - 1 when the sender is among them). */
static uint32_t
moe_class_pick(const uint32_t *rank_host, const uint32_t *rank_of, uint32_t first, uint32_t cnt,
	       uint32_t src, uint32_t k)
{
	uint32_t r = rank_of[src];

	if (r >= first && r < first + cnt && first + k >= r)
		k++;
	return rank_host[first + k];
}

/* Every pair's bytes, drawn token by token. */
static int
moe_init(struct sx_workload *w)
{
	const struct sx_wl_cfg *c = &w->cfg;
	uint32_t n = c->nhosts, h = c->moe_hot_experts, i, *rank_of;
	uint64_t tok = c->moe_token_bytes ? c->moe_token_bytes : SX_WL_MOE_TOKEN_BYTES;
	uint64_t ntok = (c->flow_bytes + tok - 1) / tok, t;
	double *wt, *cum;
	int rc = -ENOMEM;

	w->perm = malloc(n * sizeof(*w->perm));
	w->moe_bytes = calloc((size_t)n * n, sizeof(*w->moe_bytes));
	rank_of = malloc(n * sizeof(*rank_of));
	wt = malloc(n * sizeof(*wt));
	cum = malloc(n * sizeof(*cum));
	if (w->perm == NULL || w->moe_bytes == NULL || rank_of == NULL || wt == NULL ||
	    cum == NULL)
		goto out;
	/* popularity ranks: a Fisher-Yates shuffle of the hosts */
	for (i = 0; i < n; i++)
		w->perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		uint32_t j = sx_rng_below(&w->rng, i + 1), x = w->perm[i];

		w->perm[i] = w->perm[j];
		w->perm[j] = x;
	}
	for (i = 0; i < n; i++) {
		rank_of[w->perm[i]] = i;
		/* w_d = 1 / rank^s, rank from 1 */
		wt[w->perm[i]] = pow((double)(i + 1), -c->moe_skew);
	}
	for (i = 0; i < n; i++)
		cum[i] = (i ? cum[i - 1] : 0) + wt[i];
	for (i = 0; i < n; i++) {
		uint32_t hot_o = h ? h - (rank_of[i] < h) : 0, cold_o = n - 1 - hot_o;

		for (t = 0; t < ntok; t++) {
			uint64_t b = t + 1 < ntok ? tok : c->flow_bytes - (ntok - 1) * tok;
			uint32_t d;

			if (h == 0) {
				d = moe_zipf_draw(wt, cum, n, i, &w->rng);
			} else if (cold_o == 0 ||
				   (hot_o > 0 && sx_rng_double(&w->rng) < c->moe_hot_share)) {
				d = moe_class_pick(w->perm, rank_of, 0, h, i,
						   sx_rng_below(&w->rng, hot_o));
			} else {
				d = moe_class_pick(w->perm, rank_of, h, n - h, i,
						   sx_rng_below(&w->rng, cold_o));
			}
			w->moe_bytes[(size_t)i * n + d] += b;
		}
	}
	rc = 0;
out:
	free(rank_of);
	free(wt);
	free(cum);
	return rc;
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
	/* a mean below one byte would make the arrivals endless */
	if (cfg->kind == SX_WL_CDF &&
	    (cfg->cdf == NULL || !(cfg->load > 0 && cfg->load <= 1) || cfg->host_rate_bps == 0 ||
	     !(sx_cdf_mean(cfg->cdf) >= 1)))
		return -EINVAL;
	if (cfg->cross_dc && (cfg->dcs < 2 || cfg->nhosts % cfg->dcs != 0))
		return -EINVAL;
	if (cfg->kind == SX_WL_MOE &&
	    (cfg->moe_hot_experts >= cfg->nhosts || !(cfg->moe_skew >= 0) ||
	     !(cfg->moe_hot_share >= 0 && cfg->moe_hot_share <= 1)))
		return -EINVAL;
	/* every chunk at least one byte */
	if (cfg->kind == SX_WL_ALLREDUCE && cfg->flow_bytes < cfg->nhosts)
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
	if (cfg->kind == SX_WL_MOE) {
		int rc = moe_init(w);

		if (rc < 0) {
			sx_wl_fini(w);
			return rc;
		}
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
	free(w->moe_bytes);
	w->moe_bytes = NULL;
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
	f->after = SX_FLOW_INDEPENDENT;
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
	case SX_WL_MOE:
		/* the all-to-all's order; w->j counts pairs visited, w->i flows */
		for (;;) {
			uint64_t k = w->j % n;

			if (w->j >= (uint64_t)n * (n - 1))
				return false;
			f->src = (uint32_t)k;
			f->dst = (uint32_t)((k + 1 + w->j / n) % n);
			w->j++;
			f->bytes = w->moe_bytes[(size_t)f->src * n + f->dst];
			if (f->bytes > 0)
				break;
		}
		break;
	case SX_WL_ALLREDUCE: {
		uint64_t step = w->i / n, steps = 2 * ((uint64_t)n - 1), chunk;
		uint32_t r = (uint32_t)(w->i % n);

		if (step >= steps)
			return false;
		if (step < n - 1)
			chunk = (r + n - step % n) % n;
		else
			chunk = (r + 1 + n - (step - (n - 1)) % n) % n;
		f->src = r;
		f->dst = (r + 1) % n;
		f->bytes = c->flow_bytes / n + (chunk < c->flow_bytes % n);
		if (step > 0)
			f->after = 1 + (step - 1) * n + (r + n - 1) % n;
		break;
	}
	default:
		return false;
	}
	w->i++;
	return true;
}
