/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * One row of a parameter table: how congestion control (<scalex/cc.h>) and
 * path selection describe each tunable (name, unit, default, range, help).
 * Public because an application that registers its own algorithm writes
 * such a table; the functions that validate and set values are internal
 * (dataplane/param/param.h) and reached through sx_cc_params_set() and
 * friends.
 */
#ifndef SCALEX_PARAM_H
#define SCALEX_PARAM_H

/* The value must be a whole number (counts, flags, NIC fixed-point fields). */
#define SX_PARAM_INT 0x1u
/* Longest parameter name, with its NUL. */
#define SX_PARAM_NAME_MAX 64

/*
 * One tunable: every set is checked against [min, max], NaN and infinities
 * are refused, and with SX_PARAM_INT in flags so are fractions.
 */
struct sx_param {
	const char *name;
	const char *unit;
	double def;
	double min;
	double max;
	const char *help;
	unsigned int flags; /* SX_PARAM_* */
};

#endif
