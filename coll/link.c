/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coll/ links over scalex (link.h says what a link is).
 *
 * memif and a peer's exit: when the peer of a memif port goes away, the
 * DPDK 22.11 PMD unmaps the shared regions from its interrupt thread while
 * the thread polling the port may be inside a burst, which then touches
 * unmapped memory (a crash seen in a sizeable share of runs). A collective
 * must survive a dead peer: libscalex's munmap guard (dataplane/port/ethdev.c)
 * makes the PMD's unmap wait for every burst in progress on a scalex port,
 * which covers every link; executables export munmap through scalex_dep.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <scalex/scalex.h>

#include "link.h"

int
sx_coll_net_init(struct sx_coll_net *net, const char *prefix, const char *dir, int mem_mb)
{
	char mem[16], pfx[96];
	char *argv[] = {
		(char *)"scalex-coll", (char *)"--no-huge", (char *)"-m", mem,
		(char *)"--no-pci", (char *)"--no-telemetry", (char *)"--file-prefix", pfx,
		(char *)"--log-level=error", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	cpu_set_t set;
	bool have_set;
	int rc;

	snprintf(mem, sizeof(mem), "%d", mem_mb);
	snprintf(pfx, sizeof(pfx), "%s", prefix);
	snprintf(net->dir, sizeof(net->dir), "%s", dir);
	if (net->mtu == 0)
		net->mtu = 4096;
	/* EAL pins the main thread to one CPU; many ranks on a few cores
	 * must be free to move, so the affinity comes back afterwards. */
	have_set = sched_getaffinity(0, sizeof(set), &set) == 0;
	rc = sx_eal_init(argc, argv);
	if (rc < 0)
		return rc;
	if (have_set)
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	net->eal_up = true;
	return 0;
}

void
sx_coll_net_fini(struct sx_coll_net *net)
{
	if (!net->eal_up)
		return;
	sx_eal_cleanup();
	net->eal_up = false;
}

int
sx_coll_link_open(struct sx_coll_net *net, struct sx_coll_link *l, int peer, bool server,
		  const char *key, uint32_t ip)
{
	struct sx_context_attr attr;
	struct sx_qp_init_attr qa = {0};
	struct sx_recv_wr rw, *bad;
	struct sx_sge sge;
	size_t bytes = 2 * (size_t)SX_LINK_SLOTS * SX_LINK_MSG_BYTES + 64;
	unsigned int i;
	int rc;

	memset(l, 0, sizeof(*l));
	l->peer = peer;
	l->server = server;
	snprintf(l->spec, sizeof(l->spec),
		 "net_memif%d,role=%s,id=0,socket=%s/%s.sock,socket-abstract=no", net->nports++,
		 server ? "server" : "client", net->dir, key);
	sx_context_attr_init(&attr);
	attr.port = l->spec;
	attr.ip_version = 4;
	attr.ip[0] = 10;
	attr.ip[1] = (uint8_t)(ip >> 16);
	attr.ip[2] = (uint8_t)(ip >> 8);
	attr.ip[3] = (uint8_t)ip;
	attr.mtu = net->mtu;
	attr.fault_tx = net->fault_tx;
	attr.fault_rx = net->fault_rx;
	attr.fault_seed = net->fault_seed * 1000003u + ip;
	/* The collective loop backs off itself, across all links at once;
	 * an engine sleeping inside each poll would add up per link. */
	attr.idle_spins = UINT32_MAX;
	l->ctx = sx_open_device(&attr);
	if (l->ctx == NULL)
		return -errno;
	rc = -ENOMEM;
	l->pd = sx_alloc_pd(l->ctx);
	l->cq = l->pd ? sx_create_cq(l->ctx, 4 * SX_LINK_SLOTS + 16) : NULL;
	if (posix_memalign((void **)&l->mem, 4096, bytes) != 0)
		l->mem = NULL;
	if (l->cq == NULL || l->mem == NULL)
		goto fail;
	memset(l->mem, 0, bytes);
	l->tx = l->mem;
	l->rx = l->mem + (size_t)SX_LINK_SLOTS * SX_LINK_MSG_BYTES;
	l->credit_in = (volatile uint64_t *)(l->rx + (size_t)SX_LINK_SLOTS * SX_LINK_MSG_BYTES);
	l->credit_out = (uint64_t *)(l->rx + (size_t)SX_LINK_SLOTS * SX_LINK_MSG_BYTES + 8);
	l->mr = sx_reg_mr(l->pd, l->mem, bytes, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	if (l->mr == NULL)
		goto fail;
	qa.send_cq = l->cq;
	qa.recv_cq = l->cq;
	qa.max_send_wr = SX_LINK_SLOTS + 8 + SX_LINK_READS;
	qa.max_recv_wr = SX_LINK_SLOTS;
	qa.reliability = SX_REL_SR;
	qa.retry_cnt = 7;
	qa.rnr_retry = 7;
	/* 200 ms initial RTO, doubling to 0.5 s, 7 retries: ~3 s of silence
	 * before a QP gives up. Ranks sharing two cores with a dozen others
	 * wait ~50 ms for a time slice: a 16 ms RTO fired spuriously (1566
	 * resends in one 4-rank run, 1129 of them duplicates at the peer)
	 * and its go-back resends overflowed the memif ring; 200 ms cut that
	 * to tens. Real losses are repaired by selective repeat's SACKs well
	 * before the RTO; a dead peer is found through the control channel. */
	qa.timeout_us = 200000;
	l->qp = sx_create_qp(l->pd, &qa);
	if (l->qp == NULL)
		goto fail;
	for (i = 0; i < SX_LINK_SLOTS; i++) {
		sge = (struct sx_sge){(uintptr_t)(l->rx + (size_t)i * SX_LINK_MSG_BYTES),
				      SX_LINK_MSG_BYTES, l->mr->lkey};
		rw = (struct sx_recv_wr){.wr_id = i, .sg_list = &sge, .num_sge = 1};
		rc = sx_post_recv(l->qp, &rw, &bad);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	if (rc == -ENOMEM && errno != 0)
		rc = -errno;
	sx_coll_link_close(l);
	return rc;
}

void
sx_coll_link_local(const struct sx_coll_link *l, struct sx_coll_link_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	sx_qp_local(l->qp, &ep->qp);
	ep->credit_addr = (uintptr_t)l->credit_in;
	ep->credit_rkey = l->mr->rkey;
}

int
sx_coll_link_connect(struct sx_coll_link *l, const struct sx_coll_link_ep *remote)
{
	l->remote_credit_addr = remote->credit_addr;
	l->remote_rkey = remote->credit_rkey;
	return sx_qp_connect(l->qp, &remote->qp);
}

void
sx_coll_link_close(struct sx_coll_link *l)
{
	if (l->qp != NULL)
		sx_destroy_qp(l->qp);
	if (l->mr != NULL)
		sx_dereg_mr(l->mr);
	if (l->cq != NULL)
		sx_destroy_cq(l->cq);
	if (l->pd != NULL)
		sx_dealloc_pd(l->pd);
	if (l->ctx != NULL)
		sx_close_device(l->ctx);
	free(l->mem);
	l->qp = NULL;
	l->mr = NULL;
	l->cq = NULL;
	l->pd = NULL;
	l->ctx = NULL;
	l->mem = NULL;
}

/* Credits: the count of buffers given back, written into the sender's
 * credit word once a quarter of the window has been consumed. */
static int
credit_return(struct sx_coll_link *l)
{
	struct sx_send_wr wr = {0}, *bad;
	struct sx_sge sge;
	int rc;

	if (l->rx_consumed - l->credit_sent < SX_LINK_SLOTS / 4 || l->writes_inflight >= 4)
		return 0;
	*l->credit_out = l->rx_consumed;
	sge = (struct sx_sge){(uintptr_t)l->credit_out, 8, l->mr->lkey};
	wr.wr_id = UINT64_MAX;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = l->remote_credit_addr;
	wr.wr.rdma.rkey = l->remote_rkey;
	rc = sx_post_send(l->qp, &wr, &bad);
	if (rc < 0)
		return l->error = rc;
	l->writes_inflight++;
	l->credit_sent = l->rx_consumed;
	return 0;
}

int
sx_coll_link_poll(struct sx_coll_link *l)
{
	struct sx_wc wc[32];
	int n, i, work;

	if (l->error)
		return l->error;
	n = sx_poll_cq(l->cq, 32, wc);
	if (n < 0)
		return l->error = n;
	work = n;
	for (i = 0; i < n; i++) {
		if (wc[i].status != SX_WC_SUCCESS) {
			fprintf(stderr, "scalex-coll: link to rank %d: %s\n", l->peer,
				sx_wc_status_str(wc[i].status));
			l->error = -EIO;
			return l->error;
		}
		switch (wc[i].opcode) {
		case SX_WC_SEND:
			l->tx_done++;
			break;
		case SX_WC_RDMA_WRITE:
			/* a credit update, or a message (sx_coll_link_write_imm) */
			if (wc[i].wr_id == UINT64_MAX)
				l->writes_inflight--;
			else
				l->tx_done++;
			break;
		case SX_WC_RDMA_READ:
			l->rd_done++;
			break;
		case SX_WC_RECV:
		case SX_WC_RECV_RDMA_WITH_IMM:
			/* In order: RC completes receives in the order posted. */
			l->rx_len[wc[i].wr_id % SX_LINK_SLOTS] =
				wc[i].opcode == SX_WC_RECV ? wc[i].byte_len : 0;
			l->rx_has_imm[wc[i].wr_id % SX_LINK_SLOTS] =
				wc[i].opcode == SX_WC_RECV_RDMA_WITH_IMM;
			l->rx_imm[wc[i].wr_id % SX_LINK_SLOTS] = be32toh(wc[i].imm_data);
			l->rx_arrived++;
			break;
		default:
			break;
		}
	}
	/* A window held back by writes in flight goes out now. */
	if (n > 0 && credit_return(l) < 0)
		return l->error;
	return work;
}

size_t
sx_coll_link_send(struct sx_coll_link *l, const void *buf, size_t len)
{
	struct sx_send_wr wr = {0}, *bad;
	struct sx_sge sge;
	uint64_t credit = *l->credit_in;
	uint8_t *slot;
	size_t n = len < SX_LINK_MSG_BYTES ? len : SX_LINK_MSG_BYTES;

	if (l->error || l->tx_posted - credit >= SX_LINK_SLOTS ||
	    l->tx_posted - l->tx_done >= SX_LINK_SLOTS)
		return 0;
	slot = l->tx + (l->tx_posted % SX_LINK_SLOTS) * SX_LINK_MSG_BYTES;
	memcpy(slot, buf, n);
	sge = (struct sx_sge){(uintptr_t)slot, (uint32_t)n, l->mr->lkey};
	wr.wr_id = l->tx_posted;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_SEND;
	wr.send_flags = SX_SEND_SIGNALED;
	if (sx_post_send(l->qp, &wr, &bad) < 0)
		return 0;
	l->tx_posted++;
	l->tx_bytes += n;
	return n;
}

/* Post one signaled RDMA WRITE WITH IMMEDIATE or READ of @p len bytes at
 * @p buf (@p lkey) to or from @p remote_addr (@p rkey): 1 posted, 0 the
 * send queue is full (try again), -errno. */
static int
post_rdma(struct sx_coll_link *l, enum sx_wr_opcode opcode, uint64_t wr_id, const void *buf,
	  uint32_t len, uint32_t lkey, uint64_t remote_addr, uint32_t rkey, uint32_t imm)
{
	struct sx_send_wr wr = {0}, *bad;
	struct sx_sge sge = {(uintptr_t)buf, len, lkey};
	int rc;

	wr.wr_id = wr_id;
	wr.sg_list = &sge;
	wr.num_sge = len > 0 ? 1 : 0;
	wr.opcode = opcode;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.imm_data = htobe32(imm);
	wr.wr.rdma.remote_addr = remote_addr;
	wr.wr.rdma.rkey = rkey;
	rc = sx_post_send(l->qp, &wr, &bad);
	if (rc == -ENOMEM || rc == -EAGAIN)
		return 0;
	return rc < 0 ? rc : 1;
}

int
sx_coll_link_write_imm(struct sx_coll_link *l, const void *buf, uint32_t len, uint32_t lkey,
		       uint64_t remote_addr, uint32_t rkey, uint32_t imm, uint64_t *seq)
{
	uint64_t credit = *l->credit_in;
	int rc;

	if (l->error)
		return l->error;
	if (l->tx_posted - credit >= SX_LINK_SLOTS || l->tx_posted - l->tx_done >= SX_LINK_SLOTS)
		return 0;
	rc = post_rdma(l, SX_WR_RDMA_WRITE_WITH_IMM, l->tx_posted, buf, len, lkey, remote_addr,
		       rkey, imm);
	if (rc != 1)
		return rc;
	*seq = l->tx_posted++;
	l->write_bytes += len;
	return 1;
}

int
sx_coll_link_read(struct sx_coll_link *l, void *buf, uint32_t len, uint32_t lkey,
		  uint64_t remote_addr, uint32_t rkey, uint64_t *seq)
{
	int rc;

	if (l->error)
		return l->error;
	if (l->rd_posted - l->rd_done >= SX_LINK_READS)
		return 0;
	rc = post_rdma(l, SX_WR_RDMA_READ, l->rd_posted, buf, len, lkey, remote_addr, rkey, 0);
	if (rc != 1)
		return rc;
	*seq = l->rd_posted++;
	l->read_bytes += len;
	return 1;
}

bool
sx_coll_link_peek_imm(const struct sx_coll_link *l, uint32_t *imm)
{
	unsigned int slot = (unsigned int)(l->rx_consumed % SX_LINK_SLOTS);

	if (l->rx_consumed == l->rx_arrived || !l->rx_has_imm[slot])
		return false;
	*imm = l->rx_imm[slot];
	return true;
}

bool
sx_coll_link_peek(struct sx_coll_link *l, const uint8_t **msg, size_t *len)
{
	if (l->rx_consumed == l->rx_arrived)
		return false;
	*msg = l->rx + (l->rx_consumed % SX_LINK_SLOTS) * SX_LINK_MSG_BYTES;
	*len = l->rx_len[l->rx_consumed % SX_LINK_SLOTS];
	return true;
}

int
sx_coll_link_release(struct sx_coll_link *l)
{
	unsigned int slot = (unsigned int)(l->rx_consumed % SX_LINK_SLOTS);
	struct sx_recv_wr rw, *bad;
	struct sx_sge sge = {(uintptr_t)(l->rx + (size_t)slot * SX_LINK_MSG_BYTES),
			     SX_LINK_MSG_BYTES, l->mr->lkey};
	int rc;

	rw = (struct sx_recv_wr){.wr_id = slot, .sg_list = &sge, .num_sge = 1};
	rc = sx_post_recv(l->qp, &rw, &bad);
	if (rc < 0)
		return l->error = rc;
	l->rx_consumed++;
	return credit_return(l);
}

bool
sx_coll_link_idle(const struct sx_coll_link *l)
{
	return l->tx_done == l->tx_posted && l->writes_inflight == 0 && l->rd_done == l->rd_posted;
}
