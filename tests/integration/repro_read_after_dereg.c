/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reproducer: after sx_dereg_mr() returns, the responder must not touch the
 * region. A READ whose requester timed out mid-stream is asked for again
 * from where its answers stopped; the responder then queues a second stream
 * for the rest while the first goes on (the re-read starts at a later PSN,
 * so the first is not superseded). The requester completes from the first
 * stream; the second keeps reading the source through the pointer it
 * resolved when queued, after the application deregistered and unmapped it.
 *
 * In-process, virtual time (tests/qp/vt.c), no DPDK. The source is mmap'd
 * and unmapped after sx_dereg_mr(): a later read of it is a SIGSEGV.
 *
 * Exit: 0 correct, 1 the region was read after sx_dereg_mr().
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../qp/vt.h"

#define LEN (128 * 1024) /* 128 packets at MTU 1024: four engine bursts */

static void
on_segv(int sig)
{
	static const char msg[] = "BUG: READ responses read the source region after "
	                          "sx_dereg_mr() (SIGSEGV on the unmapped pages)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

int
main(void)
{
	struct sx_mr *smr, *dmr;
	struct vt_opts o;
	struct sx_sge sge;
	struct sx_send_wr wr = {0};
	struct sx_wc wc;
	struct vt v;
	uint8_t *src, *dst = calloc(1, LEN);
	int i, got = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vt_default_opts(&o);
	o.timeout_us = 100;
	vt_setup(&v, &o);
	src = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == NULL)
		return 2;
	memset(src, 0xab, LEN);
	smr = sx_reg_mr(v.pd[1], src, LEN, SX_ACCESS_REMOTE_READ);
	dmr = sx_reg_mr(v.pd[0], dst, LEN, SX_ACCESS_LOCAL_WRITE);
	sge = (struct sx_sge){.addr = (uintptr_t)dst, .length = LEN, .lkey = dmr->lkey};
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_READ;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)src;
	wr.wr.rdma.rkey = smr->rkey;
	if (sx_post_send(v.qp[0], &wr, NULL) != 0)
		return 2;

	/* The request goes out; the responder answers one burst, then is
	 * slow (does not run) until the requester's RTO has fired and the
	 * re-read for the rest has gone out. */
	sx_context_step(v.ctx[0]);
	sx_context_step(v.ctx[1]);
	for (i = 0; i < 10; i++) {
		v.now_ns += 50000; /* 50 us: past the 100 us RTO in a few rounds */
		sx_context_step(v.ctx[0]);
	}
	printf("requester: %llu timeouts, %llu retransmits before the responder runs "
	       "again\n",
	       (unsigned long long)v.qp[0]->cnt[SX_QPC_TIMEOUTS],
	       (unsigned long long)v.qp[0]->cnt[SX_QPC_RETRANSMITS]);

	/* Both run; the application frees the source as soon as the READ is
	 * complete, as verbs allows once the requester has its completion and
	 * the region is deregistered. */
	for (i = 0; i < 1000 && got == 0; i++) {
		sx_context_step(v.ctx[0]);
		got = sx_poll_cq(v.cq[0], 1, &wc);
		if (got == 0)
			sx_context_step(v.ctx[1]);
	}
	if (got != 1 || wc.status != SX_WC_SUCCESS) {
		printf("READ did not complete\n");
		return 2;
	}
	printf("READ complete; sx_dereg_mr(source) and munmap\n");
	signal(SIGSEGV, on_segv);
	sx_dereg_mr(smr);
	munmap(src, LEN);
	for (i = 0; i < 100; i++) {
		sx_context_step(v.ctx[1]);
		sx_context_step(v.ctx[0]);
		v.now_ns += 1000;
	}
	printf("ok: the responder did not touch the region after sx_dereg_mr()\n");
	sx_dereg_mr(dmr);
	vt_teardown(&v);
	free(dst);
	return 0;
}
