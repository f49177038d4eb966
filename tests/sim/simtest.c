/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "simtest.h"

const char *
sx_simtest_env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

void
sx_simtest_load(struct sx_scn_cfg *cfg, const char *dir_env, const char *dir_def,
		const char *name, const char *const *sets)
{
	char path[1024];

	sx_scn_cfg_init(cfg);
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s",
		 sx_simtest_env_or("SX_SIM_DATADIR", "tools/data"));
	snprintf(path, sizeof(path), "%s/%s.ini", sx_simtest_env_or(dir_env, dir_def), name);
	assert_int_equal(sx_scn_load(cfg, path, stderr), 0);
	for (; sets != NULL && *sets != NULL; sets++)
		assert_int_equal(sx_scn_set(cfg, *sets, stderr), 0);
}
