/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One QP driven by hand, without an engine, a port or DPDK: a test (or the
 * QP fuzzer) builds each incoming frame with the wire builder, the frame is
 * parsed back as the engine would parse it, and the QP gets the result; what
 * the QP sends is read with raw_tx(). Time is virtual (raw.now_ns).
 *
 * Buffers come from guard_alloc(): whole mappings with a PROT_NONE page on
 * either side and a known pattern around the bytes handed out, so a write
 * outside them faults or shows in guard_intact().
 */
#ifndef SX_TEST_RAW_H
#define SX_TEST_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../dataplane/qp/qp.h"

#define RAW_FRAME_MAX 8192

struct raw {
	struct sx_mr_table mrs;
	struct sx_qp_env env;
	struct sx_cq scq, rcq;
	struct sx_qp qp;
	struct sx_pd *pd; /* a tag: qp.c and mr.c only compare it */
	uint64_t now_ns;
	uint8_t frame[RAW_FRAME_MAX];
};

/* A QP (qpn 0x100, peer qpn 0x200) connected to a peer whose first PSN is
 * @p epsn; its own first PSN is @p sq_psn. 0 or -errno. */
int raw_init(struct raw *r, enum sx_reliability rel, uint32_t mtu, uint32_t epsn,
	     uint32_t sq_psn);
void raw_fini(struct raw *r);
/* Register [addr, addr + len) with @p access: 0 or -errno. */
int raw_reg(struct raw *r, struct sx_mr *mr, void *addr, size_t len, unsigned int access);
void raw_dereg(struct raw *r, struct sx_mr *mr);
/* Build @p h (transport fields and payload_len set by the caller) as a
 * frame, parse it back and hand it to the QP. The parser's verdict. */
enum sx_wire_rc raw_rx(struct raw *r, struct sx_pkt *h, const void *payload);
/* The next packet the QP sends (transport fields only), false if none. */
bool raw_tx(struct raw *r, struct sx_pkt *out, bool data);
/* Drain the QP's send side; the number of packets. */
unsigned int raw_drain(struct raw *r);

struct guard {
	uint8_t *map;
	size_t map_len;
	uint8_t *buf; /* @p len bytes handed out */
	size_t len;
	size_t pad;   /* patterned bytes before and after buf */
};

/* @p len bytes with @p pad patterned bytes either side, inside PROT_NONE
 * pages. 0 or -errno. */
int guard_alloc(struct guard *g, size_t len, size_t pad);
void guard_free(struct guard *g);
/* Pattern the bytes around buf again (and zero buf). */
void guard_reset(struct guard *g);
/* The patterned bytes around buf are as guard_alloc() left them. */
bool guard_intact(const struct guard *g);

#endif
