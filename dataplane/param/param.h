/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parameter tables: one row per tunable (name, unit, default, range, help),
 * the one form every pluggable module (congestion control, path selection)
 * describes its knobs in, validated on every set, listed by the tools and
 * generated into docs/. Values are doubles in the unit the row names.
 *
 * Pure: no clock, no I/O, no allocation.
 */
#ifndef SX_PARAM_H
#define SX_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include <scalex/param.h> /* struct sx_param, SX_PARAM_INT, SX_PARAM_NAME_MAX */

/* @p v is finite, inside [min, max], and whole for an SX_PARAM_INT row. */
bool sx_param_ok(const struct sx_param *row, double v);
/*
 * The table is well formed: named rows (no '=', shorter than
 * SX_PARAM_NAME_MAX, unique), units, min <= max, defaults in range.
 */
bool sx_param_table_ok(const struct sx_param *rows, unsigned int n);
/* Index of @p name in the table, or -1. */
int sx_param_index(const struct sx_param *rows, unsigned int n, const char *name);
/*
 * Set values[i] for "name=value" (blanks around either allowed):
 * 0, -EINVAL (syntax), -ENOENT (no such row), -ERANGE (out of range, NaN,
 * overflow, a fraction for an SX_PARAM_INT row). Nothing changes on error.
 */
int sx_param_assign(const struct sx_param *rows, unsigned int n, double *values,
		    const char *assignment);

#endif
