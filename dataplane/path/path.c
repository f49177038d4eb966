/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of path policies and their parameter handling. */
#include <stddef.h>
#include <string.h>

#include "path_priv.h"

static const struct sx_path_ops *const builtin[] = {
	&sx_path_flow,
};

const struct sx_path_ops *
sx_path_at(unsigned int i)
{
	return i < sizeof(builtin) / sizeof(builtin[0]) ? builtin[i] : NULL;
}

const struct sx_path_ops *
sx_path_find(const char *name)
{
	const struct sx_path_ops *ops;

	if (name == NULL)
		return NULL;
	for (unsigned int i = 0; (ops = sx_path_at(i)) != NULL; i++)
		if (strcmp(ops->name, name) == 0)
			return ops;
	return NULL;
}

const struct sx_path_params *
sx_path_params_default(void)
{
	static const struct sx_path_params flow = {.ops = &sx_path_flow};

	return &flow;
}

uint16_t
sx_path_base(uint32_t qpn)
{
	/* Fibonacci hashing: consecutive QPNs land far apart. */
	return (uint16_t)(SX_PATH_SPORT_BASE | ((qpn * 2654435761u) >> 18));
}

void
sx_path_params_init(struct sx_path_params *pp, const struct sx_path_ops *ops)
{
	memset(pp, 0, sizeof(*pp));
	pp->ops = ops;
	for (unsigned int i = 0; i < ops->nparams && i < SX_PATH_MAX_PARAMS; i++)
		pp->v[i] = ops->params[i].def;
}

int
sx_path_params_parse(struct sx_path_params *pp, const char *assignment)
{
	return sx_param_assign(pp->ops->params, pp->ops->nparams, pp->v, assignment);
}
