/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex's one percentile module: quantiles of sorted samples (linear
 * interpolation between closest ranks, Hyndman & Fan type 7, numpy's
 * default) and a log-linear histogram for streams too long to keep. The
 * simulator, the fabric emulator's reports and the tools' latency tables all
 * compute "p99" here, so the same word means the same number everywhere.
 * Header-only and pure.
 */
#ifndef SX_UTIL_QUANTILE_H
#define SX_UTIL_QUANTILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int
sx_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline int
sx_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static inline void
sx_sort_doubles(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), sx_cmp_double);
}

static inline void
sx_sort_u64(uint64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), sx_cmp_u64);
}

/* Where the q-quantile of n sorted values lies: between ranks *i and
 * *i + 1 (0-based), at fraction *frac of the way; n > 0. */
static inline void
sx_quantile_rank(size_t n, double q, size_t *i, double *frac)
{
	double pos = q * (double)(n - 1);

	*i = (size_t)pos;
	*frac = pos - (double)*i;
	if (*i + 1 >= n) {
		*i = n - 1;
		*frac = 0;
	}
}

/* The q-quantile (0 <= q <= 1) of @p n sorted values; 0 for none. */
static inline double
sx_quantile_sorted(const double *v, size_t n, double q)
{
	double frac;
	size_t i;

	if (n == 0)
		return 0;
	sx_quantile_rank(n, q, &i, &frac);
	return frac == 0 ? v[i] : v[i] + frac * (v[i + 1] - v[i]);
}

/* The same for sorted integers (latency samples in ns). */
static inline double
sx_quantile_sorted_u64(const uint64_t *v, size_t n, double q)
{
	double frac;
	size_t i;

	if (n == 0)
		return 0;
	sx_quantile_rank(n, q, &i, &frac);
	return frac == 0 ? (double)v[i] : (double)v[i] + frac * ((double)v[i + 1] - (double)v[i]);
}

/*
 * Log-linear histogram of non-negative integers: exact below 16, then 16
 * sub-buckets per power of two (relative error under 6.25%).
 */
#define SX_HIST_SUB     16
#define SX_HIST_BUCKETS (SX_HIST_SUB * 48)

struct sx_hist {
	uint64_t count;
	uint64_t max;
	double sum;
	uint64_t b[SX_HIST_BUCKETS];
};

static inline unsigned int
sx_hist_index(uint64_t v)
{
	unsigned int e;

	if (v < SX_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* >= 4 */
	return (e - 3) * SX_HIST_SUB + (unsigned int)((v >> (e - 4)) & (SX_HIST_SUB - 1));
}

static inline void
sx_hist_add(struct sx_hist *h, uint64_t v)
{
	unsigned int i = sx_hist_index(v);

	if (i >= SX_HIST_BUCKETS)
		i = SX_HIST_BUCKETS - 1;
	h->b[i]++;
	h->count++;
	h->sum += (double)v;
	if (v > h->max)
		h->max = v;
}

/* The upper bound of the bucket holding the q-quantile (0 <= q <= 1),
 * nearest rank; never above the largest value seen. */
static inline uint64_t
sx_hist_quantile(const struct sx_hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if ((double)want < q * (double)h->count)
		want++; /* ceil without libm */
	if (want == 0)
		want = 1;
	for (i = 0; i < SX_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			unsigned int e;
			uint64_t lo, hi;

			if (i < SX_HIST_SUB)
				return i;
			e = i / SX_HIST_SUB + 3;
			lo = (uint64_t)(SX_HIST_SUB + i % SX_HIST_SUB) << (e - 4);
			hi = lo + (1ull << (e - 4)) - 1;
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}

#endif
