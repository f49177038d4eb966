/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A Gloo transport on scalex (scalex_gloo.h says what; docs/integrations.md
 * says how to use it). A thin C++ layer: Gloo's transport interfaces on
 * coll/ links (coll/link.h), which own the scalex context, QP, registered
 * memory and credits.
 *
 * Bound buffers are zero copy, as Gloo's ibverbs transport does it: a
 * recv buffer registers its memory as a scalex memory region (remote
 * write) and tells the peer its slot, address, rkey and size in a control
 * message over the link; the peer's send buffer of that slot registers its
 * own memory (local access) and, from the first send on, takes the oldest
 * advertised region of its slot that no other send buffer took. Each
 * Buffer::send is an RDMA WRITE WITH IMMEDIATE from the user's memory
 * straight to the advertised address plus the remote offset; the
 * immediate (the region's id) completes the receiver's waitRecv, the
 * WRITE's acknowledgement the sender's waitSend. A write past the end of
 * the advertised region is refused at the sender; scalex's responder
 * checks rkey and bounds again (a remote access NAK fails the pair).
 *
 * Unbound buffers (PyTorch's ProcessGroupGloo): a send of rndv_bytes_ or
 * more is a rendezvous. The sender registers its buffer (remote read) and
 * offers slot, address, length and rkey (OP_RTS); the receiver matches the
 * offer as it would a message, RDMA READs the bytes into the recv's memory
 * and answers OP_FIN, which completes the send. A READ, not a WRITE into
 * a region the receiver advertises, because Gloo's recv-from-any only
 * knows its sender once a message matched. A shorter send is a 32-byte
 * header (op, slot, offset, length) followed by its payload, cut into link
 * messages of at most SX_LINK_MSG_BYTES (the header rides in the first),
 * copied into the link's registered slots. The link delivers messages in
 * order; the receiver puts the payload into the oldest posted unbound
 * recv of that slot that accepts this rank. A message (or an offer) nobody
 * has asked for yet is kept aside until its recv appears; while a pair has
 * one kept aside for a slot, later ones for that slot wait behind it, so
 * each pair's messages for a slot arrive in the order sent, as Gloo
 * requires.
 *
 * Progress and threads: one mutex per device guards every link and queue
 * of the device. A thread that waits (waitRecv, waitSend) drives the
 * device itself: it polls every link, moves data, then backs off (spin,
 * yield, sleep) when nothing happened, so ranks sharing few cores all make
 * progress. A device thread polls once a millisecond when nobody waits, so
 * a peer's retransmissions and credit updates are answered between
 * collectives (coll/ found that without it a rank busy for seconds made
 * its peers' QPs give up).
 *
 * Failures: a work request that fails (the QP ran out of retries: ~3 s of
 * silence) or the pair's TCP connection closing (the peer's process died or
 * left) fails every operation queued on the pair and every recv waiting on
 * it with gloo::IoException; a wait that outlasts the context's timeout
 * throws it too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gloo/common/error.h>
#include <gloo/common/logging.h>
#include <gloo/transport/address.h>
#include <gloo/transport/buffer.h>
#include <gloo/transport/context.h>
#include <gloo/transport/device.h>
#include <gloo/transport/pair.h>
#include <gloo/transport/unbound_buffer.h>

extern "C" {
#include <scalex/bootstrap.h>
#include <scalex/scalex.h>
#include <scalex/stats.h>

#include "../../coll/link.h"
}

#include "scalex_gloo.h"

namespace sxgloo {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint32_t kMagic = 0x53584731; /* "SXG1": a message header */
constexpr uint32_t kAddrMagic = 0x53584741; /* "SXGA": a pair address */
constexpr size_t kHdrBytes = 32;
constexpr int kBootMs = 30000;       /* TCP handshake of one pair */
constexpr int kCloseMs = 5000;       /* orderly close of one pair */
constexpr auto kFdCheck = std::chrono::microseconds(500);

/* Ops on the wire (all but OP_WRITE) and in a pair's tx queue (OP_WRITE:
 * a bound send, posted as WRITEs). */
enum Op : uint32_t {
	OP_WRITE = 1,
	OP_UNBOUND = 2,
	OP_MR = 3,
	OP_MR_DROP = 4,
	OP_RTS = 5, /* an unbound send's region, to be READ */
	OP_FIN = 6, /* the READ of an OP_RTS is done */
};
constexpr size_t kRndvBytes = 256u << 10; /* SCALEX_GLOO_RNDV_BYTES' default */

/* A bound send is one WRITE WITH IMMEDIATE per chunk of at most this, a
 * rendezvous one READ per chunk (scalex refuses a message of more than
 * 2 GiB, or of more packets than an eighth of the PSN space). */
constexpr size_t kWriteChunk = 64u << 20;
/* The immediate: the recv region's id << 1 | 1 on a send's last chunk. */
constexpr uint32_t kMrIdMask = 0x7fffffff;

struct Hdr {
	uint32_t magic;
	uint32_t op;
	uint64_t slot;
	uint64_t roffset;
	uint64_t len;
};
static_assert(sizeof(Hdr) == kHdrBytes, "header layout");

/* A control message, one link message of its own: OP_MR advertises a recv
 * buffer's region, OP_MR_DROP withdraws it (the buffer is gone); OP_RTS
 * offers an unbound send's bytes (slot, address, length, rkey, id) for
 * the receiver to READ, OP_FIN (id) says it did. */
struct MrMsg {
	uint32_t magic;
	uint32_t op;
	uint64_t slot;
	uint64_t addr;
	uint64_t size;
	uint32_t rkey;
	uint32_t id;
};
static_assert(sizeof(MrMsg) == 40, "control message layout");

/* A region the peer advertised for a slot. */
struct PeerMr {
	uint64_t addr, size;
	uint32_t rkey, id;
};

/* What a pair's address carries (host order: both ends are one machine's
 * processes today; a version field makes a foreign peer an error). */
struct AddrWire {
	uint32_t magic;
	int32_t rank;        /* the rank that made this pair */
	uint32_t server;     /* 1: this side opened the memif server */
	uint32_t boot_ip;    /* the device's TCP listener, network order */
	uint16_t boot_port;  /* network order */
	uint16_t pad;
	uint64_t seq;        /* the pair's number on its device's listener */
	char key[64];        /* the memif socket's name (server) */
	struct sx_coll_link_ep ep; /* the server's QP and credit word */
};
static_assert(sizeof(AddrWire) <= ::gloo::transport::Address::kMaxByteSize,
	      "address fits Gloo's limit");

/* The process-wide part: one EAL for every device (DPDK allows one
 * rte_eal_init per process), counters of links already closed. */
struct Global {
	std::mutex mu;
	struct sx_coll_net net {};
	bool eal_failed = false;
	int devices = 0;
	int abandoned = 0; /* ports left open for the process' exit */
	uint64_t seq = 0;
	std::map<std::string, uint64_t> closed; /* counters of closed links */
	std::list<class Device *> live;
	/* links of failed pairs, kept (reachable) until the process exits */
	std::list<struct sx_coll_link> *abandoned_links = new std::list<struct sx_coll_link>;
	~Global();
};
Global g;

int
add_counter(void *arg, const struct sx_stat_desc *d, uint32_t, uint64_t value)
{
	auto *m = static_cast<std::map<std::string, uint64_t> *>(arg);
	/* port and QP counters share names (tx_bytes: frames, or payload) */
	if (d->scope == SX_STATS_PORT)
		(*m)[d->name] += value;
	else if (d->scope == SX_STATS_QP)
		(*m)[std::string("qp_") + d->name] += value;
	return 0;
}

std::string
env_str(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v != nullptr && *v != '\0' ? v : dflt;
}

class Context;
class Pair;
class Buffer;
class UnboundBuffer;

class Address : public ::gloo::transport::Address {
 public:
	AddrWire w{};
	std::string str() const override
	{
		char b[160];
		snprintf(b, sizeof(b), "scalex rank %d seq %llu %s %s", w.rank,
			 (unsigned long long)w.seq, w.server ? "server" : "client", w.key);
		return b;
	}
	std::vector<char> bytes() const override
	{
		const char *p = reinterpret_cast<const char *>(&w);
		return std::vector<char>(p, p + sizeof(w));
	}
};

/* A Gloo send (or a control message) on its way out of a pair. */
struct TxOp {
	Op op;
	uint64_t slot, roffset;
	const char *ptr;
	size_t len, done;
	bool started;
	Buffer *bbuf;
	UnboundBuffer *ubuf;
	MrMsg ctl; /* OP_MR, OP_MR_DROP */
};

/* A message that arrived before anyone asked for it: its bytes, or where
 * to READ them (rts). */
struct Kept {
	Op op;
	uint64_t slot, roffset;
	std::vector<char> data;
	size_t filled;
	bool complete;
	uint64_t arrival;
	bool rts;
	PeerMr src;
};

/* An RDMA READ of an unbound send the peer offered (OP_RTS) into a recv. */
struct Read {
	UnboundBuffer *ub;
	char *dst;
	size_t len, done;
	PeerMr src;
};

/* A posted unbound recv, in posting order (Gloo's recv-from-any). */
struct PostedRecv {
	UnboundBuffer *ub;
	std::vector<int> ranks;
	uint64_t slot;
	size_t offset, nbytes;
};

class Device : public ::gloo::transport::Device,
	       public std::enable_shared_from_this<Device> {
 public:
	Device();
	~Device() override;
	std::string str() const override { return "scalex"; }
	const std::string &getPCIBusID() const override { return bus_; }
	std::shared_ptr<::gloo::transport::Context> createContext(int rank, int size) override;

	/* Run passes until @p done (checked under mu_) or @p deadline; false on timeout. */
	template <typename Pred>
	bool waitUntil(std::unique_lock<std::mutex> &lk, Pred done, Clock::time_point deadline);
	int pass(); /* one round over every link; mu_ held; returns work done */
	int acceptFor(uint64_t seq, int timeout_ms); /* the TCP connection of pair @p seq */

	std::mutex mu_;
	std::list<Context *> contexts_;
	uint32_t boot_ip_ = 0;
	uint16_t boot_port_ = 0;
	std::string prefix_;
	size_t rndv_bytes_ = kRndvBytes; /* unbound sends this long are READ */

 private:
	void loop();
	std::string bus_;
	int listen_fd_ = -1;
	std::mutex boot_mu_;
	std::map<uint64_t, int> hellos_; /* accepted, announced, not yet claimed */
	std::thread thread_;
	std::atomic<bool> stop_{false};
	std::atomic<int> waiters_{0};
	Clock::time_point next_fd_check_{};
	friend class Pair;
};

class Context : public ::gloo::transport::Context,
		public std::enable_shared_from_this<Context> {
 public:
	Context(std::shared_ptr<Device> dev, int rank, int size);
	~Context() override;
	std::unique_ptr<::gloo::transport::Pair> &createPair(int rank) override;
	std::unique_ptr<::gloo::transport::UnboundBuffer> createUnboundBuffer(void *ptr,
									      size_t size) override;
	Pair *pair(int rank);
	std::vector<std::unique_ptr<::gloo::transport::Pair>> &pairs() { return pairs_; }
	void deliverKept(); /* mu held: kept messages to recvs posted since */
	void failRecvsFrom(int rank, const std::string &why);
	void quiesce(std::unique_lock<std::mutex> &lk);

	std::shared_ptr<Device> dev_;
	std::list<PostedRecv> posted_;
	std::list<UnboundBuffer *> ubufs_; /* live, for quiesce() */
	bool broken_ = false; /* quiesce() ran: no more regions */
	uint64_t arrivals_ = 0;
};

class Pair : public ::gloo::transport::Pair {
 public:
	Pair(Context *ctx, int peer);
	~Pair() override;
	const ::gloo::transport::Address &address() const override { return addr_; }
	void connect(const std::vector<char> &bytes) override;
	void close() override;
	void setSync(bool, bool) override {}
	std::unique_ptr<::gloo::transport::Buffer> createSendBuffer(int slot, void *ptr,
								    size_t size) override;
	std::unique_ptr<::gloo::transport::Buffer> createRecvBuffer(int slot, void *ptr,
								    size_t size) override;
	void send(::gloo::transport::UnboundBuffer *buf, uint64_t slot, size_t offset,
		  size_t nbytes) override;
	void recv(::gloo::transport::UnboundBuffer *buf, uint64_t slot, size_t offset,
		  size_t nbytes) override;

	/* Everything below: mu held. */
	int poll(bool check_fd);
	void enqueue(const TxOp &op);
	void fail(const std::string &why, bool hard = true);
	void forget(Buffer *b);
	void forget(UnboundBuffer *u);
	bool usable() const { return connected_ && !closing_; }
	void claimMr(Buffer *b);
	void bindMr(Buffer *b, const PeerMr &m);
	void sendCtl(uint32_t op, uint64_t slot, const struct sx_mr *mr, uint32_t id);
	struct sx_mr *regMr(void *ptr, size_t size, unsigned int access);
	void deregMrs(bool all);
	void startRead(UnboundBuffer *ub, size_t offset, size_t nbytes, const PeerMr &src);
	void rxRndv(const MrMsg &m);
	void pushReads();
	void addLinkCounters(std::map<std::string, uint64_t> &m) const;

	Context *ctx_;
	const int peer_;
	bool server_;
	Address addr_;
	struct sx_coll_link link_ {};
	bool link_open_ = false, connected_ = false, closing_ = false, peer_left_ = false;
	int fd_ = -1;
	std::string error_; /* non-empty: the pair failed or the peer left */
	bool hard_ = false; /* failed: no orderly close is possible */
	std::deque<TxOp> txq_;
	std::list<Kept> kept_;
	/* zero copy of bound buffers */
	std::map<uint32_t, Buffer *> recv_ids_; /* our advertised regions */
	uint32_t next_mr_id_ = 0;
	std::map<uint64_t, std::deque<PeerMr>> peer_mrs_; /* advertised, not taken */
	std::map<uint64_t, std::deque<Buffer *>> mr_waiters_; /* send buffers without one */
	std::deque<std::pair<uint64_t, Buffer *>> writes_; /* last WRITE of a send, by seq */
	std::list<Buffer *> bufs_; /* live buffers with a region */
	std::list<struct sx_mr *> zombies_; /* regions a posted WR still points into */
	/* rendezvous of long unbound sends */
	std::map<uint32_t, UnboundBuffer *> rts_; /* offered, no OP_FIN yet */
	uint32_t next_rts_id_ = 0;
	std::deque<Read> readq_;                      /* not (all) posted */
	std::deque<std::pair<uint64_t, Read>> reads_; /* last READ posted, by seq */
	std::vector<char> stage_;
	std::vector<char> zeros_ = std::vector<char>(SX_LINK_MSG_BYTES);

 private:
	void rx(const uint8_t *msg, size_t len);
	void pushTx();
	void finishRx();
	void closeOrderly();
	void abandon();
	/* the message being received */
	bool in_ = false;
	Hdr in_hdr_{};
	size_t in_left_ = 0;
	char *in_dst_ = nullptr;
	UnboundBuffer *in_ubuf_ = nullptr;
	Kept *in_kept_ = nullptr;
	bool in_discard_ = false;
	friend class Context;
};

class Buffer : public ::gloo::transport::Buffer {
 public:
	Buffer(Pair *pair, int slot, void *ptr, size_t size, bool recv)
	    : ::gloo::transport::Buffer(slot, ptr, size), pair_(pair), recv_(recv)
	{
	}
	~Buffer() override;
	void send(size_t offset, size_t length, size_t roffset) override;
	void waitRecv() override;
	void waitSend() override;

	Pair *pair_;
	bool recv_;
	int recvs_ = 0;   /* completed, not yet waited for */
	int sending_ = 0; /* sends not yet acknowledged by the peer */
	int inflight_ = 0; /* sends with WRITEs posted and not completed */
	std::string error_;
	struct sx_mr *mr_ = nullptr;
	uint32_t id_ = 0; /* recv: the id of its advertised region */
	/* send: the peer's region it writes to, once known */
	bool bound_ = false, waiting_ = false, peer_gone_ = false;
	PeerMr peer_{};
	std::deque<TxOp> pending_; /* sends made before the region came */
	char *base() const { return static_cast<char *>(ptr_); }
	size_t size() const { return size_; }
	uint64_t slot() const { return (uint64_t)slot_; }
};

class UnboundBuffer : public ::gloo::transport::UnboundBuffer {
 public:
	UnboundBuffer(std::shared_ptr<Context> ctx, void *ptr, size_t size)
	    : ::gloo::transport::UnboundBuffer(ptr, size), ctx_(std::move(ctx))
	{
		std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
		ctx_->ubufs_.push_back(this);
	}
	~UnboundBuffer() override;
	bool waitRecv(int *rank, milliseconds timeout) override;
	bool waitSend(int *rank, milliseconds timeout) override;
	void abortWaitRecv() override;
	void abortWaitSend() override;
	void send(int dstRank, uint64_t slot, size_t offset, size_t nbytes) override;
	void recv(int srcRank, uint64_t slot, size_t offset, size_t nbytes) override;
	void recv(std::vector<int> srcRanks, uint64_t slot, size_t offset,
		  size_t nbytes) override;

	struct sx_mr *mrFor(Pair *p); /* mu held; throws gloo::IoException */

	std::shared_ptr<Context> ctx_;
	std::map<Pair *, struct sx_mr *> mrs_; /* local write, remote read */
	int reads_ = 0; /* READs into it in flight */
	std::deque<int> recv_done_, send_done_; /* ranks, in completion order */
	bool abort_recv_ = false, abort_send_ = false;
	std::string error_;
};

/* ---- device ---- */

Global::~Global()
{
	/* At exit: the EAL's runtime directory goes with its last device,
	 * unless a port was left open after a failure (closing it could race
	 * with the memif PMD's interrupt thread: coll/comm.c says why). */
	std::lock_guard<std::mutex> lk(mu);
	if (devices == 0 && abandoned == 0)
		sx_coll_net_fini(&net);
}

Device::Device()
{
	struct sockaddr_in sa {};
	socklen_t sl = sizeof(sa);
	std::string boot = env_str("SCALEX_GLOO_BOOT_ADDR", "127.0.0.1");
	int one = 1, rc;

	{
		std::lock_guard<std::mutex> lk(g.mu);
		if (g.eal_failed)
			GLOO_THROW_IO_EXCEPTION("scalex: DPDK failed to start earlier in this process");
		if (!g.net.eal_up) {
			std::string dir = env_str("SCALEX_GLOO_DIR", "/tmp");
			std::string fault;
			prefix_ = env_str("SCALEX_GLOO_PREFIX", "sxg") + "-" + std::to_string(getpid());
			g.net.mtu = (uint32_t)atoi(env_str("SCALEX_GLOO_MTU", "4096").c_str());
			g.net.fault_seed = strtoull(env_str("SCALEX_GLOO_FAULT_SEED", "1").c_str(),
						    nullptr, 0);
			fault = env_str("SCALEX_GLOO_FAULT_TX", "");
			if (!fault.empty() && sx_fault_parse(fault.c_str(), &g.net.fault_tx) < 0)
				GLOO_THROW_IO_EXCEPTION("scalex: bad SCALEX_GLOO_FAULT_TX ", fault);
			fault = env_str("SCALEX_GLOO_FAULT_RX", "");
			if (!fault.empty() && sx_fault_parse(fault.c_str(), &g.net.fault_rx) < 0)
				GLOO_THROW_IO_EXCEPTION("scalex: bad SCALEX_GLOO_FAULT_RX ", fault);
			rc = sx_coll_net_init(&g.net, prefix_.c_str(), dir.c_str(),
					      atoi(env_str("SCALEX_GLOO_MEM_MB", "256").c_str()));
			if (rc < 0) {
				g.eal_failed = true;
				GLOO_THROW_IO_EXCEPTION("scalex: EAL init: ", strerror(-rc));
			}
		}
		g.devices++;
		g.live.push_back(this);
	}
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, boot.c_str(), &sa.sin_addr) != 1)
		GLOO_THROW_IO_EXCEPTION("scalex: SCALEX_GLOO_BOOT_ADDR is not IPv4: ", boot);
	listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listen_fd_, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd_, 128) ||
	    getsockname(listen_fd_, (struct sockaddr *)&sa, &sl)) {
		int e = errno;
		if (listen_fd_ >= 0)
			::close(listen_fd_);
		std::lock_guard<std::mutex> lk(g.mu);
		g.devices--;
		g.live.remove(this);
		GLOO_THROW_IO_EXCEPTION("scalex: listener on ", boot, ": ", strerror(e));
	}
	rndv_bytes_ = (size_t)strtoull(env_str("SCALEX_GLOO_RNDV_BYTES",
					       std::to_string(kRndvBytes).c_str()).c_str(),
				       nullptr, 0);
	boot_ip_ = sa.sin_addr.s_addr;
	boot_port_ = sa.sin_port;
	thread_ = std::thread([this] { loop(); });
}

Device::~Device()
{
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
	for (auto &h : hellos_)
		::close(h.second);
	if (listen_fd_ >= 0)
		::close(listen_fd_);
	std::lock_guard<std::mutex> lk(g.mu);
	g.devices--;
	g.live.remove(this);
}

std::shared_ptr<::gloo::transport::Context>
Device::createContext(int rank, int size)
{
	return std::make_shared<Context>(shared_from_this(), rank, size);
}

/* The device thread: keeps links answering while no thread waits. */
void
Device::loop()
{
	while (!stop_) {
		if (waiters_ == 0) {
			std::lock_guard<std::mutex> lk(mu_);
			pass();
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
}

int
Device::pass()
{
	bool check_fd = Clock::now() >= next_fd_check_;
	int work = 0;

	if (check_fd)
		next_fd_check_ = Clock::now() + kFdCheck;
	for (Context *c : contexts_)
		for (auto &p : c->pairs())
			if (p)
				work += static_cast<Pair *>(p.get())->poll(check_fd);
	return work;
}

template <typename Pred>
bool
Device::waitUntil(std::unique_lock<std::mutex> &lk, Pred done, Clock::time_point deadline)
{
	unsigned int idle = 0;

	waiters_++;
	for (;;) {
		if (done())
			break;
		if (Clock::now() >= deadline) {
			waiters_--;
			return false;
		}
		if (pass() > 0) {
			idle = 0;
			continue;
		}
		/* Nothing moved: let the other ranks on these cores run. */
		idle++;
		lk.unlock();
		if (idle > 256)
			usleep(100);
		else if (idle > 16)
			sched_yield();
		lk.lock();
	}
	waiters_--;
	return true;
}

/* The TCP connection the peer of pair @p seq opened to this device. Pairs
 * connect one at a time, but peers may announce themselves in any order:
 * connections for other pairs wait in hellos_. */
int
Device::acceptFor(uint64_t seq, int timeout_ms)
{
	std::lock_guard<std::mutex> lk(boot_mu_);
	auto deadline = Clock::now() + milliseconds(timeout_ms);

	for (;;) {
		auto it = hellos_.find(seq);
		if (it != hellos_.end()) {
			int fd = it->second;
			hellos_.erase(it);
			return fd;
		}
		int left = (int)std::chrono::duration_cast<milliseconds>(deadline - Clock::now())
				   .count();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = {listen_fd_, POLLIN, 0};
		int rc = ::poll(&pfd, 1, std::min(left, 100));
		if (rc <= 0)
			continue;
		int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		uint64_t which;
		if (sx_boot_recv_u64(fd, "pair", &which, 5000) < 0) {
			::close(fd);
			continue;
		}
		auto old = hellos_.find(which);
		if (old != hellos_.end())
			::close(old->second);
		hellos_[which] = fd;
	}
}

/* ---- context ---- */

Context::Context(std::shared_ptr<Device> dev, int rank, int size)
    : ::gloo::transport::Context(rank, size), dev_(std::move(dev))
{
	pairs_.resize(size);
	std::lock_guard<std::mutex> lk(dev_->mu_);
	dev_->contexts_.push_back(this);
}

Context::~Context()
{
	/* Peers in rank order: every process closes its pairs in the same
	 * global order (the lower rank of each pair first), so the pairwise
	 * close handshakes cannot wait on each other in a cycle. */
	for (auto &p : pairs_)
		if (p)
			static_cast<Pair *>(p.get())->closeOrderly();
	std::lock_guard<std::mutex> lk(dev_->mu_);
	for (auto &p : pairs_)
		p.reset();
	dev_->contexts_.remove(this);
	if (getenv("SCALEX_GLOO_STATS") != nullptr) {
		uint64_t tx = 0, rx = 0;
		std::lock_guard<std::mutex> glk(g.mu);
		tx = g.closed["tx_bytes"];
		rx = g.closed["rx_bytes"];
		fprintf(stderr, "scalex-gloo: rank %d: port tx_bytes=%llu rx_bytes=%llu "
				"retransmits=%llu fault_drop_tx=%llu (process totals)\n",
			rank, (unsigned long long)tx, (unsigned long long)rx,
			(unsigned long long)g.closed["qp_retransmits"],
			(unsigned long long)g.closed["fault_drop_tx"]);
	}
}

std::unique_ptr<::gloo::transport::Pair> &
Context::createPair(int rank)
{
	GLOO_ENFORCE(rank >= 0 && rank < size && rank != this->rank, "bad peer rank ", rank);
	pairs_[rank].reset(new Pair(this, rank));
	return pairs_[rank];
}

std::unique_ptr<::gloo::transport::UnboundBuffer>
Context::createUnboundBuffer(void *ptr, size_t size)
{
	return std::unique_ptr<::gloo::transport::UnboundBuffer>(
		new UnboundBuffer(shared_from_this(), ptr, size));
}

Pair *
Context::pair(int rank)
{
	GLOO_ENFORCE(rank >= 0 && rank < size && pairs_[rank], "no pair to rank ", rank);
	return static_cast<Pair *>(pairs_[rank].get());
}

/* Kept messages to the recvs posted since they came: each posted recv, in
 * posting order, takes the earliest-arrived complete message of its slot
 * among the ranks it accepts, looking only at the first message kept per
 * pair and slot (later ones must not pass it). */
void
Context::deliverKept()
{
	for (auto pr = posted_.begin(); pr != posted_.end();) {
		Pair *best = nullptr;
		std::list<Kept>::iterator best_it;
		for (int r : pr->ranks) {
			if (r < 0 || r >= size || !pairs_[r])
				continue;
			Pair *p = static_cast<Pair *>(pairs_[r].get());
			for (auto k = p->kept_.begin(); k != p->kept_.end(); ++k) {
				if (k->op != OP_UNBOUND || k->slot != pr->slot)
					continue;
				if (k->complete && (best == nullptr || k->arrival < best_it->arrival)) {
					best = p;
					best_it = k;
				}
				break;
			}
		}
		if (best == nullptr) {
			++pr;
			continue;
		}
		UnboundBuffer *ub = pr->ub;
		if (best_it->rts) {
			best->startRead(ub, pr->offset, pr->nbytes, best_it->src);
		} else if (best_it->data.size() != pr->nbytes) {
			ub->error_ = "scalex: rank " + std::to_string(best->peer_) + " sent " +
				     std::to_string(best_it->data.size()) + " bytes to a recv of " +
				     std::to_string(pr->nbytes);
		} else {
			if (pr->nbytes > 0)
				memcpy(static_cast<char *>(ub->ptr) + pr->offset,
				       best_it->data.data(), pr->nbytes);
			ub->recv_done_.push_back(best->peer_);
		}
		best->kept_.erase(best_it);
		pr = posted_.erase(pr);
	}
}

void
Context::failRecvsFrom(int rank, const std::string &why)
{
	for (auto pr = posted_.begin(); pr != posted_.end();) {
		if (std::find(pr->ranks.begin(), pr->ranks.end(), rank) != pr->ranks.end()) {
			pr->ub->error_ = why;
			pr = posted_.erase(pr);
		} else {
			++pr;
		}
	}
}

/*
 * Before an exception leaves a wait on a bound buffer (mu held): Gloo's
 * algorithms free their buffers' memory before the buffers when they
 * unwind (AllreduceRing's destructor), so from the throw on neither a
 * WRITE of ours may read user memory nor one of a peer's land in it. Sends
 * not posted yet are dropped; posted WRITEs get a bounded wait (a live
 * peer acknowledges within a round trip), a pair whose WRITEs stay
 * unanswered is failed (which flushes them); every advertised region is
 * deregistered, so a peer's late WRITE draws a remote access NAK and that
 * peer fails too. The context is not usable for bound buffers afterwards,
 * as after any Gloo transport error.
 */
void
Context::quiesce(std::unique_lock<std::mutex> &lk)
{
	const std::string why = "scalex: an earlier error on this context";
	broken_ = true;
	auto pairs = [this] {
		std::vector<Pair *> v;
		for (auto &p : pairs_)
			if (p)
				v.push_back(static_cast<Pair *>(p.get()));
		return v;
	};

	for (Pair *p : pairs()) {
		for (auto it = p->txq_.begin(); it != p->txq_.end();) {
			if (it->op != OP_WRITE) {
				++it;
				continue;
			}
			it->bbuf->error_ = why;
			it = p->txq_.erase(it);
		}
		for (Buffer *b : p->bufs_) {
			b->pending_.clear();
			if (b->error_.empty())
				b->error_ = why;
			if (b->recv_ && b->mr_ != nullptr) {
				p->recv_ids_.erase(b->id_);
				if (sx_dereg_mr(b->mr_) < 0)
					p->zombies_.push_back(b->mr_);
				b->mr_ = nullptr;
			}
		}
		p->mr_waiters_.clear();
		for (Read &r : p->readq_) {
			r.ub->error_ = why;
			r.ub->reads_--;
		}
		p->readq_.clear();
		for (auto &r : p->rts_)
			r.second->error_ = why;
		p->rts_.clear();
	}
	/* unbound offers: no peer may READ them any more */
	for (UnboundBuffer *ub : ubufs_) {
		for (auto &m : ub->mrs_)
			if (sx_dereg_mr(m.second) < 0)
				m.first->zombies_.push_back(m.second);
		ub->mrs_.clear();
	}
	dev_->waitUntil(
		lk,
		[&pairs] {
			for (Pair *p : pairs())
				if (!p->writes_.empty() || !p->reads_.empty())
					return false;
			return true;
		},
		Clock::now() + milliseconds(kCloseMs));
	for (Pair *p : pairs())
		if (!p->writes_.empty() || !p->reads_.empty())
			p->fail("scalex: writes to or reads from rank " + std::to_string(p->peer_) +
				" unanswered while an error unwound");
}

/* ---- pair ---- */

Pair::Pair(Context *ctx, int peer) : ctx_(ctx), peer_(peer)
{
	Device *dev = ctx->dev_.get();
	AddrWire &w = addr_.w;

	server_ = ctx->rank < peer;
	w.magic = kAddrMagic;
	w.rank = ctx->rank;
	w.server = server_;
	w.boot_ip = dev->boot_ip_;
	w.boot_port = dev->boot_port_;
	{
		std::lock_guard<std::mutex> lk(g.mu);
		w.seq = ++g.seq;
	}
	if (!server_)
		return;
	/* The lower rank opens the memif server now, so that the socket
	 * exists when the peer reads this address and connects. */
	snprintf(w.key, sizeof(w.key), "scalex-gloo-%d-%llu", (int)getpid(),
		 (unsigned long long)w.seq);
	std::lock_guard<std::mutex> lk(dev->mu_);
	int rc;
	{
		std::lock_guard<std::mutex> glk(g.mu);
		rc = sx_coll_link_open(&g.net, &link_, peer, true, w.key,
				       (uint32_t)(ctx->rank + 1));
	}
	if (rc < 0)
		GLOO_THROW_IO_EXCEPTION("scalex: link to rank ", peer, ": ", strerror(-rc));
	link_open_ = true;
	sx_coll_link_local(&link_, &w.ep);
}

Pair::~Pair()
{
	if (fd_ >= 0 || link_open_)
		closeOrderly();
}

void
Pair::connect(const std::vector<char> &bytes)
{
	Device *dev = ctx_->dev_.get();
	AddrWire rw;
	struct sx_boot_qp local {}, remote {};
	char host[INET_ADDRSTRLEN];
	int fd = -1, rc;

	GLOO_ENFORCE(bytes.size() == sizeof(rw), "scalex: address of ", bytes.size(), " bytes");
	memcpy(&rw, bytes.data(), sizeof(rw));
	if (rw.magic != kAddrMagic || rw.rank != peer_ || rw.server == (uint32_t)server_)
		GLOO_THROW_IO_EXCEPTION("scalex: address from rank ", peer_,
					" is not a scalex pair address for this pair");
	if (server_) {
		fd = dev->acceptFor(addr_.w.seq, kBootMs);
		if (fd < 0)
			GLOO_THROW_IO_EXCEPTION("scalex: rank ", peer_, " did not connect: ",
						strerror(-fd));
	} else {
		rw.key[sizeof(rw.key) - 1] = '\0';
		{
			std::lock_guard<std::mutex> lk(dev->mu_);
			std::lock_guard<std::mutex> glk(g.mu);
			rc = sx_coll_link_open(&g.net, &link_, peer_, false, rw.key,
					       (uint32_t)(ctx_->rank + 1));
		}
		if (rc < 0)
			GLOO_THROW_IO_EXCEPTION("scalex: link to rank ", peer_, ": ",
						strerror(-rc));
		link_open_ = true;
		inet_ntop(AF_INET, &rw.boot_ip, host, sizeof(host));
		fd = sx_boot_connect(host, ntohs(rw.boot_port), kBootMs);
		rc = fd < 0 ? fd : sx_boot_send_u64(fd, "pair", rw.seq, kBootMs);
		if (rc < 0) {
			if (fd >= 0)
				sx_boot_close(fd);
			GLOO_THROW_IO_EXCEPTION("scalex: connecting to rank ", peer_, ": ",
						strerror(-rc));
		}
	}
	fd_ = fd;
	/* Both sides send their QP and credit word; the server's also came in
	 * its address, so the client checks that the two agree. */
	struct sx_coll_link_ep ep;
	sx_coll_link_local(&link_, &ep);
	local.ep = ep.qp;
	local.addr = ep.credit_addr;
	local.rkey = ep.credit_rkey;
	rc = sx_boot_exchange(fd, &local, &remote, 1, kBootMs);
	if (rc == 0 && !server_ && remote.ep.qpn != rw.ep.qp.qpn)
		rc = -EPROTO;
	if (rc == 0) {
		struct sx_coll_link_ep rep {};
		rep.qp = remote.ep;
		rep.credit_addr = remote.addr;
		rep.credit_rkey = remote.rkey;
		std::lock_guard<std::mutex> lk(dev->mu_);
		rc = sx_coll_link_connect(&link_, &rep);
	}
	/* Neither side sends before both QPs are ready to receive. */
	if (rc == 0)
		rc = sx_boot_barrier(fd, "up", kBootMs);
	if (rc < 0)
		GLOO_THROW_IO_EXCEPTION("scalex: handshake with rank ", peer_, ": ",
					strerror(-rc));
	std::lock_guard<std::mutex> lk(dev->mu_);
	connected_ = true;
}

void
Pair::close()
{
	closeOrderly();
}

/* A pair whose peer is gone or failed: its port stays open until the
 * process exits (closing it could race with the memif PMD's handling of
 * the peer's disconnect), its counters stay readable. */
void
Pair::abandon()
{
	closing_ = true;
	if (link_open_) {
		std::lock_guard<std::mutex> glk(g.mu);
		sx_stats_foreach(link_.ctx, SX_STATS_ALL, add_counter, &g.closed);
		addLinkCounters(g.closed);
		g.abandoned++;
		g.abandoned_links->push_back(link_);
	}
	link_open_ = false; /* sx_coll_link_close never runs on it */
}

/* Orderly close (coll/comm.c found the order for memif): both sides stop
 * polling the link after a first barrier, the client closes its port, a
 * second barrier, then the server closes its own. */
void
Pair::closeOrderly()
{
	Device *dev = ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);
	bool ok;

	if (closing_ && fd_ < 0 && !link_open_)
		return;
	if (!connected_ || hard_) {
		if (!connected_ && link_open_) {
			/* never used: nobody polls it, the peer never met it */
			std::lock_guard<std::mutex> glk(g.mu);
			sx_stats_foreach(link_.ctx, SX_STATS_ALL, add_counter, &g.closed);
			addLinkCounters(g.closed);
			deregMrs(true);
			sx_coll_link_close(&link_);
			link_open_ = false;
		}
		abandon();
	} else {
		ok = dev->waitUntil(
			lk, [this] { return hard_ || (txq_.empty() && sx_coll_link_idle(&link_)); },
			Clock::now() + milliseconds(kCloseMs));
		if (!ok || hard_) {
			abandon();
		} else {
			/* Until both sides are idle, this side keeps answering
			 * (the device thread polls the link): the peer's last
			 * sends may still wait for an ACK that was lost. */
			lk.unlock();
			ok = sx_boot_barrier(fd_, "close", kCloseMs) == 0;
			lk.lock();
			closing_ = true;
			{
				std::lock_guard<std::mutex> glk(g.mu);
				sx_stats_foreach(link_.ctx, SX_STATS_ALL, add_counter, &g.closed);
				addLinkCounters(g.closed);
			}
			if (!ok) {
				abandon();
			} else if (!server_) {
				deregMrs(true);
				sx_coll_link_close(&link_);
				link_open_ = false;
				lk.unlock();
				sx_boot_barrier(fd_, "closed", kCloseMs);
				lk.lock();
			} else {
				lk.unlock();
				ok = sx_boot_barrier(fd_, "closed", kCloseMs) == 0;
				usleep(50000); /* the PMD finishes the client's disconnect */
				lk.lock();
				if (ok) {
					deregMrs(true);
					sx_coll_link_close(&link_);
					link_open_ = false;
				} else {
					abandon();
				}
			}
		}
	}
	closing_ = true;
	if (fd_ >= 0)
		sx_boot_close(fd_);
	fd_ = -1;
	if (error_.empty())
		fail("scalex: pair to rank " + std::to_string(peer_) + " closed", false);
}

/* Fail everything that waits on this pair (mu held). */
void
Pair::fail(const std::string &why, bool hard)
{
	if (error_.empty())
		error_ = why;
	hard_ = hard_ || hard;
	for (auto &op : txq_) {
		if (op.bbuf != nullptr)
			op.bbuf->error_ = error_;
		if (op.ubuf != nullptr)
			op.ubuf->error_ = error_;
	}
	txq_.clear();
	for (Buffer *b : bufs_) {
		b->error_ = error_;
		b->pending_.clear();
	}
	mr_waiters_.clear();
	for (auto &r : rts_)
		r.second->error_ = error_;
	rts_.clear();
	for (Read &r : readq_) {
		r.ub->error_ = error_;
		r.ub->reads_--;
	}
	readq_.clear();
	for (auto &r : reads_)
		r.second.ub->error_ = error_;
	if (hard_ && link_open_) {
		/* The QP stops reading user memory: every WRITE still posted
		 * completes (flushed), so the buffers' regions can go. */
		sx_qp_to_error(link_.qp);
		for (auto &w : writes_)
			w.second->inflight_--;
		writes_.clear();
		for (auto &r : reads_)
			r.second.ub->reads_--;
		reads_.clear();
	}
	if (in_ubuf_ != nullptr)
		in_ubuf_->error_ = error_;
	in_ = false;
	in_ubuf_ = nullptr;
	in_kept_ = nullptr;
	ctx_->failRecvsFrom(peer_, error_);
}

int
Pair::poll(bool check_fd)
{
	const uint8_t *msg;
	size_t len;
	int work, rc, rounds;

	if (!usable() || hard_)
		return 0;
	work = rc = sx_coll_link_poll(&link_);
	if (rc < 0) {
		fail("scalex: link to rank " + std::to_string(peer_) + ": " + strerror(-rc) +
		     " (a work request failed: the peer stopped answering, or refused a"
		     " write to one of its regions)");
		return 1;
	}
	while (!writes_.empty() && writes_.front().first < link_.tx_done) {
		Buffer *b = writes_.front().second;
		b->inflight_--;
		b->sending_--;
		writes_.pop_front();
	}
	while (!reads_.empty() && reads_.front().first < link_.rd_done) {
		Read r = reads_.front().second;
		reads_.pop_front();
		r.ub->reads_--;
		r.ub->recv_done_.push_back(peer_);
		sendCtl(OP_FIN, 0, nullptr, r.src.id);
		work++;
		if (!error_.empty())
			return work;
	}
	if (!readq_.empty())
		pushReads();
	while (sx_coll_link_peek(&link_, &msg, &len)) {
		rx(msg, len);
		if (!error_.empty())
			return 1;
		sx_coll_link_release(&link_);
		work++;
	}
	if (!txq_.empty()) {
		size_t before = txq_.size();
		uint64_t posted = link_.tx_posted;
		pushTx();
		work += (int)(before - txq_.size()) + (int)(link_.tx_posted - posted);
	}
	if (!check_fd || fd_ < 0 || peer_left_)
		return work;
	struct pollfd pfd = {fd_, POLLIN, 0};
	if (::poll(&pfd, 1, 0) <= 0)
		return work;
	/* Readable: the peer closed the connection (its process is gone:
	 * EOF) or started an orderly close (its first barrier line, left
	 * for closeOrderly to read). What it sent before is acknowledged, so
	 * it sits in our completion queue: drain it, then fail what still
	 * waits. */
	char c;
	bool gone = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
	for (rounds = 0; rounds < 64; rounds++) {
		if (sx_coll_link_poll(&link_) < 0)
			break;
		bool any = false;
		while (sx_coll_link_peek(&link_, &msg, &len)) {
			rx(msg, len);
			if (!error_.empty())
				return 1;
			sx_coll_link_release(&link_);
			any = true;
		}
		if (!any && rounds > 4)
			break;
	}
	if (!gone) {
		peer_left_ = true;
		fail("scalex: rank " + std::to_string(peer_) + " closed the pair", false);
	} else {
		fail("scalex: rank " + std::to_string(peer_) + " closed its connection (exited?)");
	}
	return 1;
}

void
Pair::pushTx()
{
	while (!txq_.empty()) {
		TxOp &op = txq_.front();
		if (op.op == OP_MR || op.op == OP_MR_DROP || op.op == OP_RTS || op.op == OP_FIN) {
			if (sx_coll_link_send(&link_, &op.ctl, sizeof(op.ctl)) == 0)
				return;
			txq_.pop_front();
			continue;
		}
		if (op.op == OP_WRITE) {
			Buffer *b = op.bbuf;
			do {
				size_t n = std::min(op.len - op.done, kWriteChunk);
				bool last = op.done + n == op.len;
				uint64_t seq;
				int rc = sx_coll_link_write_imm(
					&link_, op.ptr + op.done, (uint32_t)n, b->mr_->lkey,
					b->peer_.addr + op.roffset + op.done, b->peer_.rkey,
					(b->peer_.id << 1) | (last ? 1u : 0u), &seq);
				if (rc < 0) {
					fail("scalex: write to rank " + std::to_string(peer_) + ": " +
					     strerror(-rc));
					return;
				}
				if (rc == 0)
					return;
				op.done += n;
				if (last) {
					b->inflight_++;
					writes_.emplace_back(seq, b);
				}
			} while (op.done < op.len);
			txq_.pop_front();
			continue;
		}
		if (!op.started) {
			Hdr h = {kMagic, op.op, op.slot, op.roffset, op.len};
			size_t chunk = std::min(op.len, (size_t)SX_LINK_MSG_BYTES - kHdrBytes);
			stage_.resize(SX_LINK_MSG_BYTES);
			memcpy(stage_.data(), &h, kHdrBytes);
			if (chunk > 0)
				memcpy(stage_.data() + kHdrBytes, op.ptr, chunk);
			if (sx_coll_link_send(&link_, stage_.data(), kHdrBytes + chunk) == 0)
				return;
			op.started = true;
			op.done = chunk;
		}
		while (op.done < op.len) {
			const char *src = op.ptr != nullptr ? op.ptr + op.done : zeros_.data();
			size_t n = sx_coll_link_send(&link_, src,
						     op.ptr != nullptr ? op.len - op.done
								       : std::min(op.len - op.done, zeros_.size()));
			if (n == 0)
				return;
			op.done += n;
		}
		/* The payload is in the link's registered slots: the user's
		 * buffer is free again (Gloo's waitSend). */
		if (op.ubuf != nullptr)
			op.ubuf->send_done_.push_back(peer_);
		txq_.pop_front();
	}
}

void
Pair::enqueue(const TxOp &op)
{
	if (!error_.empty() || closing_) {
		if (op.bbuf != nullptr)
			op.bbuf->error_ = error_.empty() ? "scalex: pair closed" : error_;
		if (op.ubuf != nullptr)
			op.ubuf->error_ = error_.empty() ? "scalex: pair closed" : error_;
		return;
	}
	txq_.push_back(op);
	pushTx();
}

/* A control message (mu held): @p mr's place and key under @p id. */
void
Pair::sendCtl(uint32_t op, uint64_t slot, const struct sx_mr *mr, uint32_t id)
{
	TxOp t{};

	t.op = (Op)op;
	t.slot = slot;
	t.ctl = MrMsg{kMagic, op, slot, mr != nullptr ? (uint64_t)(uintptr_t)mr->addr : 0,
		      mr != nullptr ? (uint64_t)mr->length : 0, mr != nullptr ? mr->rkey : 0, id};
	enqueue(t);
}

/* Register @p size bytes at @p ptr on this pair's link (mu held). */
struct sx_mr *
Pair::regMr(void *ptr, size_t size, unsigned int access)
{
	if (!link_open_ || !connected_)
		GLOO_THROW_IO_EXCEPTION("scalex: buffer on the pair to rank ", peer_,
					", which is not connected");
	if (ctx_->broken_)
		GLOO_THROW_IO_EXCEPTION("scalex: an earlier error on this context");
	struct sx_mr *mr = sx_reg_mr(link_.pd, size > 0 ? ptr : nullptr, size, access);
	if (mr == nullptr)
		GLOO_THROW_IO_EXCEPTION("scalex: registering ", size, " bytes for rank ", peer_,
					": ", strerror(errno));
	return mr;
}

/* Regions whose deregistration had to wait for a posted WR (mu held); all:
 * the link is about to close, its QP is idle or in error. */
void
Pair::deregMrs(bool all)
{
	for (auto it = zombies_.begin(); it != zombies_.end();)
		it = sx_dereg_mr(*it) == 0 ? zombies_.erase(it) : std::next(it);
	if (!all)
		return;
	for (Buffer *b : bufs_) {
		if (b->mr_ != nullptr && sx_dereg_mr(b->mr_) == 0)
			b->mr_ = nullptr;
	}
	for (UnboundBuffer *u : ctx_->ubufs_) {
		auto it = u->mrs_.find(this);
		if (it != u->mrs_.end() && sx_dereg_mr(it->second) == 0)
			u->mrs_.erase(it);
	}
}

/* The link's own byte counts: copied through its slots, written zero copy. */
void
Pair::addLinkCounters(std::map<std::string, uint64_t> &m) const
{
	m["link_copy_bytes"] += link_.tx_bytes;
	m["link_write_bytes"] += link_.write_bytes;
	m["link_read_bytes"] += link_.read_bytes;
}

/* OP_RTS: an unbound send offered for READ, matched like a header (mu
 * held); OP_FIN: the peer READ one of ours. */
void
Pair::rxRndv(const MrMsg &m)
{
	if (m.op == OP_FIN) {
		auto it = rts_.find(m.id);
		if (it != rts_.end()) {
			it->second->send_done_.push_back(peer_);
			rts_.erase(it);
		}
		return;
	}
	PeerMr src{m.addr, m.size, m.rkey, m.id};
	for (auto &k : kept_)
		if (k.slot == m.slot) {
			/* behind a message kept for the same slot */
			kept_.push_back(Kept{OP_UNBOUND, m.slot, 0, {}, 0, true,
					     ctx_->arrivals_++, true, src});
			return;
		}
	for (auto pr = ctx_->posted_.begin(); pr != ctx_->posted_.end(); ++pr) {
		if (pr->slot != m.slot ||
		    std::find(pr->ranks.begin(), pr->ranks.end(), peer_) == pr->ranks.end())
			continue;
		UnboundBuffer *ub = pr->ub;
		size_t offset = pr->offset, nbytes = pr->nbytes;
		ctx_->posted_.erase(pr);
		startRead(ub, offset, nbytes, src);
		return;
	}
	kept_.push_back(
		Kept{OP_UNBOUND, m.slot, 0, {}, 0, true, ctx_->arrivals_++, true, src});
}

/* A recv of @p nbytes at @p offset of @p ub matched the peer's offer
 * @p src: READ it (mu held). A length that differs fails the recv and
 * releases the sender, as a copied message of the wrong length does. */
void
Pair::startRead(UnboundBuffer *ub, size_t offset, size_t nbytes, const PeerMr &src)
{
	if (src.size != nbytes) {
		ub->error_ = "scalex: rank " + std::to_string(peer_) + " sent " +
			     std::to_string(src.size) + " bytes to a recv of " +
			     std::to_string(nbytes);
		sendCtl(OP_FIN, 0, nullptr, src.id);
		return;
	}
	try {
		ub->mrFor(this);
	} catch (const ::gloo::IoException &e) {
		ub->error_ = e.what();
		sendCtl(OP_FIN, 0, nullptr, src.id);
		return;
	}
	ub->reads_++;
	readq_.push_back(Read{ub, static_cast<char *>(ub->ptr) + offset, nbytes, 0, src});
	pushReads();
}

void
Pair::pushReads()
{
	while (!readq_.empty()) {
		Read &r = readq_.front();
		uint32_t lkey = r.ub->mrs_[this]->lkey;
		do {
			size_t n = std::min(r.len - r.done, kWriteChunk);
			uint64_t seq;
			int rc = sx_coll_link_read(&link_, r.dst + r.done, (uint32_t)n, lkey,
						   r.src.addr + r.done, r.src.rkey, &seq);
			if (rc < 0) {
				fail("scalex: read from rank " + std::to_string(peer_) + ": " +
				     strerror(-rc));
				return;
			}
			if (rc == 0)
				return;
			r.done += n;
			if (r.done == r.len)
				reads_.emplace_back(seq, r);
		} while (r.done < r.len);
		readq_.pop_front();
	}
}

/* Send buffer @p b sends for the first time: it takes the oldest region
 * the peer advertised for its slot, or waits for the next (mu held). */
void
Pair::claimMr(Buffer *b)
{
	auto it = peer_mrs_.find(b->slot());
	if (it != peer_mrs_.end() && !it->second.empty()) {
		PeerMr m = it->second.front();
		it->second.pop_front();
		if (it->second.empty())
			peer_mrs_.erase(it);
		bindMr(b, m);
		return;
	}
	b->waiting_ = true;
	mr_waiters_[b->slot()].push_back(b);
}

void
Pair::bindMr(Buffer *b, const PeerMr &m)
{
	b->bound_ = true;
	b->waiting_ = false;
	b->peer_ = m;
	while (!b->pending_.empty()) {
		TxOp op = b->pending_.front();
		b->pending_.pop_front();
		if (op.roffset > m.size || op.len > m.size - op.roffset) {
			b->error_ = "scalex: a send of " + std::to_string(op.len) +
				    " bytes at remote offset " + std::to_string(op.roffset) +
				    " to slot " + std::to_string(b->slot()) + " of rank " +
				    std::to_string(peer_) + " would pass the end of its recv buffer (" +
				    std::to_string(m.size) + " bytes); refused";
			b->sending_--;
			continue;
		}
		enqueue(op);
		if (!error_.empty())
			b->sending_--;
	}
}

/* One link message: the immediate of a peer's WRITE, a control message,
 * or part of an unbound send (a header starts one, the rest is payload). */
void
Pair::rx(const uint8_t *msg, size_t len)
{
	uint32_t imm;

	if (sx_coll_link_peek_imm(&link_, &imm)) {
		/* The bytes are in place already (written into the region
		 * this id names); the last chunk completes the send. */
		if (in_) {
			fail("scalex: rank " + std::to_string(peer_) +
			     " wrote in the middle of a message");
			return;
		}
		auto it = recv_ids_.find(imm >> 1);
		if (it != recv_ids_.end() && (imm & 1) != 0)
			it->second->recvs_++;
		return;
	}
	if (!in_ && len == sizeof(MrMsg)) {
		MrMsg m;
		memcpy(&m, msg, sizeof(m));
		if (m.magic == kMagic && (m.op == OP_RTS || m.op == OP_FIN)) {
			rxRndv(m);
			return;
		}
		if (m.magic == kMagic && (m.op == OP_MR || m.op == OP_MR_DROP)) {
			if (m.op == OP_MR) {
				PeerMr pm{m.addr, m.size, m.rkey, m.id & kMrIdMask};
				auto w = mr_waiters_.find(m.slot);
				if (w != mr_waiters_.end() && !w->second.empty()) {
					Buffer *b = w->second.front();
					w->second.pop_front();
					if (w->second.empty())
						mr_waiters_.erase(w);
					bindMr(b, pm);
				} else {
					peer_mrs_[m.slot].push_back(pm);
				}
				return;
			}
			/* withdrawn: not taken yet, or taken by a send buffer */
			auto q = peer_mrs_.find(m.slot);
			if (q != peer_mrs_.end()) {
				for (auto it = q->second.begin(); it != q->second.end(); ++it)
					if (it->id == m.id) {
						q->second.erase(it);
						return;
					}
			}
			for (Buffer *b : bufs_)
				if (!b->recv_ && b->bound_ && b->peer_.id == m.id &&
				    b->slot() == m.slot)
					b->peer_gone_ = true;
			return;
		}
	}
	if (!in_) {
		if (len < kHdrBytes) {
			fail("scalex: rank " + std::to_string(peer_) + " sent a short message");
			return;
		}
		memcpy(&in_hdr_, msg, kHdrBytes);
		msg += kHdrBytes;
		len -= kHdrBytes;
		if (in_hdr_.magic != kMagic || in_hdr_.op != OP_UNBOUND ||
		    in_hdr_.len > (1ull << 40)) {
			fail("scalex: rank " + std::to_string(peer_) + " sent a bad header");
			return;
		}
		in_ = true;
		in_left_ = in_hdr_.len;
		in_dst_ = nullptr;
		in_ubuf_ = nullptr;
		in_kept_ = nullptr;
		in_discard_ = false;
		bool behind = false;
		for (auto &k : kept_)
			if (k.slot == in_hdr_.slot)
				behind = true;
		if (!behind) {
			for (auto pr = ctx_->posted_.begin(); pr != ctx_->posted_.end(); ++pr) {
				if (pr->slot != in_hdr_.slot ||
				    std::find(pr->ranks.begin(), pr->ranks.end(), peer_) ==
					    pr->ranks.end())
					continue;
				if (pr->nbytes != in_hdr_.len) {
					pr->ub->error_ = "scalex: rank " + std::to_string(peer_) +
							 " sent " + std::to_string(in_hdr_.len) +
							 " bytes to a recv of " +
							 std::to_string(pr->nbytes);
					in_discard_ = true;
				} else {
					in_ubuf_ = pr->ub;
					in_dst_ = static_cast<char *>(pr->ub->ptr) + pr->offset;
				}
				ctx_->posted_.erase(pr);
				break;
			}
		}
		if (in_ubuf_ == nullptr && !in_discard_) {
			kept_.push_back(Kept{(Op)in_hdr_.op, in_hdr_.slot, in_hdr_.roffset,
					     std::vector<char>(in_hdr_.len), 0, false,
					     ctx_->arrivals_++, false, {}});
			in_kept_ = &kept_.back();
			in_dst_ = in_kept_->data.data();
		}
	}
	if (len > in_left_) {
		fail("scalex: rank " + std::to_string(peer_) + " sent more than its header said");
		return;
	}
	if (len > 0 && !in_discard_)
		memcpy(in_dst_, msg, len);
	in_dst_ += in_discard_ ? 0 : len;
	in_left_ -= len;
	if (in_left_ == 0)
		finishRx();
}

void
Pair::finishRx()
{
	in_ = false;
	if (in_ubuf_ != nullptr)
		in_ubuf_->recv_done_.push_back(peer_);
	if (in_kept_ != nullptr) {
		in_kept_->complete = true;
		ctx_->deliverKept();
	}
	in_ubuf_ = nullptr;
	in_kept_ = nullptr;
}

std::unique_ptr<::gloo::transport::Buffer>
Pair::createSendBuffer(int slot, void *ptr, size_t size)
{
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
	/* a WRITE's source needs no access right beyond local read */
	struct sx_mr *mr = regMr(ptr, size, 0);
	Buffer *b = new Buffer(this, slot, ptr, size, false);

	b->mr_ = mr;
	bufs_.push_back(b);
	if (!error_.empty())
		b->error_ = error_;
	return std::unique_ptr<::gloo::transport::Buffer>(b);
}

std::unique_ptr<::gloo::transport::Buffer>
Pair::createRecvBuffer(int slot, void *ptr, size_t size)
{
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
	struct sx_mr *mr = regMr(ptr, size, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	Buffer *b = new Buffer(this, slot, ptr, size, true);

	b->mr_ = mr;
	b->id_ = next_mr_id_++ & kMrIdMask;
	bufs_.push_back(b);
	recv_ids_[b->id_] = b;
	if (!error_.empty())
		b->error_ = error_;
	else
		sendCtl(OP_MR, (uint64_t)slot, mr, b->id_);
	return std::unique_ptr<::gloo::transport::Buffer>(b);
}

/* A buffer is being destroyed (mu held; the caller waited for its
 * WRITEs): nothing of it may stay queued, and the peer loses the region
 * of a recv buffer. */
void
Pair::forget(Buffer *b)
{
	for (auto it = txq_.begin(); it != txq_.end();)
		it = it->bbuf == b ? txq_.erase(it) : std::next(it);
	b->pending_.clear();
	if (b->waiting_) {
		auto &q = mr_waiters_[b->slot()];
		q.erase(std::remove(q.begin(), q.end(), b), q.end());
		if (q.empty())
			mr_waiters_.erase(b->slot());
	}
	if (b->recv_) {
		recv_ids_.erase(b->id_);
		if (error_.empty() && !closing_)
			sendCtl(OP_MR_DROP, b->slot(), nullptr, b->id_);
	}
	bufs_.remove(b);
}

void
Pair::forget(UnboundBuffer *u)
{
	for (auto it = rts_.begin(); it != rts_.end();)
		it = it->second == u ? rts_.erase(it) : std::next(it);
	for (auto it = readq_.begin(); it != readq_.end();)
		it = it->ub == u ? readq_.erase(it) : std::next(it);
	for (auto it = txq_.begin(); it != txq_.end();) {
		if (it->ubuf != u) {
			++it;
		} else if (!it->started) {
			it = txq_.erase(it);
		} else {
			it->ptr = nullptr;
			it->ubuf = nullptr;
			++it;
		}
	}
	if (in_ubuf_ == u) {
		in_ubuf_ = nullptr;
		in_discard_ = true;
	}
}

void
Pair::send(::gloo::transport::UnboundBuffer *buf, uint64_t slot, size_t offset, size_t nbytes)
{
	auto *ub = static_cast<UnboundBuffer *>(buf);
	size_t rndv = ctx_->dev_->rndv_bytes_;
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);

	if (rndv == 0 || nbytes < rndv || nbytes > UINT32_MAX || !error_.empty()) {
		enqueue(TxOp{OP_UNBOUND, slot, 0, static_cast<const char *>(ub->ptr) + offset,
			     nbytes, 0, false, nullptr, ub, {}});
		return;
	}
	/* Rendezvous: offer the bytes where they are; the receiver READs
	 * them once a recv matches and answers OP_FIN, which completes the
	 * send. */
	struct sx_mr *mr = ub->mrFor(this);
	uint32_t id = next_rts_id_++;
	TxOp t{};
	t.op = OP_RTS;
	t.slot = slot;
	t.ubuf = ub;
	t.ctl = MrMsg{kMagic, OP_RTS, slot,
		      (uint64_t)(uintptr_t)(static_cast<const char *>(ub->ptr) + offset),
		      (uint64_t)nbytes, mr->rkey, id};
	rts_[id] = ub;
	enqueue(t);
}

void
Pair::recv(::gloo::transport::UnboundBuffer *buf, uint64_t slot, size_t offset, size_t nbytes)
{
	static_cast<UnboundBuffer *>(buf)->recv(std::vector<int>{peer_}, slot, offset, nbytes);
}

/* ---- bound buffers ---- */

Buffer::~Buffer()
{
	Device *dev = pair_->ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);

	/* Sends made go out (Gloo's algorithms do not wait for their last
	 * notification), and WRITEs read this memory until they complete:
	 * wait (the peer takes them within a round trip); if they do not
	 * finish, stop the QP, which flushes them. Sends still waiting for
	 * the peer's region are dropped: it may never come. */
	auto queued = [this] {
		for (const TxOp &op : pair_->txq_)
			if (op.bbuf == this)
				return true;
		return false;
	};
	if ((inflight_ > 0 || queued()) &&
	    !dev->waitUntil(
		    lk, [&] { return (inflight_ == 0 && !queued()) || pair_->hard_; },
		    Clock::now() + pair_->ctx_->getTimeout()))
		pair_->fail("scalex: a buffer was destroyed while its writes to rank " +
			    std::to_string(pair_->peer_) + " were unanswered");
	pair_->forget(this);
	if (mr_ != nullptr && sx_dereg_mr(mr_) < 0)
		pair_->zombies_.push_back(mr_); /* another buffer's WR uses this memory */
	pair_->deregMrs(false);
}

void
Buffer::send(size_t offset, size_t length, size_t roffset)
{
	std::lock_guard<std::mutex> lk(pair_->ctx_->dev_->mu_);
	TxOp op{OP_WRITE, (uint64_t)slot_, roffset, base() + offset, length, 0, false,
		this, nullptr, {}};

	GLOO_ENFORCE(!recv_, "scalex: send on a recv buffer");
	GLOO_ENFORCE(offset <= size_ && length <= size_ - offset, "scalex: send past the buffer");
	if (peer_gone_)
		GLOO_THROW_IO_EXCEPTION("scalex: rank ", pair_->peer_,
					" destroyed its recv buffer of slot ", slot_);
	if (!bound_ && !waiting_ && pair_->error_.empty())
		pair_->claimMr(this); /* the first send: the peer's region, or a wait for it */
	if (bound_ && (roffset > peer_.size || length > peer_.size - roffset))
		GLOO_THROW_INVALID_OPERATION_EXCEPTION(
			"scalex: a send of ", length, " bytes at remote offset ", roffset,
			" to slot ", slot_, " of rank ", pair_->peer_,
			" would pass the end of its recv buffer (", peer_.size, " bytes); refused");
	sending_++;
	if (!pair_->error_.empty()) {
		error_ = pair_->error_;
		sending_--;
		return;
	}
	if (bound_) {
		pair_->enqueue(op);
		if (!error_.empty())
			sending_--;
		return;
	}
	pending_.push_back(op);
}

void
Buffer::waitRecv()
{
	Device *dev = pair_->ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);
	dev->waitUntil(
		lk, [this] { return recvs_ > 0 || !error_.empty(); },
		Clock::now() + pair_->ctx_->getTimeout());

	if (recvs_ > 0) {
		recvs_--;
		return;
	}
	std::string why = !error_.empty() ? error_
					  : "scalex: timed out waiting for rank " +
						    std::to_string(pair_->peer_) + " to send to slot " +
						    std::to_string(slot_);
	pair_->ctx_->quiesce(lk);
	GLOO_THROW_IO_EXCEPTION(why);
}

void
Buffer::waitSend()
{
	Device *dev = pair_->ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);
	bool ok = dev->waitUntil(
		lk, [this] { return sending_ == 0 || !error_.empty(); },
		Clock::now() + pair_->ctx_->getTimeout());

	if (error_.empty() && ok)
		return;
	std::string why = !error_.empty()
				  ? error_
				  : "scalex: timed out sending to rank " + std::to_string(pair_->peer_);
	pair_->ctx_->quiesce(lk);
	GLOO_THROW_IO_EXCEPTION(why);
}

/* ---- unbound buffers ---- */

UnboundBuffer::~UnboundBuffer()
{
	Device *dev = ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);

	for (auto pr = ctx_->posted_.begin(); pr != ctx_->posted_.end();)
		pr = pr->ub == this ? ctx_->posted_.erase(pr) : std::next(pr);
	/* READs in flight write into this memory until they complete */
	if (reads_ > 0 &&
	    !dev->waitUntil(
		    lk, [this] { return reads_ == 0; }, Clock::now() + ctx_->getTimeout())) {
		for (auto &p : ctx_->pairs())
			if (p)
				static_cast<Pair *>(p.get())
					->fail("scalex: a buffer was destroyed while reads into it"
					       " were unanswered");
	}
	for (auto &p : ctx_->pairs())
		if (p)
			static_cast<Pair *>(p.get())->forget(this);
	/* A peer that still READs an offer of ours meets a remote access NAK. */
	for (auto &m : mrs_)
		if (sx_dereg_mr(m.second) < 0)
			m.first->zombies_.push_back(m.second);
	ctx_->ubufs_.remove(this);
}

struct sx_mr *
UnboundBuffer::mrFor(Pair *p)
{
	auto it = mrs_.find(p);
	if (it != mrs_.end())
		return it->second;
	struct sx_mr *mr =
		p->regMr(ptr, size, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_READ);
	mrs_[p] = mr;
	return mr;
}

bool
UnboundBuffer::waitRecv(int *rank, milliseconds timeout)
{
	Device *dev = ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);
	if (timeout == ::gloo::transport::kUnsetTimeout)
		timeout = ctx_->getTimeout();
	bool ok = dev->waitUntil(
		lk, [this] { return !recv_done_.empty() || abort_recv_ || !error_.empty(); },
		Clock::now() + timeout);

	if (!recv_done_.empty()) {
		if (rank != nullptr)
			*rank = recv_done_.front();
		recv_done_.pop_front();
		return true;
	}
	if (abort_recv_) {
		abort_recv_ = false;
		return false;
	}
	std::string why = !error_.empty() ? error_
					  : "scalex: timed out waiting for a recv (" +
						    std::to_string(timeout.count()) + " ms)";
	(void)ok;
	ctx_->quiesce(lk);
	GLOO_THROW_IO_EXCEPTION(why);
}

bool
UnboundBuffer::waitSend(int *rank, milliseconds timeout)
{
	Device *dev = ctx_->dev_.get();
	std::unique_lock<std::mutex> lk(dev->mu_);
	if (timeout == ::gloo::transport::kUnsetTimeout)
		timeout = ctx_->getTimeout();
	bool ok = dev->waitUntil(
		lk, [this] { return !send_done_.empty() || abort_send_ || !error_.empty(); },
		Clock::now() + timeout);

	if (!send_done_.empty()) {
		if (rank != nullptr)
			*rank = send_done_.front();
		send_done_.pop_front();
		return true;
	}
	if (abort_send_) {
		abort_send_ = false;
		return false;
	}
	std::string why = !error_.empty() ? error_
					  : "scalex: timed out waiting for a send (" +
						    std::to_string(timeout.count()) + " ms)";
	(void)ok;
	ctx_->quiesce(lk);
	GLOO_THROW_IO_EXCEPTION(why);
}

void
UnboundBuffer::abortWaitRecv()
{
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
	abort_recv_ = true;
}

void
UnboundBuffer::abortWaitSend()
{
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
	abort_send_ = true;
}

void
UnboundBuffer::send(int dstRank, uint64_t slot, size_t offset, size_t nbytes)
{
	if (nbytes == kUnspecifiedByteCount) {
		GLOO_ENFORCE(offset <= size, "scalex: offset past the buffer");
		nbytes = size - offset;
	}
	GLOO_ENFORCE(offset <= size && nbytes <= size - offset, "scalex: send past the buffer");
	ctx_->pair(dstRank)->send(this, slot, offset, nbytes);
}

void
UnboundBuffer::recv(int srcRank, uint64_t slot, size_t offset, size_t nbytes)
{
	recv(std::vector<int>{srcRank}, slot, offset, nbytes);
}

void
UnboundBuffer::recv(std::vector<int> srcRanks, uint64_t slot, size_t offset, size_t nbytes)
{
	if (nbytes == kUnspecifiedByteCount) {
		GLOO_ENFORCE(offset <= size, "scalex: offset past the buffer");
		nbytes = size - offset;
	}
	GLOO_ENFORCE(offset <= size && nbytes <= size - offset, "scalex: recv past the buffer");
	for (int r : srcRanks)
		ctx_->pair(r);
	std::lock_guard<std::mutex> lk(ctx_->dev_->mu_);
	for (int r : srcRanks) {
		Pair *p = ctx_->pair(r);
		if (!p->error_.empty()) {
			error_ = p->error_;
			return;
		}
	}
	ctx_->posted_.push_back(PostedRecv{this, std::move(srcRanks), slot, offset, nbytes});
	ctx_->deliverKept();
}

} // namespace

std::shared_ptr<::gloo::transport::Device>
CreateDevice()
{
	return std::make_shared<Device>();
}

} // namespace sxgloo

extern "C" int
sx_gloo_counter(const char *name, uint64_t *value)
{
	using namespace sxgloo;
	std::map<std::string, uint64_t> sums;
	bool known = false;

	{
		std::lock_guard<std::mutex> glk(g.mu);
		sums = g.closed;
	}
	/* open links: never while holding g.mu (pairs take it under mu_) */
	std::vector<Device *> devs;
	{
		std::lock_guard<std::mutex> glk(g.mu);
		devs.assign(g.live.begin(), g.live.end());
	}
	for (Device *d : devs) {
		std::lock_guard<std::mutex> lk(d->mu_);
		for (Context *c : d->contexts_)
			for (auto &p : c->pairs()) {
				auto *pp = static_cast<Pair *>(p.get());
				if (pp != nullptr && pp->link_open_ && !pp->closing_) {
					sx_stats_foreach(pp->link_.ctx, SX_STATS_ALL, add_counter,
							 &sums);
					pp->addLinkCounters(sums);
				}
			}
	}
	auto it = sums.find(name);
	known = it != sums.end();
	*value = known ? it->second : 0;
	if (!known) {
		/* a counter that exists but no link has had yet reads 0 */
		static const char *const names[] = {"tx_bytes", "rx_bytes", "tx_frames",
						    "rx_frames", "qp_retransmits", "qp_tx_bytes",
						    "qp_rx_bytes", "fault_drop_tx", "fault_drop_rx",
						    "fault_reorder_tx", "link_copy_bytes",
						    "link_write_bytes", "link_read_bytes"};
		for (const char *n : names)
			if (strcmp(n, name) == 0)
				return 0;
		return -ENOENT;
	}
	return 0;
}
