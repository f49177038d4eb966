/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Force-included (-include) into every file of the pure core: wire, cc,
 * path, param and qp. These modules are driven by a port and a clock that
 * the engine owns, so that the same code runs on a NIC, over memif and in
 * the virtual-time simulator (DESIGN.md). Reading a clock, sleeping, doing
 * I/O or drawing from the C library's global RNG here is a build error, not
 * a review comment: the identifiers are poisoned.
 *
 * The system headers that declare them come first, so that their own
 * declarations are not what trips the poison.
 */
#ifndef SX_PURE_H
#define SX_PURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#pragma GCC poison clock_gettime gettimeofday clock time timespec_get
#pragma GCC poison sleep usleep nanosleep clock_nanosleep
#pragma GCC poison socket connect bind listen accept send recv sendto recvfrom sendmsg recvmsg
#pragma GCC poison fopen fdopen open read write printf fprintf puts perror
#pragma GCC poison rand srand random srandom getenv

#endif
