/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the port tests that run DPDK: a pcapng reader just big enough
 * to check captures, and removal of the runtime directory EAL leaves.
 */
#ifndef SX_TEST_PORT_TESTUTIL_H
#define SX_TEST_PORT_TESTUTIL_H

#include <stdint.h>

struct pcapng_counts {
	uint64_t in;      /**< EPBs flagged inbound */
	uint64_t out;     /**< EPBs flagged outbound */
	uint64_t other;   /**< EPBs without a direction */
	uint64_t ifaces;  /**< interface description blocks */
	uint64_t bytes;   /**< captured bytes over all EPBs */
};

/** 0, or -1 if @p path cannot be read or is not well-formed pcapng. */
int pcapng_count(const char *path, struct pcapng_counts *c);

/**
 * Removes the runtime directory (config and fbarray files) that EAL, run
 * with --file-prefix @p prefix, leaves behind after rte_eal_cleanup(); in
 * EAL's own place: /var/run/dpdk for root, else XDG_RUNTIME_DIR or /tmp.
 */
void eal_runtime_dir_remove(const char *prefix);

#endif
