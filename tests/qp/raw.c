/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "raw.h"

#define RAW_QPN 0x100
#define RAW_PEER_QPN 0x200
#define GUARD_BYTE 0xa5

int
raw_init(struct raw *r, enum sx_reliability rel, uint32_t mtu, uint32_t epsn, uint32_t sq_psn)
{
	struct sx_qp_init_attr a;
	struct sx_qp_endpoint ep;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pd = (struct sx_pd *)&r->pd;
	r->now_ns = 1000000;
	rc = sx_mr_table_init(&r->mrs, 64);
	if (rc < 0)
		return rc;
	r->env.mrs = &r->mrs;
	if ((rc = sx_cq_init(&r->scq, 512)) < 0 || (rc = sx_cq_init(&r->rcq, 512)) < 0)
		goto fail;
	memset(&a, 0, sizeof(a));
	a.send_cq = &r->scq;
	a.recv_cq = &r->rcq;
	a.max_send_wr = 64;
	a.max_recv_wr = 64;
	a.reliability = rel;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.timeout_us = 100;
	a.mtu = mtu;
	rc = sx_qp_init(&r->qp, &r->env, r->pd, RAW_QPN, &a, mtu, sq_psn);
	if (rc < 0)
		goto fail;
	memset(&ep, 0, sizeof(ep));
	ep.qpn = RAW_PEER_QPN;
	ep.psn = epsn;
	ep.ip_version = 4;
	rc = sx_qp_do_connect(&r->qp, &ep);
	if (rc == 0)
		return 0;
	sx_qp_fini(&r->qp);
fail:
	sx_cq_fini(&r->scq);
	sx_cq_fini(&r->rcq);
	sx_mr_table_fini(&r->mrs);
	return rc;
}

void
raw_fini(struct raw *r)
{
	sx_qp_fini(&r->qp);
	sx_cq_fini(&r->scq);
	sx_cq_fini(&r->rcq);
	sx_mr_table_fini(&r->mrs);
}

int
raw_reg(struct raw *r, struct sx_mr *mr, void *addr, size_t len, unsigned int access)
{
	memset(mr, 0, sizeof(*mr));
	mr->pd = r->pd;
	mr->addr = addr;
	mr->length = len;
	mr->access = access;
	return sx_mr_table_add(&r->mrs, mr);
}

void
raw_dereg(struct raw *r, struct sx_mr *mr)
{
	sx_mr_table_del(&r->mrs, mr);
}

enum sx_wire_rc
raw_rx(struct raw *r, struct sx_pkt *h, const void *payload)
{
	static const uint8_t mac_peer[6] = {2, 0, 0, 0, 0, 2}, mac_me[6] = {2, 0, 0, 0, 0, 1};
	struct sx_pkt p;
	enum sx_wire_rc rc;
	ssize_t n;

	memcpy(h->eth_dst, mac_me, 6);
	memcpy(h->eth_src, mac_peer, 6);
	h->vlan = false;
	h->ip_version = 4;
	h->tos = 0;
	h->ttl = 64;
	memset(h->ip_src, 0, sizeof(h->ip_src));
	memset(h->ip_dst, 0, sizeof(h->ip_dst));
	h->ip_src[0] = 10;
	h->ip_src[3] = 2;
	h->ip_dst[0] = 10;
	h->ip_dst[3] = 1;
	h->udp_sport = 0xc000;
	h->udp_dport = SX_ROCE_UDP_PORT;
	h->bth.dqpn = RAW_QPN;
	h->bth.pkey = SX_PKEY_DEFAULT;
	n = sx_wire_build(r->frame, sizeof(r->frame), h, payload);
	if (n < 0)
		return SX_WIRE_TRUNC_ETH;
	rc = sx_wire_parse(r->frame, (size_t)n, &p, 0);
	if (rc != SX_WIRE_OK)
		return rc;
	if (p.op->flags & SX_OPF_CNP)
		sx_qp_on_cnp(&r->qp, r->now_ns);
	else
		sx_qp_rx(&r->qp, &p, r->frame + p.payload_off, r->now_ns);
	return SX_WIRE_OK;
}

bool
raw_tx(struct raw *r, struct sx_pkt *out, bool data)
{
	struct sx_txd d;

	memset(&d, 0, sizeof(d));
	if (!sx_qp_tx(&r->qp, r->now_ns, &d, data))
		return false;
	if (out != NULL)
		*out = d.hdr;
	return true;
}

unsigned int
raw_drain(struct raw *r)
{
	unsigned int n = 0;

	while (n < 100000 && raw_tx(r, NULL, true))
		n++;
	return n;
}

int
guard_alloc(struct guard *g, size_t len, size_t pad)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t inner = (len + 2 * pad + page - 1) / page * page;

	memset(g, 0, sizeof(*g));
	g->map_len = inner + 2 * page;
	g->map = mmap(NULL, g->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		return -errno;
	if (mprotect(g->map + page, inner, PROT_READ | PROT_WRITE) < 0) {
		munmap(g->map, g->map_len);
		return -errno;
	}
	memset(g->map + page, GUARD_BYTE, inner);
	/* the buffer ends against the trailing guard page when pad is 0 */
	g->buf = g->map + page + inner - pad - len;
	g->len = len;
	g->pad = pad;
	memset(g->buf, 0, len);
	return 0;
}

void
guard_reset(struct guard *g)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(g->map + page, GUARD_BYTE, g->map_len - 2 * page);
	memset(g->buf, 0, g->len);
}

void
guard_free(struct guard *g)
{
	if (g->map != NULL)
		munmap(g->map, g->map_len);
	memset(g, 0, sizeof(*g));
}

bool
guard_intact(const struct guard *g)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const uint8_t *p;

	for (p = g->map + page; p < g->buf; p++)
		if (*p != GUARD_BYTE)
			return false;
	for (p = g->buf + g->len; p < g->map + g->map_len - page; p++)
		if (*p != GUARD_BYTE)
			return false;
	return true;
}
