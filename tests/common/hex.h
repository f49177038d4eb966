/* SPDX-License-Identifier: BSD-3-Clause */
/* Hex text to bytes, for the test vectors (tests/vectors) and fuzz seeds. */
#ifndef SX_TEST_HEX_H
#define SX_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Decode the hex digits of @p s (an even number, nothing else) into @p out.
 * Returns the byte count, or -1 for a non-hex character, an odd length or
 * more than @p cap bytes.
 */
ssize_t test_unhex(const char *s, uint8_t *out, size_t cap);

#endif
