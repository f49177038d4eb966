/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the simulator's cmocka programs share: where the scenario files
 * are, and loading one with overrides. Paths come from the environment
 * meson sets (tests/sim/meson.build), with the source-tree defaults for a
 * run from the repository root.
 */
#ifndef SX_TESTS_SIMTEST_H
#define SX_TESTS_SIMTEST_H

#include "scenario.h"

/* $name when set and not empty, else @p def. */
const char *sx_simtest_env_or(const char *name, const char *def);

/*
 * Load DIR/NAME.ini into @p cfg (DIR: $dir_env, else @p dir_def; the CDF
 * directory from $SX_SIM_DATADIR), then the NULL-terminated "key=value"
 * overrides @p sets. Any refusal fails the test.
 */
void sx_simtest_load(struct sx_scn_cfg *cfg, const char *dir_env, const char *dir_def,
		     const char *name, const char *const *sets);

#endif
