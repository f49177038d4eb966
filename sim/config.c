/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario configuration: INI sections and keys (docs/sim.md), parsed with
 * libinih; every value is range-checked and a bad entry names its line.
 *
 * Units: as the key names them (_gbps, _ns, _us, _bytes); rates and times
 * may be fractional.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "scenario.h"

void
sx_scn_cfg_init(struct sx_scn_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->fab.hosts_per_leaf = 2;
	c->fab.leaves = 1;
	c->fab.spines = 0;
	c->fab.host_rate_bps = 100000000000ull;
	c->fab.fabric_rate_bps = 100000000000ull;
	c->fab.host_delay_ns = 1000;
	c->fab.fabric_delay_ns = 1000;
	c->fab.wire_overhead_bytes = 24;
	c->fab.nic_ring_frames = 64;
	c->fab.buffer_bytes = 1000000;
	c->fab.ecn = true;
	/* DCQCN's marking at 40 Gb/s (SIGCOMM'15 5.1): 5 KB, 200 KB, 1% */
	c->fab.kmin_bytes = 5000;
	c->fab.kmax_bytes = 200000;
	c->fab.pmax = 0.01;
	c->fab.detect_ns = 100000;
	/* PFC off; when on, thresholds for 100G links of 1 us: an XOFF stops
	 * the sender within about 25 KB (two propagation delays and a frame) */
	c->fab.pfc_xoff_bytes = 50000;
	c->fab.pfc_xon_bytes = 25000;
	c->fab.dcs = 1;
	c->fab.wan_rate_bps = 100000000000ull;
	c->fab.wan_delay_ns = 1000000;
	c->rel = SX_REL_SR;
	c->mtu = 1024;
	c->timeout_us = 1000;
	c->retry_cnt = 7;
	c->max_send_wr = 64;
	c->wl.kind = SX_WL_NONE;
	c->wl.receiver = 0;
	c->wl.load = 0.5;
	c->wl.moe_skew = 1.0;
	c->wl.moe_hot_share = 0.5;
	c->wl.moe_token_bytes = SX_WL_MOE_TOKEN_BYTES;
	c->duration_ns = 1000000;
	c->drain_ns = 0;
	c->sample_ns = 10000;
	c->seed = 1;
	strcpy(c->dir, ".");
}

void
sx_scn_cfg_fini(struct sx_scn_cfg *c)
{
	free(c->flows);
	c->flows = NULL;
	c->nflows = 0;
}

static bool
parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*v == '-')
		return false;
	x = strtoull(v, &end, 0);
	if (errno || end == v || *end != '\0')
		return false;
	*out = x;
	return true;
}

static bool
parse_double(const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end != '\0' || x != x)
		return false;
	*out = x;
	return true;
}

static bool
parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

/* A non-negative real in a unit, scaled to an integer (Gb/s -> bit/s ...). */
static bool
parse_scaled(const char *v, double scale, uint64_t *out)
{
	double x;

	if (!parse_double(v, &x) || x < 0 || x * scale > 1.8e19)
		return false;
	*out = (uint64_t)(x * scale + 0.5);
	return true;
}

static bool
parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t x;

	if (!parse_u64(v, &x) || x < lo || x > hi)
		return false;
	*out = (uint32_t)x;
	return true;
}

static bool
copy_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return false;
	strcpy(dst, v);
	return true;
}

#define KEY(s, k) (!strcmp(section, s) && !strcmp(name, k))

/* One key; false if unknown or out of range. */
static bool
set_key(struct sx_scn_cfg *c, const char *section, const char *name, const char *v)
{
	struct sx_fabric_cfg *f = &c->fab;
	uint32_t u;
	bool b;

	/* [transport] path, path_param: multipath.c */
	if (!strcmp(section, "transport") && sx_scn_path_key(c, name, v, &b))
		return b;
	/* [topology] */
	if (KEY("topology", "hosts_per_leaf"))
		return parse_u32(v, 1, 4096, &f->hosts_per_leaf);
	if (KEY("topology", "leaves"))
		return parse_u32(v, 1, 4096, &f->leaves);
	if (KEY("topology", "spines"))
		return parse_u32(v, 0, 4096, &f->spines);
	if (KEY("topology", "host_rate_gbps"))
		return parse_scaled(v, 1e9, &f->host_rate_bps) && f->host_rate_bps >= 1000000;
	if (KEY("topology", "fabric_rate_gbps"))
		return parse_scaled(v, 1e9, &f->fabric_rate_bps) && f->fabric_rate_bps >= 1000000;
	if (KEY("topology", "host_delay_ns"))
		return parse_scaled(v, 1, &f->host_delay_ns);
	if (KEY("topology", "fabric_delay_ns"))
		return parse_scaled(v, 1, &f->fabric_delay_ns);
	if (KEY("topology", "wire_overhead_bytes"))
		return parse_u32(v, 0, 1000, &f->wire_overhead_bytes);
	if (KEY("topology", "nic_ring_frames"))
		return parse_u32(v, 2, 1u << 20, &f->nic_ring_frames);
	/* [switch] */
	if (KEY("switch", "buffer_bytes"))
		return parse_u64(v, &f->buffer_bytes) && f->buffer_bytes > 0;
	if (KEY("switch", "ecn"))
		return parse_bool(v, &f->ecn);
	if (KEY("switch", "kmin_bytes"))
		return parse_u64(v, &f->kmin_bytes);
	if (KEY("switch", "kmax_bytes"))
		return parse_u64(v, &f->kmax_bytes);
	if (KEY("switch", "ecn_mark")) {
		if (!strcmp(v, "enqueue"))
			f->ecn_dequeue = false;
		else if (!strcmp(v, "dequeue"))
			f->ecn_dequeue = true;
		else
			return false;
		return true;
	}
	if (KEY("switch", "pfc"))
		return parse_bool(v, &f->pfc);
	if (KEY("switch", "pfc_xoff_bytes"))
		return parse_u64(v, &f->pfc_xoff_bytes) && f->pfc_xoff_bytes > 0;
	if (KEY("switch", "pfc_xon_bytes"))
		return parse_u64(v, &f->pfc_xon_bytes);
	/* [wan] */
	if (KEY("wan", "dcs"))
		return parse_u32(v, 1, 64, &f->dcs);
	if (KEY("wan", "wan_rate_gbps"))
		return parse_scaled(v, 1e9, &f->wan_rate_bps) && f->wan_rate_bps >= 1000000;
	if (KEY("wan", "wan_delay_us"))
		return parse_scaled(v, 1e3, &f->wan_delay_ns);
	if (KEY("wan", "cross"))
		return parse_bool(v, &c->wl.cross_dc);
	if (KEY("switch", "pmax"))
		return parse_double(v, &f->pmax) && f->pmax >= 0 && f->pmax <= 1;
	/* [transport] */
	if (KEY("transport", "cc"))
		return copy_str(c->cc, sizeof(c->cc), v);
	if (KEY("transport", "cc_preset"))
		return copy_str(c->cc_preset, sizeof(c->cc_preset), v);
	if (KEY("transport", "cc_param")) {
		if (c->ncc_param == SX_SCN_MAX_CC_PARAMS || strchr(v, '=') == NULL)
			return false;
		return copy_str(c->cc_param[c->ncc_param++], sizeof(c->cc_param[0]), v);
	}
	if (KEY("transport", "reliability")) {
		if (!strcmp(v, "gbn"))
			c->rel = SX_REL_GBN;
		else if (!strcmp(v, "sr"))
			c->rel = SX_REL_SR;
		else
			return false;
		return true;
	}
	if (KEY("transport", "mtu"))
		return parse_u32(v, 256, 4096, &c->mtu) && (c->mtu & (c->mtu - 1)) == 0;
	if (KEY("transport", "timeout_us"))
		return parse_u32(v, 1, 10000000, &c->timeout_us);
	if (KEY("transport", "retry_cnt")) {
		if (!parse_u32(v, 0, 7, &u))
			return false;
		c->retry_cnt = (uint8_t)u;
		return true;
	}
	if (KEY("transport", "max_send_wr"))
		return parse_u32(v, 1, 65536, &c->max_send_wr);
	if (KEY("transport", "verify"))
		return parse_bool(v, &c->verify);
	/* [workload] */
	if (KEY("workload", "type")) {
		c->wl.kind = sx_wl_kind_parse(v);
		return c->wl.kind != SX_WL_KINDS;
	}
	if (KEY("workload", "flow_bytes"))
		return parse_u64(v, &c->wl.flow_bytes) && c->wl.flow_bytes > 0 &&
		       c->wl.flow_bytes <= (1ull << 31);
	if (KEY("workload", "senders"))
		return parse_u32(v, 0, UINT32_MAX, &c->wl.senders);
	if (KEY("workload", "receiver"))
		return parse_u32(v, 0, UINT32_MAX, &c->wl.receiver);
	if (KEY("workload", "start_us"))
		return parse_scaled(v, 1e3, &c->wl.start_ns);
	if (KEY("workload", "cdf"))
		return copy_str(c->cdf_path, sizeof(c->cdf_path), v);
	if (KEY("workload", "load"))
		return parse_double(v, &c->wl.load) && c->wl.load > 0 && c->wl.load <= 1;
	if (KEY("workload", "moe_skew"))
		return parse_double(v, &c->wl.moe_skew) && c->wl.moe_skew >= 0 &&
		       c->wl.moe_skew <= 10;
	if (KEY("workload", "moe_hot_experts"))
		return parse_u32(v, 0, UINT32_MAX, &c->wl.moe_hot_experts);
	if (KEY("workload", "moe_hot_share"))
		return parse_double(v, &c->wl.moe_hot_share) && c->wl.moe_hot_share >= 0 &&
		       c->wl.moe_hot_share <= 1;
	if (KEY("workload", "moe_token_bytes"))
		return parse_u32(v, 1, 1u << 30, &c->wl.moe_token_bytes);
	if (KEY("workload", "max_flows"))
		return parse_u32(v, 0, UINT32_MAX, &c->wl.max_flows);
	if (KEY("workload", "flow")) {
		struct sx_scn_flow_spec fs, *nf;
		double start_us = 0;
		unsigned long long bytes;
		int n = sscanf(v, "%u %u %llu %lf", &fs.src, &fs.dst, &bytes, &start_us);

		if (n < 3 || bytes == 0 || bytes > (1ull << 31) || start_us < 0 || fs.src == fs.dst)
			return false;
		fs.bytes = bytes;
		fs.start_ns = (uint64_t)(start_us * 1e3 + 0.5);
		nf = realloc(c->flows, (c->nflows + 1) * sizeof(*nf));
		if (nf == NULL)
			return false;
		c->flows = nf;
		c->flows[c->nflows++] = fs;
		return true;
	}
	/* [fault] */
	if (KEY("fault", "loss"))
		return parse_double(v, &f->loss) && f->loss >= 0 && f->loss < 1;
	if (KEY("fault", "reorder"))
		return parse_double(v, &f->reorder) && f->reorder >= 0 && f->reorder < 1;
	if (KEY("fault", "detect_us"))
		return parse_scaled(v, 1e3, &f->detect_ns);
	if (KEY("fault", "fail") || KEY("fault", "rate")) {
		struct sx_scn_link_event *e;
		double at_us, gbps = 0;
		int n;

		if (c->nevents == SX_SCN_MAX_EVENTS)
			return false;
		e = &c->events[c->nevents];
		memset(e, 0, sizeof(*e));
		n = sscanf(v, "%31s %lf %lf", e->link, &at_us, &gbps);
		if (!strcmp(name, "fail") ? n != 2 : (n != 3 || gbps <= 0.001))
			return false;
		if (at_us < 0)
			return false;
		e->at_ns = (uint64_t)(at_us * 1e3 + 0.5);
		e->rate_bps = (uint64_t)(gbps * 1e9 + 0.5);
		c->nevents++;
		return true;
	}
	/* [sim] */
	if (KEY("sim", "duration_us"))
		return parse_scaled(v, 1e3, &c->duration_ns) && c->duration_ns > 0;
	if (KEY("sim", "drain_us"))
		return parse_scaled(v, 1e3, &c->drain_ns);
	if (KEY("sim", "window_us"))
		return parse_scaled(v, 1e3, &c->window_ns);
	if (KEY("sim", "sample_us"))
		return parse_scaled(v, 1e3, &c->sample_ns) && c->sample_ns > 0;
	if (KEY("sim", "series"))
		return parse_bool(v, &c->series);
	if (KEY("sim", "seed"))
		return parse_u64(v, &c->seed);
	(void)b;
	return false;
}

struct load_ctx {
	struct sx_scn_cfg *cfg;
	FILE *err;
	const char *path;
};

static int
on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;

	if (set_key(l->cfg, section, name, value))
		return 1;
	if (l->err != NULL)
		fprintf(l->err, "%s: [%s] %s = %s: unknown key or bad value\n", l->path, section,
			name, value);
	return 0;
}

int
sx_scn_load(struct sx_scn_cfg *cfg, const char *path, FILE *err)
{
	struct load_ctx l = {.cfg = cfg, .err = err, .path = path};
	const char *slash = strrchr(path, '/');
	int rc;

	if (slash == NULL) {
		strcpy(cfg->dir, ".");
	} else if ((size_t)(slash - path) < sizeof(cfg->dir)) {
		memcpy(cfg->dir, path, (size_t)(slash - path));
		cfg->dir[slash - path] = '\0';
		if (slash == path)
			strcpy(cfg->dir, "/");
	}
	rc = ini_parse(path, on_ini_entry, &l);
	if (rc < 0) {
		if (err != NULL)
			fprintf(err, "%s: cannot read\n", path);
		return rc == -1 ? -ENOENT : -ENOMEM;
	}
	return rc;
}

int
sx_scn_set(struct sx_scn_cfg *cfg, const char *assignment, FILE *err)
{
	char buf[256], *dot, *eq;

	if (strlen(assignment) >= sizeof(buf))
		goto bad;
	strcpy(buf, assignment);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (dot == NULL || eq == NULL || dot > eq)
		goto bad;
	*dot = '\0';
	*eq = '\0';
	if (set_key(cfg, buf, dot + 1, eq + 1))
		return 0;
bad:
	if (err != NULL)
		fprintf(err, "%s: expected section.key=value with a known key and a valid value\n",
			assignment);
	return -EINVAL;
}
