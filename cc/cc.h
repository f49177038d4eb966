/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control inside scalex: the interface is public
 * (include/scalex/cc.h) so that applications can register their own
 * algorithms; cc_priv.h has what only the built-ins share.
 */
#ifndef SX_CC_H
#define SX_CC_H

#include <scalex/cc.h>

#endif
