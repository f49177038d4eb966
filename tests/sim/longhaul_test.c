/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Long haul in scalex-sim (issue 14, docs/longhaul.md): congestion control
 * at millisecond RTTs and the gateway mode that splits the control loop.
 *
 *   incast   4:1 long-haul incast at RTT 5 ms into a 10 Gb/s WAN cable:
 *            DCQCN's longhaul preset keeps the cable >= 95% busy without a
 *            drop; the nic preset is reported beside it
 *   swift    the same at RTT 10 ms with Swift: >= 95% busy, no drop, and a
 *            queue below what the windows alone would leave
 *   border   WAN flows and intra-DC short flows sharing DC 1's border leaf:
 *            the short flows' p99 FCT without WAN traffic, with it end to
 *            end, and through the gateways; the gateway keeps it within
 *            1.5x of the no-WAN case
 *   relay    gateway mode's relay: flows both ways through small staging
 *            arrive intact, wait for credits instead of dropping, take at
 *            least a WAN round trip; per-side counters; a cross-DC flow
 *            of a gateway host is refused
 *   wanfail  the WAN cable between the gateways fails: relayed flows fail
 *            cleanly, the intra-DC one completes
 *   allreduce  cross-DC all-reduce through the gateways: hierarchical (one
 *            long-haul flow per DC pair) against a flat ring
 *   keys     gateway mode's configuration errors
 *
 * Reference values are computed from the scenario's parameters (link
 * rates, delays, windows), or measured in the same run (the no-WAN case).
 * Run one group with: longhaul_test <name>.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "simtest.h"
#include "scenario_priv.h"


static void
load(struct sx_scn_cfg *cfg, const char *name, const char *const *sets)
{
	sx_simtest_load(cfg, "SX_SIM_TESTDIR", "tests/sim", name, sets);
}

static struct sx_scn *
run_cfg(struct sx_scn_cfg *cfg)
{
	struct sx_scn *s = sx_scn_create(cfg, stderr);

	assert_non_null(s);
	assert_int_equal(sx_scn_run(s), 0);
	return s;
}

static struct sx_scn_result
run(const char *name, const char *const *sets)
{
	struct sx_scn_cfg cfg;
	struct sx_scn_result r;
	struct sx_scn *s;

	load(&cfg, name, sets);
	s = run_cfg(&cfg);
	r = *sx_scn_result(s);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);
	return r;
}

/*
 * 4:1 incast over the WAN at RTT 5 ms (lh_incast4.ini). The busiest switch
 * port in the measurement window must be the WAN cable b0>b1.
 */
static void
incast(void **state)
{
	static const char *const lh[] = {"transport.cc_preset=longhaul", NULL};
	static const char *const nic[] = {"transport.cc_preset=nic", NULL};
	struct sx_scn_result a = run("lh_incast4", lh), b = run("lh_incast4", nic);

	(void)state;
	printf(
	    "4:1 WAN incast, RTT 5 ms, 10G WAN: dcqcn longhaul %.2f%% of the WAN (%s), "
	    "%.3f Gb/s, %lu drops, %lu retransmits, %lu timeouts, queue p99 %.2f MB\n",
	    100 * a.win_max_util, a.win_max_util_port, a.win_goodput_gbps,
	    (unsigned long)a.drops_total, (unsigned long)a.retransmits,
	    (unsigned long)a.timeouts, (double)a.win_q_worst_p99_bytes / 1e6);
	printf(
	    "4:1 WAN incast, RTT 5 ms, 10G WAN: dcqcn nic      %.2f%% of the WAN (%s), "
	    "%.3f Gb/s, %lu drops, %lu retransmits, %lu timeouts, queue p99 %.2f MB\n",
	    100 * b.win_max_util, b.win_max_util_port, b.win_goodput_gbps,
	    (unsigned long)b.drops_total, (unsigned long)b.retransmits,
	    (unsigned long)b.timeouts, (double)b.win_q_worst_p99_bytes / 1e6);
	assert_string_equal(a.win_max_util_port, "b0>b1");
	assert_true(a.win_max_util >= 0.95);
	assert_int_equal(a.drops_total, 0);
	assert_int_equal(a.timeouts, 0);
	/* goodput: what the cable carries less the headers of 4 KiB frames
	 * (RoCEv2 over IPv4: 14 + 20 + 8 + 12 + 4 + 24 on the wire) */
	assert_true(a.win_goodput_gbps >= 0.95 * 10 * 4096.0 / (4096 + 82));
}

/*
 * Swift at RTT 10 ms (lh_swift10.ini). Four QPs of 1024 PSNs x 4 KiB could
 * keep 4 x 4 MiB in flight against a bandwidth-delay product of 10 Gb/s x
 * 10 ms: without a CC that acts, the rest would stand in the WAN port's
 * queue. Swift's delay target must keep the queue below that.
 */
static void
swift(void **state)
{
	const double bdp_bytes = 10e9 / 8 * 10e-3;
	const double windows_bytes = 4 * 1024.0 * 4096;
	struct sx_scn_result r = run("lh_swift10", NULL);

	(void)state;
	printf("4:1 WAN incast, RTT 10 ms, 10G WAN: swift %.2f%% of the WAN (%s), %.3f "
	       "Gb/s, "
	       "%lu drops, queue p99 %.2f MB (windows alone: %.2f MB)\n",
	       100 * r.win_max_util, r.win_max_util_port, r.win_goodput_gbps,
	       (unsigned long)r.drops_total, (double)r.win_q_worst_p99_bytes / 1e6,
	       (windows_bytes - bdp_bytes) / 1e6);
	assert_string_equal(r.win_max_util_port, "b0>b1");
	assert_true(r.win_max_util >= 0.95);
	assert_int_equal(r.drops_total, 0);
	assert_int_equal(r.timeouts, 0);
	assert_true((double)r.win_q_worst_p99_bytes < 0.8 * (windows_bytes - bdp_bytes));
}

/* p99 FCT (ns) of the flows of @p s from hosts [lo, hi); all must be done. */
static double
p99_fct_ns(const struct sx_scn *s, uint32_t lo, uint32_t hi, uint32_t *n_out)
{
	double *v = malloc((s->nflows + 1) * sizeof(*v));
	uint32_t i, n = 0;
	double p;

	assert_non_null(v);
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *f = &s->flows[i];

		if (f->src < lo || f->src >= hi)
			continue;
		assert_true(f->finished && !f->failed);
		v[n++] = (double)(f->end_ps - f->start_ps) / 1e3;
	}
	assert_true(n > 0);
	sx_sort_doubles(v, n);
	p = sx_quantile_sorted(v, n, 0.99); /* util/quantile.h's rule */
	free(v);
	*n_out = n;
	return p;
}

static void
border(void **state)
{
	static const char *const direct[] = {"gateway.enable=0", NULL};
	static const char *const gw[] = {"gateway.enable=1", NULL};
	struct sx_scn_cfg cfg;
	struct sx_scn *s;
	struct sx_scn_result rn, rd, rg;
	double p_none, p_direct, p_gw;
	uint32_t i, j, n;

	(void)state;
	/* no WAN flows: only the short ones (from hosts 8..11) */
	load(&cfg, "lh_border", direct);
	for (i = j = 0; i < cfg.nflows; i++) {
		if (cfg.flows[i].src >= 8)
			cfg.flows[j++] = cfg.flows[i];
	}
	assert_int_equal(j, 100);
	cfg.nflows = j;
	s = run_cfg(&cfg);
	p_none = p99_fct_ns(s, 8, 12, &n);
	rn = *sx_scn_result(s);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);

	load(&cfg, "lh_border", direct);
	s = run_cfg(&cfg);
	p_direct = p99_fct_ns(s, 8, 12, &n);
	rd = *sx_scn_result(s);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);

	load(&cfg, "lh_border", gw);
	s = run_cfg(&cfg);
	p_gw = p99_fct_ns(s, 8, 12, &n);
	rg = *sx_scn_result(s);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);

	printf(
	    "border leaf, %u short 64 KB flows: p99 FCT no WAN %.1f us; with 6 WAN flows "
	    "end to end %.1f us (%.2fx, %lu drops, WAN goodput %.1f Gb/s); through the "
	    "gateways %.1f us (%.2fx, %lu drops, WAN goodput %.1f Gb/s)\n",
	    n, p_none / 1e3, p_direct / 1e3, p_direct / p_none,
	    (unsigned long)rd.drops_total,
	    (double)(rd.bytes_acked - rn.bytes_acked) * 8 / 7e6, p_gw / 1e3,
	    p_gw / p_none, (unsigned long)rg.drops_total,
	    (double)(rg.bytes_acked - rn.bytes_acked) * 8 / 7e6);
	assert_true(p_gw <= 1.5 * p_none);
	assert_true(p_gw < p_direct);
	assert_int_equal(rg.drops_total, 0);
	/* the relay moved WAN data, not just held it: over the 7 ms at least a
	 * quarter of the destination's 100 Gb/s link */
	assert_true((double)(rg.bytes_acked - rn.bytes_acked) * 8 >= 0.25 * 100e9 * 7e-3);
}

/*
 * The relay: wan2.ini's two DCs (RTT 2 ms), flows both ways at once with
 * their payloads verified, through staging of two slots per direction, so
 * that chunks must wait for credits; and a cross-DC flow from a gateway
 * host, which gateway mode refuses.
 */
static void
relay(void **state)
{
	static const char *const sets[] = {"gateway.enable=1",
	                                   "gateway.chunk_bytes=65536",
	                                   "gateway.staging_bytes=131200",
	                                   "gateway.wan_qps=2",
	                                   "transport.verify=1",
	                                   NULL};
	struct sx_scn_cfg cfg;
	struct sx_scn *s;
	struct sx_scn_gw_side in0, wan0, in1, wan1;
	struct sx_scn_flow_spec fl[] = {
	    {0, 4, 1000000, 0, 0}, {1, 6, 300000, 0, 0}, {4, 2, 700000, 0, 0},
	    {5, 1, 65537, 0, 0},   {2, 0, 200000, 0, 0}, {3, 5, 1000, 0, 0},
	};
	const struct sx_scn_result *r;
	uint64_t relayed = 1000000 + 300000 + 700000 + 65537;
	uint32_t i;

	(void)state;
	load(&cfg, "wan2", sets);
	free(cfg.flows);
	cfg.flows = malloc(sizeof(fl));
	assert_non_null(cfg.flows);
	memcpy(cfg.flows, fl, sizeof(fl));
	cfg.nflows = sizeof(fl) / sizeof(fl[0]);
	s = run_cfg(&cfg);
	r = sx_scn_result(s);
	sx_scn_gw_side(s, 0, false, &in0);
	sx_scn_gw_side(s, 0, true, &wan0);
	sx_scn_gw_side(s, 1, false, &in1);
	sx_scn_gw_side(s, 1, true, &wan1);
	printf("relay: %lu/%lu flows done, %lu corrupt, %lu drops; gateway 0 (host %u): "
	       "inside "
	       "tx %lu B, egress peak %u/%u slots, %lu credit waits; WAN tx %lu B, %lu "
	       "retransmits; gateway 1 (host %u): inside tx %lu B; WAN tx %lu B, ingress "
	       "peak "
	       "%u/%u, %lu credit waits\n",
	       (unsigned long)r->completed, (unsigned long)r->flows,
	       (unsigned long)r->verify_errors, (unsigned long)r->drops_total, in0.host,
	       (unsigned long)in0.tx_bytes, in0.staging_peak, in0.staging_slots,
	       (unsigned long)in0.credit_waits, (unsigned long)wan0.tx_bytes,
	       (unsigned long)wan0.retransmits, in1.host, (unsigned long)in1.tx_bytes,
	       (unsigned long)wan1.tx_bytes, wan1.staging_peak, wan1.staging_slots,
	       (unsigned long)wan1.credit_waits);
	/* the gateway hosts are the last of each DC: 3 and 7 */
	assert_int_equal(in0.host, 3);
	assert_int_equal(in1.host, 7);
	assert_int_equal(r->flows, 6);
	assert_int_equal(r->completed, 5);
	assert_int_equal(r->rejected[SX_SCN_REJECT_POST], 1);
	for (i = 0; i < s->nflows; i++) /* 3 -> 5: from a gateway */
		assert_int_equal(s->flows[i].reject, s->flows[i].src == 3
		                                         ? SX_SCN_REJECT_POST
		                                         : SX_SCN_REJECT_NONE);
	assert_int_equal(r->verify_errors, 0);
	assert_int_equal(r->drops_total, 0);
	/* two slots of 64 KiB + 64: the staging never held more */
	assert_int_equal(in0.staging_slots, 2);
	assert_true(in0.staging_peak <= 2 && wan1.staging_peak <= 2);
	assert_true(in0.credit_waits > 0 && wan1.credit_waits > 0);
	/* each side carried what it relays: DC 0's gateway sent 0->4 and 1->6
	 * over the WAN and delivered 5->1 inside; DC 1's the other way */
	assert_true(wan0.tx_bytes >= 1000000 + 300000);
	assert_true(in0.tx_bytes >= 65537);
	assert_true(wan1.tx_bytes >= 700000 + 65537);
	assert_true(in1.tx_bytes >= 1000000 + 300000);
	assert_int_equal(sx_scn_gw_delivered(s), relayed);
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *f = &s->flows[i];

		/* a relayed flow takes at least a WAN round trip (A, then B's
		 * acknowledgement before C can start): 2 x 1 ms */
		if (f->src / 4 != f->dst / 4 && !f->failed)
			assert_true(f->end_ps - f->start_ps >= 2000000000ull);
	}
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);
}

/*
 * The WAN cable between the gateways fails 1.5 ms in (before any relayed
 * flow can finish: each needs a 2 ms round trip): the long-haul QPs run
 * out of retries, every relayed flow fails (both directions), its data
 * stays where it was, and the intra-DC flow beside them completes intact.
 * What a failed gateway or WAN means end to end: docs/longhaul.md.
 */
static void
wanfail(void **state)
{
	static const char *const sets[] = {"gateway.enable=1",
	                                   "gateway.chunk_bytes=65536",
	                                   "gateway.staging_bytes=300000",
	                                   "fault.fail=b0-b1 1500",
	                                   "transport.timeout_us=3000",
	                                   "transport.retry_cnt=2",
	                                   "sim.drain_us=100000",
	                                   "workload.flow=4 1 300000",
	                                   "workload.flow=1 2 100000",
	                                   NULL};
	struct sx_scn_cfg cfg;
	struct sx_scn *s;
	const struct sx_scn_result *r;
	uint32_t i;

	(void)state;
	load(&cfg, "wan2", sets);
	s = run_cfg(&cfg);
	r = sx_scn_result(s);
	printf("WAN cable fails under the gateways: %lu flows, %lu completed, %lu "
	       "failed, %lu "
	       "corrupt, %lu timeouts\n",
	       (unsigned long)r->flows, (unsigned long)r->completed,
	       (unsigned long)r->failed, (unsigned long)r->verify_errors,
	       (unsigned long)r->timeouts);
	assert_int_equal(r->flows, 3);
	for (i = 0; i < s->nflows; i++) {
		const struct sx_scn_flowrec *f = &s->flows[i];

		assert_true(f->finished);
		if (f->src / 4 != f->dst / 4)
			assert_int_equal(f->status, SX_WC_RETRY_EXC_ERR);
		else
			assert_int_equal(f->status, SX_WC_SUCCESS);
	}
	assert_int_equal(r->completed, 1);
	assert_int_equal(r->verify_errors, 0);
	assert_true(sx_scn_gw_delivered(s) < 8000000 + 300000);
	sx_scn_destroy(s);
	sx_scn_cfg_fini(&cfg);
}

/* The completion of the last flow of a run, ns from its start. */
static double
run_end_ns(const char *name)
{
	struct sx_scn_result r = run(name, NULL);

	assert_int_equal(r.failed, 0);
	assert_int_equal(r.completed, r.flows);
	assert_int_equal(r.drops_total, 0);
	return (double)r.goodput_end_ns - (double)r.goodput_start_ns;
}

/*
 * Cross-DC all-reduce of 16 MiB per host, 2 DCs x 4 hosts, WAN RTT 5 ms,
 * through the gateways (tools/sim/lh-allreduce.py writes both files).
 * Hierarchical: a ring inside each DC, one long-haul flow per DC pair
 * between the leaders, a broadcast inside; flat: one ring over all 8 hosts,
 * whose chain of dependent steps crosses the WAN again and again. The
 * hierarchical one cannot beat its own critical path (reference model
 * below) and must beat the flat one.
 */
static void
allreduce(void **state)
{
	const double buf = 16 << 20, rate = 100e9, k = 4;
	/* ring inside a DC: 2 (k - 1) steps of buf / k; the WAN one way; the
	 * leader sends buf to k - 1 hosts from one 100 Gb/s link */
	const double bound_ns =
	    (2 * (k - 1) * buf / k * 8 / rate + 2.5e-3 + (k - 1) * buf * 8 / rate) * 1e9;
	double hier = run_end_ns("lh_allreduce_hier"),
	       flat = run_end_ns("lh_allreduce_flat");

	(void)state;
	printf("cross-DC all-reduce, 2 DCs x 4 hosts, 16 MiB, WAN RTT 5 ms: hierarchical "
	       "%.2f ms "
	       "(critical path at least %.2f ms), flat ring %.2f ms: %.2fx\n",
	       hier / 1e6, bound_ns / 1e6, flat / 1e6, flat / hier);
	assert_true(hier >= bound_ns);
	assert_true(hier < flat);
}

/* Configuration errors of gateway mode. */
static void
keys(void **state)
{
	struct sx_scn_cfg cfg;

	(void)state;
	sx_scn_cfg_init(&cfg);
	assert_int_equal(sx_scn_set(&cfg, "gateway.enable=1", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr), -EINVAL); /* one DC */
	assert_int_equal(sx_scn_set(&cfg, "wan.dcs=2", stderr), 0);
	assert_int_equal(sx_scn_set(&cfg, "topology.spines=1", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr), 0);
	assert_int_equal(sx_scn_set(&cfg, "gateway.staging_bytes=4096", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr), -EINVAL); /* no slot */
	assert_int_equal(sx_scn_set(&cfg, "gateway.staging_bytes=67108864", stderr), 0);
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_cc=swift", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr), -EINVAL); /* swift has no longhaul */
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_cc_preset=paper", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr), 0);
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_cc=bogus", stderr), -EINVAL);
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_qps=0", stderr), -EINVAL);
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_cc=none", stderr), 0);
	assert_int_equal(sx_scn_set(&cfg, "gateway.wan_cc_param=ai=1", stderr), 0);
	assert_int_equal(sx_scn_check(&cfg, stderr),
	                 -EINVAL); /* a parameter without a CC */
	sx_scn_cfg_fini(&cfg);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest all[] = {
	    cmocka_unit_test(incast),  cmocka_unit_test(swift),
	    cmocka_unit_test(border),  cmocka_unit_test(relay),
	    cmocka_unit_test(wanfail), cmocka_unit_test(allreduce),
	    cmocka_unit_test(keys),
	};
	struct CMUnitTest one[1];
	size_t i;

	if (argc < 2)
		return cmocka_run_group_tests(all, NULL, NULL);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(all[i].name, argv[1]) == 0) {
			one[0] = all[i];
			return cmocka_run_group_tests(one, NULL, NULL);
		}
	}
	fprintf(stderr, "longhaul_test: no group %s\n", argv[1]);
	return 1;
}
