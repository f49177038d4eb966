/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-fabric's model (tools/fabric/emu.c) in virtual time: frames are
 * plain buffers, the clock is the test's. Expected values come from the
 * definitions, computed here independently: store-and-forward delivery
 * times at the link rate, RFC 791 / RFC 1071 header checksums, RFC 3168
 * ECN codepoints, RFC 1812 TTL handling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/fabric/emu.h"

#define FRAME_LEN 1042 /* 14 + 20 + 8 + 1000 */
#define MAX_DELIV 4096

struct deliv {
	uint32_t host;
	uint64_t t_ns;
	uint8_t tos;
	uint8_t ttl;
	bool csum_ok;
	uint16_t sport;
};

struct env {
	struct fx fx;
	uint64_t now;
	struct deliv d[MAX_DELIV];
	unsigned int nd;
	unsigned int freed;
	unsigned int live; /* buffers handed in and not yet returned */
};

/* RFC 1071 one's-complement sum over the IPv4 header. */
static uint16_t
ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static bool
deliver(void *arg, uint32_t host, struct fx_pkt *p)
{
	struct env *e = arg;
	const uint8_t *ip = p->data + 14;

	assert_true(e->nd < MAX_DELIV);
	e->d[e->nd++] = (struct deliv){
		.host = host, .t_ns = e->now, .tos = ip[1], .ttl = ip[8],
		.csum_ok = ip_csum(ip) == 0xffff, .sport = (uint16_t)(ip[20] << 8 | ip[21])};
	free(p->h);
	e->live--;
	return true;
}

static void
drop(void *arg, struct fx_pkt *p)
{
	struct env *e = arg;

	free(p->h);
	e->freed++;
	e->live--;
}

static bool
copy(void *arg, const struct fx_pkt *in, struct fx_pkt *out)
{
	struct env *e = arg;
	uint8_t *b = malloc(in->len);

	if (b == NULL)
		return false;
	memcpy(b, in->data, in->len);
	*out = (struct fx_pkt){.h = b, .data = b, .len = in->len};
	e->live++;
	return true;
}

/* An IPv4/UDP frame from host @p src to host @p dst (10.a.b.c = host + 1). */
static void
send_frame(struct env *e, uint32_t src, uint32_t dst, uint16_t sport, uint8_t tos, uint8_t ttl,
	   uint32_t len)
{
	uint8_t *b = calloc(1, len), *ip = b + 14;
	uint16_t c;
	struct fx_pkt p = {.h = b, .data = b, .len = len};

	assert_non_null(b);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[1] = tos;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	ip[8] = ttl;
	ip[9] = 17;
	sx_fabric_ip_of_host(src, ip + 12);
	sx_fabric_ip_of_host(dst, ip + 16);
	ip[20] = (uint8_t)(sport >> 8);
	ip[21] = (uint8_t)sport;
	ip[22] = 0x12; /* 4791 */
	ip[23] = 0xb7;
	c = (uint16_t)~ip_csum(ip);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	e->live++;
	fx_ingress(&e->fx, src, &p, e->now);
}

/* Advance virtual time in @p step_ns steps until nothing is held. */
static void
drain(struct env *e, uint64_t step_ns)
{
	unsigned int guard = 0;

	while (fx_held(&e->fx) > 0) {
		fx_poll(&e->fx, e->now);
		if (fx_held(&e->fx) == 0)
			break;
		e->now += step_ns;
		assert_true(++guard < 100000000u);
	}
}

static struct env *
env_new(uint32_t hosts_per_leaf, uint32_t leaves, uint32_t spines, void (*tweak)(struct fx_cfg *))
{
	struct env *e = calloc(1, sizeof(*e));
	struct fx_cfg c = {0};
	struct fx_hooks h = {.deliver = deliver, .free = drop, .copy = copy};

	assert_non_null(e);
	c.fab.hosts_per_leaf = hosts_per_leaf;
	c.fab.leaves = leaves;
	c.fab.spines = spines;
	c.fab.dcs = 1;
	c.fab.host_rate_bps = 1000000000ull;
	c.fab.fabric_rate_bps = 1000000000ull;
	c.fab.host_delay_ns = 1000;
	c.fab.fabric_delay_ns = 2000;
	c.fab.wire_overhead_bytes = 24;
	c.fab.nic_ring_frames = 4096;
	c.fab.buffer_bytes = 10000000;
	c.burst_bytes = 64;
	c.burst_min_ns = 1; /* no burst: every frame at the rate */
	c.seed = 7;
	if (tweak != NULL)
		tweak(&c);
	h.arg = e;
	assert_int_equal(fx_init(&e->fx, &c, &h), 0);
	e->now = 1000000;
	return e;
}

static void
env_free(struct env *e)
{
	fx_fini(&e->fx);
	assert_int_equal(e->live, 0); /* every buffer came back */
	free(e);
}

/* Frame k of a back-to-back train over host_up then leaf_down (rate R,
 * delay d each, store and forward) arrives at (k + 2) T + 2 d after the
 * first was offered, T = (len + 24) * 8 / R. */
static void
test_shaper_store_and_forward(void **state)
{
	struct env *e = env_new(2, 1, 0, NULL);
	const uint64_t t0 = e->now, T = (FRAME_LEN + 24) * 8;  /* ns at 1 Gb/s */
	unsigned int k;

	(void)state;
	for (k = 0; k < 50; k++)
		send_frame(e, 0, 1, 1000, 0, 64, FRAME_LEN);
	drain(e, 1);
	assert_int_equal(e->nd, 50);
	for (k = 0; k < 50; k++) {
		/* polled every ns, and T is a whole number of ns at 1 Gb/s */
		assert_int_equal(e->d[k].host, 1);
		assert_int_equal(e->d[k].t_ns, t0 + (k + 2) * T + 2 * 1000);
	}
	env_free(e);
}

static void
no_ecn_below_kmin(struct fx_cfg *c)
{
	c->fab.ecn = true;
	c->fab.kmin_bytes = 1000000;
	c->fab.kmax_bytes = 2000000;
	c->fab.pmax = 1;
	c->fab.host_rate_bps = 2000000000ull; /* two senders at 2G into one 1G port */
}

static void
always_above_kmax(struct fx_cfg *c)
{
	no_ecn_below_kmin(c);
	c->fab.kmin_bytes = 0;
	c->fab.kmax_bytes = 1;
}

/* Two hosts send ECT(0) frames to a third through a 1G downlink. With Kmin
 * above any queue nothing is marked; with Kmax = 1 byte every frame that
 * finds a queue is CE, ECT frames only, checksum still valid. */
static void
test_red_ecn(void **state)
{
	struct env *e = env_new(3, 1, 0, no_ecn_below_kmin);
	unsigned int k, ce = 0;

	(void)state;
	for (k = 0; k < 40; k++)
		send_frame(e, k & 1, 2, 1000, 0x02, 64, FRAME_LEN);
	drain(e, 50);
	assert_int_equal(e->nd, 40);
	for (k = 0; k < 40; k++)
		assert_int_equal(e->d[k].tos & 3, 0x02);
	assert_int_equal(e->fx.ecn_marked, 0);
	env_free(e);

	e = env_new(3, 1, 0, always_above_kmax);
	for (k = 0; k < 40; k++)
		send_frame(e, k & 1, 2, 1000, k < 20 ? 0x02 : 0x00, 64, FRAME_LEN);
	drain(e, 50);
	assert_int_equal(e->nd, 40);
	for (k = 0; k < e->nd; k++) {
		assert_true(e->d[k].csum_ok);
		if ((e->d[k].tos & 3) == 3)
			ce++;
		else
			assert_true((e->d[k].tos & 3) == 0x02 || (e->d[k].tos & 3) == 0);
	}
	/* not-ECT frames are never marked; ECT ones that found a queue are */
	assert_true(ce > 0 && ce <= 20);
	assert_int_equal(ce, e->fx.ecn_marked);
	env_free(e);
}

/* Across leaves: each flow (UDP source port) sticks to one spine, the
 * flows spread over both, and three switch hops take three off the TTL. */
static void
test_ecmp_ttl(void **state)
{
	struct env *e = env_new(1, 2, 2, NULL);
	struct fx_link *up0 = e->fx.leaf_up[0], *up1 = e->fx.leaf_up[1];
	unsigned int k, f;

	(void)state;
	for (f = 0; f < 16; f++) {
		uint64_t a = up0->tx_pkts, b = up1->tx_pkts;

		for (k = 0; k < 5; k++)
			send_frame(e, 0, 1, (uint16_t)(49152 + f), 0, 64, FRAME_LEN);
		drain(e, 100);
		/* all five on one spine */
		assert_true((up0->tx_pkts - a == 5 && up1->tx_pkts == b) ||
			    (up1->tx_pkts - b == 5 && up0->tx_pkts == a));
	}
	assert_true(up0->tx_pkts > 0 && up1->tx_pkts > 0);
	assert_int_equal(e->nd, 80);
	for (k = 0; k < e->nd; k++) {
		assert_int_equal(e->d[k].ttl, 61);
		assert_true(e->d[k].csum_ok);
	}
	/* TTL 2 dies at the second switch */
	send_frame(e, 0, 1, 7, 0, 2, FRAME_LEN);
	drain(e, 100);
	assert_int_equal(e->nd, 80);
	assert_int_equal(e->fx.drop[FX_DROP_TTL], 1);
	env_free(e);
}

static void
small_buffer(struct fx_cfg *c)
{
	c->fab.buffer_bytes = 10 * FRAME_LEN;
	c->fab.host_rate_bps = 10000000000ull; /* 10G hosts into a 1G downlink */
	c->fab.fabric_rate_bps = 1000000000ull;
}

/* Drop-tail at buffer_bytes; frames for no host are dropped as no_route;
 * every frame is either delivered or counted as dropped. */
static void
test_tail_drop_and_no_route(void **state)
{
	struct env *e = env_new(2, 1, 0, small_buffer);
	struct fx_link *down = e->fx.leaf_down[1];
	unsigned int k;

	(void)state;
	/* the downlink runs at the host rate here: slow it to 1G by hand */
	down->rate_bps = 1000000000ull;
	for (k = 0; k < 100; k++)
		send_frame(e, 0, 1, 1000, 0, 64, FRAME_LEN);
	drain(e, 100);
	assert_true(down->drop[FX_DROP_TAIL] > 0);
	assert_int_equal(e->nd + down->drop[FX_DROP_TAIL], 100);
	assert_true(down->qhist.max <= 10 * FRAME_LEN);
	send_frame(e, 0, 200, 1000, 0, 64, FRAME_LEN); /* 10.0.0.201: no such host */
	drain(e, 100);
	assert_int_equal(e->fx.drop[FX_DROP_NOROUTE], 1);
	env_free(e);
}

static void
lossy(struct fx_cfg *c)
{
	c->fault.drop = 0.1;
	c->fault.duplicate = 0.1;
	c->fault.reorder = 0.1;
}

/* Faults: every frame is delivered, dropped or duplicated as counted, and
 * a reordered frame arrives after the frame that passed it. */
static void
test_faults_accounted(void **state)
{
	struct env *e = env_new(2, 1, 0, lossy);
	uint64_t dup = 0, lost = 0, reo = 0;
	unsigned int k, inversions = 0;
	uint32_t i;

	(void)state;
	for (k = 0; k < 1000; k++)
		send_frame(e, 0, 1, (uint16_t)k, 0, 64, FRAME_LEN);
	drain(e, 100);
	for (i = 0; i < e->fx.nlinks; i++) {
		dup += e->fx.links[i].duplicated;
		lost += e->fx.links[i].drop[FX_DROP_LOSS];
		reo += e->fx.links[i].reordered;
	}
	assert_true(dup > 0 && lost > 0 && reo > 0);
	assert_int_equal(e->nd, 1000 + dup - lost);
	for (k = 1; k < e->nd; k++)
		if (e->d[k].sport < e->d[k - 1].sport)
			inversions++;
	assert_true(inversions > 0);
	env_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shaper_store_and_forward),
		cmocka_unit_test(test_red_ecn),
		cmocka_unit_test(test_ecmp_ttl),
		cmocka_unit_test(test_tail_drop_and_no_route),
		cmocka_unit_test(test_faults_accounted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
