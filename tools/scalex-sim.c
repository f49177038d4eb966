/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-sim: many hosts, each a real scalex context (engine, QPs, CC), on a
 * virtual-time leaf-spine fabric in one process (docs/sim.md).
 *
 *   scalex-sim [-o DIR] [-s section.key=value]... [--seed N] config.ini
 *
 * Writes DIR/flows.csv, DIR/summary.json (and queues.csv, rates.csv with
 * [sim] series = 1), prints a results block on stdout and the simulator's
 * own speed (wall clock: not part of any output file) on stderr. Exit
 * status 0, 1 on a bad configuration, 2 if a flow failed or its data was
 * corrupt, 3 if a figure broke a physical invariant (a simulator bug).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario.h"

#ifndef SX_SIM_DATA_DIR
#define SX_SIM_DATA_DIR "tools/data"
#endif

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: scalex-sim [options] config.ini\n"
		"  -o, --out DIR        output directory (default: sim-out)\n"
		"  -s, --set S.K=V      override one config entry, e.g. -s sim.seed=7\n"
		"      --seed N         same as -s sim.seed=N\n"
		"      --cc NAME        congestion control of every host: -s transport.cc=NAME\n"
		"      --cc-preset P    e.g. paper or nic: -s transport.cc_preset=P\n"
		"      --cc-param N=V   one CC parameter, repeatable (docs/cc.md)\n"
		"  -q, --quiet          no results block\n"
		"      --keys-md        print the key table of docs/sim.md and exit\n"
		"  -h, --help\n"
		"congestion controls: none");
	sx_scn_cc_list(out);
	fprintf(out, "\n"
		"exit status: 0; 1 bad configuration or output; 2 a flow failed, was refused\n"
		"or arrived corrupt; 3 a figure broke a physical invariant (a simulator bug)\n\n");
	sx_scn_keys_help(out);
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"set", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{"cc", required_argument, NULL, 'C'},
		{"cc-preset", required_argument, NULL, 'P'},
		{"cc-param", required_argument, NULL, 'R'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"keys-md", no_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	const char *out = "sim-out";
	char **sets = calloc((size_t)argc, sizeof(char *));
	char **owned = calloc((size_t)argc, sizeof(char *)); /* sets built here */
	int nsets = 0, nowned = 0, c, i, rc = 0, run_rc;
	bool quiet = false;
	struct sx_scn_cfg cfg;
	const struct sx_scn_result *r;
	struct sx_coll_result cr;
	struct sx_scn *s;
	double t0, t1, t2;
	char seedbuf[64];

	if (sets == NULL || owned == NULL)
		return 1;
	while ((c = getopt_long(argc, argv, "o:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			sets[nsets++] = optarg;
			break;
		case 'S':
			snprintf(seedbuf, sizeof(seedbuf), "sim.seed=%s", optarg);
			sets[nsets++] = seedbuf;
			break;
		case 'C':
		case 'P':
		case 'R':
			/* The shared tools' CC options, as config overrides. */
			if (asprintf(&owned[nowned], "transport.%s=%s",
				     c == 'C' ? "cc" : c == 'P' ? "cc_preset" : "cc_param",
				     optarg) < 0)
				return 1;
			sets[nsets++] = owned[nowned++];
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto early;
		case 'K':
			sx_scn_keys_md(stdout);
			rc = 0;
			goto early;
		default:
			usage(stderr);
			rc = 1;
			goto early;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		rc = 1;
		goto early;
	}
	sx_scn_cfg_init(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", SX_SIM_DATA_DIR);
	if (sx_scn_load(&cfg, argv[optind], stderr) != 0) {
		rc = 1;
		goto out;
	}
	for (i = 0; i < nsets; i++) {
		if (sx_scn_set(&cfg, sets[i], stderr) < 0) {
			rc = 1;
			goto out;
		}
	}
	t0 = wall_s();
	s = sx_scn_create(&cfg, stderr);
	if (s == NULL) {
		rc = 1;
		goto out;
	}
	t1 = wall_s();
	run_rc = sx_scn_run(s);
	t2 = wall_s();
	r = sx_scn_result(s);
	if (sx_scn_write(s, out) < 0) {
		fprintf(stderr, "scalex-sim: cannot write %s\n", out);
		rc = 1;
	}
	if (!quiet) {
		printf("---------------------------------------------------------------\n");
		printf(" scalex-sim  %s -> %s\n", argv[optind], out);
		printf("---------------------------------------------------------------\n");
		printf(" flows            %lu (completed %lu, failed %lu, corrupt %lu)\n",
		       (unsigned long)r->flows, (unsigned long)r->completed, (unsigned long)r->failed,
		       (unsigned long)r->verify_errors);
		for (i = 1; i < SX_SCN_REJECT_MAX; i++) {
			if (r->rejected[i])
				printf("   refused        %lu %s\n", (unsigned long)r->rejected[i],
				       sx_scn_reject_name((enum sx_scn_reject)i));
		}
		printf(" goodput          %.3f Gb/s (%lu bytes acknowledged over the %.3f us from "
		       "the first start to the last completion or the end)\n",
		       r->goodput_gbps, (unsigned long)r->bytes_acked,
		       (double)(r->goodput_end_ns - r->goodput_start_ns) / 1e3);
		printf(" window goodput   %.3f Gb/s  jain %.4f over %u pairs  busiest port %s %.2f%%\n",
		       r->win_goodput_gbps, r->win_jain, r->win_pairs,
		       r->win_max_util_port[0] ? r->win_max_util_port : "-", 100 * r->win_max_util);
		printf(" switch queues    fabric p50 %lu B p99 %lu B, max %lu B; worst port %s p99 %lu B\n",
		       (unsigned long)r->q_p50_bytes, (unsigned long)r->q_p99_bytes,
		       (unsigned long)r->q_max_bytes, r->q_worst_port[0] ? r->q_worst_port : "-",
		       (unsigned long)r->q_worst_p99_bytes);
		printf(" window queues    fabric p50 %lu B p99 %lu B, max %lu B; worst port %s p99 %lu B\n",
		       (unsigned long)r->win_q_p50_bytes, (unsigned long)r->win_q_p99_bytes,
		       (unsigned long)r->win_q_max_bytes,
		       r->win_q_worst_port[0] ? r->win_q_worst_port : "-",
		       (unsigned long)r->win_q_worst_p99_bytes);
		printf(" drops            %lu (tail %lu, link down %lu, loss %lu, no route %lu; "
		       "window %lu)\n",
		       (unsigned long)r->drops_total, (unsigned long)r->drops[SX_DROP_TAIL],
		       (unsigned long)r->drops[SX_DROP_DOWN], (unsigned long)r->drops[SX_DROP_LOSS],
		       (unsigned long)r->drops[SX_DROP_NOROUTE], (unsigned long)r->win_drops);
		printf(" ecn marked       %lu   cnp sent %lu rcvd %lu   retransmits %lu timeouts %lu\n",
		       (unsigned long)r->ecn_marked, (unsigned long)r->cnp_sent,
		       (unsigned long)r->cnp_rcvd, (unsigned long)r->retransmits,
		       (unsigned long)r->timeouts);
		if (r->pfc_pauses || cfg.fab.pfc)
			printf(" pfc pauses       %lu (host NICs %lu, switch ports %lu), paused %.3f us "
			       "summed over links\n",
			       (unsigned long)r->pfc_pauses, (unsigned long)r->pfc_pauses_host,
			       (unsigned long)(r->pfc_pauses - r->pfc_pauses_host),
			       (double)r->pfc_paused_ps / 1e6);
		printf(" virtual time     %.3f us\n", (double)r->end_ns / 1e3);
		if (sx_scn_coll_result(s, &cr) == 0)
			printf(" collective       %s %s, %u nodes x %u GPUs, %lu B per GPU: %.3f us, "
			       "algbw %.2f GB/s, busbw %.2f GB/s; NIC bytes per node %lu (model %lu), "
			       "%lu messages, %lu failed\n",
			       sx_coll_op_names[cfg.coll.op], sx_coll_algo_names[cfg.coll.algo],
			       cr.nodes, cfg.coll.gpus_per_node, (unsigned long)cr.bytes,
			       (double)cr.time_ns / 1e3, cr.algbw_gbs, cr.busbw_gbs,
			       (unsigned long)cr.nic_bytes_max, (unsigned long)cr.nic_bytes_model,
			       (unsigned long)cr.messages, (unsigned long)cr.failed);
		printf("---------------------------------------------------------------\n");
	}
	fprintf(stderr,
		"scalex-sim: setup %.3f s, run %.3f s wall; %lu events (%.2f M/s), %lu frames "
		"delivered (%.2f M/s), %lu hops (%.2f M/s), %lu host steps\n",
		t1 - t0, t2 - t1, (unsigned long)r->events, (double)r->events / (t2 - t1) / 1e6,
		(unsigned long)r->frames, (double)r->frames / (t2 - t1) / 1e6,
		(unsigned long)r->hops, (double)r->hops / (t2 - t1) / 1e6,
		(unsigned long)r->host_steps);
	if (r->failed || r->verify_errors)
		rc = rc ? rc : 2;
	if (run_rc == -ERANGE)
		rc = 3; /* the message is on stderr already */
	sx_scn_destroy(s);
out:
	sx_scn_cfg_fini(&cfg);
early:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(sets);
	return rc;
}
