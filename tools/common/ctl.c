/* SPDX-License-Identifier: BSD-3-Clause */
/* The control plane of a tool's context, as --ctl-sock/--prom-port say. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <scalex/control.h>

#include "tool.h"

struct sx_ctl *
sx_tool_open_ctl(const struct sx_tool_opts *o, struct sx_context *ctx, bool *failed)
{
	struct sx_ctl_attr attr;
	struct sx_ctl *ctl;

	*failed = false;
	sx_ctl_attr_init(&attr);
	if (o->ctl_sock != NULL && strcmp(o->ctl_sock, "none") == 0) {
		if (o->prom_port < 0)
			return NULL;
		attr.sock_path = "";
	} else {
		attr.sock_path = o->ctl_sock;
	}
	attr.telemetry = 1;
	if (o->prom_port >= 0) {
		attr.prom = 1;
		attr.prom_port = (uint16_t)o->prom_port; /* 0: any free port */
	}
	attr.prom_addr = o->prom_addr;
	ctl = sx_ctl_open(ctx, &attr);
	if (ctl == NULL) {
		fprintf(stderr, "%s: control plane: %s\n", o->prog, strerror(errno));
		*failed = true;
		return NULL;
	}
	if (o->prom_port >= 0)
		fprintf(stderr, "%s: prometheus endpoint http://%s:%u/metrics\n", o->prog,
		        o->prom_addr ? o->prom_addr : "127.0.0.1", sx_ctl_prom_port(ctl));
	return ctl;
}
