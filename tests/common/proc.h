/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the tests that start their own processes (tests/port/
 * memif_smoke.c, tests/integration/xfer.c): the clock their deadlines are
 * on, and reaping the children by a deadline so that a hung side cannot
 * hang the test run.
 *
 * Units: seconds.
 */
#ifndef SX_TEST_COMMON_PROC_H
#define SX_TEST_COMMON_PROC_H

#include <signal.h>
#include <sys/types.h>

/** Seconds on CLOCK_MONOTONIC, the clock of every deadline here. */
double proc_now_s(void);

/**
 * Waits for the @p n children in @p pid until @p deadline (proc_now_s()),
 * or until a signal handler sets *@p stop (NULL: no such flag); then kills
 * what is left with SIGKILL and reaps it. A child that fails is reported
 * on stderr under the program's name and @p name[i]. An entry of 0 or less
 * (a child that was never started) counts as not yet reaped, so the call
 * ends at the deadline: with a deadline of 0 it kills what did start.
 *
 * @return 0 if every child exited with status 0, else 1.
 */
int proc_reap(pid_t *pid, const char *const *name, int n, double deadline,
	      const volatile sig_atomic_t *stop);

#endif
