/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-traffic's parts: the data pattern every host agrees on, and the
 * merge of the hosts' records into the simulator's report files.
 */
#ifndef SX_TRAFFIC_H
#define SX_TRAFFIC_H

#include <stdint.h>

#include "../../dataplane/util/rng.h"

/* Word @p i (8 bytes) of flow @p id's payload. */
static inline uint64_t
sx_traffic_word(uint32_t id, uint64_t i)
{
	return sx_mix64((uint64_t)id << 40 ^ i ^ 0x5ca1e5ca1eull);
}

/*
 * Join DIR/host-R.csv, host-R.json and rates-R.csv of every host of the
 * topology in @p config into DIR/flows.csv, DIR/summary.json and
 * DIR/rates.csv (scalex-sim's columns), add the fabric's counters from
 * @p fabric_stats (NULL: none), and print the per-host table. Returns the
 * exit status: 0 every flow completed with its data intact, 1 otherwise,
 * 2 a bad configuration.
 */
int sx_traffic_merge(const char *config, const char *const *sets, unsigned int nsets,
		     const char *dir, const char *fabric_stats);

#endif
