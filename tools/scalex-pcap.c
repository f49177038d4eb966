/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-pcap: write sample RoCEv2 captures built by the wire module, and
 * check any Ethernet capture with the wire parser.
 *
 *   scalex-pcap synth FILE [--pcapng]
 *   scalex-pcap check FILE [--quiet] [--summary]
 *
 * Exit status: 0 success (every RoCE packet valid), 1 some RoCE packet is
 * bad, 2 usage or I/O error.
 *
 * Units: lengths in bytes, timestamps in microseconds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <scalex/wire.h>

#include "../dataplane/util/rng.h"

#define PROG "scalex-pcap"

enum exit_code {
	EXIT_PASS = 0,
	EXIT_BAD = 1,
	EXIT_USAGE = 2,
};

#define SNAPLEN_BYTES 65535
#define MTU_BYTES     4096
/* Largest frame: Ethernet + 802.1Q + IPv6 + UDP + the longest header set + MTU + ICRC. */
#define FRAME_CAP_BYTES 8192

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
usage(FILE *out)
{
	fprintf(out, "usage: %s synth FILE [--pcapng]\n", PROG);
	fprintf(out, "       %s check FILE [--quiet] [--summary]\n\n", PROG);
	fprintf(out,
	        "synth  write sample RoCEv2 frames (every opcode of the wire table,\n");
	fprintf(out, "       IPv4 and IPv6, some 802.1Q-tagged, payloads 0..%d bytes,\n",
	        MTU_BYTES);
	fprintf(out, "       every ECN codepoint) to FILE as a classic pcap\n");
	fprintf(out, "check  parse every frame of FILE (pcap or pcapng, Ethernet) and\n");
	fprintf(out, "       print one verdict per RoCE packet; skip non-RoCE frames\n");
	fprintf(out, "       --quiet    print only bad packets and the summary line\n");
	fprintf(out,
	        "       --summary  add a table of counts per opcode and verdict\n\n");
	fprintf(out, "exit status: 0 all RoCE packets ok, 1 some packet bad,\n");
	fprintf(out, "             2 usage or I/O error\n");
}

__attribute__((format(printf, 1, 2))) static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * Options of one subcommand: boolean flags and exactly one FILE. Returns 0,
 * or EXIT_USAGE after printing why.
 */
static int
parse_args(int argc, char **argv, const struct option *opts, bool *flags[],
           const char **file)
{
	int c, idx = -1;

	*file = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (c != 0 || idx < 0)
			return usage_error("unknown option '%s'", argv[optind - 1]);
		*flags[idx] = true;
	}
	if (optind >= argc)
		return usage_error("%s: missing FILE", argv[0]);
	*file = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- synth ---------------------------------------------------------------- */

/*
 * Payload lengths: packets that end a message may carry any length up to
 * the MTU, so these include every pad count (IBA 9.2: pad = -len mod 4).
 * First and middle packets carry exactly one PMTU (IBA 9.7.4.1.2), so they
 * take the five IBA PMTU sizes.
 */
static const uint32_t last_lens[] = {0, 1, 2, 3, 4, 5, 255, 256, 1023, 1024, 4093, 4096};
static const uint32_t pmtu_lens[] = {256, 512, 1024, 2048, 4096};

/* DSCP 0 (best effort), 26 (AF31, a common RoCE data class) and 46 (EF). */
static const uint8_t dscps[] = {0, 26, 46};

/* PSNs at the edges of the 24-bit space: the wrap and the half-window. */
static const uint32_t psn_edges[] = {0xfffffe, 0xffffff, 0, 1, 0x7fffff, 0x800000};

static const uint8_t mac_a[6] = {0x02, 0x00, 0x5c, 0x00, 0x00, 0x01};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x5c, 0x00, 0x00, 0x02};
/* Documentation prefixes: RFC 5737 and RFC 3849. */
static const uint8_t ip4_a[4] = {192, 0, 2, 1};
static const uint8_t ip4_b[4] = {198, 51, 100, 2};
static const uint8_t ip6_a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t ip6_b[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x5c, [15] = 2};

struct synth {
	pcap_dumper_t *dumper;
	int write_errno; /* the first failed write's errno; 0: none */
	struct sx_rng rng;
	unsigned long frames;
	unsigned long ipv4;
	unsigned long ipv6;
	unsigned long vlan;
	uint8_t frame[FRAME_CAP_BYTES];
	uint8_t payload[MTU_BYTES];
};

/* xorshift32: a fixed seed makes every run write the same bytes. */
static uint32_t
synth_rand(struct synth *s)
{
	return (uint32_t)(sx_rng_next(&s->rng) >> 32);
}

static uint64_t
synth_rand64(struct synth *s)
{
	return sx_rng_next(&s->rng);
}

/* Addresses, QoS and transport fields of frame number s->frames. */
static void
synth_fill(struct synth *s, struct sx_pkt *pkt, const struct sx_opcode_info *op,
           uint8_t ip_version, bool vlan, uint32_t payload_len)
{
	unsigned long i = s->frames;
	bool rsp = op->flags & (SX_OPF_RESPONSE | SX_OPF_CNP);

	memset(pkt, 0, sizeof(*pkt));
	/* Responses and CNPs flow back towards the requester. */
	memcpy(pkt->eth_dst, rsp ? mac_a : mac_b, 6);
	memcpy(pkt->eth_src, rsp ? mac_b : mac_a, 6);
	pkt->vlan = vlan;
	/* PCP 3, the usual lossless RoCE priority; VID varies. */
	pkt->vlan_tci = (uint16_t)(3u << 13 | (100 + op->opcode));
	pkt->ip_version = ip_version;
	/* 3 and 4 are coprime, so every 12 frames hold every DSCP x ECN pair. */
	pkt->tos = (uint8_t)(dscps[i % 3] << 2 | (i % 4));
	pkt->ttl = 64;
	pkt->ip_id = (uint16_t)i;
	pkt->flow_label = synth_rand(s) & 0xfffff;
	if (ip_version == 4) {
		memcpy(pkt->ip_src, rsp ? ip4_b : ip4_a, 4);
		memcpy(pkt->ip_dst, rsp ? ip4_a : ip4_b, 4);
	} else {
		memcpy(pkt->ip_src, rsp ? ip6_b : ip6_a, 16);
		memcpy(pkt->ip_dst, rsp ? ip6_a : ip6_b, 16);
	}
	/* RoCEv2 source ports carry ECMP entropy in 0xc000..0xffff. */
	pkt->udp_sport = (uint16_t)(0xc000 | (synth_rand(s) & 0x3fff));
	pkt->udp_dport = SX_ROCE_UDP_PORT;

	pkt->bth.opcode = op->opcode;
	pkt->bth.se = (op->flags & SX_OPF_SEND) && (op->flags & SX_OPF_LAST) && (i & 1);
	pkt->bth.mig = true;
	pkt->bth.pkey = SX_PKEY_DEFAULT;
	pkt->bth.becn = op->flags & SX_OPF_CNP; /* RoCEv2 annex A17.9.3 */
	pkt->bth.dqpn = synth_rand(s) & SX_QPN_MASK;
	pkt->bth.ackreq = (op->flags & SX_OPF_REQUEST) && (op->flags & SX_OPF_LAST);
	if (op->flags & SX_OPF_CNP)
		pkt->bth.psn = 0; /* reserved in a CNP */
	else if (i % 2 == 0)
		pkt->bth.psn = psn_edges[(i / 2) % NELEM(psn_edges)];
	else
		pkt->bth.psn = synth_rand(s) & SX_PSN_MASK;

	pkt->reth.va = synth_rand64(s);
	pkt->reth.rkey = synth_rand(s);
	/* The DMA length covers the whole message; a first packet starts a longer one. */
	pkt->reth.dma_len = (op->flags & SX_OPF_LAST) ? payload_len : payload_len * 3;
	if (op->flags & SX_OPF_READ && op->flags & SX_OPF_REQUEST)
		pkt->reth.dma_len = synth_rand(s) & 0xfffff;
	pkt->aeth.syndrome = sx_aeth_syndrome(SX_AETH_ACK, (uint8_t)(i & 0x1f));
	pkt->aeth.msn = synth_rand(s) & 0xffffff;
	pkt->atomiceth.va = synth_rand64(s) & ~7ull; /* atomics are 8-byte aligned */
	pkt->atomiceth.rkey = synth_rand(s);
	pkt->atomiceth.swap_add = synth_rand64(s);
	pkt->atomiceth.compare = synth_rand64(s);
	pkt->atomic_orig = synth_rand64(s);
	pkt->immdt = synth_rand(s);
	pkt->payload_len = payload_len;
	/* SACK ranges must be well formed (docs/wire.md): beyond the bitmap,
	 * descending, apart. */
	pkt->sack.base = synth_rand(s) & SX_PSN_MASK;
	pkt->sackr.count = (uint8_t)(1 + i % SX_SACKR_MAX);
	for (uint32_t k = 0; k < pkt->sackr.count; k++) {
		pkt->sackr.range[k].start = (pkt->sack.base + 100000 - 1000 * k) & SX_PSN_MASK;
		pkt->sackr.range[k].len = 1 + (synth_rand(s) % 500);
	}
}

/* Build @p pkt with a deterministic payload and append it to the capture. */
static int
synth_emit(struct synth *s, struct sx_pkt *pkt)
{
	struct pcap_pkthdr hdr;
	uint64_t ts_us;
	ssize_t n;
	uint32_t j;

	for (j = 0; j < pkt->payload_len; j++)
		s->payload[j] = (uint8_t)(j * 31 + s->frames);
	n = sx_wire_build(s->frame, sizeof(s->frame), pkt, s->payload);
	if (n < 0)
		return (int)n;
	/* 2023-11-14T22:13:20Z plus 10 us per frame. */
	ts_us = 1700000000ull * 1000000 + (uint64_t)s->frames * 10;
	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = (time_t)(ts_us / 1000000);
	hdr.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	hdr.caplen = (bpf_u_int32)n;
	hdr.len = (bpf_u_int32)n;
	errno = 0;
	pcap_dump((u_char *)s->dumper, &hdr, s->frame);
	if (ferror(pcap_dump_file(s->dumper))) {
		s->write_errno = errno != 0 ? errno : EIO;
		return -s->write_errno;
	}
	s->frames++;
	if (pkt->ip_version == 4)
		s->ipv4++;
	else
		s->ipv6++;
	if (pkt->vlan)
		s->vlan++;
	return 0;
}

/* Every AETH syndrome class (IBA 9.7.5.1.4): ACKs, RNR NAK and each NAK code. */
static const uint8_t ack_syndromes[] = {
    (SX_AETH_ACK << 5) | 0,
    (SX_AETH_ACK << 5) | SX_AETH_CREDIT_INVALID,
    (SX_AETH_RNR_NAK << 5) | 14,
    (SX_AETH_NAK << 5) | SX_NAK_PSN_SEQ_ERR,
    (SX_AETH_NAK << 5) | SX_NAK_INVALID_REQ,
    (SX_AETH_NAK << 5) | SX_NAK_REM_ACCESS_ERR,
    (SX_AETH_NAK << 5) | SX_NAK_REM_OP_ERR,
    (SX_AETH_NAK << 5) | SX_NAK_INVALID_RD_REQ,
};

/* All frames of one opcode over one IP version. */
static int
synth_opcode(struct synth *s, const struct sx_opcode_info *op, uint8_t ip_version)
{
	const uint32_t *lens = last_lens;
	size_t n = NELEM(last_lens), k;
	struct sx_pkt pkt;
	uint32_t len;
	int rc;

	if (!(op->flags & SX_OPF_PAYLOAD)) {
		n = op->opcode == SX_OP_RC_ACK ? NELEM(ack_syndromes) : 1;
		for (k = 0; k < n; k++) {
			synth_fill(s, &pkt, op, ip_version, false, 0);
			if (op->opcode == SX_OP_RC_ACK)
				pkt.aeth.syndrome = ack_syndromes[k];
			rc = synth_emit(s, &pkt);
			if (rc < 0)
				return rc;
		}
	} else {
		if (!(op->flags & SX_OPF_LAST)) {
			lens = pmtu_lens;
			n = NELEM(pmtu_lens);
		}
		for (k = 0; k < n; k++) {
			synth_fill(s, &pkt, op, ip_version, false, lens[k]);
			rc = synth_emit(s, &pkt);
			if (rc < 0)
				return rc;
		}
	}
	/* One tagged frame, with pad bytes where the opcode allows them. */
	if (!(op->flags & SX_OPF_PAYLOAD))
		len = 0;
	else if (op->flags & SX_OPF_LAST)
		len = 1023;
	else
		len = 1024;
	synth_fill(s, &pkt, op, ip_version, true, len);
	return synth_emit(s, &pkt);
}

static int
cmd_synth(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pcapng", no_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	bool pcapng = false;
	bool *flags[] = {&pcapng};
	struct synth *s = NULL;
	const char *file;
	pcap_t *dead = NULL;
	int rc, ret = EXIT_USAGE;
	uint8_t ipv;
	unsigned int opcode;

	rc = parse_args(argc, argv, opts, flags, &file);
	if (rc != 0)
		return rc;
	/*
	 * libpcap (through 1.10) writes classic pcap only, and scalex does not
	 * carry a pcapng writer of its own; any pcapng reader takes pcap.
	 */
	if (pcapng) {
		fprintf(stderr,
		        PROG ": --pcapng: this libpcap (%s) cannot write pcapng; "
		             "write pcap and convert it, e.g. editcap -F pcapng IN OUT\n",
		        pcap_lib_version());
		return EXIT_USAGE;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	sx_rng_seed(&s->rng, 0x5ca1e);
	dead = pcap_open_dead(DLT_EN10MB, SNAPLEN_BYTES);
	if (dead == NULL) {
		fprintf(stderr, PROG ": pcap_open_dead failed\n");
		goto out;
	}
	s->dumper = pcap_dump_open(dead, file);
	if (s->dumper == NULL) {
		fprintf(stderr, PROG ": %s\n", pcap_geterr(dead));
		goto out;
	}
	for (ipv = 4; ipv <= 6; ipv += 2) {
		for (opcode = 0; opcode < 256; opcode++) {
			const struct sx_opcode_info *op = sx_opcode_info((uint8_t)opcode);

			if (op == NULL)
				continue;
			rc = synth_opcode(s, op, ipv);
			if (rc < 0 && s->write_errno != 0) {
				fprintf(stderr, PROG ": %s: write failed: %s\n", file,
				        strerror(s->write_errno));
				goto out;
			}
			if (rc < 0) {
				fprintf(stderr, PROG ": building %s over IPv%u: %s\n",
				        op->name, ipv, strerror(-rc));
				goto out;
			}
		}
	}
	/* pcap_dump() returns nothing: a failed write shows only in the
	 * stream's error flag. fsync() reports what the kernel could not
	 * write back; a device or pipe that cannot sync (EINVAL) has nothing
	 * left to lose. */
	errno = 0;
	if (pcap_dump_flush(s->dumper) != 0 || ferror(pcap_dump_file(s->dumper)) ||
	    (fsync(fileno(pcap_dump_file(s->dumper))) != 0 && errno != EINVAL &&
	     errno != EROFS)) {
		fprintf(stderr, PROG ": %s: write failed: %s\n", file,
		        strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	printf("wrote %lu RoCEv2 frames to %s (%lu IPv4, %lu IPv6, %lu 802.1Q-tagged)\n",
	       s->frames, file, s->ipv4, s->ipv6, s->vlan);
	ret = EXIT_PASS;
out:
	if (s != NULL && s->dumper != NULL)
		pcap_dump_close(s->dumper);
	free(s);
	if (dead != NULL)
		pcap_close(dead);
	return ret;
}

/* ---- check ---------------------------------------------------------------- */

/* Verdict slots: every parser reason plus one for frames cut by the snaplen. */
#define VERDICT_TRUNCATED SX_WIRE_RC_MAX
#define VERDICT_MAX       (SX_WIRE_RC_MAX + 1)
/* Opcode slot of a frame whose BTH was never reached. */
#define OPCODE_NONE 256

struct check {
	bool quiet;
	bool summary;
	unsigned long roce;
	unsigned long ok;
	unsigned long bad;
	unsigned long skipped;
	unsigned long count[OPCODE_NONE + 1][VERDICT_MAX];
};

static const char *
verdict_name(unsigned int v)
{
	return v == VERDICT_TRUNCATED ? "truncated capture" : sx_wire_rc_name(v);
}

static bool
is_skip(enum sx_wire_rc rc)
{
	return rc == SX_WIRE_NOT_IP || rc == SX_WIRE_NOT_UDP || rc == SX_WIRE_NOT_ROCE;
}

static bool
is_trunc(enum sx_wire_rc rc)
{
	return rc >= SX_WIRE_TRUNC_ETH && rc <= SX_WIRE_TRUNC_ICRC;
}

static const char *
opcode_name(unsigned int opcode, char *buf, size_t size)
{
	const struct sx_opcode_info *op;

	if (opcode == OPCODE_NONE)
		return "-";
	op = sx_opcode_info((uint8_t)opcode);
	if (op != NULL)
		return op->name;
	snprintf(buf, size, "0x%02x", opcode);
	return buf;
}

static void
check_header(void)
{
	printf("#%9s  %-34s  %-3s  %-8s  %7s  %s\n", "frame", "opcode", "ip", "psn",
	       "payload", "verdict");
}

/* Judge frame number @p index (1-based, as Wireshark counts). */
static void
check_frame(struct check *c, unsigned long index, const struct pcap_pkthdr *h,
            const uint8_t *data)
{
	char ipbuf[8], psnbuf[16], lenbuf[16], opbuf[8];
	unsigned int opcode = OPCODE_NONE, v;
	enum sx_wire_rc rc;
	struct sx_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	rc = sx_wire_parse(data, h->caplen, &pkt, 0);
	/* The parser fills bth_off once the BTH is known to be present. */
	if (pkt.bth_off != 0)
		opcode = pkt.bth.opcode;
	v = rc;
	/*
	 * A frame the snaplen cut short cannot be judged by its missing bytes;
	 * one whose whole IP datagram was captured still can.
	 */
	if (h->caplen < h->len && is_trunc(rc))
		v = VERDICT_TRUNCATED;
	if (is_skip(rc)) {
		c->skipped++;
		c->count[OPCODE_NONE][v]++;
		if (!c->quiet)
			printf("%10lu  skipped: %s\n", index, sx_wire_rc_name(rc));
		return;
	}
	c->roce++;
	c->count[opcode][v]++;
	if (v == SX_WIRE_OK)
		c->ok++;
	else
		c->bad++;
	if (c->quiet && v == SX_WIRE_OK)
		return;
	snprintf(ipbuf, sizeof(ipbuf), pkt.ip_version ? "v%u" : "-", pkt.ip_version);
	if (opcode != OPCODE_NONE)
		snprintf(psnbuf, sizeof(psnbuf), "0x%06x", pkt.bth.psn);
	else
		snprintf(psnbuf, sizeof(psnbuf), "-");
	/* The parser sets frame_len once the payload length is known. */
	if (pkt.frame_len != 0)
		snprintf(lenbuf, sizeof(lenbuf), "%u", pkt.payload_len);
	else
		snprintf(lenbuf, sizeof(lenbuf), "-");
	printf("%10lu  %-34s  %-3s  %-8s  %7s  %s\n", index,
	       opcode_name(opcode, opbuf, sizeof(opbuf)), ipbuf, psnbuf, lenbuf,
	       verdict_name(v));
}

static void
check_summary_table(const struct check *c)
{
	char opbuf[8], vbuf[32];
	const char *name;
	unsigned int opcode, v;

	printf("#%-33s  %-20s  %10s\n", "opcode", "verdict", "count");
	for (opcode = 0; opcode <= OPCODE_NONE; opcode++) {
		for (v = 0; v < VERDICT_MAX; v++) {
			if (c->count[opcode][v] == 0)
				continue;
			name = opcode_name(opcode, opbuf, sizeof(opbuf));
			snprintf(vbuf, sizeof(vbuf), "%s", verdict_name(v));
			if (is_skip(v)) {
				name = "(non-RoCE)";
				snprintf(vbuf, sizeof(vbuf), "skipped: %s",
				         verdict_name(v));
			}
			printf("%-34s  %-20s  %10lu\n", name, vbuf, c->count[opcode][v]);
		}
	}
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 0},
	    {"summary", no_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct check *c = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long index = 0;
	const char *file;
	pcap_t *p = NULL;
	int rc, ret = EXIT_USAGE;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_USAGE;
	}
	{
		bool *flags[] = {&c->quiet, &c->summary};

		rc = parse_args(argc, argv, opts, flags, &file);
		if (rc != 0) {
			ret = rc;
			goto out;
		}
	}
	p = pcap_open_offline(file, errbuf);
	if (p == NULL) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", file, errbuf);
		goto out;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(pcap_datalink(p));

		fprintf(stderr,
		        PROG ": %s: link type %s is not supported (Ethernet only)\n",
		        file, name != NULL ? name : "unknown");
		goto out;
	}
	if (!c->quiet)
		check_header();
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		check_frame(c, ++index, h, data);
	if (c->summary)
		check_summary_table(c);
	printf("checked %lu RoCE packets: %lu ok, %lu bad, %lu non-RoCE skipped\n",
	       c->roce, c->ok, c->bad, c->skipped);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, PROG ": %s: after frame %lu: %s\n", file, index,
		        pcap_geterr(p));
		goto out;
	}
	ret = c->bad != 0 ? EXIT_BAD : EXIT_PASS;
out:
	if (p != NULL)
		pcap_close(p);
	free(c);
	return ret;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EXIT_PASS;
	}
	if (strcmp(argv[1], "synth") == 0)
		rc = cmd_synth(argc - 1, argv + 1);
	else if (strcmp(argv[1], "check") == 0)
		rc = cmd_check(argc - 1, argv + 1);
	else
		return usage_error("unknown command '%s'", argv[1]);
	/* The verdicts are the output: a report that did not reach stdout is
	 * an I/O error, not a pass. */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": standard output: %s\n",
		        strerror(errno != 0 ? errno : EIO));
		return EXIT_USAGE;
	}
	return rc;
}
