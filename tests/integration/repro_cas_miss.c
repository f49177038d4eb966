/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reproducer: an ATOMIC_CMP_AND_SWP whose compare value does not match the
 * target must leave the target unchanged (IBA 9.4.5) and return the
 * original value. In-process, virtual time (tests/qp/vt.c), no DPDK.
 *
 * Exit: 0 correct, 1 the target was swapped anyway.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../qp/vt.h"

int
main(void)
{
	static uint64_t target = 0x1111, result;
	struct sx_sge sge;
	struct sx_send_wr wr = {0};
	struct sx_mr *tmr, *rmr;
	struct vt_opts o;
	struct sx_wc wc;
	struct vt v;

	vt_default_opts(&o);
	vt_setup(&v, &o);
	tmr = sx_reg_mr(v.pd[1], &target, 8,
	                SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_ATOMIC);
	rmr = sx_reg_mr(v.pd[0], &result, 8, SX_ACCESS_LOCAL_WRITE);
	sge = (struct sx_sge){.addr = (uintptr_t)&result, .length = 8, .lkey = rmr->lkey};
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_ATOMIC_CMP_AND_SWP;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.atomic.remote_addr = (uintptr_t)&target;
	wr.wr.atomic.rkey = tmr->rkey;
	wr.wr.atomic.compare_add = 0x2222; /* not what is there */
	wr.wr.atomic.swap = 0x3333;
	if (sx_post_send(v.qp[0], &wr, NULL) != 0 ||
	    vt_wait_wc(&v, 0, &wc, 1, 1000000000) != 1 || wc.status != SX_WC_SUCCESS) {
		printf("no successful completion\n");
		return 1;
	}
	printf("CAS compare 0x2222 swap 0x3333 on 0x1111: target now 0x%" PRIx64
	       " (want 0x1111), returned 0x%" PRIx64 " (want 0x1111): %s\n",
	       target, result, target == 0x1111 && result == 0x1111 ? "ok" : "BUG");
	sx_dereg_mr(tmr);
	sx_dereg_mr(rmr);
	vt_teardown(&v);
	return target == 0x1111 && result == 0x1111 ? 0 : 1;
}
