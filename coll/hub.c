/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control channel: every rank keeps one TCP connection to rank 0 (the
 * hub) at MASTER_ADDR:MASTER_PORT for the life of the communicator. It
 * carries the rendezvous (an all-gather of fixed-size records in rank
 * order: node keys, link endpoints), barriers for setup and teardown, and
 * failure notices: the hub sees a rank's connection close when the process
 * dies (the kernel closes its sockets) and tells every other rank which
 * one; a rank whose link fails tells the hub, which tells the rest. Ranks
 * watch the channel in every wait, so no collective hangs on a dead peer.
 *
 * Messages: a header {type, length} in host order (one machine or one
 * architecture), then the payload.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coll_priv.h"

enum hub_msg { HUB_HELLO = 0x5358c001, HUB_DATA, HUB_ABORT };

struct hub_hdr {
	uint32_t type;
	uint32_t len;
	int32_t rank; /* HELLO: sender; ABORT: the failed rank */
	int32_t size;
};

/* Read exactly @p len bytes, waiting at most until @p deadline_ns. */
static int
read_full(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t now = sx_coll_now_ns();
		ssize_t n;
		int rc;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)((deadline_ns - now) / 1000000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(fd, (uint8_t *)buf + got, len - got);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + put, len - put, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		put += (size_t)n;
	}
	return 0;
}

static int
send_msg(int fd, uint32_t type, int32_t rank, const void *data, uint32_t len)
{
	struct hub_hdr h = {type, len, rank, 0};
	int rc = write_full(fd, &h, sizeof(h));

	return rc == 0 && len ? write_full(fd, data, len) : rc;
}

static void
tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
hub_listen(const char *host, int port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res, *ai;
	char ps[16];
	int fd = -1, one = 1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd >= 0 ? fd : -EADDRINUSE;
}

static int
hub_dial(const char *host, int port, uint64_t deadline_ns)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	char ps[16];

	snprintf(ps, sizeof(ps), "%d", port);
	while (sx_coll_now_ns() < deadline_ns) {
		struct addrinfo *res, *ai;

		if (getaddrinfo(host, ps, &hints, &res) != 0)
			return -EHOSTUNREACH;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);

			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
				freeaddrinfo(res);
				tune(fd);
				return fd;
			}
			close(fd);
		}
		freeaddrinfo(res);
		usleep(20000); /* rank 0 not listening yet */
	}
	return -ETIMEDOUT;
}

int
sx_coll_hub_connect(struct sx_coll_comm *c)
{
	uint64_t deadline = sx_coll_now_ns() + (uint64_t)c->attr.timeout_ms * 1000000;
	struct hub_hdr h;
	int i, lfd, fd, rc;

	c->hub_fd = malloc(sizeof(int) * (size_t)c->size);
	if (c->hub_fd == NULL)
		return -ENOMEM;
	for (i = 0; i < c->size; i++)
		c->hub_fd[i] = -1;
	if (c->rank != 0) {
		fd = hub_dial(c->attr.master_addr, c->attr.master_port, deadline);
		if (fd < 0)
			return fd;
		c->hub_fd[0] = fd;
		return send_msg(fd, HUB_HELLO, c->rank, NULL, 0) == 0
			       ? 0
			       : -EPIPE;
	}
	lfd = hub_listen(c->attr.master_addr, c->attr.master_port);
	if (lfd < 0)
		return lfd;
	rc = 0;
	for (i = 1; i < c->size && rc == 0; i++) {
		struct pollfd p = {lfd, POLLIN, 0};
		uint64_t now = sx_coll_now_ns();

		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0) {
			i--;
			continue;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			i--;
			continue;
		}
		tune(fd);
		rc = read_full(fd, &h, sizeof(h), deadline);
		if (rc == 0 && (h.type != HUB_HELLO || h.rank <= 0 || h.rank >= c->size ||
				c->hub_fd[h.rank] >= 0)) {
			fprintf(stderr, "scalex-coll: bad hello (rank %d of %d)\n", h.rank, c->size);
			rc = -EPROTO;
		}
		if (rc != 0) {
			close(fd);
			break;
		}
		c->hub_fd[h.rank] = fd;
	}
	close(lfd);
	return rc;
}

void
sx_coll_hub_close(struct sx_coll_comm *c)
{
	int i;

	if (c->hub_fd == NULL)
		return;
	for (i = 0; i < c->size; i++)
		if (c->hub_fd[i] >= 0)
			close(c->hub_fd[i]);
	free(c->hub_fd);
	c->hub_fd = NULL;
}

/* The hub tells every rank but @p skip that @p failed is gone. */
static void
hub_broadcast_abort(struct sx_coll_comm *c, int failed)
{
	int i;

	for (i = 1; i < c->size; i++)
		if (c->hub_fd[i] >= 0 && i != failed)
			send_msg(c->hub_fd[i], HUB_ABORT, failed, NULL, 0);
}

void
sx_coll_fail(struct sx_coll_comm *c, int peer, int err)
{
	if (c->err != 0)
		return;
	c->err = err;
	c->failed_peer = peer;
	if (peer >= 0)
		fprintf(stderr, "scalex-coll: rank %d: peer rank %d failed (%s)\n", c->rank, peer,
			strerror(-err));
	else
		fprintf(stderr, "scalex-coll: rank %d: %s\n", c->rank, strerror(-err));
	if (c->hub_fd == NULL)
		return;
	if (c->rank == 0) {
		if (peer > 0 && c->hub_fd[peer] >= 0) {
			close(c->hub_fd[peer]);
			c->hub_fd[peer] = -1;
		}
		hub_broadcast_abort(c, peer);
	} else if (c->hub_fd[0] >= 0 && peer != 0) {
		send_msg(c->hub_fd[0], HUB_ABORT, peer, NULL, 0);
	}
}

/* One message from @p from that is not data: a failure notice. */
static int
on_control(struct sx_coll_comm *c, int from, const struct hub_hdr *h)
{
	if (h->type == HUB_ABORT) {
		sx_coll_fail(c, h->rank, -EPIPE);
		return -EPIPE;
	}
	fprintf(stderr, "scalex-coll: unexpected control message %#x from rank %d\n", h->type,
		from);
	sx_coll_fail(c, from, -EPROTO);
	return -EPROTO;
}

int
sx_coll_hub_poll(struct sx_coll_comm *c)
{
	struct hub_hdr h;
	int i;

	if (c->err)
		return c->err;
	for (i = 0; i < c->size; i++) {
		struct pollfd p = {c->hub_fd[i], POLLIN, 0};
		ssize_t n;

		if (c->hub_fd[i] < 0 || poll(&p, 1, 0) <= 0)
			continue;
		/* A rank that finished early may already have sent its part of
		 * the next all-gather: leave data where it is, take notices. */
		n = recv(c->hub_fd[i], &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* The connection closed: that process is gone. */
			sx_coll_fail(c, i, -EPIPE);
			return c->err;
		}
		if (n != (ssize_t)sizeof(h) || h.type == HUB_DATA)
			continue;
		if (read_full(c->hub_fd[i], &h, sizeof(h), sx_coll_now_ns() + 1000000000ull) == 0)
			on_control(c, i, &h);
		return c->err;
	}
	return 0;
}

/* Receive one DATA message of @p len bytes from @p fd. */
static int
recv_data(struct sx_coll_comm *c, int from, void *buf, size_t len, uint64_t deadline)
{
	struct hub_hdr h;
	int rc = read_full(c->hub_fd[from], &h, sizeof(h), deadline);

	if (rc < 0) {
		sx_coll_fail(c, rc == -EPIPE ? from : -1, rc);
		return rc;
	}
	if (h.type != HUB_DATA)
		return on_control(c, from, &h);
	if (h.len != len) {
		sx_coll_fail(c, from, -EPROTO);
		return -EPROTO;
	}
	rc = read_full(c->hub_fd[from], buf, len, deadline);
	if (rc < 0)
		sx_coll_fail(c, from, rc);
	return rc;
}

int
sx_coll_hub_allgather(struct sx_coll_comm *c, const void *mine, size_t len, void *all)
{
	uint64_t deadline = sx_coll_now_ns() + (uint64_t)c->attr.timeout_ms * 1000000;
	int i, rc;

	if (c->err)
		return c->err;
	if (c->rank != 0) {
		rc = send_msg(c->hub_fd[0], HUB_DATA, c->rank, mine, (uint32_t)len);
		if (rc < 0) {
			sx_coll_fail(c, 0, -EPIPE);
			return -EPIPE;
		}
		return recv_data(c, 0, all, len * (size_t)c->size, deadline);
	}
	memcpy(all, mine, len);
	for (i = 1; i < c->size; i++) {
		rc = recv_data(c, i, (uint8_t *)all + len * (size_t)i, len, deadline);
		if (rc < 0)
			return rc;
	}
	for (i = 1; i < c->size; i++)
		if (send_msg(c->hub_fd[i], HUB_DATA, 0, all, (uint32_t)(len * (size_t)c->size)) < 0) {
			sx_coll_fail(c, i, -EPIPE);
			return -EPIPE;
		}
	return 0;
}

int
sx_coll_hub_barrier(struct sx_coll_comm *c)
{
	uint8_t one = 1, *all = malloc((size_t)c->size);
	int rc;

	if (all == NULL)
		return -ENOMEM;
	rc = sx_coll_hub_allgather(c, &one, 1, all);
	free(all);
	return rc;
}
