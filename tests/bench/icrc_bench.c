/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICRC throughput next to memcpy of the same buffer (and zlib's crc32 as the
 * unaccelerated baseline), measured in one run so the ratio is meaningful on
 * a shared, noisy machine. Units: bytes per second, printed as GB/s.
 *
 *   icrc_bench [--csv FILE] [--ms N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <scalex/wire.h>

static volatile uint32_t sink;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum kind { K_MEMCPY, K_ICRC, K_ZLIB, K_MAX };

/* Over the whole frame (Ethernet through ICRC) of a SEND_ONLY with this payload.
 * Best of five timed rounds of @p budget_s each: bytes per second. */
static double
measure(enum kind k, uint8_t *frame, uint8_t *dst, const struct sx_pkt *pkt, double budget_s)
{
	size_t len = pkt->frame_len;
	const uint8_t *l3 = frame + pkt->l3_off;
	size_t icrc_len = len - SX_ICRC_LEN - pkt->l3_off;
	double best = 0;
	int round;

	for (round = 0; round < 5; round++) {
		double t0 = now_s(), t;
		unsigned long iters = 0;

		do {
			for (int i = 0; i < 256; i++) {
				switch (k) {
				case K_MEMCPY:
					memcpy(dst, frame, len);
					sink += dst[len - 1];
					break;
				case K_ICRC:
					sink += sx_icrc(l3, icrc_len);
					break;
				default:
					sink += (uint32_t)crc32(0, frame, (uInt)len);
					break;
				}
			}
			iters += 256;
			t = now_s() - t0;
		} while (t < budget_s);
		if ((double)iters * (double)len / t > best)
			best = (double)iters * (double)len / t;
	}
	return best;
}

int
main(int argc, char **argv)
{
	static const uint32_t sizes[] = {256, 1024, 4096};
	static const struct option opts[] = {
		{"csv", required_argument, NULL, 'c'},
		{"ms", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	FILE *csv = NULL;
	double budget_s = 0.05;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			csv = fopen(optarg, "w");
			if (csv == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		case 'm':
			budget_s = atof(optarg) / 1000.0;
			if (budget_s <= 0) {
				fprintf(stderr, "--ms wants a positive number\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s [--csv FILE] [--ms N]\n", argv[0]);
			return 2;
		}
	}

	printf("# ICRC throughput against memcpy of the same frame (best of 5)\n");
	printf("%-8s %12s %12s %12s %12s\n", "payload_B", "memcpy_GB/s", "icrc_GB/s",
	       "zlib_GB/s", "icrc/memcpy");
	if (csv)
		fprintf(csv, "payload_bytes,memcpy_gbps,icrc_gbps,zlib_gbps,icrc_over_memcpy\n");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t frame[8192], dst[8192];
		struct sx_pkt pkt;
		double r[K_MAX];
		uint32_t payload;

		memset(&pkt, 0, sizeof(pkt));
		pkt.ip_version = 4;
		pkt.ttl = 64;
		pkt.bth.opcode = SX_OP_RC_SEND_ONLY;
		pkt.bth.pkey = SX_PKEY_DEFAULT;
		payload = sizes[s];
		pkt.payload_len = payload;
		for (uint32_t i = 0; i < payload; i++)
			dst[i] = (uint8_t)(i * 7);
		if (sx_wire_build(frame, sizeof(frame), &pkt, dst) < 0) {
			fprintf(stderr, "cannot build a frame with %u payload bytes\n", sizes[s]);
			return 1;
		}
		for (int k = 0; k < K_MAX; k++)
			r[k] = measure((enum kind)k, frame, dst, &pkt, budget_s);
		printf("%-8u %12.2f %12.2f %12.2f %12.3f\n", sizes[s], r[K_MEMCPY] / 1e9,
		       r[K_ICRC] / 1e9, r[K_ZLIB] / 1e9, r[K_ICRC] / r[K_MEMCPY]);
		if (csv)
			fprintf(csv, "%u,%.3f,%.3f,%.3f,%.4f\n", sizes[s], r[K_MEMCPY] / 1e9,
				r[K_ICRC] / 1e9, r[K_ZLIB] / 1e9, r[K_ICRC] / r[K_MEMCPY]);
	}

	if (csv)
		fclose(csv);
	return 0;
}
