/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory-region keys. Every remote access is resolved here: the key must
 * name a live region of the same protection domain, the range must lie
 * inside it without wrapping, and the region must grant the access.
 */
#include <errno.h>
#include <stdlib.h>

#include "qp.h"

int
sx_mr_table_init(struct sx_mr_table *t, uint32_t size)
{
	t->slot = calloc(size, sizeof(*t->slot));
	if (t->slot == NULL)
		return -ENOMEM;
	t->size = size;
	t->used = 0;
	t->gen = 1;
	return 0;
}

void
sx_mr_table_fini(struct sx_mr_table *t)
{
	free(t->slot);
	t->slot = NULL;
}

int
sx_mr_table_add(struct sx_mr_table *t, struct sx_mr *mr)
{
	uint32_t i;

	for (i = 0; i < t->size; i++) {
		if (t->slot[i] == NULL)
			break;
	}
	if (i == t->size)
		return -ENOSPC;
	t->slot[i] = mr;
	t->used++;
	/* Generation byte: a key freed and reused differs from the old one. */
	if (++t->gen == 0)
		t->gen = 1;
	mr->lkey = mr->rkey = (i + 1) << 8 | t->gen;
	return 0;
}

void
sx_mr_table_del(struct sx_mr_table *t, struct sx_mr *mr)
{
	uint32_t i = (mr->lkey >> 8) - 1;

	if (i < t->size && t->slot[i] == mr) {
		t->slot[i] = NULL;
		t->used--;
	}
}

uint8_t *
sx_mr_resolve(const struct sx_mr_table *t, const struct sx_pd *pd, uint32_t key, uint64_t va,
	      uint64_t len, unsigned int access)
{
	uint32_t i = (key >> 8) - 1;
	const struct sx_mr *mr;
	uint64_t base;

	if (i >= t->size)
		return NULL;
	mr = t->slot[i];
	if (mr == NULL || mr->lkey != key || mr->pd != pd)
		return NULL;
	if ((mr->access & access) != access)
		return NULL;
	base = (uint64_t)(uintptr_t)mr->addr;
	if (va < base || len > mr->length || va - base > mr->length - len)
		return NULL;
	return (uint8_t *)mr->addr + (va - base);
}
