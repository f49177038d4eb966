/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of path policies and their parameter handling. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "path_priv.h"

static const struct sx_path_ops *const builtin[] = {
	&sx_path_flow,
	&sx_path_spray,
	&sx_path_flowlet,
	&sx_path_adaptive,
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

void
sx_path_feedback(struct sx_path_state *s, const struct sx_path_params *pp, uint16_t entropy,
		 enum sx_path_signal sig, uint64_t now_ns)
{
	int i = pp->ops->slot_of != NULL ? pp->ops->slot_of(s, pp->v, entropy) : -1;

	if (i >= 0 && i < s->nslots) {
		if (sig == SX_PATH_SIG_ECN)
			s->slot[i].ecn++;
		else if (sig == SX_PATH_SIG_LOSS || sig == SX_PATH_SIG_TIMEOUT)
			s->slot[i].losses++;
	}
	/* Counted before the policy runs: a retirement belongs to the slot,
	 * the loss to the entropy that had it. */
	if (pp->ops->feedback != NULL)
		pp->ops->feedback(s, pp->v, entropy, sig, now_ns);
}

void
sx_path_init(struct sx_path_state *s, const struct sx_path_params *pp, uint16_t base)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->nslots = 1;
	pp->ops->init(s, pp->v, base);
}

uint16_t
sx_path_ack_entropy(struct sx_path_state *s, const struct sx_path_params *pp)
{
	if (!pp->ops->reorders)
		return s->base;
	return sx_path_entropy_at(s->base, s->ack_seq++ % SX_PATH_SET_MAX);
}
