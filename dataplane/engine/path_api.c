/* SPDX-License-Identifier: BSD-3-Clause */
/* The public face of path selection: a context's policy and its parameters. */
#include <errno.h>
#include <stddef.h>

#include "context.h"

int
sx_context_path_init(struct sx_context *ctx, const char *name)
{
	const struct sx_path_ops *ops = name != NULL ? sx_path_find(name) : sx_path_find("flow");

	if (ops == NULL)
		return -ENOENT;
	sx_path_params_init(&ctx->pathp, ops);
	ctx->env.path = &ctx->pathp;
	return 0;
}

int
sx_path_check(const char *path, enum sx_reliability rel)
{
	const struct sx_path_ops *ops = path != NULL ? sx_path_find(path) : sx_path_find("flow");

	if (ops == NULL)
		return -ENOENT;
	if (ops->reorders && rel != SX_REL_SR)
		return -EINVAL;
	return 0;
}

int
sx_path_param(struct sx_context *ctx, const char *assignment)
{
	if (ctx == NULL || assignment == NULL)
		return -EINVAL;
	return sx_path_params_parse(&ctx->pathp, assignment);
}
