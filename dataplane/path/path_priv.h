/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dataplane/path: the built-in policies and their helpers. */
#ifndef SX_PATH_PRIV_H
#define SX_PATH_PRIV_H

#include "path.h"

/* The policy's per-QP state, laid over the fixed private area. */
#define SX_PATH_PRIV(s, type) ((type *)(void *)(s)->priv)
#define SX_PATH_PRIV_FITS(type)                                                          \
	_Static_assert(sizeof(type) <= SX_PATH_PRIV_BYTES,                               \
		       #type " does not fit in SX_PATH_PRIV_BYTES")

extern const struct sx_path_ops sx_path_flow;

#endif
