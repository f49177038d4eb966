/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A Gloo transport on scalex RC QPs (docs/integrations.md).
 *
 * Every pair of a Gloo context is one coll/ link (coll/link.h): a scalex
 * context on its own memif port, one RC QP, credit-based in-order messages.
 * Bound buffers are registered memory regions written zero copy (RDMA
 * WRITE WITH IMMEDIATE); unbound sends of SCALEX_GLOO_RNDV_BYTES or more
 * are READ by their receiver, shorter ones copied through the link.
 * Gloo's pair address (Pair::address(), exchanged through Gloo's store)
 * carries the lower rank's memif socket and QP endpoint; the higher rank
 * answers with its own endpoint over a TCP connection to the lower rank's
 * device (scalex's bootstrap lines), which then stays open to tell each
 * side at once when the other is gone.
 *
 * Configuration comes from the environment, read when a device is made:
 * SCALEX_GLOO_DIR (memif sockets, default /tmp), SCALEX_GLOO_PREFIX (EAL
 * file prefix, "-<pid>" appended; default "sxg"), SCALEX_GLOO_MEM_MB (EAL
 * memory, default 256), SCALEX_GLOO_MTU (default 4096),
 * SCALEX_GLOO_BOOT_ADDR (IPv4 address the device listens on, default
 * 127.0.0.1), SCALEX_GLOO_FAULT_TX, SCALEX_GLOO_FAULT_RX,
 * SCALEX_GLOO_FAULT_SEED (fault injection, as sx_fault_parse()),
 * SCALEX_GLOO_RNDV_BYTES (unbound sends READ by the receiver from this
 * length on, default 262144; 0: all copied), SCALEX_GLOO_STATS (1: print each context's counters to stderr when it
 * is destroyed).
 */
#ifndef SCALEX_GLOO_H
#define SCALEX_GLOO_H

#include <stdint.h>

#ifdef __cplusplus
#include <memory>

#include <gloo/transport/device.h>

namespace sxgloo {

/** A scalex Gloo device configured from the environment; throws
 *  gloo::IoException when DPDK or the listener cannot start. */
std::shared_ptr<::gloo::transport::Device> CreateDevice();

} // namespace sxgloo

extern "C" {
#endif

/**
 * Sum of the scalex counter @p name over every link this process has had,
 * open or closed: a port counter by its name (include/scalex/stats.h:
 * "tx_bytes", "rx_bytes" count whole frames; "fault_drop_tx", ...), a QP
 * counter with "qp_" in front ("qp_tx_bytes": payload; "qp_retransmits"),
 * or a link's own: "link_write_bytes" (bound buffers' payload, written
 * zero copy by RDMA WRITE), "link_read_bytes" (long unbound sends, READ by
 * their receiver), "link_copy_bytes" (short unbound sends and control
 * messages, copied through the link's slots).
 * 0 or -ENOENT (no such counter). Exported so that a program (a Python script through ctypes)
 * can prove which transport carried its bytes. Call it from any thread,
 * but not while a device is being destroyed.
 */
int sx_gloo_counter(const char *name, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif
