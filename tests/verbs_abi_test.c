/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex.h promises the ibv_ numeric values for work-request opcodes, send
 * flags, access flags, completion opcodes, flags and status, so that code
 * written for libibverbs ports by renaming. This test holds the promise
 * against libibverbs' own header: a mismatch fails the build (static
 * asserts), and the table below also runs, so the suite shows each pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <infiniband/verbs.h>
#include <scalex/scalex.h>

#define SAME(sx, ibv)                                                                    \
	_Static_assert((long)(sx) == (long)(ibv), #sx " != " #ibv);                      \
	static const struct pair pair_##sx = {#sx, #ibv, (long)(sx), (long)(ibv)};

struct pair {
	const char *sx, *ibv;
	long a, b;
};

SAME(SX_ACCESS_LOCAL_WRITE, IBV_ACCESS_LOCAL_WRITE)
SAME(SX_ACCESS_REMOTE_WRITE, IBV_ACCESS_REMOTE_WRITE)
SAME(SX_ACCESS_REMOTE_READ, IBV_ACCESS_REMOTE_READ)
SAME(SX_ACCESS_REMOTE_ATOMIC, IBV_ACCESS_REMOTE_ATOMIC)
SAME(SX_WR_RDMA_WRITE, IBV_WR_RDMA_WRITE)
SAME(SX_WR_RDMA_WRITE_WITH_IMM, IBV_WR_RDMA_WRITE_WITH_IMM)
SAME(SX_WR_SEND, IBV_WR_SEND)
SAME(SX_WR_SEND_WITH_IMM, IBV_WR_SEND_WITH_IMM)
SAME(SX_WR_RDMA_READ, IBV_WR_RDMA_READ)
SAME(SX_WR_ATOMIC_CMP_AND_SWP, IBV_WR_ATOMIC_CMP_AND_SWP)
SAME(SX_WR_ATOMIC_FETCH_AND_ADD, IBV_WR_ATOMIC_FETCH_AND_ADD)
SAME(SX_SEND_FENCE, IBV_SEND_FENCE)
SAME(SX_SEND_SIGNALED, IBV_SEND_SIGNALED)
SAME(SX_SEND_SOLICITED, IBV_SEND_SOLICITED)
SAME(SX_SEND_INLINE, IBV_SEND_INLINE)
SAME(SX_WC_SUCCESS, IBV_WC_SUCCESS)
SAME(SX_WC_LOC_LEN_ERR, IBV_WC_LOC_LEN_ERR)
SAME(SX_WC_LOC_QP_OP_ERR, IBV_WC_LOC_QP_OP_ERR)
SAME(SX_WC_LOC_PROT_ERR, IBV_WC_LOC_PROT_ERR)
SAME(SX_WC_WR_FLUSH_ERR, IBV_WC_WR_FLUSH_ERR)
SAME(SX_WC_BAD_RESP_ERR, IBV_WC_BAD_RESP_ERR)
SAME(SX_WC_LOC_ACCESS_ERR, IBV_WC_LOC_ACCESS_ERR)
SAME(SX_WC_REM_INV_REQ_ERR, IBV_WC_REM_INV_REQ_ERR)
SAME(SX_WC_REM_ACCESS_ERR, IBV_WC_REM_ACCESS_ERR)
SAME(SX_WC_REM_OP_ERR, IBV_WC_REM_OP_ERR)
SAME(SX_WC_RETRY_EXC_ERR, IBV_WC_RETRY_EXC_ERR)
SAME(SX_WC_RNR_RETRY_EXC_ERR, IBV_WC_RNR_RETRY_EXC_ERR)
SAME(SX_WC_GENERAL_ERR, IBV_WC_GENERAL_ERR)
SAME(SX_WC_SEND, IBV_WC_SEND)
SAME(SX_WC_RDMA_WRITE, IBV_WC_RDMA_WRITE)
SAME(SX_WC_RDMA_READ, IBV_WC_RDMA_READ)
SAME(SX_WC_COMP_SWAP, IBV_WC_COMP_SWAP)
SAME(SX_WC_FETCH_ADD, IBV_WC_FETCH_ADD)
SAME(SX_WC_RECV, IBV_WC_RECV)
SAME(SX_WC_RECV_RDMA_WITH_IMM, IBV_WC_RECV_RDMA_WITH_IMM)
SAME(SX_WC_WITH_IMM, IBV_WC_WITH_IMM)

static const struct pair *const pairs[] = {
    &pair_SX_ACCESS_LOCAL_WRITE, &pair_SX_ACCESS_REMOTE_WRITE, &pair_SX_ACCESS_REMOTE_READ,
    &pair_SX_ACCESS_REMOTE_ATOMIC, &pair_SX_WR_RDMA_WRITE, &pair_SX_WR_RDMA_WRITE_WITH_IMM,
    &pair_SX_WR_SEND, &pair_SX_WR_SEND_WITH_IMM, &pair_SX_WR_RDMA_READ,
    &pair_SX_WR_ATOMIC_CMP_AND_SWP, &pair_SX_WR_ATOMIC_FETCH_AND_ADD, &pair_SX_SEND_FENCE,
    &pair_SX_SEND_SIGNALED, &pair_SX_SEND_SOLICITED, &pair_SX_SEND_INLINE,
    &pair_SX_WC_SUCCESS, &pair_SX_WC_LOC_LEN_ERR, &pair_SX_WC_LOC_QP_OP_ERR,
    &pair_SX_WC_LOC_PROT_ERR, &pair_SX_WC_WR_FLUSH_ERR, &pair_SX_WC_BAD_RESP_ERR,
    &pair_SX_WC_LOC_ACCESS_ERR, &pair_SX_WC_REM_INV_REQ_ERR, &pair_SX_WC_REM_ACCESS_ERR,
    &pair_SX_WC_REM_OP_ERR, &pair_SX_WC_RETRY_EXC_ERR, &pair_SX_WC_RNR_RETRY_EXC_ERR,
    &pair_SX_WC_GENERAL_ERR, &pair_SX_WC_SEND, &pair_SX_WC_RDMA_WRITE,
    &pair_SX_WC_RDMA_READ, &pair_SX_WC_COMP_SWAP, &pair_SX_WC_FETCH_ADD, &pair_SX_WC_RECV,
    &pair_SX_WC_RECV_RDMA_WITH_IMM, &pair_SX_WC_WITH_IMM,
};

static void
values_equal_libibverbs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		print_message("%-28s = %-4ld %-28s = %ld\n", pairs[i]->sx, pairs[i]->a,
			      pairs[i]->ibv, pairs[i]->b);
		assert_int_equal(pairs[i]->a, pairs[i]->b);
	}
	/* The status strings agree in spirit: scalex names every status it uses. */
	assert_non_null(sx_wc_status_str(SX_WC_REM_ACCESS_ERR));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_equal_libibverbs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
