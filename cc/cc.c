/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The congestion-control registry and the parameter tables' API.
 *
 * The built-ins live in one array; sx_cc_register() appends to a second,
 * fixed-size one. A slot is written before the count that publishes it
 * (release/acquire), so lookups from engine threads need no lock while a
 * control thread registers; registration itself is meant for start-up and
 * is not safe against a concurrent registration.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../dataplane/param/param.h"
#include "cc_builtin.h"
#include "cc_priv.h"

#define SX_CC_MAX_EXTRA 16

/* Each cc/<name>.c defines sx_cc_<name>; cc/meson.build lists the names. */
#define SX_CC_DECLARE(name) extern const struct sx_cc_ops sx_cc_##name;
#define SX_CC_ENTRY(name) &sx_cc_##name,
SX_CC_BUILTINS(SX_CC_DECLARE)

static const struct sx_cc_ops *const builtin[] = {SX_CC_BUILTINS(SX_CC_ENTRY)};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const struct sx_cc_ops *extra[SX_CC_MAX_EXTRA];
static unsigned int nextra;

static const char *const event_names[SX_CC_EV_MAX] = {
	[SX_CC_EV_INIT] = "init",
	[SX_CC_EV_ACK] = "ack",
	[SX_CC_EV_CNP] = "cnp",
	[SX_CC_EV_ECN] = "ecn",
	[SX_CC_EV_LOSS] = "loss",
	[SX_CC_EV_TIMEOUT] = "timeout",
	[SX_CC_EV_TIMER] = "timer",
	[SX_CC_EV_PARAM] = "param",
};

const char *
sx_cc_event_name(enum sx_cc_event ev)
{
	if ((unsigned int)ev >= SX_CC_EV_MAX || event_names[ev] == NULL)
		return "unknown";
	return event_names[ev];
}

const struct sx_cc_ops *
sx_cc_at(unsigned int i)
{
	if (i < NBUILTIN)
		return builtin[i];
	i -= NBUILTIN;
	if (i < __atomic_load_n(&nextra, __ATOMIC_ACQUIRE))
		return extra[i];
	return NULL;
}

const struct sx_cc_ops *
sx_cc_find(const char *name)
{
	const struct sx_cc_ops *ops;

	if (name == NULL)
		return NULL;
	for (unsigned int i = 0; (ops = sx_cc_at(i)) != NULL; i++)
		if (strcmp(ops->name, name) == 0)
			return ops;
	return NULL;
}

/* A table the API can trust: sane rows (dataplane/param), presets inside their ranges. */
static int
ops_valid(const struct sx_cc_ops *ops)
{
	if (ops->name == NULL || ops->name[0] == '\0' || ops->init == NULL)
		return 0;
	if (ops->on_timer != NULL && ops->next_timer == NULL)
		return 0;
	if (ops->nparams > SX_CC_MAX_PARAMS || (ops->nparams > 0 && ops->params == NULL))
		return 0;
	if (ops->npresets > 0 && ops->presets == NULL)
		return 0;
	if (!sx_param_table_ok(ops->params, ops->nparams))
		return 0;
	for (unsigned int k = 0; k < ops->npresets; k++) {
		const struct sx_cc_preset *pr = &ops->presets[k];

		if (pr->name == NULL || pr->name[0] == '\0')
			return 0;
		for (unsigned int i = 0; i < ops->nparams; i++)
			if (!sx_param_ok(&ops->params[i], pr->v[i]))
				return 0;
	}
	return 1;
}

int
sx_cc_register(const struct sx_cc_ops *ops)
{
	unsigned int n;

	if (ops == NULL || !ops_valid(ops))
		return -EINVAL;
	if (sx_cc_find(ops->name) != NULL)
		return -EEXIST;
	n = __atomic_load_n(&nextra, __ATOMIC_RELAXED);
	if (n >= SX_CC_MAX_EXTRA)
		return -ENOSPC;
	extra[n] = ops;
	__atomic_store_n(&nextra, n + 1, __ATOMIC_RELEASE);
	return 0;
}

int
sx_cc_param_index(const struct sx_cc_ops *ops, const char *name)
{
	if (ops == NULL)
		return -1;
	return sx_param_index(ops->params, ops->nparams, name);
}

void
sx_cc_params_init(struct sx_cc_params *cp, const struct sx_cc_ops *ops)
{
	memset(cp, 0, sizeof(*cp));
	cp->ops = ops;
	if (ops == NULL)
		return;
	for (unsigned int i = 0; i < ops->nparams && i < SX_CC_MAX_PARAMS; i++)
		cp->v[i] = ops->npresets > 0 ? ops->presets[0].v[i] : ops->params[i].def;
}

int
sx_cc_params_preset(struct sx_cc_params *cp, const char *name)
{
	const struct sx_cc_ops *ops = cp->ops;

	if (ops == NULL || name == NULL)
		return -ENOENT;
	for (unsigned int k = 0; k < ops->npresets; k++) {
		if (strcmp(ops->presets[k].name, name) != 0)
			continue;
		for (unsigned int i = 0; i < ops->nparams; i++)
			cp->v[i] = ops->presets[k].v[i];
		return 0;
	}
	return -ENOENT;
}

int
sx_cc_params_set(struct sx_cc_params *cp, const char *name, double value)
{
	int i = sx_cc_param_index(cp->ops, name);

	if (i < 0)
		return -ENOENT;
	if (!sx_param_ok(&cp->ops->params[i], value))
		return -ERANGE;
	cp->v[i] = value;
	return 0;
}

int
sx_cc_params_parse(struct sx_cc_params *cp, const char *assignment)
{
	if (cp->ops == NULL)
		return assignment == NULL || strchr(assignment, '=') == NULL ? -EINVAL : -ENOENT;
	return sx_param_assign(cp->ops->params, cp->ops->nparams, cp->v, assignment);
}
