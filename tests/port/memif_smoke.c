/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memif smoke test: two processes, each with its own EAL (--no-huge, its
 * own --file-prefix), joined by a memif pair opened with
 * sx_port_ethdev_open(). The client streams numbered frames, the server
 * checks each one and echoes it, the client checks the echoes.
 *
 * Shutdown is the orderly one of docs/notes (DPDK 22.11 memif can crash a
 * process whose burst is in flight when its peer unmaps the shared
 * memory): over pipes the two agree that they are done and both stop
 * polling; the client closes first and says so, the server waits for its
 * link to go down, then closes.
 *
 * A socket file left by a crashed server is planted first: the port must
 * remove it, or the server cannot bind.
 *
 * With --pcap both ends capture and the files are checked: the number of
 * enhanced packet blocks and their directions by walking the pcapng, and,
 * with --tshark PATH, that tshark reads the same number of frames.
 *
 * Exit: 0 pass, 1 fail, 77 skipped (meson's convention).
 * Units: lengths in bytes, times in seconds unless named _us/_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "../../dataplane/port/port.h"
#include "../common/proc.h"
#include "testutil.h"

#define SKIP 77

#define ETH_HLEN 14
#define SEQ_OFF  ETH_HLEN
#define BURST    32
/* Frames in flight client -> server -> client: below a memif ring (1024). */
#define WINDOW 512
/* Empty polls before a poller sleeps: two busy pollers on two cores would
 * otherwise starve each other (and the memif interrupt thread). */
#define IDLE_SPINS    64
#define IDLE_SLEEP_US 50
#define LINK_WAIT_MS  5000

/* Pipe messages. Each side sends STOP once it has stopped polling (done or
 * failed) and stops polling when it reads the peer's STOP. */
enum msg {
	MSG_READY = 'R',  /* server: port open, socket listening */
	MSG_STOP = 'S',   /* this side no longer polls its port */
	MSG_CLOSED = 'C', /* client: port closed */
};

/* Bound on every wait for the peer once the exchange is over. */
#define PEER_WAIT_MS 10000

struct opts {
	uint64_t frames;
	uint32_t len;
	uint32_t bsize; /* 0: let the port choose */
	uint32_t max_frame;
	bool pcap;
	const char *tshark;
	unsigned int timeout_s;
};

struct side {
	const char *role;
	char dir[PATH_MAX];
	char sock[PATH_MAX];
	char pcap[PATH_MAX];
	int rfd; /* from the peer */
	int wfd; /* to the peer */
	const struct opts *o;
};

/* ------------------------------------------------------------------------ */
/* Frames: Ethernet header, 8-byte sequence number, pattern from it.         */

static uint8_t
pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

static void
frame_fill(struct sx_frame *f, uint64_t seq, uint32_t len)
{
	uint32_t i;

	memset(f->data, 0xff, 6);
	memset(f->data + 6, 0x02, 6);
	f->data[12] = 0x88; /* local experimental ethertype */
	f->data[13] = 0xb5;
	memcpy(f->data + SEQ_OFF, &seq, sizeof(seq));
	for (i = SEQ_OFF + 8; i < len; i++)
		f->data[i] = pattern(seq, i);
	f->len = len;
}

static bool
frame_check(const struct sx_frame *f, uint64_t seq, uint32_t len)
{
	uint64_t got;
	uint32_t i;

	if (f->len != len)
		return false;
	memcpy(&got, f->data + SEQ_OFF, sizeof(got));
	if (got != seq)
		return false;
	for (i = SEQ_OFF + 8; i < len; i++)
		if (f->data[i] != pattern(seq, i))
			return false;
	return true;
}

/* Says how a frame differs from the expected one. */
static void
frame_diag(const struct sx_frame *f, uint64_t seq, uint32_t len)
{
	uint64_t got;
	uint32_t i;

	memcpy(&got, f->data + SEQ_OFF, sizeof(got));
	fprintf(stderr, "  length %u (want %u), sequence %" PRIu64 " (want %" PRIu64 ")", f->len,
		len, got, seq);
	for (i = SEQ_OFF + 8; i < RTE_MIN(len, f->len); i++) {
		if (f->data[i] != pattern(seq, i)) {
			fprintf(stderr, ", first wrong byte at %u", i);
			break;
		}
	}
	fprintf(stderr, "\n");
}

/* ------------------------------------------------------------------------ */
/* Pipes                                                                     */

static int
msg_send(const struct side *s, enum msg m)
{
	char c = (char)m;

	return write(s->wfd, &c, 1) == 1 ? 0 : -1;
}

/* Waits up to @p timeout_ms (-1: for ever) for message @p m; 0 if it came. */
static int
msg_wait(const struct side *s, enum msg m, int timeout_ms)
{
	struct pollfd p = {.fd = s->rfd, .events = POLLIN};
	char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(s->rfd, &c, 1) != 1)
		return -1;
	return c == (char)m ? 0 : -1;
}

static bool
msg_pending(const struct side *s)
{
	struct pollfd p = {.fd = s->rfd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* ------------------------------------------------------------------------ */
/* One side                                                                  */

/* EAL's --file-prefix of one side; its runtime directory is named so. */
static void
eal_prefix(char *buf, size_t size, pid_t parent, const char *role)
{
	snprintf(buf, size, "sx-smoke-%ld-%s", (long)parent, role);
}

static int
eal_up(const struct side *s)
{
	char prefix[64];
	char *argv[] = {
		(char *)"memif_smoke", (char *)"--no-huge", (char *)"-m", (char *)"256",
		(char *)"--no-pci", (char *)"--no-telemetry", (char *)"--file-prefix", prefix,
		(char *)"--log-level", (char *)"lib.eal:warning", NULL,
	};

	eal_prefix(prefix, sizeof(prefix), getppid(), s->role);
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", s->role);
		return -1;
	}
	return 0;
}

static struct sx_port *
port_up(const struct side *s)
{
	char spec[PATH_MAX + 128];
	char bsize[32] = "";
	struct sx_port *p;

	if (s->o->bsize != 0)
		snprintf(bsize, sizeof(bsize), ",bsize=%u", s->o->bsize);
	snprintf(spec, sizeof(spec), "net_memif0,role=%s,id=0,socket=%s,socket-abstract=no%s",
		 s->role, s->sock, bsize);
	p = sx_port_ethdev_open(spec, s->o->max_frame, s->o->pcap ? s->pcap : NULL);
	if (p == NULL)
		fprintf(stderr, "%s: open %s: %s\n", s->role, spec, strerror(errno));
	return p;
}

static bool
link_is(bool up)
{
	struct rte_eth_link link;
	uint16_t pid;

	if (rte_eth_dev_get_port_by_name("net_memif0", &pid) != 0 ||
	    rte_eth_link_get_nowait(pid, &link) != 0)
		return false;
	return (link.link_status == RTE_ETH_LINK_UP) == up;
}

static bool
link_wait(bool up, int ms)
{
	for (; ms > 0; ms -= 1) {
		if (link_is(up))
			return true;
		usleep(1000);
	}
	return link_is(up);
}

static void
idle(unsigned int *empty)
{
	if (++*empty >= IDLE_SPINS)
		usleep(IDLE_SLEEP_US);
}

static void
print_stats(const char *role, const struct sx_port *p)
{
	const struct sx_port_stats *st = &p->stats;

	printf("%s: tx %" PRIu64 " frames %" PRIu64 " bytes, rx %" PRIu64 " frames %" PRIu64
	       " bytes, tx_full %" PRIu64 ", rx_linearized %" PRIu64 ", rx_drop %" PRIu64
	       ", tx_drop %" PRIu64 ", alloc_fail %" PRIu64 ", capture_drop %" PRIu64 "\n",
	       role, st->tx_frames, st->tx_bytes, st->rx_frames, st->rx_bytes, st->tx_full,
	       st->rx_linearized, st->rx_drop, st->tx_drop, st->alloc_fail, st->capture_drop);
}

/* Echo loop: receives, checks and echoes until the client's STOP; false on
 * a bad frame (polling stops either way). */
static bool
serve(const struct side *s, struct sx_port *p, uint64_t *expect)
{
	const struct opts *o = s->o;
	struct sx_frame rx[BURST], out[BURST];
	uint16_t nout = 0;
	unsigned int empty = 0, polls = 0;
	bool ok = true;

	while (ok) {
		uint16_t n, i, got, sent;

		/* Receive no more than can be echoed: the echo backlog stays
		 * within one burst. */
		n = nout < BURST ? sx_port_rx(p, rx, BURST - nout) : 0;
		got = n ? sx_port_tx_alloc(p, out + nout, n) : 0;
		for (i = 0; i < n && ok; i++) {
			if (!frame_check(&rx[i], *expect, o->len)) {
				fprintf(stderr, "server: frame %" PRIu64 " wrong\n", *expect);
				frame_diag(&rx[i], *expect, o->len);
				ok = false;
			} else if (i >= got) {
				fprintf(stderr, "server: no tx buffers\n");
				ok = false;
			} else {
				memcpy(out[nout + i].data, rx[i].data, rx[i].len);
				out[nout + i].len = rx[i].len;
				(*expect)++;
			}
		}
		if (n)
			sx_port_rx_done(p, rx, n);
		if (!ok) {
			sx_port_tx_free(p, out + nout, got);
			break;
		}
		nout += got;
		sent = nout ? sx_port_tx(p, out, nout) : 0;
		memmove(out, out + sent, (size_t)(nout - sent) * sizeof(out[0]));
		nout -= sent;
		if (n == 0 && sent == 0)
			idle(&empty);
		else
			empty = 0;
		if (((++polls & 255) == 0 || empty >= IDLE_SPINS) && msg_pending(s))
			break;
	}
	if (nout != 0) {
		fprintf(stderr, "server: %u echoes unsent\n", nout);
		sx_port_tx_free(p, out, nout);
		ok = false;
	}
	return ok;
}

static int
run_server(const struct side *s)
{
	struct sx_port *p;
	uint64_t expect = 0;
	bool ok;
	int ret = 1;

	if (eal_up(s) != 0)
		return 1;
	p = port_up(s);
	if (p == NULL)
		goto cleanup_eal;
	if (msg_send(s, MSG_READY) != 0)
		goto cleanup;
	ok = serve(s, p, &expect);
	/* Polling has stopped here; the client stops on our STOP if it has
	 * not sent its own, and closes first. */
	msg_send(s, MSG_STOP);
	if (msg_wait(s, MSG_STOP, PEER_WAIT_MS) != 0 ||
	    msg_wait(s, MSG_CLOSED, PEER_WAIT_MS) != 0) {
		fprintf(stderr, "server: no orderly stop from the client\n");
		ok = false;
	}
	/* Let the interrupt thread finish the client's disconnect before
	 * closing from this thread. */
	if (!link_wait(false, 2000))
		fprintf(stderr, "server: link still up after the client closed\n");
	if (expect != s->o->frames) {
		fprintf(stderr, "server: %" PRIu64 "/%" PRIu64 " frames\n", expect, s->o->frames);
		ok = false;
	}
	ret = ok ? 0 : 1;

cleanup:
	print_stats("server", p);
	sx_port_close(p);
cleanup_eal:
	rte_eal_cleanup();
	return ret;
}

/* Streams o->frames frames with at most WINDOW unechoed and checks the
 * echoes; false on a bad echo, a timeout or the server's STOP. */
static bool
stream(const struct side *s, struct sx_port *p)
{
	const struct opts *o = s->o;
	struct sx_frame f[BURST];
	uint64_t sent = 0, echoed = 0;
	unsigned int empty = 0, polls = 0;
	double t0 = proc_now_s(), t1, deadline = t0 + o->timeout_s;

	while (echoed < o->frames) {
		uint16_t got = 0, tx = 0, n, i;
		bool ok = true;

		if (sent < o->frames && sent - echoed < WINDOW) {
			uint64_t room = RTE_MIN(o->frames - sent, WINDOW - (sent - echoed));
			uint16_t want = (uint16_t)RTE_MIN(room, (uint64_t)BURST);

			got = sx_port_tx_alloc(p, f, want);
			for (i = 0; i < got; i++)
				frame_fill(&f[i], sent + i, o->len);
			tx = got ? sx_port_tx(p, f, got) : 0;
			if (tx < got)
				sx_port_tx_free(p, f + tx, got - tx);
			sent += tx;
		}
		n = sx_port_rx(p, f, BURST);
		for (i = 0; i < n && ok; i++) {
			if (!frame_check(&f[i], echoed, o->len)) {
				fprintf(stderr, "client: echo %" PRIu64 " wrong\n", echoed);
				frame_diag(&f[i], echoed, o->len);
				ok = false;
			}
			echoed++;
		}
		if (n)
			sx_port_rx_done(p, f, n);
		if (!ok)
			return false;
		if (n == 0 && tx == 0)
			idle(&empty);
		else
			empty = 0;
		if ((++polls & 255) == 0 || empty >= IDLE_SPINS) {
			if (msg_pending(s)) {
				fprintf(stderr, "client: the server stopped\n");
				return false;
			}
			if (proc_now_s() > deadline) {
				fprintf(stderr, "client: timeout at %" PRIu64 "/%" PRIu64 "\n",
					echoed, o->frames);
				return false;
			}
		}
	}
	t1 = proc_now_s();
	printf("client: %" PRIu64 " frames of %u bytes echoed in %.3f s: %.0f frames/s each "
	       "way, %.2f Gbit/s each way\n",
	       echoed, o->len, t1 - t0, (double)echoed / (t1 - t0),
	       (double)echoed * o->len * 8 / (t1 - t0) / 1e9);
	return true;
}

static int
run_client(const struct side *s)
{
	struct sx_port *p;
	bool ok = false;

	if (msg_wait(s, MSG_READY, (int)s->o->timeout_s * 1000) != 0) {
		fprintf(stderr, "client: server not ready\n");
		return 1;
	}
	if (eal_up(s) != 0)
		return 1;
	p = port_up(s);
	if (p != NULL) {
		if (link_wait(true, LINK_WAIT_MS))
			ok = stream(s, p);
		else
			fprintf(stderr, "client: link down\n");
		/* Polling has stopped: tell the server and wait until it has
		 * stopped too; only then close. */
		msg_send(s, MSG_STOP);
		if (msg_wait(s, MSG_STOP, PEER_WAIT_MS) != 0) {
			fprintf(stderr, "client: no STOP from the server\n");
			ok = false;
		}
		print_stats("client", p);
		sx_port_close(p);
	}
	msg_send(s, MSG_CLOSED);
	rte_eal_cleanup();
	return ok ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Capture check                                                             */

static long
tshark_count(const char *tshark, const char *path)
{
	char cmd[3 * PATH_MAX];
	char line[64];
	long n = -1;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' -T fields -e frame.number 2>/dev/null | wc -l",
		 tshark, path);
	fp = popen(cmd, "r");
	if (fp == NULL)
		return -1;
	if (fgets(line, sizeof(line), fp) != NULL)
		n = strtol(line, NULL, 10);
	if (pclose(fp) != 0)
		return -1;
	return n;
}

static int
check_capture(const struct opts *o, const char *role, const char *path)
{
	struct pcapng_counts c;
	long t;

	if (pcapng_count(path, &c) != 0) {
		fprintf(stderr, "%s: %s is not a well-formed pcapng\n", role, path);
		return -1;
	}
	printf("%s: capture %s: %" PRIu64 " in, %" PRIu64 " out\n", role, path, c.in, c.out);
	if (c.in != o->frames || c.out != o->frames || c.other != 0 ||
	    c.bytes != 2 * o->frames * o->len) {
		fprintf(stderr, "%s: capture has %" PRIu64 "/%" PRIu64 " frames, want %" PRIu64
				" each\n", role, c.in, c.out, o->frames);
		return -1;
	}
	if (o->tshark == NULL || o->tshark[0] == '\0')
		return 0;
	t = tshark_count(o->tshark, path);
	printf("%s: tshark reads %ld frames\n", role, t);
	return t == (long)(2 * o->frames) ? 0 : -1;
}

/* ------------------------------------------------------------------------ */

static void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--frames N] [--len BYTES] [--max-frame BYTES] [--bsize BYTES]\n"
		"          [--pcap] [--tshark PATH] [--timeout S]\n",
		argv0);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"frames", required_argument, NULL, 'n'},
		{"len", required_argument, NULL, 'l'},
		{"max-frame", required_argument, NULL, 'm'},
		{"bsize", required_argument, NULL, 'b'},
		{"pcap", no_argument, NULL, 'p'},
		{"tshark", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.frames = 10000, .len = 4200, .timeout_s = 60};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->frames = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			o->len = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o->max_frame = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o->bsize = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->pcap = true;
			break;
		case 't':
			o->tshark = optarg;
			break;
		case 'T':
			o->timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (o->max_frame == 0)
		o->max_frame = o->len;
	if (o->frames == 0 || o->len < ETH_HLEN + 8 || o->len > o->max_frame ||
	    o->timeout_s == 0)
		return -1;
	return 0;
}

/* Leaves a socket file at @p path with nobody listening, as a server that
 * crashed does; the port must remove it before the new server binds. */
static int
plant_stale_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ret;
}

static pid_t
spawn(struct side *s, int (*fn)(const struct side *), int close_a, int close_b)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* A peer that died must not kill us through a write. */
		signal(SIGPIPE, SIG_IGN);
		close(close_a);
		close(close_b);
		exit(fn(s)); /* exit, not _exit: LeakSanitizer checks at exit */
	}
	return pid;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct side srv = {.role = "server", .o = &o}, cli = {.role = "client", .o = &o};
	const char *const name[] = {srv.role, cli.role}; /* as pid[] */
	char dir[] = "/tmp/sx-memif-XXXXXX";
	char prefix[64];
	int s2c[2] = {-1, -1}, c2s[2] = {-1, -1};
	pid_t pid[2] = {0, 0};
	int ret = 1;

	if (parse_opts(argc, argv, &o) != 0) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(srv.sock, sizeof(srv.sock), "%s/memif.sock", dir);
	snprintf(cli.sock, sizeof(cli.sock), "%s/memif.sock", dir);
	snprintf(srv.pcap, sizeof(srv.pcap), "%s/server.pcapng", dir);
	snprintf(cli.pcap, sizeof(cli.pcap), "%s/client.pcapng", dir);
	if (plant_stale_socket(srv.sock) != 0) {
		perror("stale socket");
		goto cleanup;
	}
	if (pipe(s2c) != 0 || pipe(c2s) != 0) {
		perror("pipe");
		goto cleanup;
	}
	srv.rfd = c2s[0];
	srv.wfd = s2c[1];
	cli.rfd = s2c[0];
	cli.wfd = c2s[1];
	pid[0] = spawn(&srv, run_server, cli.rfd, cli.wfd);
	if (pid[0] < 0)
		goto cleanup;
	pid[1] = spawn(&cli, run_client, srv.rfd, srv.wfd);
	if (pid[1] < 0) {
		kill(pid[0], SIGKILL);
		waitpid(pid[0], NULL, 0);
		goto cleanup;
	}
	/* Only the children talk over the pipes: with our copies closed, a
	 * side that dies is seen by the other as end of file. */
	close(s2c[0]);
	close(s2c[1]);
	close(c2s[0]);
	close(c2s[1]);
	s2c[0] = c2s[0] = -1;
	ret = proc_reap(pid, name, 2, proc_now_s() + o.timeout_s + 30, NULL);
	if (ret == 0 && o.pcap)
		ret = check_capture(&o, "server", srv.pcap) != 0 ||
		      check_capture(&o, "client", cli.pcap) != 0;

cleanup:
	if (s2c[0] >= 0) {
		close(s2c[0]);
		close(s2c[1]);
	}
	if (c2s[0] >= 0) {
		close(c2s[0]);
		close(c2s[1]);
	}
	eal_prefix(prefix, sizeof(prefix), getpid(), "server");
	eal_runtime_dir_remove(prefix);
	eal_prefix(prefix, sizeof(prefix), getpid(), "client");
	eal_runtime_dir_remove(prefix);
	/* The server's close removes its socket; a killed server leaves it. */
	unlink(srv.sock);
	unlink(srv.pcap);
	unlink(cli.pcap);
	if (rmdir(dir) != 0)
		perror(dir);
	printf("memif_smoke: %s\n", ret == 0 ? "PASS" : "FAIL");
	return ret;
}
