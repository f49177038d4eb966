/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Out-of-band bootstrap, as perftest does it: before any RDMA traffic the
 * two sides exchange QP endpoints (QPN, start PSN, MAC, IP) and a memory
 * region (address, rkey, length) over a TCP connection; the same connection
 * then serves as a barrier, e.g. for an orderly shutdown (both sides stop
 * polling their port before either closes it).
 *
 * The exchange is line-oriented text ("SCALEX1 ..."), so a bad or foreign
 * peer gets a clear error, never a misread struct; only the canonical form
 * of each line (the writer's) is read. The grammar and the session
 * scalex-perf runs on it: docs/bootstrap.md. Every call takes a timeout in
 * milliseconds and returns 0 or a negative errno: -ETIMEDOUT, -ECONNREFUSED,
 * -ECONNRESET (the peer closed), -EPIPE, -EPROTO (a malformed or unexpected
 * line), -EINTR (a signal arrived, also during the connect retry).
 */
#ifndef SCALEX_BOOTSTRAP_H
#define SCALEX_BOOTSTRAP_H

#include <stdint.h>

#include <scalex/scalex.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One QP's worth of what the peer needs. */
struct sx_boot_qp {
	struct sx_qp_endpoint ep;
	uint64_t addr; /**< remote buffer (0 if none) */
	uint32_t rkey;
	uint64_t len;
};

/** Listen on @p host:@p port (NULL host: any), accept one peer; returns a fd. */
int sx_boot_accept(const char *host, uint16_t port, int timeout_ms);

/** Connect to @p host:@p port, retrying until @p timeout_ms; returns a fd. */
int sx_boot_connect(const char *host, uint16_t port, int timeout_ms);

/**
 * Send @p n local entries and receive the peer's. Both sides must pass the
 * same @p n; a different count is -EPROTO.
 */
int sx_boot_exchange(int fd, const struct sx_boot_qp *local, struct sx_boot_qp *remote,
		     unsigned int n, int timeout_ms);

/** Send a short tag (no spaces) and wait for the peer's identical tag. */
int sx_boot_barrier(int fd, const char *tag, int timeout_ms);

/** Send / receive one 64-bit value (results, checksums). */
int sx_boot_send_u64(int fd, const char *tag, uint64_t v, int timeout_ms);
int sx_boot_recv_u64(int fd, const char *tag, uint64_t *v, int timeout_ms);

void sx_boot_close(int fd);

#ifdef __cplusplus
}
#endif

#endif
