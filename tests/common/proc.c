/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Process helpers of the multi-process tests (proc.h).
 *
 * Units: seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "proc.h"

/* Between two looks at the children: short against the test's timeout. */
#define REAP_POLL_US 10000

double
proc_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
proc_reap(pid_t *pid, const char *const *name, int n, double deadline,
	  const volatile sig_atomic_t *stop)
{
	int i, status, failed = 0, left = n;

	while (left > 0) {
		for (i = 0; i < n; i++) {
			if (pid[i] <= 0 || waitpid(pid[i], &status, WNOHANG) != pid[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "%s: %s (pid %d) %s %d\n",
					program_invocation_short_name, name[i], (int)pid[i],
					WIFEXITED(status) ? "exited" : "killed by signal",
					WIFEXITED(status) ? WEXITSTATUS(status)
							  : WTERMSIG(status));
				failed = 1;
			}
			pid[i] = 0;
			left--;
		}
		if (left > 0 && (proc_now_s() > deadline || (stop != NULL && *stop))) {
			for (i = 0; i < n; i++) {
				if (pid[i] <= 0)
					continue;
				fprintf(stderr, "%s: %s (pid %d) %s, killed\n",
					program_invocation_short_name, name[i], (int)pid[i],
					stop != NULL && *stop ? "interrupted" : "timed out");
				kill(pid[i], SIGKILL);
				waitpid(pid[i], &status, 0);
				pid[i] = 0;
			}
			return 1;
		}
		usleep(REAP_POLL_US);
	}
	return failed;
}
