/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reductions: the vectorized kernels against the scalar reference, bit for
 * bit, on arbitrary bit patterns (NaNs, infinities, subnormals, overflowing
 * integers), at odd lengths and offsets; and the half-precision conversions
 * against the compiler's own _Float16 (IEEE 754 binary16, round to nearest
 * even), an implementation independent of ours.
 */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <scalex/coll.h>

#include "../../coll/coll_priv.h"

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void
random_bytes(uint8_t *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)mix64(seed + i);
}

static bool
is_nan(const uint8_t *p, enum sx_coll_dtype dt)
{
	uint16_t h;
	uint32_t f;
	uint64_t d;

	switch (dt) {
	case SX_COLL_F16:
		memcpy(&h, p, 2);
		return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
	case SX_COLL_BF16:
		memcpy(&h, p, 2);
		return (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0;
	case SX_COLL_F32:
		memcpy(&f, p, 4);
		return (f & 0x7f800000) == 0x7f800000 && (f & 0x7fffff) != 0;
	case SX_COLL_F64:
		memcpy(&d, p, 8);
		return (d & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
		       (d & 0xfffffffffffffull) != 0;
	default:
		return false;
	}
}

/* Bit for bit, except which NaN payload an operation on two NaNs returns:
 * IEEE 754 leaves it open and the compiler may swap a commutative op's
 * operands. */
static void
expect_equal(const uint8_t *a, const uint8_t *r, size_t n, enum sx_coll_dtype dt)
{
	size_t es = sx_coll_dtype_size(dt), i;

	for (i = 0; i < n; i++) {
		if (memcmp(a + i * es, r + i * es, es) == 0)
			continue;
		if (is_nan(a + i * es, dt) && is_nan(r + i * es, dt))
			continue;
		fail_msg("%s element %zu differs from the reference", sx_coll_dtype_name(dt), i);
	}
}

static void
test_fast_equals_ref(void **state)
{
	enum { MAXN = 1031 };
	static uint8_t a[MAXN * 8 + 8], b[MAXN * 8 + 8], r[MAXN * 8 + 8];
	static const size_t lens[] = {0, 1, 3, 8, 15, 16, 17, 255, 256, 257, 1031};
	int dt, op;
	unsigned int k, off;

	(void)state;
	for (dt = 0; dt < SX_COLL_DTYPE_MAX; dt++)
		for (op = 0; op < SX_COLL_OP_MAX; op++)
			for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
				for (off = 0; off < 2; off++) {
					size_t es = sx_coll_dtype_size(dt), n = lens[k];
					/* off: an unaligned start (element-aligned) */
					uint8_t *pa = a + off * es, *pr = r + off * es;

					random_bytes(a, sizeof(a), (uint64_t)(dt * 100 + op * 10 + k));
					random_bytes(b, sizeof(b), (uint64_t)(dt * 100 + op * 10 + k) << 20);
					memcpy(r, a, sizeof(a));
					sx_coll_reduce_fast(pa, b, n, dt, op);
					sx_coll_reduce_ref(pr, b, n, dt, op);
					expect_equal(a, r, sizeof(a) / es, dt);
				}
}

/* Values with a known result, independent of either implementation. */
static void
test_known_values(void **state)
{
	float f[4] = {1.5f, -2.0f, 3.0f, 0.25f}, g[4] = {2.0f, 4.0f, -1.0f, 0.25f};
	int32_t i[3] = {INT32_MAX, -5, 7}, j[3] = {1, 3, -7};
	int64_t l[2] = {INT64_MIN, 10}, m[2] = {-1, -20};

	(void)state;
	sx_coll_reduce_fast(f, g, 4, SX_COLL_F32, SX_COLL_SUM);
	assert_true(f[0] == 3.5f && f[1] == 2.0f && f[2] == 2.0f && f[3] == 0.5f);
	sx_coll_reduce_fast(f, g, 4, SX_COLL_F32, SX_COLL_MAX);
	assert_true(f[0] == 3.5f && f[1] == 4.0f && f[2] == 2.0f && f[3] == 0.5f);
	sx_coll_reduce_fast(i, j, 3, SX_COLL_I32, SX_COLL_SUM);
	assert_int_equal(i[0], INT32_MIN); /* wraps */
	assert_int_equal(i[1], -2);
	assert_int_equal(i[2], 0);
	sx_coll_reduce_fast(l, m, 2, SX_COLL_I64, SX_COLL_MIN);
	assert_true(l[0] == INT64_MIN && l[1] == -20);
	sx_coll_reduce_fast(l, m, 2, SX_COLL_I64, SX_COLL_PROD);
	assert_true(l[0] == INT64_MIN && l[1] == 400);
}

#if defined(__FLT16_MAX__)
static void
test_f16_against_float16(void **state)
{
	uint32_t h, k;

	(void)state;
	for (h = 0; h < 65536; h++) {
		_Float16 x;
		float mine, ref;

		memcpy(&x, &(uint16_t){(uint16_t)h}, 2);
		mine = sx_coll_f16_to_f32((uint16_t)h);
		ref = (float)x;
		if (isnan(ref))
			assert_true(isnan(mine));
		else
			assert_memory_equal(&mine, &ref, 4);
	}
	for (k = 0; k < 2000000; k++) {
		uint32_t bits = (uint32_t)mix64(k);
		float f;
		_Float16 x;
		uint16_t mine, ref;

		/* Half of them near the binary16 range, to hit rounding and
		 * subnormals often. */
		if (k & 1)
			bits = (bits & 0x80000000u) | ((100u + (bits >> 23) % 60) << 23) |
			       (bits & 0x7fffff);
		memcpy(&f, &bits, 4);
		x = (_Float16)f;
		memcpy(&ref, &x, 2);
		mine = sx_coll_f32_to_f16(f);
		if (isnan(f))
			assert_true((mine & 0x7c00) == 0x7c00 && (mine & 0x3ff) != 0);
		else if (mine != ref)
			fail_msg("f32 %a (0x%08x): f16 0x%04x, _Float16 0x%04x", f, bits, mine, ref);
	}
}
#endif

/* bf16 is the top half of an f32, rounded to nearest even. */
static void
test_bf16(void **state)
{
	static const struct {
		uint32_t f32;
		uint16_t bf16;
	} v[] = {
		{0x3f800000, 0x3f80}, /* 1.0 */
		{0x3f808000, 0x3f80}, /* tie, even stays */
		{0x3f818000, 0x3f82}, /* tie, odd rounds up */
		{0x3f808001, 0x3f81}, /* above the tie */
		{0x7f7fffff, 0x7f80}, /* rounds to infinity */
		{0xff800000, 0xff80}, /* -inf */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		float f;

		memcpy(&f, &v[i].f32, 4);
		assert_int_equal(sx_coll_f32_to_bf16(f), v[i].bf16);
		if (v[i].f32 & 0xffff)
			continue;
		assert_true(sx_coll_bf16_to_f32(v[i].bf16) == f);
	}
	{
		uint32_t nan = 0x7fc00001;
		float f;

		memcpy(&f, &nan, 4);
		assert_true(isnan(sx_coll_bf16_to_f32(sx_coll_f32_to_bf16(f))));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_equals_ref),
		cmocka_unit_test(test_known_values),
#if defined(__FLT16_MAX__)
		cmocka_unit_test(test_f16_against_float16),
#endif
		cmocka_unit_test(test_bf16),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
