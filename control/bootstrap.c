/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bootstrap over TCP (docs/bootstrap.md). Messages are single lines of
 * text, fields separated by one space:
 *
 *   SCALEX1 QPS <n>
 *   SCALEX1 QP qpn=<hex> psn=<hex> mac=<aa:bb:..> ip=<addr> addr=<hex> rkey=<hex> len=<dec>
 *   SCALEX1 BARRIER <tag>
 *   SCALEX1 U64 <tag> <dec>
 *
 * Only the canonical form is read, the one the writer makes: decimals and
 * lower-case hex without sign, padding or leading zeros, MAC bytes as two
 * hex digits, nothing after the last field. A line longer than
 * LINE_MAX_LEN, a wrong magic, another form or a field out of range is
 * -EPROTO: the peer is not a scalex of this version. (sscanf() took
 * "-1" for 2^64 - 1 and ignored trailing text: found by the bootstrap
 * fuzz target.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <scalex/bootstrap.h>

#define MAGIC        "SCALEX1"
#define LINE_MAX_LEN 512
/* Pause between two connect attempts to a server not yet listening. */
#define CONNECT_RETRY_MS 20

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left = deadline - now_ms();
	int rc;

	if (left <= 0)
		return -ETIMEDOUT;
	rc = poll(&p, 1, (int)left);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

static int
resolve(const char *host, uint16_t port, int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	char svc[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	snprintf(svc, sizeof(svc), "%u", port);
	return getaddrinfo(host, svc, &hints, res) == 0 ? 0 : -EHOSTUNREACH;
}

int
sx_boot_accept(const char *host, uint16_t port, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct addrinfo *res;
	int lfd, fd = -1, one = 1, rc;

	rc = resolve(host, port, 1, &res);
	if (rc < 0)
		return rc;
	lfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(lfd, 1) < 0) {
		rc = -errno;
		goto out;
	}
	rc = wait_fd(lfd, POLLIN, deadline);
	if (rc < 0)
		goto out;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = fd;
out:
	if (lfd >= 0)
		close(lfd);
	freeaddrinfo(res);
	return rc;
}

int
sx_boot_connect(const char *host, uint16_t port, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct addrinfo *res;
	int fd, one = 1, rc;

	rc = resolve(host ? host : "127.0.0.1", port, 0, &res);
	if (rc < 0)
		return rc;
	/* The server may not be listening yet: retry until the deadline. */
	for (;;) {
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			break;
		}
		if (connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			rc = fd;
			break;
		}
		rc = -errno;
		close(fd);
		/* A signal (SIGINT, SIGTERM with a handler) ends the retry: the
		 * caller decides what it means. */
		if (rc == -EINTR)
			break;
		if (now_ms() >= deadline) {
			rc = rc == -ECONNREFUSED ? -ECONNREFUSED : -ETIMEDOUT;
			break;
		}
		/* poll() with no fd sleeps, and unlike a restarted sleep it
		 * returns EINTR whatever SA_RESTART says. */
		if (poll(NULL, 0, CONNECT_RETRY_MS) < 0 && errno == EINTR) {
			rc = -EINTR;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

static int
send_line(int fd, const char *line, int64_t deadline)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n;
		int rc = wait_fd(fd, POLLOUT, deadline);

		if (rc < 0)
			return rc;
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* One line, without its newline; a NUL byte or a line of LINE_MAX_LEN bytes
 * or more is -EPROTO. Reads byte by byte: lines are few and short. */
static int
recv_line(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t n = 0;

	for (;;) {
		ssize_t r;
		int rc = wait_fd(fd, POLLIN, deadline);

		if (rc < 0)
			return rc;
		r = recv(fd, buf + n, 1, 0);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		/* A NUL would end the string early: "U64 fin 1\0junk" read as 1
		 * (found by the bootstrap fuzz target). Lines are text. */
		if (buf[n] == '\0')
			return -EPROTO;
		if (++n == cap - 1)
			return -EPROTO;
	}
}

/* ---- the canonical grammar ---- */

/* @p lit at *@p p; advances past it. */
static bool
take(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A number in @p base (10 or 16, lower case) up to @p max, without leading
 * zeros; advances past it. */
static bool
take_num(const char **p, unsigned int base, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	/* "0" alone, or a first digit that is not 0. */
	if (s[0] == '0') {
		d = hex_digit(s[1]);
		if (d >= 0 && (unsigned int)d < base)
			return false;
	}
	for (; (d = hex_digit(*s)) >= 0 && (unsigned int)d < base; s++) {
		if (v > (max - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* A token of up to @p cap - 1 bytes, ended by a space or the line's end. */
static bool
take_word(const char **p, char *out, size_t cap)
{
	size_t n = strcspn(*p, " ");

	if (n == 0 || n >= cap)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

/* "SCALEX1 U64 <tag> <dec>" for @p tag. */
static int
parse_u64_line(const char *line, const char *tag, uint64_t *v)
{
	const char *p = line;

	if (!take(&p, MAGIC " U64 ") || !take(&p, tag) || !take(&p, " ") ||
	    !take_num(&p, 10, UINT64_MAX, v) || *p != '\0')
		return -EPROTO;
	return 0;
}

static int
parse_count_line(const char *line, unsigned int *n)
{
	const char *p = line;
	uint64_t v;

	if (!take(&p, MAGIC " QPS ") || !take_num(&p, 10, UINT32_MAX, &v) || *p != '\0')
		return -EPROTO;
	*n = (unsigned int)v;
	return 0;
}

static void
format_ip(const struct sx_qp_endpoint *ep, char *out, size_t cap)
{
	if (inet_ntop(ep->ip_version == 6 ? AF_INET6 : AF_INET, ep->ip, out,
		      (socklen_t)cap) == NULL)
		snprintf(out, cap, "invalid");
}

static int
parse_qp(const char *line, struct sx_boot_qp *q)
{
	char ip[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
	uint64_t qpn, psn, rkey;
	const char *p = line;
	int i;

	memset(q, 0, sizeof(*q));
	if (!take(&p, MAGIC " QP qpn=") || !take_num(&p, 16, SX_QPN_MASK, &qpn) ||
	    !take(&p, " psn=") || !take_num(&p, 16, SX_PSN_MASK, &psn) ||
	    !take(&p, " mac="))
		return -EPROTO;
	for (i = 0; i < 6; i++) {
		int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);

		if (lo < 0 || (i < 5 && p[2] != ':'))
			return -EPROTO;
		q->ep.mac[i] = (uint8_t)(hi << 4 | lo);
		p += i < 5 ? 3 : 2;
	}
	if (!take(&p, " ip=") || !take_word(&p, ip, sizeof(ip)))
		return -EPROTO;
	if (inet_pton(AF_INET, ip, q->ep.ip) == 1)
		q->ep.ip_version = 4;
	else if (inet_pton(AF_INET6, ip, q->ep.ip) == 1)
		q->ep.ip_version = 6;
	else
		return -EPROTO;
	/* The writer's form only (inet_ntop: RFC 5952 for IPv6, lower-case
	 * hex); inet_pton also takes "fd00::2A" or "::ffff:10.0.0.1" spelled
	 * other ways (found by the bootstrap fuzz target). */
	format_ip(&q->ep, canon, sizeof(canon));
	if (strcmp(ip, canon) != 0)
		return -EPROTO;
	if (!take(&p, " addr=") || !take_num(&p, 16, UINT64_MAX, &q->addr) ||
	    !take(&p, " rkey=") || !take_num(&p, 16, UINT32_MAX, &rkey) ||
	    !take(&p, " len=") || !take_num(&p, 10, UINT64_MAX, &q->len) || *p != '\0')
		return -EPROTO;
	q->ep.qpn = (uint32_t)qpn;
	q->ep.psn = (uint32_t)psn;
	q->rkey = (uint32_t)rkey;
	return 0;
}

int
sx_boot_exchange(int fd, const struct sx_boot_qp *local, struct sx_boot_qp *remote,
		 unsigned int n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char line[LINE_MAX_LEN], ip[INET6_ADDRSTRLEN];
	unsigned int i, peer_n;
	int rc;

	snprintf(line, sizeof(line), MAGIC " QPS %u\n", n);
	rc = send_line(fd, line, deadline);
	for (i = 0; rc == 0 && i < n; i++) {
		const struct sx_qp_endpoint *ep = &local[i].ep;

		format_ip(ep, ip, sizeof(ip));
		snprintf(line, sizeof(line),
			 MAGIC " QP qpn=%x psn=%x mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s "
			       "addr=%" PRIx64 " rkey=%x len=%" PRIu64 "\n",
			 ep->qpn, ep->psn, ep->mac[0], ep->mac[1], ep->mac[2], ep->mac[3],
			 ep->mac[4], ep->mac[5], ip, local[i].addr, local[i].rkey, local[i].len);
		rc = send_line(fd, line, deadline);
	}
	if (rc < 0)
		return rc;
	rc = recv_line(fd, line, sizeof(line), deadline);
	if (rc < 0)
		return rc;
	if (parse_count_line(line, &peer_n) < 0 || peer_n != n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		rc = recv_line(fd, line, sizeof(line), deadline);
		if (rc == 0)
			rc = parse_qp(line, &remote[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
sx_boot_barrier(int fd, const char *tag, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char line[LINE_MAX_LEN], want[LINE_MAX_LEN - 2];
	int rc;

	snprintf(want, sizeof(want), MAGIC " BARRIER %s", tag);
	snprintf(line, sizeof(line), "%s\n", want);
	rc = send_line(fd, line, deadline);
	if (rc == 0)
		rc = recv_line(fd, line, sizeof(line), deadline);
	if (rc == 0 && strcmp(line, want) != 0)
		rc = -EPROTO;
	return rc;
}

int
sx_boot_send_u64(int fd, const char *tag, uint64_t v, int timeout_ms)
{
	char line[LINE_MAX_LEN];

	snprintf(line, sizeof(line), MAGIC " U64 %s %" PRIu64 "\n", tag, v);
	return send_line(fd, line, now_ms() + timeout_ms);
}

int
sx_boot_recv_u64(int fd, const char *tag, uint64_t *v, int timeout_ms)
{
	char line[LINE_MAX_LEN];
	int rc = recv_line(fd, line, sizeof(line), now_ms() + timeout_ms);

	if (rc < 0)
		return rc;
	return parse_u64_line(line, tag, v);
}

void
sx_boot_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
