/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket against bad input while the dataplane runs: an engine
 * thread drives two contexts (in-process port pair, virtual time) with a
 * stream of RDMA WRITEs and serves the control plane of one of them; the
 * main thread connects as clients that send unknown commands, malformed
 * JSON, wrong types, out-of-range values, over-long lines, half a message,
 * a flood without reading replies, and too many connections. Every bad
 * request gets an error reply or a closed connection, nothing changes,
 * well-formed requests keep working, and completions keep coming.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <scalex/control.h>
#include <scalex/live.h>

#include "../qp/vt.h"

#define MSG_BYTES 4096
#define DEPTH 8

static char sock_path[108];
static int stop_engine;
static int ctl_ready;
static uint64_t completions;
static uint64_t errors;
static struct sx_ctl *the_ctl;
static struct sx_context *the_ctx;

/* cmocka's asserts belong to the main thread: the engine thread aborts. */
#define CHECK(x)                                                                         \
	do {                                                                             \
		if (!(x)) {                                                              \
			fprintf(stderr, "engine thread: %s failed\n", #x);               \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void *
engine(void *arg)
{
	static uint8_t buf[2][MSG_BYTES];
	struct vt_opts o;
	struct vt v;
	struct sx_mr *mr[2];
	struct sx_ctl_attr attr;
	int outstanding = 0;

	(void)arg;
	vt_default_opts(&o);
	o.cc = "dcqcn";
	o.mtu = 1024;
	vt_setup(&v, &o);
	for (int s = 0; s < 2; s++) {
		mr[s] = sx_reg_mr(v.pd[s], buf[s], MSG_BYTES,
				  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
		CHECK(mr[s] != NULL);
	}
	sx_ctl_attr_init(&attr);
	attr.sock_path = sock_path;
	the_ctl = sx_ctl_open(v.ctx[0], &attr);
	CHECK(the_ctl != NULL);
	the_ctx = v.ctx[0];
	__atomic_store_n(&ctl_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_engine, __ATOMIC_ACQUIRE)) {
		struct sx_wc wc[DEPTH];
		int n;

		while (outstanding < DEPTH) {
			struct sx_sge sge = {(uintptr_t)buf[0], MSG_BYTES, mr[0]->lkey};
			struct sx_send_wr wr = {0}, *bad;

			wr.sg_list = &sge;
			wr.num_sge = 1;
			wr.opcode = SX_WR_RDMA_WRITE;
			wr.send_flags = SX_SEND_SIGNALED;
			wr.wr.rdma.remote_addr = (uintptr_t)buf[1];
			wr.wr.rdma.rkey = mr[1]->rkey;
			if (sx_post_send(v.qp[0], &wr, &bad) != 0)
				break;
			outstanding++;
		}
		sx_context_step(v.ctx[0]);
		sx_context_step(v.ctx[1]);
		n = sx_poll_cq(v.cq[0], DEPTH, wc);
		for (int k = 0; k < n; k++) {
			outstanding--;
			__atomic_add_fetch(wc[k].status == SX_WC_SUCCESS ? &completions : &errors, 1,
					   __ATOMIC_RELAXED);
		}
		v.now_ns += 200; /* virtual time: 200 ns per round */
	}
	/* Drain, then close from this (the engine) thread. */
	for (int i = 0; i < 100000 && outstanding > 0; i++) {
		struct sx_wc wc[DEPTH];
		int n;

		sx_context_step(v.ctx[1]);
		n = sx_poll_cq(v.cq[0], DEPTH, wc);
		outstanding -= n > 0 ? n : 0;
		v.now_ns += 200;
	}
	sx_ctl_close(the_ctl);
	CHECK(access(sock_path, F_OK) == -1); /* the socket is gone */
	for (int s = 0; s < 2; s++)
		CHECK(sx_dereg_mr(mr[s]) == 0);
	vt_teardown(&v);
	return NULL;
}

static int
client(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* One reply line within 5 s; NULL when the connection closed. */
static json_t *
read_reply(int fd)
{
	static char buf[1 << 20];
	size_t n = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;
		char *nl;

		if (poll(&p, 1, 5000) != 1)
			fail_msg("no reply within 5 s");
		r = recv(fd, buf + n, sizeof(buf) - n - 1, 0);
		if (r <= 0)
			return NULL;
		n += (size_t)r;
		nl = memchr(buf, '\n', n);
		if (nl != NULL) {
			json_t *j = json_loadb(buf, (size_t)(nl - buf), 0, NULL);

			assert_non_null(j); /* replies are always valid JSON */
			return j;
		}
	}
}

static json_t *
ask(int fd, const char *line)
{
	assert_int_equal(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	return read_reply(fd);
}

/* The reply to @p line is an error mentioning @p what. */
static void
expect_error(int fd, const char *line, const char *what)
{
	json_t *r = ask(fd, line);
	const char *e;

	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "ok")));
	e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	if (strstr(e, what) == NULL)
		fail_msg("reply to %s: '%s' does not say '%s'", line, e, what);
	json_decref(r);
}

static double
value_of(int fd, const char *name)
{
	char line[256];
	json_t *r;
	double v;

	snprintf(line, sizeof(line), "{\"cmd\":\"param.get\",\"name\":\"%s\"}\n", name);
	r = ask(fd, line);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	v = json_number_value(json_object_get(r, "value"));
	json_decref(r);
	return v;
}

static uint64_t
done_now(void)
{
	return __atomic_load_n(&completions, __ATOMIC_RELAXED);
}

static void
wait_progress(uint64_t since)
{
	for (int i = 0; i < 5000 && done_now() <= since; i++)
		usleep(1000);
	assert_true(done_now() > since);
}

static void
test_bad_input(void **state)
{
	pthread_t th;
	int fd, flood, many[20];
	uint64_t c0;
	json_t *r;
	char *big;
	struct stat sb;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/sx-ctl-test-%ld.sock", (long)getpid());
	assert_int_equal(pthread_create(&th, NULL, engine, NULL), 0);
	while (!__atomic_load_n(&ctl_ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_progress(0);
	assert_int_equal(stat(sock_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	fd = client();
	const double ai = value_of(fd, "rpg_ai_rate");
	expect_error(fd, "{\"cmd\":\"reboot\"}\n", "unknown command");
	expect_error(fd, "{\"cmd\":\n", "malformed JSON");
	expect_error(fd, "not json at all\n", "malformed JSON");
	expect_error(fd, "[1,2,3]\n", "JSON object");
	expect_error(fd, "\"param.list\"\n", "malformed JSON"); /* not an object or array */
	expect_error(fd, "{\"cmd\":42}\n", "JSON object");
	expect_error(fd, "{\"cmd\":\"param.list\",\"cmd\":\"x\"}\n", "malformed JSON");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":5,\"value\":1}\n", "\"name\"");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_ai_rate\",\"value\":\"10\"}\n",
		     "\"value\" must be a number");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_ai_rate\",\"value\":1,\"qp\":\"x\"}\n",
		     "\"qp\"");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_ai_rate\",\"value\":1,\"qp\":-3}\n",
		     "\"qp\"");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_ai_rate\",\"value\":-1}\n",
		     "outside");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_ai_rate\",\"value\":1e400}\n",
		     "malformed JSON"); /* jansson refuses an overflowing real */
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"rpg_gd\",\"value\":2.5}\n", "outside");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"no_such\",\"value\":1}\n",
		     "no such parameter");
	expect_error(fd, "{\"cmd\":\"param.set\",\"name\":\"dscp\",\"value\":3,\"qp\":256}\n",
		     "per-QP");
	expect_error(fd, "{\"cmd\":\"param.get\"}\n", "\"name\"");
	expect_error(fd, "{\"cmd\":\"param.unset\",\"name\":\"rpg_ai_rate\"}\n", "\"qp\"");
	expect_error(fd, "{\"cmd\":\"param.preset\",\"name\":\"fastest\"}\n", "no such preset");
	expect_error(fd, "{\"cmd\":\"stats\",\"format\":\"xml\"}\n", "\"format\"");
	expect_error(fd, "{\"cmd\":\"capture.start\"}\n", "\"file\"");
	expect_error(fd, "{\"cmd\":\"capture.start\",\"file\":\"/tmp/x.pcapng\"}\n",
		     "cannot capture"); /* the in-process pair has no capture */
	assert_true(value_of(fd, "rpg_ai_rate") == ai); /* nothing changed */

	/* Well-formed requests work: a live set, counters, QPs. */
	r = ask(fd, "{\"cmd\":\"param.set\",\"name\":\"cc.rpg_ai_rate\",\"value\":12.5}\n");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_true(value_of(fd, "rpg_ai_rate") == 12.5);
	r = ask(fd, "{\"cmd\":\"stats\"}\n");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_true(json_integer_value(json_object_get(
			    json_array_get(json_object_get(json_object_get(r, "stats"), "qp"), 0),
			    "tx_pkts")) > 0);
	json_decref(r);
	r = ask(fd, "{\"cmd\":\"qp.list\"}\n");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(r, "qps"), 0), "state")),
			    "rts");
	json_decref(r);

	/* An over-long line: an error, then the connection closes. */
	big = malloc(SX_CTL_MAX_REQUEST * 2);
	memset(big, ' ', SX_CTL_MAX_REQUEST * 2);
	memcpy(big, "{\"cmd\":\"info\",\"pad\":\"", 21);
	send(fd, big, SX_CTL_MAX_REQUEST * 2, MSG_NOSIGNAL);
	r = read_reply(fd);
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "longer"));
	json_decref(r);
	assert_null(read_reply(fd));
	close(fd);

	/* Half a message, then gone. */
	fd = client();
	send(fd, "{\"cmd\":\"param.li", 16, MSG_NOSIGNAL);
	close(fd);

	/* A flood that never reads its replies, beside a well-behaved client. */
	flood = client();
	fd = client();
	c0 = done_now();
	for (int i = 0; i < 20000; i++) {
		static const char q[] = "{\"cmd\":\"param.list\"}\n";

		if (send(flood, q, sizeof(q) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break; /* our buffer is full, or we were dropped */
	}
	assert_true(value_of(fd, "rpg_ai_rate") == 12.5);
	wait_progress(c0);
	close(flood);

	/* Too many clients: the extra ones are told and closed. */
	for (int i = 0; i < 20; i++)
		many[i] = client();
	r = read_reply(many[19]);
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "too many"));
	json_decref(r);
	for (int i = 0; i < 20; i++)
		close(many[i]);

	/* Thousands of live changes from this thread while the engine runs:
	 * global and per-QP, through the public API. */
	{
		double t0, dt;
		struct timespec ts;
		int qpn = 256;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		c0 = done_now();
		for (int i = 1; i <= 20000; i++) {
			assert_int_equal(sx_live_set(the_ctx, 0, "rpg_ai_rate", i % 1000), 0);
			if (i % 10 == 0)
				assert_int_equal(sx_live_set(the_ctx, (uint32_t)qpn, "rpg_hai_rate",
							     i % 500), 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		dt = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0;
		wait_progress(c0);
		printf("ctl_test: 22000 live sets in %.3f s (%.0f/s) while WRITEs ran\n", dt,
		       22000 / dt);
		assert_true(value_of(fd, "rpg_ai_rate") == 0); /* 20000 % 1000 */
		assert_int_equal(sx_live_unset(the_ctx, (uint32_t)qpn, NULL), 0);
	}

	/* Still answering, still moving data, never a failed completion. */
	usleep(300000); /* the server notices the closed ones */
	c0 = done_now();
	wait_progress(c0);
	close(fd);
	__atomic_store_n(&stop_engine, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	free(big);
	assert_int_equal(__atomic_load_n(&errors, __ATOMIC_RELAXED), 0);
	printf("ctl_test: %llu completions while the control socket was abused\n",
	       (unsigned long long)done_now());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
