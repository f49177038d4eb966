/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ethdev port in one process, over DPDK's net_ring PMD: a vdev whose tx
 * queue feeds its own rx queue, so every frame sent comes back. Covers the
 * frame life cycle, the capture file, linearizing a chained rx frame,
 * oversize frames, pool exhaustion, hot-plug and unplug (a second open of
 * the same vdev), "port=N" on a device EAL probed, the tx_ring_frames
 * option, and bad specs.
 *
 * EAL runs as the smoke test runs it: --no-huge, small memory, no PCI.
 * Units: lengths in bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "../../dataplane/port/port.h"
#include "testutil.h"

#define MAX_FRAME 4224 /* an IB MTU of 4096 with every header, as the engine asks */
#define ETH_HLEN  14
#define BURST     32

static char eal_prefix[64];

static uint8_t
pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 17 + i * 3);
}

static uint32_t
frame_len(uint32_t seq)
{
	return 60 + (seq * 97) % (MAX_FRAME - 59);
}

static void
fill(uint8_t *p, uint32_t seq, uint32_t len)
{
	uint32_t i;

	memset(p, 0xff, 12);
	p[12] = 0x88;
	p[13] = 0xb5;
	memcpy(p + ETH_HLEN, &seq, sizeof(seq));
	for (i = ETH_HLEN + 4; i < len; i++)
		p[i] = pattern(seq, i);
}

static void
assert_frame(const struct sx_frame *f, uint32_t seq, uint32_t len)
{
	uint8_t *want = malloc(len);

	assert_non_null(want);
	fill(want, seq, len);
	assert_int_equal(f->len, len);
	assert_true(f->cap >= f->len);
	assert_memory_equal(f->data, want, len);
	free(want);
}

static uint16_t
port_id_of(const char *name)
{
	uint16_t id;

	assert_int_equal(rte_eth_dev_get_port_by_name(name, &id), 0);
	return id;
}

static int
eal_setup(void **state)
{
	char *argv[] = {
		(char *)"ethdev_test", (char *)"--no-huge", (char *)"-m", (char *)"256",
		(char *)"--no-pci", (char *)"--no-telemetry", (char *)"--file-prefix",
		eal_prefix, (char *)"--vdev", (char *)"net_ring1",
		(char *)"--log-level", (char *)"lib.eal:warning", NULL,
	};

	(void)state;
	snprintf(eal_prefix, sizeof(eal_prefix), "sx-ethdev-test-%ld", (long)getpid());
	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0 ? -1 : 0;
}

static int
eal_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	eal_runtime_dir_remove(eal_prefix);
	return 0;
}

/* Frames of every length up to MAX_FRAME go out and come back intact, in
 * order, counted, and captured in both directions. */
static void
test_loopback_and_capture(void **state)
{
	char path[] = "/tmp/sx-ethdev-test-XXXXXX";
	struct sx_frame f[BURST];
	struct pcapng_counts c;
	struct sx_port *p;
	uint64_t bytes = 0;
	uint32_t seq = 0, got = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	p = sx_port_ethdev_open("net_ring0", MAX_FRAME, path);
	assert_non_null(p);
	assert_int_equal(p->max_frame, MAX_FRAME);
	while (seq < 1000) {
		uint16_t n = sx_port_tx_alloc(p, f, BURST), sent, i;

		assert_int_equal(n, BURST);
		for (i = 0; i < n; i++) {
			assert_true(f[i].cap >= MAX_FRAME);
			f[i].len = frame_len(seq + i);
			fill(f[i].data, seq + i, f[i].len);
			bytes += f[i].len;
		}
		sent = sx_port_tx(p, f, n);
		assert_int_equal(sent, n);
		seq += n;
		while ((n = sx_port_rx(p, f, BURST)) > 0) {
			for (i = 0; i < n; i++, got++)
				assert_frame(&f[i], got, frame_len(got));
			sx_port_rx_done(p, f, n);
		}
	}
	assert_int_equal(got, seq);
	assert_int_equal(p->stats.tx_frames, seq);
	assert_int_equal(p->stats.rx_frames, seq);
	assert_int_equal(p->stats.tx_bytes, bytes);
	assert_int_equal(p->stats.rx_bytes, bytes);
	assert_int_equal(p->stats.capture_drop, 0);
	sx_port_close(p);

	assert_int_equal(pcapng_count(path, &c), 0);
	assert_int_equal(c.out, seq);
	assert_int_equal(c.in, seq);
	assert_int_equal(c.other, 0);
	assert_int_equal(c.bytes, 2 * bytes);
	assert_true(c.ifaces >= 1);
	unlink(path);
}

/* A chain (as a peer with small buffers delivers) is received as one
 * contiguous frame; one longer than max_frame is dropped and counted. A
 * frame longer than max_frame is not sent. */
static void
test_chains_and_oversize(void **state)
{
	struct rte_mempool *mp;
	struct rte_mbuf *m[2];
	struct sx_frame f[BURST];
	struct sx_port *p;
	uint32_t lens[2] = {3000, MAX_FRAME + 500};
	uint8_t *ref = malloc(MAX_FRAME + 500);
	uint16_t pid, n;
	int i;

	(void)state;
	assert_non_null(ref);
	p = sx_port_ethdev_open("net_ring0", MAX_FRAME, NULL);
	assert_non_null(p);
	pid = port_id_of("net_ring0");
	/* 1024-byte segments, sent behind the port's back. */
	mp = rte_pktmbuf_pool_create("sx_test_seg", 63, 0, 0, 1024 + RTE_PKTMBUF_HEADROOM,
				     SOCKET_ID_ANY);
	assert_non_null(mp);
	for (i = 0; i < 2; i++) {
		uint32_t off = 0;

		fill(ref, (uint32_t)i, lens[i]);
		m[i] = NULL;
		while (off < lens[i]) {
			struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);
			uint16_t k = (uint16_t)RTE_MIN(1024u, lens[i] - off);

			assert_non_null(seg);
			memcpy(rte_pktmbuf_append(seg, k), ref + off, k);
			if (m[i] == NULL)
				m[i] = seg;
			else
				assert_int_equal(rte_pktmbuf_chain(m[i], seg), 0);
			off += k;
		}
		assert_true(m[i]->nb_segs > 1);
	}
	assert_int_equal(rte_eth_tx_burst(pid, 0, m, 2), 2);
	n = sx_port_rx(p, f, BURST);
	assert_int_equal(n, 1);
	assert_frame(&f[0], 0, 3000);
	sx_port_rx_done(p, f, n);
	assert_int_equal(p->stats.rx_linearized, 1);
	assert_int_equal(p->stats.rx_drop, 1);

	/* Oversize on tx: taken, dropped, counted; the next frame still goes. */
	assert_int_equal(sx_port_tx_alloc(p, f, 2), 2);
	f[0].len = MAX_FRAME + 1;
	f[1].len = 100;
	fill(f[1].data, 7, 100);
	assert_int_equal(sx_port_tx(p, f, 2), 2);
	assert_int_equal(p->stats.tx_drop, 1);
	n = sx_port_rx(p, f, BURST);
	assert_int_equal(n, 1);
	assert_frame(&f[0], 7, 100);
	sx_port_rx_done(p, f, n);

	sx_port_close(p);
	rte_mempool_free(mp);
	free(ref);
}

/* Asking for more frames than the pool holds returns what there is and
 * counts the rest; everything goes back. */
static void
test_pool_exhaustion(void **state)
{
	enum { WANT = 8192 };
	struct sx_frame *f = calloc(WANT, sizeof(*f));
	struct sx_port *p;
	uint32_t got = 0;

	(void)state;
	assert_non_null(f);
	p = sx_port_ethdev_open("net_ring0", MAX_FRAME, NULL);
	assert_non_null(p);
	while (got < WANT) {
		uint16_t n = sx_port_tx_alloc(p, f + got, BURST);

		got += n;
		if (n < BURST)
			break;
	}
	assert_true(got < WANT);
	assert_true(got >= 2048);
	assert_true(p->stats.alloc_fail > 0);
	/* net_ring reports no descriptor status: no ring bound held it. */
	assert_int_equal(p->stats.tx_ring_held, 0);
	sx_port_tx_free(p, f, (uint16_t)got); /* got < WANT fits */
	assert_int_equal(sx_port_tx_alloc(p, f, BURST), BURST);
	sx_port_tx_free(p, f, BURST);
	sx_port_close(p);
	free(f);
}

/* "port=N" uses a port EAL probed (--vdev net_ring1); close stops and
 * closes it (its ethdev is released), but the device stays plugged. A vdev
 * this code probed is unplugged on close, so it can be probed again. */
static void
test_port_id_and_replug(void **state)
{
	struct rte_eth_dev_info info;
	char spec[32];
	struct sx_frame f;
	struct sx_port *p;
	uint16_t id;
	int i;

	(void)state;
	id = port_id_of("net_ring1");
	assert_int_equal(rte_eth_dev_info_get(id, &info), 0);
	snprintf(spec, sizeof(spec), "port=%u", id);
	p = sx_port_ethdev_open(spec, 1500, NULL);
	assert_non_null(p);
	assert_int_equal(sx_port_tx_alloc(p, &f, 1), 1);
	f.len = 64;
	fill(f.data, 3, 64);
	assert_int_equal(sx_port_tx(p, &f, 1), 1);
	assert_int_equal(sx_port_rx(p, &f, 1), 1);
	assert_frame(&f, 3, 64);
	sx_port_rx_done(p, &f, 1);
	sx_port_close(p);
	assert_true(rte_dev_is_probed(info.device));

	for (i = 0; i < 3; i++) {
		p = sx_port_ethdev_open("net_ring2", 2048, NULL);
		assert_non_null(p);
		sx_port_close(p);
		assert_int_not_equal(rte_eth_dev_get_port_by_name("net_ring2", &id), 0);
	}
}

/* tx_ring_frames is scalex's, taken out of the spec before DPDK sees it.
 * net_ring has no tx descriptor status, so the ring stays unbounded
 * whatever the limit: more frames than the limit go out, none held. */
static void
test_tx_ring_frames_option(void **state)
{
	enum { N = 64 };
	static const char *const specs[] = {
		"net_ring0,tx_ring_frames=16",
		"net_ring0,tx_ring_frames=0",
	};
	struct sx_frame f[N];
	struct sx_port *p;
	size_t i;
	uint16_t k, got;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		p = sx_port_ethdev_open(specs[i], MAX_FRAME, NULL);
		assert_non_null(p);
		assert_int_equal(sx_port_tx_alloc(p, f, N), N);
		for (k = 0; k < N; k++) {
			f[k].len = 64;
			fill(f[k].data, k, 64);
		}
		assert_int_equal(sx_port_tx(p, f, N), N);
		got = 0;
		while (got < N) {
			k = sx_port_rx(p, f, N);
			assert_true(k > 0);
			sx_port_rx_done(p, f, k);
			got += k;
		}
		assert_int_equal(p->stats.tx_ring_held, 0);
		assert_int_equal(p->stats.tx_full, 0);
		sx_port_close(p);
	}
}

static void
test_bad_specs(void **state)
{
	static const struct {
		const char *spec;
		uint32_t max_frame;
	} cases[] = {
		{"port=99", 1500},
		{"port=", 1500},
		{"port=0x", 1500},
		{"net_nosuchdriver0", 1500},
		{"", 1500},
		{"net_ring0", 10},
		{"net_ring0", 1u << 20},
		{"net_ring0,tx_ring_frames=abc", 1500},
		{"net_ring0,tx_ring_frames=40000", 1500},
		{"port=0,tx_ring_frames=", 1500},
		/* memif buffers smaller than the frames corrupt them (22.11) */
		{"net_memif9,role=server,socket=/tmp/sx-nonexistent/x.sock,bsize=2048", 4224},
	};
	size_t i;

	(void)state;
	assert_null(sx_port_ethdev_open(NULL, 1500, NULL));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sx_port *p;

		errno = 0;
		p = sx_port_ethdev_open(cases[i].spec, cases[i].max_frame, NULL);
		if (p != NULL) {
			sx_port_close(p);
			fail_msg("\"%s\" opened", cases[i].spec);
		}
		assert_true(errno != 0);
	}
	/* A failed open leaves nothing behind: the vdev opens again. */
	{
		struct sx_port *p = sx_port_ethdev_open("net_ring0", MAX_FRAME, NULL);

		assert_non_null(p);
		sx_port_close(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_and_capture),
		cmocka_unit_test(test_chains_and_oversize),
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_port_id_and_replug),
		cmocka_unit_test(test_tx_ring_frames_option),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
