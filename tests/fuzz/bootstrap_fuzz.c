/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the bootstrap protocol (control/bootstrap.c,
 * docs/bootstrap.md): a fuzzing peer on the TCP exchange.
 *
 * The input is what the peer sends. Its first byte picks what this side
 * does, the rest is written into one end of a socketpair whose write side
 * is then shut, and this side runs the real calls on the other end:
 *   0: one QP exchange of 1..4 entries (count from the byte);
 *   1: a barrier;
 *   2: one U64 line;
 *   3: the scalex-perf client's session, step by step as the tool runs it
 *      (parameter hash, open and link agreements around the exchange, go,
 *      fin, iters and values, counts, checksums, done, closed), up to the
 *      first error.
 * Every call must return 0 or one of the errors the header documents for a
 * bad or vanished peer (-EPROTO, -ECONNRESET, -EPIPE), never block (the
 * peer's stream ends) and never crash. What was accepted must survive a
 * round trip: sent again by this side's own writer and read back, it
 * parses to the same values. And the reader accepts only the canonical
 * form (docs/bootstrap.md): in ops 0-2 the lines accepted must be byte for
 * byte what the writer makes of the values read, so that no signed,
 * padded, upper-case or trailing-garbage variant is taken for a value.
 *
 * Failures abort(), so the target works the same under libFuzzer and under
 * tests/fuzz/replay.c (gcc, no sanitizer). The suite runs libFuzzer for
 * -Dfuzz_seconds (clang); for a longer run:
 *   meson configure BUILD -Dfuzz_seconds=3600 && meson test -C BUILD fuzz-bootstrap
 * New inputs land in BUILD/tests/fuzz-bootstrap-corpus; copy a reproducer
 * into tests/fuzz/bootstrap_corpus/ so that the replay test keeps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scalex/bootstrap.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "bootstrap_fuzz: check failed at line %d: %s\n", \
			        __LINE__, #cond);                                        \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* Never reached: the stream always ends. A hang would show as libFuzzer's
 * -timeout or the test's. */
#define TIMEOUT_MS 60000
#define MAX_QPS    4

/* The errors a bad or vanished peer may cause (bootstrap.h). */
static bool
peer_error(int rc)
{
	if (rc == -EPROTO || rc == -ECONNRESET || rc == -EPIPE)
		return true;
	fprintf(stderr, "bootstrap_fuzz: unexpected %d (%s)\n", rc, strerror(-rc));
	return false;
}

/* A socketpair: [0] this side, [1] the fuzzing peer, which has sent @p data
 * and shut its write side. -1 if the input does not fit the socket buffer
 * (libFuzzer's -max_len keeps inputs well below it). */
static int
peer_with(const uint8_t *data, size_t len, int sv[2])
{
	size_t off = 0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	while (off < len) {
		ssize_t n = send(sv[1], data + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		off += (size_t)n;
	}
	CHECK(shutdown(sv[1], SHUT_WR) == 0);
	return 0;
}

static void
peer_close(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

static void
check_entry(const struct sx_boot_qp *q)
{
	CHECK(q->ep.qpn <= SX_QPN_MASK);
	CHECK(q->ep.psn <= SX_PSN_MASK);
	CHECK(q->ep.ip_version == 4 || q->ep.ip_version == 6);
}

static bool
same_entry(const struct sx_boot_qp *a, const struct sx_boot_qp *b)
{
	return a->ep.qpn == b->ep.qpn && a->ep.psn == b->ep.psn &&
	       memcmp(a->ep.mac, b->ep.mac, sizeof(a->ep.mac)) == 0 &&
	       a->ep.ip_version == b->ep.ip_version &&
	       memcmp(a->ep.ip, b->ep.ip, a->ep.ip_version == 4 ? 4 : 16) == 0 &&
	       a->addr == b->addr && a->rkey == b->rkey && a->len == b->len;
}

/*
 * Round trip: @p got, sent by this side's writer to a peer that answers
 * with the same lines, must read back unchanged. The writer's output is
 * the reference grammar (docs/bootstrap.md).
 */
static void
exchange_round_trip(const struct sx_boot_qp *got, unsigned int n, const uint8_t *in,
                    size_t in_len)
{
	struct sx_boot_qp back[MAX_QPS];
	char buf[8192];
	int a[2], b[2];
	ssize_t len;
	unsigned int i;

	/* Pair a: this side's writer (the lines land in a[1]). */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == 0);
	CHECK(shutdown(a[1], SHUT_WR) == 0);
	CHECK(sx_boot_exchange(a[0], got, back, n, TIMEOUT_MS) == -ECONNRESET);
	len = recv(a[1], buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(len > 0);
	/* Canonical: what was read is what the writer writes. */
	if (in != NULL)
		CHECK((size_t)len <= in_len && memcmp(in, buf, (size_t)len) == 0);
	/* Pair b: those very lines as the peer's. */
	CHECK(peer_with((const uint8_t *)buf, (size_t)len, b) == 0);
	CHECK(sx_boot_exchange(b[0], got, back, n, TIMEOUT_MS) == 0);
	for (i = 0; i < n; i++)
		CHECK(same_entry(&got[i], &back[i]));
	peer_close(a);
	peer_close(b);
}

/* @p in: the peer's whole stream when it holds only this exchange (ops
 * 0-2), for the canonical-form check; NULL in a session. */
static int
do_exchange(int fd, unsigned int n, const uint8_t *in, size_t in_len)
{
	struct sx_boot_qp local[MAX_QPS], remote[MAX_QPS];
	unsigned int i;
	int rc;

	memset(local, 0, sizeof(local));
	for (i = 0; i < n; i++) {
		local[i].ep.ip_version = 4;
		local[i].ep.qpn = 0x100 + i;
	}
	rc = sx_boot_exchange(fd, local, remote, n, TIMEOUT_MS);
	CHECK(rc == 0 || peer_error(rc));
	if (rc == 0) {
		for (i = 0; i < n; i++)
			check_entry(&remote[i]);
		exchange_round_trip(remote, n, in, in_len);
	}
	return rc;
}

static int
do_u64(int fd, const char *tag, const uint8_t *in, size_t in_len)
{
	uint64_t v = 0, back = 1;
	char buf[256];
	int rc = sx_boot_recv_u64(fd, tag, &v, TIMEOUT_MS), a[2], b[2];
	ssize_t len;

	CHECK(rc == 0 || peer_error(rc));
	if (rc != 0)
		return rc;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == 0);
	CHECK(sx_boot_send_u64(a[0], tag, v, TIMEOUT_MS) == 0);
	len = recv(a[1], buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(len > 0);
	if (in != NULL)
		CHECK((size_t)len <= in_len && memcmp(in, buf, (size_t)len) == 0);
	CHECK(peer_with((const uint8_t *)buf, (size_t)len, b) == 0);
	CHECK(sx_boot_recv_u64(b[0], tag, &back, TIMEOUT_MS) == 0);
	CHECK(back == v);
	peer_close(a);
	peer_close(b);
	return 0;
}

static int
do_barrier(int fd, const char *tag)
{
	int rc = sx_boot_barrier(fd, tag, TIMEOUT_MS);

	CHECK(rc == 0 || peer_error(rc));
	return rc;
}

/* The client's side of a scalex-perf session with one QP, one size, -n and
 * --verify (tools/scalex-perf.c, docs/bootstrap.md). */
static void
session(int fd)
{
	static const char *const values[] = {"iters", "v", "v", "v"};
	unsigned int i;

	if (do_u64(fd, "params", NULL, 0) || do_u64(fd, "open", NULL, 0) ||
	    do_exchange(fd, 1, NULL, 0) || do_u64(fd, "link", NULL, 0) ||
	    do_barrier(fd, "go") || do_u64(fd, "fin", NULL, 0))
		return;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (do_u64(fd, values[i], NULL, 0))
			return;
	if (do_u64(fd, "exp", NULL, 0) || do_u64(fd, "act", NULL, 0) ||
	    do_barrier(fd, "done"))
		return;
	do_barrier(fd, "closed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	uint8_t op;

	if (size == 0)
		return 0;
	/* A send to a closed peer must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	op = data[0];
	if (peer_with(data + 1, size - 1, sv) < 0)
		return 0;
	switch (op & 3) {
	case 0:
		do_exchange(sv[0], (op >> 2) % MAX_QPS + 1, data + 1, size - 1);
		break;
	case 1:
		do_barrier(sv[0], "go");
		break;
	case 2:
		do_u64(sv[0], "fin", data + 1, size - 1);
		break;
	default:
		session(sv[0]);
		break;
	}
	peer_close(sv);
	return 0;
}
