/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Element-wise reductions acc[i] = acc[i] op in[i] for every dtype and op.
 *
 * Two versions with the same per-element result: a scalar reference, one
 * element at a time through a switch, and the kernels the communicator
 * uses, loops the compiler vectorizes, built for AVX2 and for the baseline
 * with runtime dispatch (target_clones: an ifunc picks one at load time).
 * Reductions are element-wise, so vectorizing never reorders an element's
 * arithmetic: both versions agree bit for bit, NaNs included, as long as
 * the comparison in max/min is written the same way ((a > b) ? a : b).
 *
 * f16 and bf16 are reduced in f32 and rounded back to nearest even, one
 * rounding per step, as NCCL does for half types. Integer sum and product
 * wrap (two's complement), computed in unsigned arithmetic.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <scalex/coll.h>

#include "coll_priv.h"

float
sx_coll_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	float f;

	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13); /* inf or NaN, payload kept */
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man == 0) {
		bits = sign;
	} else {
		/* subnormal: normalize */
		exp = 113;
		while ((man & 0x400) == 0) {
			man <<= 1;
			exp--;
		}
		bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t
sx_coll_f32_to_f16(float f)
{
	uint32_t x, sign, man;
	int32_t exp;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000;
	exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	man = x & 0x7fffff;
	if (((x >> 23) & 0xff) == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	if (exp >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {
		uint32_t shift, half, r;

		if (exp < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		shift = (uint32_t)(14 - exp);
		r = man >> shift;
		half = 1u << (shift - 1);
		if ((man & ((half << 1) - 1)) > half || ((man & ((half << 1) - 1)) == half && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	{
		uint32_t r = ((uint32_t)exp << 10) | (man >> 13);
		uint32_t rem = man & 0x1fff;

		/* round to nearest even; a carry into the exponent is right */
		if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
}

float
sx_coll_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t
sx_coll_f32_to_bf16(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof(x));
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

/* ------------------------------------------------------------------------ */
/* Scalar reference                                                          */

static double
apply_d(double a, double b, enum sx_coll_op op)
{
	switch (op) {
	case SX_COLL_SUM:
		return a + b;
	case SX_COLL_PROD:
		return a * b;
	case SX_COLL_MAX:
		return a > b ? a : b;
	default:
		return a < b ? a : b;
	}
}

static float
apply_f(float a, float b, enum sx_coll_op op)
{
	switch (op) {
	case SX_COLL_SUM:
		return a + b;
	case SX_COLL_PROD:
		return a * b;
	case SX_COLL_MAX:
		return a > b ? a : b;
	default:
		return a < b ? a : b;
	}
}

static uint64_t
apply_i(int64_t a, int64_t b, enum sx_coll_op op)
{
	switch (op) {
	case SX_COLL_SUM:
		return (uint64_t)a + (uint64_t)b;
	case SX_COLL_PROD:
		return (uint64_t)a * (uint64_t)b;
	case SX_COLL_MAX:
		return (uint64_t)(a > b ? a : b);
	default:
		return (uint64_t)(a < b ? a : b);
	}
}

void
sx_coll_reduce_ref(void *acc, const void *in, size_t count, enum sx_coll_dtype dt,
		   enum sx_coll_op op)
{
	size_t i;

	for (i = 0; i < count; i++) {
		switch (dt) {
		case SX_COLL_F32: {
			float a, b;

			memcpy(&a, (char *)acc + 4 * i, 4);
			memcpy(&b, (const char *)in + 4 * i, 4);
			a = apply_f(a, b, op);
			memcpy((char *)acc + 4 * i, &a, 4);
			break;
		}
		case SX_COLL_F64: {
			double a, b;

			memcpy(&a, (char *)acc + 8 * i, 8);
			memcpy(&b, (const char *)in + 8 * i, 8);
			a = apply_d(a, b, op);
			memcpy((char *)acc + 8 * i, &a, 8);
			break;
		}
		case SX_COLL_F16:
		case SX_COLL_BF16: {
			uint16_t a, b;
			float fa, fb;

			memcpy(&a, (char *)acc + 2 * i, 2);
			memcpy(&b, (const char *)in + 2 * i, 2);
			fa = dt == SX_COLL_F16 ? sx_coll_f16_to_f32(a) : sx_coll_bf16_to_f32(a);
			fb = dt == SX_COLL_F16 ? sx_coll_f16_to_f32(b) : sx_coll_bf16_to_f32(b);
			fa = apply_f(fa, fb, op);
			a = dt == SX_COLL_F16 ? sx_coll_f32_to_f16(fa) : sx_coll_f32_to_bf16(fa);
			memcpy((char *)acc + 2 * i, &a, 2);
			break;
		}
		case SX_COLL_I32: {
			int32_t a, b;
			uint32_t r;

			memcpy(&a, (char *)acc + 4 * i, 4);
			memcpy(&b, (const char *)in + 4 * i, 4);
			r = (uint32_t)apply_i(a, b, op);
			memcpy((char *)acc + 4 * i, &r, 4);
			break;
		}
		case SX_COLL_I64: {
			int64_t a, b;
			uint64_t r;

			memcpy(&a, (char *)acc + 8 * i, 8);
			memcpy(&b, (const char *)in + 8 * i, 8);
			r = apply_i(a, b, op);
			memcpy((char *)acc + 8 * i, &r, 8);
			break;
		}
		default:
			return;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Vectorized kernels                                                        */

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && defined(__GNUC__) && \
	!defined(__clang__)
#define SX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SX_CLONES
#endif

#define SX_KERNEL(name, T, EXPR)                                                     \
	SX_CLONES static void name(T *restrict a, const T *restrict b, size_t n)    \
	{                                                                            \
		size_t i;                                                            \
		for (i = 0; i < n; i++) {                                            \
			T x = a[i], y = b[i];                                        \
			a[i] = (EXPR);                                               \
		}                                                                    \
	}

SX_KERNEL(k_f32_sum, float, x + y)
SX_KERNEL(k_f32_prod, float, x *y)
SX_KERNEL(k_f32_max, float, x > y ? x : y)
SX_KERNEL(k_f32_min, float, x < y ? x : y)
SX_KERNEL(k_f64_sum, double, x + y)
SX_KERNEL(k_f64_prod, double, x *y)
SX_KERNEL(k_f64_max, double, x > y ? x : y)
SX_KERNEL(k_f64_min, double, x < y ? x : y)
SX_KERNEL(k_u32_sum, uint32_t, x + y)
SX_KERNEL(k_u32_prod, uint32_t, x *y)
SX_KERNEL(k_i32_max, int32_t, x > y ? x : y)
SX_KERNEL(k_i32_min, int32_t, x < y ? x : y)
SX_KERNEL(k_u64_sum, uint64_t, x + y)
SX_KERNEL(k_u64_prod, uint64_t, x *y)
SX_KERNEL(k_i64_max, int64_t, x > y ? x : y)
SX_KERNEL(k_i64_min, int64_t, x < y ? x : y)

/* Half types: widen a block to f32, reduce it with the f32 kernel, narrow. */
#define SX_HALF_BLOCK 256

static void
reduce_half(uint16_t *a, const uint16_t *b, size_t n, enum sx_coll_dtype dt, enum sx_coll_op op)
{
	static void (*const k[SX_COLL_OP_MAX])(float *restrict, const float *restrict, size_t) = {
		[SX_COLL_SUM] = k_f32_sum,
		[SX_COLL_PROD] = k_f32_prod,
		[SX_COLL_MAX] = k_f32_max,
		[SX_COLL_MIN] = k_f32_min,
	};
	float fa[SX_HALF_BLOCK], fb[SX_HALF_BLOCK];
	size_t i, j, m;

	for (i = 0; i < n; i += m) {
		m = n - i < SX_HALF_BLOCK ? n - i : SX_HALF_BLOCK;
		for (j = 0; j < m; j++) {
			fa[j] = dt == SX_COLL_F16 ? sx_coll_f16_to_f32(a[i + j])
						  : sx_coll_bf16_to_f32(a[i + j]);
			fb[j] = dt == SX_COLL_F16 ? sx_coll_f16_to_f32(b[i + j])
						  : sx_coll_bf16_to_f32(b[i + j]);
		}
		k[op](fa, fb, m);
		for (j = 0; j < m; j++)
			a[i + j] = dt == SX_COLL_F16 ? sx_coll_f32_to_f16(fa[j])
						     : sx_coll_f32_to_bf16(fa[j]);
	}
}

void
sx_coll_reduce_fast(void *acc, const void *in, size_t n, enum sx_coll_dtype dt,
		    enum sx_coll_op op)
{
	if (op >= SX_COLL_OP_MAX)
		return;
	switch (dt) {
	case SX_COLL_F32: {
		static void (*const k[])(float *restrict, const float *restrict, size_t) = {
			k_f32_sum, k_f32_prod, k_f32_max, k_f32_min};
		k[op](acc, in, n);
		break;
	}
	case SX_COLL_F64: {
		static void (*const k[])(double *restrict, const double *restrict, size_t) = {
			k_f64_sum, k_f64_prod, k_f64_max, k_f64_min};
		k[op](acc, in, n);
		break;
	}
	case SX_COLL_I32:
		if (op == SX_COLL_SUM)
			k_u32_sum(acc, in, n);
		else if (op == SX_COLL_PROD)
			k_u32_prod(acc, in, n);
		else if (op == SX_COLL_MAX)
			k_i32_max(acc, in, n);
		else
			k_i32_min(acc, in, n);
		break;
	case SX_COLL_I64:
		if (op == SX_COLL_SUM)
			k_u64_sum(acc, in, n);
		else if (op == SX_COLL_PROD)
			k_u64_prod(acc, in, n);
		else if (op == SX_COLL_MAX)
			k_i64_max(acc, in, n);
		else
			k_i64_min(acc, in, n);
		break;
	case SX_COLL_F16:
	case SX_COLL_BF16:
		reduce_half(acc, in, n, dt, op);
		break;
	default:
		break;
	}
}

size_t
sx_coll_dtype_size(enum sx_coll_dtype dt)
{
	static const size_t sz[SX_COLL_DTYPE_MAX] = {
		[SX_COLL_F32] = 4, [SX_COLL_F16] = 2, [SX_COLL_BF16] = 2,
		[SX_COLL_F64] = 8, [SX_COLL_I32] = 4, [SX_COLL_I64] = 8,
	};
	return dt < SX_COLL_DTYPE_MAX ? sz[dt] : 0;
}

const char *
sx_coll_dtype_name(enum sx_coll_dtype dt)
{
	static const char *const names[SX_COLL_DTYPE_MAX] = {
		[SX_COLL_F32] = "float", [SX_COLL_F16] = "half", [SX_COLL_BF16] = "bfloat16",
		[SX_COLL_F64] = "double", [SX_COLL_I32] = "int32", [SX_COLL_I64] = "int64",
	};
	return dt < SX_COLL_DTYPE_MAX ? names[dt] : "?";
}

const char *
sx_coll_op_name(enum sx_coll_op op)
{
	static const char *const names[SX_COLL_OP_MAX] = {
		[SX_COLL_SUM] = "sum", [SX_COLL_PROD] = "prod",
		[SX_COLL_MAX] = "max", [SX_COLL_MIN] = "min",
	};
	return op < SX_COLL_OP_MAX ? names[op] : "?";
}
