/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's side of multipath (docs/multipath.md): the keys that
 * choose every host's path policy, and what a run reports about paths —
 * the load of each spine and each leaf uplink in the measurement window
 * (summary.json "multipath", uplinks.csv), the policies' per-entropy
 * counters summed over the hosts (read through <scalex/stats.h>), and the
 * retransmissions the receivers saw twice (spurious).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <scalex/stats.h>

#include "scenario_priv.h"

int
sx_scn_path_host(struct sx_scn *s, struct sx_host *h, FILE *err)
{
	const struct sx_scn_cfg *c = &s->cfg;
	const char *path = c->path[0] != '\0' ? c->path : NULL;
	int rc = sx_path_check(path, c->rel);

	if (rc == -ENOENT) {
		if (err != NULL)
			fprintf(err, "transport.path = %s: no such policy (flow, spray, flowlet, "
				     "adaptive)\n", path);
		return rc;
	}
	if (rc < 0) {
		if (err != NULL)
			fprintf(err, "transport.path = %s needs transport.reliability = sr\n",
				path);
		return rc;
	}
	for (uint32_t i = 0; i < c->npath_param; i++) {
		rc = sx_path_param(h->ctx, c->path_param[i]);
		if (rc < 0) {
			if (err != NULL)
				fprintf(err, "transport.path_param %s: %s\n", c->path_param[i],
					strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The policies' counters, summed over every host. */
struct path_sum {
	uint64_t pkts, ecn, losses, retired;
};

static int
path_sum_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct path_sum *ps = arg;

	(void)id;
	if (!strcmp(d->name, "tx_pkts"))
		ps->pkts += value;
	else if (!strcmp(d->name, "ecn_marks"))
		ps->ecn += value;
	else if (!strcmp(d->name, "losses"))
		ps->losses += value;
	else if (!strcmp(d->name, "retirements"))
		ps->retired += value;
	return 0;
}

/* The fraction of the window link @p i's wire was busy (frames and their
 * wire overhead at the rate each was sent at). */
static double
link_util_win(const struct sx_scn *s, uint32_t i)
{
	const struct sx_fab_link *l = &s->fab.links[i];
	double win_ps = (double)(s->win1_ps - s->win0_ps);

	if (s->link_busy_win1 == NULL || win_ps <= 0)
		return 0;
	return (double)(s->link_busy_win1[i] - l->busy_win_ps) / win_ps;
}

/* A QP counter summed over the hosts, by name (0: none). */
static uint64_t
qp_counter(const struct sx_scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->nqpc; i++)
		if (strcmp(s->qpc[i].name, name) == 0)
			return s->qpc[i].value;
	return 0;
}

int
sx_scn_write_multipath(const struct sx_scn *s, const char *dir, struct json_t *root)
{
	json_t *mp, *spines = json_array(), *uplinks = json_array();
	struct path_sum ps = {0};
	char path[SX_SCN_PATH + 32];
	uint32_t i, k;
	FILE *f;

	for (i = 0; i < s->nhosts; i++)
		sx_stats_foreach(s->hosts[i].ctx, 1u << SX_STATS_PATH, path_sum_cb, &ps);
	snprintf(path, sizeof(path), "%s/uplinks.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "link,leaf,spine,rate_gbps,util\n");
	/* A spine's load: what its downlinks carried in the window. */
	for (k = 0; k < s->fab.nspines; k++) {
		double bits = 0, cap = 0;

		for (i = 0; i < s->fab.nlinks; i++) {
			const struct sx_fab_link *l = &s->fab.links[i];

			if (l->kind != SX_LINK_SPINE_DOWN || l->from->index != k)
				continue;
			bits += link_util_win(s, i) * (double)l->rate_bps;
			cap += (double)l->rate_bps;
		}
		json_array_append_new(spines, json_real(cap > 0 ? bits / cap : 0));
	}
	for (i = 0; i < s->fab.nlinks; i++) {
		const struct sx_fab_link *l = &s->fab.links[i];
		double u;

		if (l->kind != SX_LINK_LEAF_UP)
			continue;
		u = link_util_win(s, i);
		fprintf(f, "%s,%u,%u,%.3f,%.6f\n", l->name, l->from->index, l->to->index,
			(double)l->rate_bps / 1e9, u);
		json_array_append_new(uplinks, json_pack("{s:s,s:f}", "link", l->name, "util", u));
	}
	if (fclose(f) != 0)
		return -EIO;
	mp = json_pack("{s:s,s:o,s:o,s:{s:I,s:I,s:I,s:I},s:I,s:I}", "path",
		       s->cfg.path[0] ? s->cfg.path : "flow", "spine_util", spines, "uplink_util",
		       uplinks, "entropy_counters", "tx_pkts", (json_int_t)ps.pkts, "ecn_marks",
		       (json_int_t)ps.ecn, "losses", (json_int_t)ps.losses, "retirements",
		       (json_int_t)ps.retired, "spurious_retransmits",
		       (json_int_t)qp_counter(s, "duplicates"), "retransmits",
		       (json_int_t)qp_counter(s, "retransmits"));
	if (mp == NULL)
		return -ENOMEM;
	return json_object_set_new(root, "multipath", mp) == 0 ? 0 : -ENOMEM;
}
