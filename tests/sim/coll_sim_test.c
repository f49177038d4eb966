/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-sim collectives (sim/coll.h) at 8 nodes x 8 GPUs on the
 * leaf-spine with DCQCN (tools/sim/coll-8x8.ini), the inter-node transfers
 * carried by the real engine, QP and CC code:
 *
 *   allreduce  NIC payload bytes per node: hierarchical (leader) exactly
 *              2 S (N-1)/N, flat ring exactly 2 S (n-1)/n, from the cost
 *              model (docs/collectives.md); the NIC is the bottleneck (busy
 *              >= 85% of the collective's time) and busbw within 15% of what
 *              the NIC's line rate allows for those bytes, at 400G and 800G;
 *              hierarchical busbw above flat at both rates
 *   alltoall   skewed MoE blocks: one message per node pair (N (N-1)) for
 *              hierarchical, one per off-node GPU pair for flat; the same
 *              NIC bytes (the node's off-node traffic, once); all delivered
 *   config     [coll] relations refused with a message
 *
 * Run one group with: coll_sim_test <name>.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coll.h"
#include "scenario.h"
#include "simtest.h"
#include "workload.h"


/* tools/sim/coll-8x8.ini with overrides (NULL-terminated). */
static void
load(struct sx_scn_cfg *cfg, const char *const *sets)
{
	sx_simtest_load(cfg, "SX_SIM_TOOLDIR", "tools/sim", "coll-8x8", sets);
}

static struct sx_coll_result
run(const char *const *sets, struct sx_scn_result *res)
{
	struct sx_scn_cfg cfg;
	struct sx_coll_result r;
	struct sx_scn *s;

	load(&cfg, sets);
	s = sx_scn_create(&cfg, stderr);
	assert_non_null(s);
	assert_int_equal(sx_scn_run(s), 0);
	assert_int_equal(sx_scn_coll_result(s, &r), 0);
	if (res != NULL)
		*res = *sx_scn_result(s);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);
	return r;
}

/* What the NIC's line rate allows: busbw if the node's NIC sent its
 * payload back to back and nothing else took time, GB/s. */
static double
busbw_bound(double rate_gbps, uint64_t S, uint64_t nic_bytes, uint32_t n, double factor_num)
{
	double t_ns = (double)nic_bytes * 8 / rate_gbps;

	return (double)S / t_ns * factor_num * (n - 1) / n;
}

static void
allreduce(void **state)
{
	static const char *const rates[2][3] = {
		{"topology.host_rate_gbps=400", "topology.fabric_rate_gbps=400", NULL},
		{"topology.host_rate_gbps=800", "topology.fabric_rate_gbps=800", NULL},
	};
	const uint64_t S = 64ull << 20; /* the scenario's coll.bytes */
	const uint32_t N = 8, n = 64;
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		const char *hier[] = {rates[i][0], rates[i][1], "coll.algo=hier", NULL};
		const char *flat[] = {rates[i][0], rates[i][1], "coll.algo=flat", NULL};
		double rate = i == 0 ? 400 : 800;
		struct sx_coll_result h = run(hier, NULL), f = run(flat, NULL);

		printf("allreduce %.0fG: hier %.3f us busbw %.2f GB/s NIC %llu B util %.3f; flat "
		       "%.3f us busbw %.2f GB/s NIC %llu B util %.3f; hier/flat %.3f\n",
		       rate, h.time_ns / 1e3, h.busbw_gbs, (unsigned long long)h.nic_bytes_max,
		       h.nic_util_max, f.time_ns / 1e3, f.busbw_gbs,
		       (unsigned long long)f.nic_bytes_max, f.nic_util_max,
		       h.busbw_gbs / f.busbw_gbs);
		assert_int_equal(h.nodes, N);
		assert_int_equal(h.gpus, n);
		assert_int_equal(h.failed, 0);
		assert_int_equal(f.failed, 0);
		/* the cost model, exact: every node's NIC, both algorithms */
		assert_int_equal(h.nic_bytes_max, 2 * S * (N - 1) / N);
		assert_int_equal(h.nic_bytes_min, 2 * S * (N - 1) / N);
		assert_int_equal(f.nic_bytes_max, 2 * S * (n - 1) / n);
		assert_int_equal(f.nic_bytes_min, 2 * S * (n - 1) / n);
		assert_true(f.nic_bytes_max > h.nic_bytes_max);
		/* frames: payload plus headers, ACKs and CNPs, a few percent */
		assert_true(h.nic_wire_bytes_max > h.nic_bytes_max);
		assert_true(h.nic_wire_bytes_max < h.nic_bytes_max * 1.05);
		/* the NIC is the bottleneck, and runs near its line rate */
		assert_true(h.nic_util_max > 0.85 && h.nic_util_max <= 1.0);
		assert_true(f.nic_util_max > 0.85 && f.nic_util_max <= 1.0);
		assert_true(h.busbw_gbs <= busbw_bound(rate, S, h.nic_bytes_max, n, 2));
		assert_true(h.busbw_gbs > 0.85 * busbw_bound(rate, S, h.nic_bytes_max, n, 2));
		assert_true(f.busbw_gbs <= busbw_bound(rate, S, f.nic_bytes_max, n, 2));
		assert_true(f.busbw_gbs > 0.85 * busbw_bound(rate, S, f.nic_bytes_max, n, 2));
		/* fewer NIC bytes win when the NIC is the bottleneck */
		assert_true(h.busbw_gbs > f.busbw_gbs);
	}
}

static void
alltoall(void **state)
{
	const char *hier[] = {"coll.op=alltoall", "coll.bytes=4194304", "coll.algo=hier", NULL};
	const char *flat[] = {"coll.op=alltoall", "coll.bytes=4194304", "coll.algo=flat", NULL};
	struct sx_scn_result hr, fr;
	struct sx_coll_result h = run(hier, &hr), f = run(flat, &fr);
	struct sx_scn_cfg cfg;
	struct sx_wl_cfg wc;
	struct sx_workload w;
	uint64_t off_max = 0, off_min = UINT64_MAX, pairs = 0, in_max = 0;
	uint32_t g, k, node;

	(void)state;
	printf("alltoall 400G 4 MiB: hier %.3f us busbw %.2f GB/s, %llu messages; flat %.3f us "
	       "busbw %.2f GB/s, %llu messages; NIC bytes max %llu\n",
	       h.time_ns / 1e3, h.busbw_gbs, (unsigned long long)h.messages, f.time_ns / 1e3,
	       f.busbw_gbs, (unsigned long long)f.messages, (unsigned long long)h.nic_bytes_max);
	/* the blocks, drawn again by the generator alone */
	load(&cfg, hier);
	wc = cfg.wl;
	wc.kind = SX_WL_MOE;
	wc.nhosts = 64;
	wc.flow_bytes = cfg.coll.bytes;
	wc.seed = cfg.seed;
	assert_int_equal(sx_wl_init(&w, &wc), 0);
	for (node = 0; node < 8; node++) {
		uint64_t off = 0, in = 0;

		for (g = node * 8; g < node * 8 + 8; g++) {
			for (k = 0; k < 64; k++)
				off += k / 8 != node ? w.moe_bytes[g * 64 + k] : 0;
		}
		for (g = 0; g < 64; g++) {
			for (k = node * 8; k < node * 8 + 8; k++)
				in += g / 8 != node ? w.moe_bytes[g * 64 + k] : 0;
		}
		in_max = in > in_max ? in : in_max;
		off_max = off > off_max ? off : off_max;
		off_min = off < off_min ? off : off_min;
	}
	for (g = 0; g < 64; g++) {
		for (k = 0; k < 64; k++)
			pairs += g / 8 != k / 8 && w.moe_bytes[g * 64 + k] > 0;
	}
	sx_wl_fini(&w);
	sx_scn_cfg_fini(&cfg);
	assert_int_equal(h.failed, 0);
	assert_int_equal(f.failed, 0);
	assert_int_equal(hr.verify_errors, 0);
	assert_int_equal(hr.completed, h.messages);
	assert_int_equal(fr.completed, f.messages);
	assert_int_equal(h.messages, 8 * 7);
	assert_int_equal(f.messages, pairs);
	assert_int_equal(h.nic_bytes_max, off_max);
	assert_int_equal(h.nic_bytes_min, off_min);
	assert_int_equal(f.nic_bytes_max, off_max);
	assert_int_equal(f.nic_bytes_min, off_min);
	assert_int_equal(h.nic_rx_bytes_max, in_max);
	assert_int_equal(f.nic_rx_bytes_max, in_max);
	assert_int_equal(hr.bytes_completed, fr.bytes_completed);
	assert_true(off_max > off_min); /* skewed */
	assert_true(h.busbw_gbs > 0 && f.busbw_gbs > 0);
}

static void
config(void **state)
{
	static const char *const bad[][3] = {
		{"workload.type=permutation", "workload.flow_bytes=1000", NULL},
		{"coll.bytes=63", NULL, NULL},
		{"topology.hosts_per_leaf=1", "topology.leaves=1", NULL},
		{"coll.op=alltoall", "coll.bytes=1073741824", NULL},
	};
	struct sx_scn_cfg cfg;
	unsigned int i;
	char *msg = NULL;
	size_t len = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *err = open_memstream(&msg, &len);

		load(&cfg, bad[i]);
		assert_non_null(err);
		assert_null(sx_scn_create(&cfg, err));
		fclose(err);
		assert_non_null(strstr(msg, "coll]"));
		free(msg);
		msg = NULL;
		sx_scn_cfg_fini(&cfg);
	}
	/* out of range: rejected by the key table */
	sx_scn_cfg_init(&cfg);
	assert_int_equal(sx_scn_set(&cfg, "coll.gpus_per_node=0", stderr), -EINVAL);
	assert_int_equal(sx_scn_set(&cfg, "coll.algo=tree", stderr), -EINVAL);
	assert_int_equal(sx_scn_set(&cfg, "coll.nvlink_gbps=nan", stderr), -EINVAL);
	sx_scn_cfg_fini(&cfg);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest all[] = {
		cmocka_unit_test(allreduce),
		cmocka_unit_test(alltoall),
		cmocka_unit_test(config),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(all, NULL, NULL);
}
