/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reduction throughput: the vectorized kernel against the scalar reference
 * on the same data in the same run, as a ratio, per dtype (4 MiB; max for
 * floating point, sum for integers), best of 8 alternating rounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scalex/coll.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
rate(void (*fn)(void *, const void *, size_t, enum sx_coll_dtype, enum sx_coll_op), void *a,
     const void *b, size_t bytes, enum sx_coll_dtype dt)
{
	size_t n = bytes / sx_coll_dtype_size(dt);
	double t0 = now_s(), t;
	int reps = 0;

	do {
		fn(a, b, n, dt, dt == SX_COLL_I32 || dt == SX_COLL_I64 ? SX_COLL_SUM : SX_COLL_MAX);
		reps++;
		t = now_s() - t0;
	} while (t < 0.05);
	return (double)bytes * reps / t / 1e9;
}

int
main(void)
{
	size_t bytes = 4 << 20;
	uint8_t *a = malloc(bytes), *b = malloc(bytes);
	int dt;

	if (a == NULL || b == NULL)
		return 1;
	memset(a, 0, bytes);
	memset(b, 0x3c, bytes);
	printf("%-9s %12s %12s %7s\n", "dtype", "fast GB/s", "ref GB/s", "ratio");
	for (dt = 0; dt < SX_COLL_DTYPE_MAX; dt++) {
		double f = 0, r = 0, x;
		int round;

		/* Alternating, best of 8: a shared machine takes time slices
		 * from whichever runs. */
		for (round = 0; round < 8; round++) {
			memset(a, 0, bytes);
			x = rate(sx_coll_reduce_fast, a, b, bytes, dt);
			f = x > f ? x : f;
			memset(a, 0, bytes);
			x = rate(sx_coll_reduce_ref, a, b, bytes, dt);
			r = x > r ? x : r;
		}

		printf("%-9s %12.2f %12.2f %6.1fx\n", sx_coll_dtype_name(dt), f, r, f / r);
	}
	free(a);
	free(b);
	return 0;
}
