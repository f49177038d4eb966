/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control plane of a running context (docs/tuning.md): a unix-domain
 * control socket speaking JSON (one request per line, one reply per line),
 * the same reads as DPDK telemetry commands (/scalex/...), and an optional
 * Prometheus text endpoint over HTTP. Requests run on a control thread;
 * parameter changes go through the context's live store (RCU), reads of
 * engine state are handed to the engine thread at its next poll round, so
 * the thread driving the context must keep calling sx_progress() (or
 * sx_poll_cq()) for counter, QP and capture requests to be answered.
 *
 * Commands (JSON object with "cmd"): param.list, param.get {name, qp},
 * param.set {name, value, qp}, param.unset {name, qp}, param.preset {name},
 * stats {format: "json"|"prom"}, qp.list, capture.start {file},
 * capture.stop, info. Replies: {"ok": true, ...} or {"ok": false,
 * "error": "..."}.
 */
#ifndef SCALEX_CONTROL_H
#define SCALEX_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sx_context;
struct sx_ctl;

/** Largest request line the socket accepts; longer ones are answered with
 *  an error and the connection closed. */
#define SX_CTL_MAX_REQUEST 65536

struct sx_ctl_attr {
	/** Socket path; NULL: sx_ctl_default_path() of this process; "": no socket. */
	const char *sock_path;
	unsigned int sock_mode; /**< file mode of the socket; 0: 0600 */
	/** Register the DPDK telemetry commands (needs the EAL, once per process). */
	int telemetry;
	int prom;               /**< serve Prometheus text over HTTP */
	uint16_t prom_port;     /**< its TCP port; 0: any free one (sx_ctl_prom_port()) */
	const char *prom_addr;  /**< its address; NULL: 127.0.0.1 */
};

/** Defaults: default socket path, mode 0600, no telemetry, no endpoint. */
void sx_ctl_attr_init(struct sx_ctl_attr *attr);

/**
 * The default socket of process @p pid: $SCALEX_CTL_DIR/scalex-PID.sock,
 * or /tmp/scalex-PID.sock. 0 or -ENAMETOOLONG.
 */
int sx_ctl_default_path(pid_t pid, char *buf, size_t len);

/** Start the control thread of @p ctx. NULL with errno set. */
struct sx_ctl *sx_ctl_open(struct sx_context *ctx, const struct sx_ctl_attr *attr);
/** Stop it, remove the socket. Call from the thread that drives the context. */
void sx_ctl_close(struct sx_ctl *ctl);

/**
 * Handle one request (what the socket does for each line): returns a
 * malloc'd JSON reply without a newline, NULL only without memory. Any
 * thread but the context's (requests on engine state wait for its poll).
 */
char *sx_ctl_handle(struct sx_ctl *ctl, const char *req, size_t len);

/** Bound port of the Prometheus endpoint (after sx_ctl_open), 0: none. */
uint16_t sx_ctl_prom_port(const struct sx_ctl *ctl);

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_CONTROL_H */
