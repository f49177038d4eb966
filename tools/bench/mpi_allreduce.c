/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The baseline for scalex-coll-perf: MPI_Allreduce (float, sum) of the MPI
 * library the machine has, timed the way scalex-coll-perf times (warmup,
 * then the slowest rank's average over the iterations), printing the same
 * columns. Run under the same mpirun with the same process count.
 *
 *   mpi_allreduce MIN_BYTES MAX_BYTES ITERS WARMUP
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	size_t min, max, bytes;
	int iters, warmup, n, me, i;
	float *in, *out;

	MPI_Init(&argc, &argv);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	if (argc != 5) {
		if (me == 0)
			fprintf(stderr, "usage: mpi_allreduce MIN_BYTES MAX_BYTES ITERS WARMUP\n");
		MPI_Finalize();
		return 2;
	}
	min = strtoull(argv[1], NULL, 0);
	max = strtoull(argv[2], NULL, 0);
	iters = atoi(argv[3]);
	warmup = atoi(argv[4]);
	in = calloc(max / 4 + 1, 4);
	out = calloc(max / 4 + 1, 4);
	if (in == NULL || out == NULL || iters <= 0 || min < 4)
		MPI_Abort(MPI_COMM_WORLD, 1);
	if (me == 0)
		printf("# %10s %12s %9s %7s %7s\n", "size", "count", "time", "algbw", "busbw");
	for (bytes = min; bytes <= max; bytes *= 2) {
		int count = (int)(bytes / 4);
		double t0, t, tmax;

		for (i = 0; i < count; i++)
			in[i] = (float)((me + i) % 7);
		for (i = 0; i < warmup; i++)
			MPI_Allreduce(in, out, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		for (i = 0; i < iters; i++)
			MPI_Allreduce(in, out, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		t = (MPI_Wtime() - t0) / iters;
		MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		if (me == 0) {
			double algbw = (double)bytes / 1e9 / tmax;

			printf("  %10zu %12d %9.1f %7.3f %7.3f\n", bytes, count, tmax * 1e6, algbw,
			       algbw * 2.0 * (n - 1) / n);
		}
	}
	free(in);
	free(out);
	MPI_Finalize();
	return 0;
}
