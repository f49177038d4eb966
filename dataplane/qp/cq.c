/* SPDX-License-Identifier: BSD-3-Clause */
/* Completion queues: a power-of-two ring of work completions. */
#include <errno.h>
#include <stdlib.h>

#include "qp.h"

int
sx_cq_init(struct sx_cq *cq, uint32_t cqe)
{
	uint32_t size = 16;

	if (cqe == 0 || cqe > (1u << 24))
		return -EINVAL;
	while (size < cqe)
		size <<= 1;
	cq->ring = calloc(size, sizeof(*cq->ring));
	if (cq->ring == NULL)
		return -ENOMEM;
	cq->size = size;
	cq->head = cq->tail = 0;
	cq->overflow = 0;
	return 0;
}

void
sx_cq_fini(struct sx_cq *cq)
{
	free(cq->ring);
	cq->ring = NULL;
}

void
sx_cq_push(struct sx_cq *cq, const struct sx_wc *wc)
{
	/* A full CQ is an application error (IBA: CQ overrun); count it. */
	if (cq->tail - cq->head == cq->size) {
		cq->overflow++;
		return;
	}
	cq->ring[cq->tail++ & (cq->size - 1)] = *wc;
}

int
sx_cq_pop(struct sx_cq *cq, int n, struct sx_wc *wc)
{
	int i;

	for (i = 0; i < n && cq->head != cq->tail; i++)
		wc[i] = cq->ring[cq->head++ & (cq->size - 1)];
	return i;
}
