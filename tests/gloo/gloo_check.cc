/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gloo's own algorithms over the scalex Gloo transport (adapters/gloo):
 * N processes (forked here, one EAL each) meet through Gloo's FileStore,
 * connect a full mesh with Gloo's rendezvous, and run allreduce (ring and
 * halving-doubling, the bound-buffer classes; ring and bcube, the
 * unbound-buffer function), broadcast, allgather, alltoall, barrier and a
 * recv-from-any, several sizes each. Every result is checked against a
 * value this file computes from the inputs' formula (integers in floats:
 * every sum is exact). With --fault-tx/--fault-rx the links drop, reorder
 * or duplicate frames, and each rank checks from scalex's counters that
 * faults were injected and repaired and that scalex carried the bytes.
 *
 * Zero copy of bound buffers: around one AllreduceRing of 2^18 floats the
 * adapter's link counters must show exactly the bytes Gloo's ring sends
 * (allreduce_ring.h: the whole buffer and a 4-byte notification in each of
 * size - 1 rounds) written by RDMA WRITE from the user's buffers, scalex's
 * QP at least that much payload, and the link's copied slots only the
 * control messages (a region advertised and withdrawn per recv buffer).
 * Bounds: a bound send past the end of the peer's recv buffer is refused
 * at the sender, at once when the region is known, and in waitSend when
 * it comes later; the bytes within bounds still arrive.
 *
 * --kill R: rank R kills itself (SIGKILL) in the middle of a stream of
 * large allreduces; every other rank must leave its collective with
 * gloo::IoException within 30 s (not by the context's timeout, which is
 * set to 120 s), and the launcher finds nothing left behind.
 *
 * --bench K (a benchmark, not a test): Gloo's AllreduceRing (bound buffers:
 * zero copy on scalex) of 64 KiB and 4 MiB over scalex and over Gloo's own
 * TCP transport on 127.0.0.1, and gloo::allreduce's ring (unbound buffers,
 * as PyTorch runs it; its sends are READ by the receiver) of 4 MiB over
 * scalex and over scalex copying every send (SCALEX_GLOO_RNDV_BYTES=0);
 * every context up at once, K rounds in alternating order; the slowest
 * rank's mean time per all-reduce and the median ratio.
 *
 * Usage: gloo_check [--ranks N] [--dir D] [--fault-tx SPEC] [--fault-rx SPEC]
 *                   [--kill R] [--rounds K] [--bench K]
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gloo/allgather.h>
#include <gloo/allgather_ring.h>
#include <gloo/allreduce.h>
#include <gloo/allreduce_halving_doubling.h>
#include <gloo/allreduce_ring.h>
#include <gloo/alltoall.h>
#include <gloo/barrier.h>
#include <gloo/barrier_all_to_all.h>
#include <gloo/broadcast.h>
#include <gloo/broadcast_one_to_all.h>
#include <gloo/common/error.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>

#include "scalex_gloo.h"

namespace {

int g_rank, g_size, g_fails;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", g_rank, \
				__FILE__, __LINE__, #cond);                     \
			fprintf(stderr, __VA_ARGS__);                           \
			fprintf(stderr, "\n");                                  \
			g_fails++;                                              \
		}                                                               \
	} while (0)

/* Rank r's input element i in round k: small integers, exact in float. */
float
input(int r, size_t i, int k)
{
	return (float)((r + 1) * (int)(i % 7 + 1) + k);
}

/* sum over ranks of input(r, i, k) */
float
expect_sum(size_t i, int k)
{
	return (float)(g_size * (g_size + 1) / 2 * (int)(i % 7 + 1) + g_size * k);
}

void
fill(std::vector<float> &v, int k)
{
	for (size_t i = 0; i < v.size(); i++)
		v[i] = input(g_rank, i, k);
}

bool
check_sum(const std::vector<float> &v, int k, const char *what)
{
	for (size_t i = 0; i < v.size(); i++)
		if (v[i] != expect_sum(i, k)) {
			CHECK(false, "%s of %zu: element %zu is %g, expected %g", what, v.size(), i,
			      (double)v[i], (double)expect_sum(i, k));
			return false;
		}
	return true;
}

void
run_all(const std::shared_ptr<gloo::Context> &ctx, int rounds)
{
	const size_t sizes[] = {1, 17, 1000, 16384 + 3, 300000};
	void (*sum)(void *, const void *, const void *, size_t) = &gloo::sum<float>;
	uint32_t tag = 0;

	for (int k = 0; k < rounds; k++)
		for (size_t n : sizes) {
			std::vector<float> v(n), w(n);

			fill(v, k);
			gloo::AllreduceRing<float>(ctx, {v.data()}, (int)n).run();
			check_sum(v, k, "AllreduceRing");

			fill(v, k);
			gloo::AllreduceHalvingDoubling<float>(ctx, {v.data()}, (int)n).run();
			check_sum(v, k, "AllreduceHalvingDoubling");

			for (auto algo : {gloo::AllreduceOptions::Algorithm::RING,
					  gloo::AllreduceOptions::Algorithm::BCUBE}) {
				gloo::AllreduceOptions o(ctx);
				fill(v, k);
				o.setAlgorithm(algo);
				o.setOutput(v.data(), n);
				o.setReduceFunction(sum);
				o.setTag(tag++);
				gloo::allreduce(o);
				check_sum(v, k, algo == gloo::AllreduceOptions::Algorithm::RING
							? "allreduce ring"
							: "allreduce bcube");
			}

			/* broadcast from every root, both APIs */
			for (int root = 0; root < g_size; root++) {
				for (size_t i = 0; i < n; i++)
					v[i] = g_rank == root ? input(root, i, k) : -1.0f;
				gloo::BroadcastOneToAll<float>(ctx, {v.data()}, n, root).run();
				for (size_t i = 0; i < n; i++)
					if (v[i] != input(root, i, k)) {
						CHECK(false, "BroadcastOneToAll root %d n %zu i %zu", root,
						      n, i);
						break;
					}
				for (size_t i = 0; i < n; i++)
					w[i] = g_rank == root ? input(root, i, k + 1) : -1.0f;
				gloo::BroadcastOptions b(ctx);
				b.setRoot(root);
				b.setOutput(w.data(), n);
				b.setTag(tag++);
				gloo::broadcast(b);
				for (size_t i = 0; i < n; i++)
					if (w[i] != input(root, i, k + 1)) {
						CHECK(false, "broadcast root %d n %zu i %zu", root, n, i);
						break;
					}
			}

			/* allgather: rank r's block is input(r, ., k) */
			std::vector<float> all(n * g_size, -1.0f);
			fill(v, k);
			gloo::AllgatherRing<float>(ctx, {v.data()}, all.data(), (int)n).run();
			for (int r = 0; r < g_size; r++)
				for (size_t i = 0; i < n; i++)
					if (all[r * n + i] != input(r, i, k)) {
						CHECK(false, "AllgatherRing block %d i %zu", r, i);
						r = g_size;
						break;
					}
			std::fill(all.begin(), all.end(), -1.0f);
			gloo::AllgatherOptions ag(ctx);
			ag.setInput(v.data(), n);
			ag.setOutput(all.data(), n * g_size);
			ag.setTag(tag++);
			gloo::allgather(ag);
			for (int r = 0; r < g_size; r++)
				for (size_t i = 0; i < n; i++)
					if (all[r * n + i] != input(r, i, k)) {
						CHECK(false, "allgather block %d i %zu", r, i);
						r = g_size;
						break;
					}

			/* alltoall: rank r sends block d = 1000 * r + d + i to rank d */
			if (n <= 16384 + 3) {
				std::vector<float> in(n * g_size), out(n * g_size, -1.0f);
				for (int d = 0; d < g_size; d++)
					for (size_t i = 0; i < n; i++)
						in[d * n + i] = (float)(1000 * g_rank + 10 * d + (int)(i % 5) + k);
				gloo::AlltoallOptions a(ctx);
				a.setInput(in.data(), n * g_size);
				a.setOutput(out.data(), n * g_size);
				a.setTag(tag++);
				gloo::alltoall(a);
				for (int s = 0; s < g_size; s++)
					for (size_t i = 0; i < n; i++)
						if (out[s * n + i] !=
						    (float)(1000 * s + 10 * g_rank + (int)(i % 5) + k)) {
							CHECK(false, "alltoall from %d i %zu: %g", s, i,
							      (double)out[s * n + i]);
							s = g_size;
							break;
						}
			}

			gloo::BarrierAllToAll(ctx).run();
			gloo::BarrierOptions bo(ctx);
			bo.setTag(tag++);
			gloo::barrier(bo);
		}

	/* recv from any: rank 0 takes one message from each other rank, in
	 * whatever order they come, through one posted recv at a time */
	{
		const uint64_t slot = ctx->nextSlot();
		int64_t val = 0;
		auto buf = ctx->createUnboundBuffer(&val, sizeof(val));
		if (g_rank == 0) {
			std::vector<int> others;
			std::set<int> seen;
			for (int r = 1; r < g_size; r++)
				others.push_back(r);
			for (int j = 1; j < g_size; j++) {
				int src = -1;
				buf->recv(others, slot);
				buf->waitRecv(&src);
				CHECK(src >= 1 && src < g_size && val == 7000 + src,
				      "recv-from-any: %d from %d", (int)val, src);
				CHECK(seen.insert(src).second, "recv-from-any: %d twice", src);
			}
		} else {
			val = 7000 + g_rank;
			buf->send(0, slot);
			buf->waitSend();
		}
	}
	gloo::BarrierAllToAll(ctx).run();
}

uint64_t
counter(const char *name)
{
	uint64_t v = 0;
	CHECK(sx_gloo_counter(name, &v) == 0, "counter %s", name);
	return v;
}

void
check_zero_copy(const std::shared_ptr<gloo::Context> &ctx)
{
	const size_t n = 1 << 18;
	const uint64_t mr_msg_bytes = 40; /* adapters/gloo: struct MrMsg */
	std::vector<float> v(n);

	gloo::BarrierAllToAll(ctx).run();
	uint64_t w0 = counter("link_write_bytes"), c0 = counter("link_copy_bytes");
	uint64_t q0 = counter("qp_tx_bytes");
	fill(v, 5);
	gloo::AllreduceRing<float>(ctx, {v.data()}, (int)n).run();
	uint64_t w = counter("link_write_bytes") - w0, c = counter("link_copy_bytes") - c0;
	uint64_t q = counter("qp_tx_bytes") - q0;
	check_sum(v, 5, "zero-copy AllreduceRing");
	uint64_t want = (uint64_t)(g_size - 1) * (n * sizeof(float) + sizeof(int));
	CHECK(w == want, "RDMA WRITE bytes %llu, Gloo's ring sends %llu",
	      (unsigned long long)w, (unsigned long long)want);
	CHECK(q >= want, "scalex QPs sent %llu payload bytes, less than the %llu written",
	      (unsigned long long)q, (unsigned long long)want);
	/* two recv buffers (data, notification): advertised, withdrawn */
	CHECK(c <= 4 * mr_msg_bytes, "%llu bytes went through the link's copied slots",
	      (unsigned long long)c);
	fprintf(stderr, "rank %d: zero copy: link_write_bytes %llu (ring: %llu), "
			"link_copy_bytes %llu, qp_tx_bytes %llu\n",
		g_rank, (unsigned long long)w, (unsigned long long)want, (unsigned long long)c,
		(unsigned long long)q);
}

/* Unbound sends of 1 MiB (past SCALEX_GLOO_RNDV_BYTES' 256 KiB) are READ
 * by the receiver from where they lie: a ring exchange must show exactly
 * its bytes READ and only an offer and its answer (40 bytes each) copied;
 * then rank 0 takes one from every other rank through recv-from-any. */
void
check_rendezvous(const std::shared_ptr<gloo::Context> &ctx)
{
	const size_t n = 1 << 18, bytes = n * sizeof(float);
	const uint64_t ctl_bytes = 40; /* adapters/gloo: struct MrMsg */
	const uint64_t slot = ctx->nextSlot(), any = ctx->nextSlot();
	const int left = (g_rank + g_size - 1) % g_size, right = (g_rank + 1) % g_size;
	std::vector<float> out(n), in(n);

	fill(out, 9);
	auto ob = ctx->createUnboundBuffer(out.data(), bytes);
	auto ib = ctx->createUnboundBuffer(in.data(), bytes);
	gloo::BarrierAllToAll(ctx).run();
	uint64_t r0 = counter("link_read_bytes"), c0 = counter("link_copy_bytes");
	ib->recv(left, slot);
	ob->send(right, slot);
	ib->waitRecv();
	ob->waitSend();
	uint64_t r = counter("link_read_bytes") - r0, c = counter("link_copy_bytes") - c0;
	for (size_t i = 0; i < n; i++)
		if (in[i] != input(left, i, 9)) {
			CHECK(false, "rendezvous: element %zu from %d is %g", i, left, (double)in[i]);
			break;
		}
	CHECK(r == bytes, "rendezvous: READ %llu bytes, the message has %zu",
	      (unsigned long long)r, bytes);
	CHECK(c <= 2 * ctl_bytes, "rendezvous: %llu bytes copied through the link's slots",
	      (unsigned long long)c);
	fprintf(stderr, "rank %d: rendezvous: link_read_bytes %llu (message: %zu), "
			"link_copy_bytes %llu\n",
		g_rank, (unsigned long long)r, bytes, (unsigned long long)c);

	if (g_rank != 0) {
		ob->send(0, any);
		ob->waitSend();
		return;
	}
	std::vector<int> others;
	std::set<int> seen;
	for (int s = 1; s < g_size; s++)
		others.push_back(s);
	for (int j = 1; j < g_size; j++) {
		int src = -1;
		ib->recv(others, any);
		ib->waitRecv(&src);
		CHECK(src >= 1 && src < g_size && seen.insert(src).second,
		      "rendezvous recv-from-any: from %d", src);
		for (size_t i = 0; src >= 1 && i < n; i++)
			if (in[i] != input(src, i, 9)) {
				CHECK(false, "rendezvous recv-from-any: element %zu from %d is %g",
				      i, src, (double)in[i]);
				break;
			}
	}
}

/* Rank 1 offers a 64-byte recv buffer, rank 0 writes to it. Last: the
 * refusal in waitSend ends rank 0's use of bound buffers on ctx. */
void
check_bounds(const std::shared_ptr<gloo::Context> &ctx)
{
	const int slot = (int)ctx->nextSlot(), late = (int)ctx->nextSlot();
	char out[128], in[64];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 3 + 1);
	memset(in, 0, sizeof(in));
	if (g_rank > 1) {
		gloo::BarrierAllToAll(ctx).run();
		gloo::BarrierAllToAll(ctx).run();
		return;
	}
	auto &pair = ctx->getPair(1 - g_rank);
	if (g_rank == 1) {
		auto rb = pair->createRecvBuffer(slot, in, sizeof(in));
		gloo::BarrierAllToAll(ctx).run();
		rb->waitRecv();
		CHECK(memcmp(in, out, sizeof(in)) == 0, "bound recv: wrong bytes");
		/* the region rank 0 sent to before it existed */
		auto late_rb = pair->createRecvBuffer(late, in, sizeof(in));
		gloo::BarrierAllToAll(ctx).run();
		return;
	}
	auto sb = pair->createSendBuffer(slot, out, sizeof(out));
	auto late_sb = pair->createSendBuffer(late, out, sizeof(out));
	late_sb->send(0, sizeof(out), 0); /* 128 bytes, the region will have 64 */
	gloo::BarrierAllToAll(ctx).run(); /* rank 1's region came before */
	const struct {
		size_t off, len, roff;
	} bad[] = {{0, 65, 0}, {0, 8, 57}, {64, 64, 1}, {0, 1, 64}};
	for (const auto &b : bad) {
		bool refused = false;
		try {
			sb->send(b.off, b.len, b.roff);
		} catch (const gloo::InvalidOperationException &e) {
			refused = strstr(e.what(), "would pass the end") != nullptr;
		}
		CHECK(refused, "a send of %zu bytes at remote offset %zu to a 64-byte buffer "
			       "was not refused", b.len, b.roff);
	}
	sb->send(0, sizeof(in), 0);
	sb->waitSend();
	gloo::BarrierAllToAll(ctx).run(); /* rank 1 offers the late region */
	bool refused = false;
	try {
		late_sb->waitSend();
	} catch (const gloo::IoException &e) {
		refused = strstr(e.what(), "would pass the end") != nullptr;
	}
	CHECK(refused, "a send made before the region came was not refused");
}

/* ms per all-reduce of @p v on @p ctx, the slowest rank's mean: Gloo's
 * AllreduceRing (bound buffers; built once, as its users do), or with
 * @p unbound gloo::allreduce's ring (unbound buffers, what PyTorch runs). */
double
time_ring(const std::shared_ptr<gloo::Context> &ctx, std::vector<float> &v, int iters,
	  bool unbound = false)
{
	std::unique_ptr<gloo::AllreduceRing<float>> a;
	void (*sum)(void *, const void *, const void *, size_t) = &gloo::sum<float>;
	uint32_t tag = 1;
	if (!unbound)
		a.reset(new gloo::AllreduceRing<float>(ctx, {v.data()}, (int)v.size()));
	auto run = [&] {
		if (!unbound) {
			a->run();
			return;
		}
		gloo::AllreduceOptions o(ctx);
		o.setTag(tag++);
		o.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
		o.setOutput(v.data(), v.size());
		o.setReduceFunction(sum);
		gloo::allreduce(o);
	};

	run(); /* warm up: regions advertised, first touches */
	gloo::BarrierAllToAll(ctx).run();
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < iters; i++)
		run();
	double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
			    .count() /
		    iters;
	gloo::AllreduceRing<double>(ctx, {&ms}, 1, gloo::ReductionFunction<double>::max).run();
	return ms;
}

int
bench_main(const std::string &store_dir, int rounds)
{
	gloo::rendezvous::FileStore store(store_dir);
	gloo::rendezvous::PrefixStore sstore("scalex", store), tstore("tcp", store);
	gloo::transport::tcp::attr attr;
	attr.hostname = "127.0.0.1";
	auto sctx = std::make_shared<gloo::rendezvous::Context>(g_rank, g_size);
	auto tctx = std::make_shared<gloo::rendezvous::Context>(g_rank, g_size);
	auto sdev = sxgloo::CreateDevice();
	auto tdev = gloo::transport::tcp::CreateDevice(attr);
	sctx->connectFullMesh(sstore, sdev);
	tctx->connectFullMesh(tstore, tdev);
	/* the baseline of the unbound all-reduce: scalex copying every send
	 * (Gloo's TCP transport took 3.7 s per 4 MiB gloo::allreduce here) */
	gloo::rendezvous::PrefixStore cstore("copy", store);
	auto cctx = std::make_shared<gloo::rendezvous::Context>(g_rank, g_size);
	setenv("SCALEX_GLOO_RNDV_BYTES", "0", 1);
	auto cdev = sxgloo::CreateDevice();
	unsetenv("SCALEX_GLOO_RNDV_BYTES");
	cctx->connectFullMesh(cstore, cdev);

	const struct {
		size_t floats;
		int iters;
		bool unbound;
	} sizes[] = {{16384, 40, false}, {1 << 20, 8, false}, {1 << 20, 8, true}};
	for (const auto &sz : sizes) {
		const char *what = sz.unbound ? "allreduce ring (unbound)" : "AllreduceRing";
		const char *base = sz.unbound ? "copy" : "TCP";
		auto &bctx = sz.unbound ? cctx : tctx;
		std::vector<float> v(sz.floats, 1.0f);
		std::vector<double> ratios;
		for (int r = 0; r < rounds; r++) {
			double ts, tt;
			if (r % 2 == 0) {
				ts = time_ring(sctx, v, sz.iters, sz.unbound);
				tt = time_ring(bctx, v, sz.iters, sz.unbound);
			} else {
				tt = time_ring(bctx, v, sz.iters, sz.unbound);
				ts = time_ring(sctx, v, sz.iters, sz.unbound);
			}
			ratios.push_back(ts / tt);
			if (g_rank == 0)
				printf("%s %zu bytes, round %d (%s first): scalex %.3f ms, "
				       "%s %.3f ms\n",
				       what, sz.floats * sizeof(float), r + 1,
				       r % 2 ? base : "scalex", ts, base, tt);
		}
		std::sort(ratios.begin(), ratios.end());
		size_t m = ratios.size();
		double med = m % 2 ? ratios[m / 2] : (ratios[m / 2 - 1] + ratios[m / 2]) / 2;
		if (g_rank == 0)
			printf("%s of %zu bytes (%d ranks), ratio scalex/%s, median of %d: "
			       "%.2f\n",
			       what, sz.floats * sizeof(float), g_size, base, rounds, med);
		fflush(stdout);
	}
	sctx.reset();
	tctx.reset();
	cctx.reset();
	return 0;
}

int
rank_main(const std::string &store_dir, int rounds, int kill_rank, bool faults)
{
	auto dev = sxgloo::CreateDevice();
	gloo::rendezvous::FileStore store(store_dir);
	auto ctx = std::make_shared<gloo::rendezvous::Context>(g_rank, g_size);
	uint64_t v;

	ctx->setTimeout(std::chrono::milliseconds(kill_rank >= 0 ? 120000 : 60000));
	ctx->connectFullMesh(store, dev);

	if (kill_rank >= 0) {
		std::vector<float> big(1 << 20);
		if (g_rank == kill_rank)
			std::thread([] {
				usleep(300000);
				raise(SIGKILL);
			}).detach();
		auto t0 = std::chrono::steady_clock::now();
		try {
			for (int k = 0; k < 100000; k++) {
				fill(big, k);
				gloo::AllreduceRing<float>(ctx, {big.data()}, (int)big.size()).run();
			}
		} catch (const gloo::IoException &e) {
			double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
					   .count();
			fprintf(stderr, "rank %d: gloo::IoException after %.2f s: %s\n", g_rank, s,
				e.what());
			ctx.reset();
			return 3;
		}
		fprintf(stderr, "rank %d: no exception\n", g_rank);
		return 1;
	}

	run_all(ctx, rounds);

	CHECK(sx_gloo_counter("tx_bytes", &v) == 0 && v > 0, "tx_bytes %llu",
	      (unsigned long long)v);
	/* every rank sent at least its allreduce inputs of the largest size */
	CHECK(v >= 300000 * sizeof(float), "scalex carried only %llu bytes",
	      (unsigned long long)v);
	if (faults) {
		uint64_t drop = 0, rtx = 0, dtx = 0, reo = 0;
		sx_gloo_counter("fault_drop_tx", &dtx);
		sx_gloo_counter("fault_drop_rx", &drop);
		sx_gloo_counter("fault_reorder_tx", &reo);
		sx_gloo_counter("qp_retransmits", &rtx);
		fprintf(stderr, "rank %d: fault_drop_tx %llu fault_drop_rx %llu fault_reorder_tx %llu "
				"retransmits %llu\n",
			g_rank, (unsigned long long)dtx, (unsigned long long)drop,
			(unsigned long long)reo, (unsigned long long)rtx);
		CHECK(dtx + drop + reo > 0, "no fault was injected");
		CHECK(dtx + drop == 0 || rtx > 0, "frames dropped but nothing resent");
	}
	check_zero_copy(ctx);
	check_rendezvous(ctx);
	check_bounds(ctx);
	ctx.reset(); /* orderly close of every pair */
	fprintf(stderr, "rank %d: tx_bytes %llu, %s\n", g_rank, (unsigned long long)v,
		g_fails ? "FAIL" : "ok");
	return g_fails ? 1 : 0;
}

void
rm_rf(const std::string &path)
{
	std::string cmd = "rm -rf '" + path + "'";
	if (system(cmd.c_str()) != 0)
		fprintf(stderr, "cannot remove %s\n", path.c_str());
}

} // namespace

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ranks", required_argument, nullptr, 'n'}, {"dir", required_argument, nullptr, 'd'},
		{"fault-tx", required_argument, nullptr, 't'},
		{"fault-rx", required_argument, nullptr, 'r'},
		{"kill", required_argument, nullptr, 'k'}, {"rounds", required_argument, nullptr, 'R'},
		{"bench", required_argument, nullptr, 'b'},
		{nullptr, 0, nullptr, 0},
	};
	std::string dir, prefix = "sxgt-" + std::to_string(getpid());
	int c, kill_rank = -1, rounds = 1, status, fails = 0, bench = 0;
	bool faults = false;
	std::vector<pid_t> pids;

	g_size = 4;
	while ((c = getopt_long(argc, argv, "", opts, nullptr)) != -1) {
		switch (c) {
		case 'n': g_size = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 't': setenv("SCALEX_GLOO_FAULT_TX", optarg, 1); faults = true; break;
		case 'r': setenv("SCALEX_GLOO_FAULT_RX", optarg, 1); faults = true; break;
		case 'k': kill_rank = atoi(optarg); break;
		case 'R': rounds = atoi(optarg); break;
		case 'b': bench = atoi(optarg); break;
		default: fprintf(stderr, "usage: see the file header\n"); return 2;
		}
	}
	if (g_size < 2 || g_size > 16 || kill_rank >= g_size) {
		fprintf(stderr, "gloo_check: bad --ranks or --kill\n");
		return 2;
	}
	if (dir.empty()) {
		char tmpl[] = "/tmp/scalex-gloo-check-XXXXXX";
		if (mkdtemp(tmpl) == nullptr)
			return 2;
		dir = tmpl;
	} else if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
		perror(dir.c_str());
		return 2;
	}
	std::string store = dir + "/store";
	mkdir(store.c_str(), 0700);
	setenv("SCALEX_GLOO_DIR", dir.c_str(), 1);
	setenv("SCALEX_GLOO_PREFIX", prefix.c_str(), 1);
	setenv("SCALEX_GLOO_FAULT_SEED", "7", 1);

	auto t0 = std::chrono::steady_clock::now();
	for (int r = 0; r < g_size; r++) {
		pid_t pid = fork();
		if (pid == 0) {
			g_rank = r;
			int rc = 1;
			try {
				rc = bench > 0 ? bench_main(store, bench)
					       : rank_main(store, rounds, kill_rank, faults);
			} catch (const std::exception &e) {
				fprintf(stderr, "rank %d: exception: %s\n", r, e.what());
			}
			fflush(stderr);
			exit(rc);
		}
		pids.push_back(pid);
	}

	/* Bounded: 90 s for everyone, then SIGKILL. */
	double kill_at = -1;
	std::vector<int> codes(g_size, -1);
	std::vector<double> ended(g_size, -1);
	int left = g_size;
	while (left > 0) {
		pid_t pid = waitpid(-1, &status, WNOHANG);
		double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		if (pid > 0) {
			for (int r = 0; r < g_size; r++)
				if (pids[r] == pid) {
					codes[r] = WIFEXITED(status) ? WEXITSTATUS(status)
								     : 128 + WTERMSIG(status);
					ended[r] = now;
					if (r == kill_rank)
						kill_at = now;
				}
			left--;
			continue;
		}
		if (now > 90) {
			fprintf(stderr, "gloo_check: timeout, killing the ranks\n");
			for (int r = 0; r < g_size; r++)
				if (codes[r] < 0)
					kill(pids[r], SIGKILL);
			fails++;
			while (waitpid(-1, &status, 0) > 0)
				;
			break;
		}
		usleep(20000);
	}

	for (int r = 0; r < g_size; r++) {
		if (kill_rank < 0) {
			if (codes[r] != 0) {
				fprintf(stderr, "gloo_check: rank %d exited with %d\n", r, codes[r]);
				fails++;
			}
		} else if (r == kill_rank) {
			if (codes[r] != 128 + SIGKILL) {
				fprintf(stderr, "gloo_check: rank %d was to be killed, got %d\n", r,
					codes[r]);
				fails++;
			}
		} else if (codes[r] != 3 || kill_at < 0 || ended[r] - kill_at > 30) {
			fprintf(stderr, "gloo_check: rank %d: code %d, %.1f s after the kill\n", r,
				codes[r], ended[r] - kill_at);
			fails++;
		} else {
			fprintf(stderr, "gloo_check: rank %d left with gloo::IoException %.2f s after "
					"the kill\n",
				r, ended[r] - kill_at);
		}
	}

	/* What the ranks leave: EAL runtime directories (a rank killed, or one
	 * that kept a failed port open to exit, cannot remove its own), memif
	 * sockets of ports never closed, the store. The launcher removes them;
	 * after a clean run none of the first two may exist. */
	int leftovers = 0;
	for (int r = 0; r < g_size; r++) {
		std::string run = "/var/run/dpdk/" + prefix + "-" + std::to_string(pids[r]);
		struct stat st;
		if (stat(run.c_str(), &st) == 0) {
			leftovers++;
			rm_rf(run);
		}
	}
	DIR *d = opendir(dir.c_str());
	for (struct dirent *e; d != nullptr && (e = readdir(d)) != nullptr;)
		if (strstr(e->d_name, ".sock") != nullptr)
			leftovers++;
	if (d != nullptr)
		closedir(d);
	if (kill_rank < 0 && leftovers > 0) {
		fprintf(stderr, "gloo_check: a clean run left %d EAL directories or sockets\n",
			leftovers);
		fails++;
	}
	rm_rf(dir);
	fprintf(stderr, "gloo_check: %s (%.1f s)\n", fails ? "FAIL" : "PASS",
		std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
	return fails ? 1 : 0;
}
