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

#include "cc_builtin.h"
#include "cc_priv.h"

#define SX_CC_MAX_EXTRA 16
#define SX_CC_NAME_MAX 64 /* parameter names, with the NUL */

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

/* Whole numbers only, for SX_CC_PARAM_INT rows. */
static int
param_value_ok(const struct sx_cc_param *row, double v)
{
	if (!(v >= row->min && v <= row->max)) /* also false for NaN */
		return 0;
	if ((row->flags & SX_CC_PARAM_INT) && v != floor(v))
		return 0;
	return 1;
}

/* A table the API can trust: named rows, sane ranges, defaults and presets inside them. */
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
	for (unsigned int i = 0; i < ops->nparams; i++) {
		const struct sx_cc_param *row = &ops->params[i];

		if (row->name == NULL || row->name[0] == '\0' || strchr(row->name, '=') ||
		    strlen(row->name) >= SX_CC_NAME_MAX ||
		    row->unit == NULL || !(row->min <= row->max) || !param_value_ok(row, row->def))
			return 0;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(ops->params[j].name, row->name) == 0)
				return 0;
	}
	for (unsigned int k = 0; k < ops->npresets; k++) {
		const struct sx_cc_preset *pr = &ops->presets[k];

		if (pr->name == NULL || pr->name[0] == '\0')
			return 0;
		for (unsigned int i = 0; i < ops->nparams; i++)
			if (!param_value_ok(&ops->params[i], pr->v[i]))
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
	if (ops == NULL || name == NULL)
		return -1;
	for (unsigned int i = 0; i < ops->nparams; i++)
		if (strcmp(ops->params[i].name, name) == 0)
			return (int)i;
	return -1;
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
	if (!param_value_ok(&cp->ops->params[i], value))
		return -ERANGE;
	cp->v[i] = value;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

int
sx_cc_params_parse(struct sx_cc_params *cp, const char *assignment)
{
	char name[SX_CC_NAME_MAX];
	const char *eq, *b, *e, *vs;
	char *end;
	double v;
	size_t len;

	if (assignment == NULL)
		return -EINVAL;
	eq = strchr(assignment, '=');
	if (eq == NULL)
		return -EINVAL;
	/* The name, without surrounding blanks. */
	for (b = assignment; b < eq && is_space(*b); b++)
		;
	for (e = eq; e > b && is_space(e[-1]); e--)
		;
	len = (size_t)(e - b);
	if (len == 0)
		return -EINVAL;
	if (len < sizeof(name))
		memcpy(name, b, len);
	name[len < sizeof(name) ? len : 0] = '\0'; /* too long for any row: -ENOENT below */
	/* The value: one number, nothing else but blanks after it. */
	for (vs = eq + 1; is_space(*vs); vs++)
		;
	if (*vs == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(vs, &end);
	if (end == vs)
		return -EINVAL;
	while (is_space(*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (name[0] == '\0' || sx_cc_param_index(cp->ops, name) < 0)
		return -ENOENT;
	if (errno == ERANGE)
		return -ERANGE;
	return sx_cc_params_set(cp, name, v);
}
