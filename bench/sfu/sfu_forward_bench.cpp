// SFU forwarding throughput: one publisher fanned out to N subscribers through the real path, on
// one thread, with no socket.
//
// Run it (a plain executable, not a test; the default RelWithDebInfo build is -O2):
//   cmake -S . -B build-bench -G Ninja -DCONCLAVE_TESTS=OFF -DCONCLAVE_LAYERS="common;ice;dtls;srtp;rtp;rtcp;net;transport;sfu"
//   ninja -C build-bench sfu_forward_bench
//   build-bench/bench/sfu/sfu_forward_bench            # all profiles, N = 1, 10, 100
//   build-bench/bench/sfu/sfu_forward_bench --quick    # shorter runs
//   options: --gcm or --cm (one SRTP profile), --fanout=N (one N, skips the SRTP-alone lines),
//   --proxy (each line again with every subscriber's transport on another worker, below)
// Where the time goes:
//   valgrind --tool=callgrind --toggle-collect='*BenchHost::dispatch*' SFU_BENCH --quick --gcm --fanout=10
//   (SFU_BENCH: the path of the executable above)
//   callgrind_annotate --inclusive=yes callgrind.out.<pid> | head -60
//
// Each run uses fresh consumers (new SSRCs, a key frame first) and stays below 32768 packets per
// consumer (a limit from before StreamRewriter compared extended sequence numbers).
//
// What one forwarded packet costs here is what MediaWorker::dispatch() does for a datagram of a
// publisher: route by source address, WebRtcTransport::receive (SRTP unprotect, RTP parse),
// Router::onTransportRtp (producer stats and NACK cache), then per consumer Consumer::writePacket
// (copy + SSRC/seq/ts/PT rewrite + extension remap) and SRTP protect into the send batch. Every
// transport is a real WebRtcTransport, connected by a real ICE check and DTLS handshake with a
// browser side (tests/transport/browser_peer.h), so the SRTP sessions, profiles and keys are the
// ones a call would have. The send batch is a ring of 64 x 2048-byte slots like net::SendBatch,
// but "flushing" it only counts. Incoming packets are SRTP-protected by the publisher's browser
// side before the timed part. Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so the
// figures are per core even on a busy machine.
//
// --proxy (the "proxy" lines): the same, but every subscribe transport is a ProxyTransport for a
// transport another media worker hosts (docs/fanout.md), so what is timed is the room's home
// worker's share of a forwarded packet: the rewrite into a record of the link's ring, the
// record's commit and, once per receive round of 32, the batch time and the doorbell as
// MediaWorker does them. Two MediaWorkers are made and linked (connectWorkers) for their Fanouts
// but never started: no thread, nothing goes through their sockets. The transport worker's side
// (Fanout::drain: read and pop each record; it hosts nothing here, so every record counts as
// stale) runs between the timed parts, on this thread, each time the records of a timed part
// would fill half the 4 MiB ring; its cost is not in the figures.
//
// Allocations: malloc/calloc/realloc and operator new are replaced in this executable and counted
// while the timed part runs. "new" counts C++ allocations (Conclave's code, the standard library);
// "malloc" counts C allocations made directly (OpenSSL, libc). The first few allocations
// seen in a timed part are printed with a backtrace.
#include <execinfo.h>
#include <openssl/ssl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocation_hooks.h"
#include "common/certificate.h"
#include "common/log.h"
#include "rtp/captured_packets.h"
#include "rtp/packet.h"
#include "sfu/fanout.h"
#include "sfu/router.h"
#include "sfu/worker.h"
#include "transport/browser_peer.h"

// ---- allocation counting -------------------------------------------------------------------------

namespace {

std::atomic<bool> gCounting{false};
std::atomic<bool> gTracing{false};  // record backtraces of allocations (forwarding windows only)
std::atomic<uint64_t> gMallocs{0};
std::atomic<uint64_t> gNews{0};
thread_local bool tInHook = false;

constexpr int kMaxTraces = 2;
constexpr int kTraceDepth = 12;
std::array<std::array<void*, kTraceDepth>, kMaxTraces> gTraces{};
std::array<int, kMaxTraces> gTraceDepths{};
std::atomic<int> gTraceCount{0};

void noteAllocation(std::atomic<uint64_t>& counter) {
  if (!gCounting.load(std::memory_order_relaxed) || tInHook) return;
  counter.fetch_add(1, std::memory_order_relaxed);
  const int slot = gTraceCount.load(std::memory_order_relaxed);
  if (slot >= kMaxTraces || !gTracing.load(std::memory_order_relaxed)) return;
  tInHook = true;
  gTraceDepths[slot] = backtrace(gTraces[slot].data(), kTraceDepth);
  gTraceCount.store(slot + 1, std::memory_order_relaxed);
  tInHook = false;
}

}  // namespace

namespace conclave::bench {
void noteAllocation(bool cxx) { ::noteAllocation(cxx ? gNews : gMallocs); }
}  // namespace conclave::bench

namespace {

using namespace conclave;
using common::TimePoint;
using transport::WebRtcTransport;
using transport::test::BrowserPeer;

// ---- timing --------------------------------------------------------------------------------------

int64_t cpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct AllocationWindow {
  explicit AllocationWindow(bool trace = false) {
    mMallocs = gMallocs.load();
    mNews = gNews.load();
    gTracing = trace;
    gCounting = true;
  }
  void stop() {
    gCounting = false;
    gTracing = false;
    mallocs = gMallocs.load() - mMallocs;
    news = gNews.load() - mNews;
  }
  uint64_t mallocs = 0, news = 0;

 private:
  uint64_t mMallocs, mNews;
};

void printTraces() {
  const int n = gTraceCount.load();
  for (int i = 0; i < n; ++i) {
    std::printf("allocation %d seen while forwarding:\n", i + 1);
    std::fflush(stdout);
    backtrace_symbols_fd(gTraces[i].data(), gTraceDepths[i], STDOUT_FILENO);
  }
}

// ---- the SFU side without a socket ---------------------------------------------------------------

// TransportHost + PacketSink: MediaWorker's routing, and a send batch that only counts. During
// setup it records datagrams so that the browser sides can be answered.
class BenchHost final : public sfu::TransportHost, public transport::PacketSink {
 public:
  // `fanout`: the home worker's side of the links, for subscribe transports on another worker.
  BenchHost(const dtls::DtlsContext& context, sfu::Fanout* fanout) : mContext(context), mFanout(fanout), mSlots(64) {}

  transport::PacketSink& sink() override { return *this; }
  const dtls::DtlsContext& dtlsContext() override { return mContext; }
  void registerTransport(const std::string& ufrag, WebRtcTransport* t) override { mByUfrag[ufrag] = t; }
  void registerEndpoint(const net::Endpoint& e, WebRtcTransport* t) override { mByEndpoint.try_emplace(e, t); }
  void unregisterEndpoint(const net::Endpoint& e, WebRtcTransport* t) override {
    if (auto it = mByEndpoint.find(e); it != mByEndpoint.end() && it->second == t) mByEndpoint.erase(it);
  }
  void unregisterTransport(WebRtcTransport* t) override {
    std::erase_if(mByUfrag, [t](const auto& e) { return e.second == t; });
    std::erase_if(mByEndpoint, [t](const auto& e) { return e.second == t; });
  }
  uint64_t nextTransportId() override { return ++mIds; }
  std::unique_ptr<transport::MediaTransport> createRemoteTransport(int worker, const WebRtcTransport::Params& params,
                                                                   sfu::ProxyTransport::Listener& listener) override {
    return mFanout ? mFanout->createProxy(worker, params, listener) : nullptr;
  }

  std::span<uint8_t> slot() override {
    if (mCount == mSlots.size()) mCount = 0;  // "sendmmsg"
    return mSlots[mCount];
  }
  void commit(size_t length, const net::Endpoint& to) override {
    if (mRecord)
      mRecorded.push_back({std::vector<uint8_t>(mSlots[mCount].begin(), mSlots[mCount].begin() + length), {}, to});
    ++mCount;
    ++committed;
  }

  // As MediaWorker::dispatch / route.
  [[gnu::noinline]] void dispatch(std::span<uint8_t> datagram, const net::Endpoint& from, TimePoint now) {
    WebRtcTransport* t = nullptr;
    if (ice::isStun(datagram)) {
      if (auto msg = ice::StunMessage::parse(datagram))
        if (auto user = msg->username())
          if (auto it = mByUfrag.find(std::string(user->substr(0, user->find(':')))); it != mByUfrag.end())
            t = it->second;
    }
    if (!t)
      if (auto it = mByEndpoint.find(from); it != mByEndpoint.end()) t = it->second;
    if (t) t->receive(datagram, from, now);
  }

  void setRecording(bool on) { mRecord = on; }
  std::vector<transport::test::Datagram> takeRecorded() { return std::exchange(mRecorded, {}); }

  uint64_t committed = 0;

 private:
  const dtls::DtlsContext& mContext;
  sfu::Fanout* mFanout;
  std::vector<std::array<uint8_t, 2048>> mSlots;
  size_t mCount = 0;
  bool mRecord = true;
  std::vector<transport::test::Datagram> mRecorded;
  std::unordered_map<std::string, WebRtcTransport*> mByUfrag;
  std::unordered_map<net::Endpoint, WebRtcTransport*> mByEndpoint;
  uint64_t mIds = 0;
};

// ---- packets -------------------------------------------------------------------------------------

// A captured Chromium packet, payload cut or extended (with filler) to `size` bytes in total.
std::vector<uint8_t> sized(std::span<const uint8_t> captured, size_t size) {
  std::vector<uint8_t> p(captured.begin(), captured.end());
  const size_t old = p.size();
  p.resize(size);
  for (size_t i = old; i < size; ++i) p[i] = static_cast<uint8_t>(i * 131 + 7);
  return p;
}

enum class Media { Video, Audio };

struct Stream {
  Media media;
  uint32_t ssrc;
  std::vector<uint8_t> keyTemplate, deltaTemplate;
  uint32_t tsStep;
};

Stream videoStream() {
  return {Media::Video, 0xfc91b0bd, sized(testdata::kChromeVp8Key, 1200), sized(testdata::kChromeVp8Tid2, 1200), 3000};
}
Stream audioStream() {
  return {Media::Audio, 0xd0dd2577, sized(testdata::kChromeOpus, 100), sized(testdata::kChromeOpus, 100), 960};
}

// Incoming datagrams: SRTP made by the publisher's browser side, ready to be fed in place.
struct Incoming {
  std::vector<std::array<uint8_t, 2048>> buffers;
  std::vector<size_t> lengths;
};

// Packets `next`, `next + 1`, ...; the first is a key frame when `key` is set.
void protectBatch(BrowserPeer& publisher, const Stream& s, uint32_t& next, size_t count, Incoming& out,
                  bool key = false) {
  out.buffers.resize(count);
  out.lengths.resize(count);
  for (size_t i = 0; i < count; ++i, ++next) {
    const auto& tmpl = key && i == 0 ? s.keyTemplate : s.deltaTemplate;
    auto& buf = out.buffers[i];
    std::copy(tmpl.begin(), tmpl.end(), buf.begin());
    auto p = rtp::RtpPacket::parse(std::span(buf).first(tmpl.size()));
    p->setSequenceNumber(static_cast<uint16_t>(next));
    p->setTimestamp(next / 3 * s.tsStep);
    size_t len = tmpl.size();
    if (publisher.srtp().protectRtp(buf, len) != srtp::SrtpResult::Ok) std::abort();
    out.lengths[i] = len;
  }
}

// ---- one call: a publisher with a video and an audio track, N subscribers of both ----------------

// For --proxy: the room's home worker and the worker that hosts the subscribers' transports,
// linked and never started (their Fanouts only).
struct ProxyWorkers {
  static constexpr int kHome = 0, kTransport = 1;
  explicit ProxyWorkers(const dtls::DtlsContext& server)
      : home(kHome, "127.0.0.1", 0, server, nullptr), transport(kTransport, "127.0.0.1", 0, server, nullptr) {
    sfu::connectWorkers({&home, &transport}, config);
  }
  const sfu::FanoutLink& link() { return *home.fanout().outboundLink(kTransport); }
  // The transport worker's drain until it has read every record written.
  void drain() {
    auto& l = link();
    auto read = [&] {
      const auto& t = l.transport();
      return t.mediaSent.load() + t.mediaStale.load() + t.mediaExpired.load();
    };
    while (read() != l.home().mediaRecords.load()) transport.fanout().drain();
  }

  sfu::FanoutLink::Config config;
  sfu::MediaWorker home;
  sfu::MediaWorker transport;
};

class Call {
 public:
  Call(const dtls::DtlsContext& server, const dtls::DtlsContext& browser, size_t subscribers, bool proxy)
      : mServer(server),
        mBrowser(browser),
        mWorkers(proxy ? std::make_unique<ProxyWorkers>(server) : nullptr),
        mHost(server, mWorkers ? &mWorkers->home.fanout() : nullptr),
        mRouter(mHost, nullptr) {
    mPublisher = connect("pub", sfu::TransportRole::Publish, net::Endpoint::v4({10, 0, 0, 1}, 5000));
    sfu::ProducerSpec v{1, sfu::MediaKind::Video, mVideo.ssrc, std::nullopt, 96, 90000, {{2, 2}, {3, 0}, {4, 0}}};
    sfu::ProducerSpec a{2, sfu::MediaKind::Audio, mAudio.ssrc, std::nullopt, 111, 48000, {{1, 1}, {3, 0}, {4, 0}}};
    mRouter.addProducer("pub", v);
    mRouter.addProducer("pub", a);
    for (size_t i = 0; i < subscribers; ++i) {
      auto address = net::Endpoint::v4({10, 1, static_cast<uint8_t>(i / 250), static_cast<uint8_t>(1 + i % 250)}, 6000);
      mSubscribers.push_back(connect("sub" + std::to_string(i), sfu::TransportRole::Subscribe, address));
    }
  }

  // Every subscriber gets a new consumer of `s` (new SSRC, new output stream), and `count`
  // packets, a key frame first, go through the recording path: true if every subscriber
  // decrypts them all. Runs stay below 32768 packets per consumer (see the report: the
  // StreamRewriter stops forwarding after that many packets of one segment).
  bool restartConsumers(const Stream& s, uint32_t& next, size_t count) {
    const uint64_t producer = s.media == Media::Video ? 1 : 2;
    const uint8_t pt = s.media == Media::Video ? 98 : 109;
    ++mGeneration;
    for (size_t i = 0; i < mSubscribers.size(); ++i) {
      const uint64_t id = mGeneration * 1'000'000 + 2 * i + producer;
      mRouter.removeConsumer(id - 1'000'000);
      mRouter.addConsumer("sub" + std::to_string(i),
                          sfu::ConsumerSpec{id, producer, static_cast<uint32_t>(id * 2654435761u), pt});
    }
    return warmUp(s, next, count);
  }

  srtp::SrtpProfile profile() { return *mPublisher->profile(); }

  // Sends `count` packets through the recording path and checks every subscriber decrypts them
  // (through proxies: that the Router wrote a record for each, and none was refused).
  bool warmUp(const Stream& s, uint32_t& next, size_t count) {
    if (mWorkers) {
      const uint64_t before = mWorkers->link().home().mediaRecords.load();
      const uint64_t forwarded = mRouter.stats().rtpForwarded;
      Incoming in;
      protectBatch(*mPublisher, s, next, count, in, true);
      const TimePoint now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < count; ++i)
        mHost.dispatch(std::span(in.buffers[i]).first(in.lengths[i]), mPublisher->address(), now);
      mWorkers->home.fanout().wakePeers();
      mWorkers->drain();
      const uint64_t expected = count * mSubscribers.size();
      return mRouter.stats().rtpForwarded - forwarded == expected &&
             mWorkers->link().home().mediaRecords.load() - before == expected &&
             mWorkers->link().home().mediaRefused.load() == 0;
    }
    mPublisher->rtcp.clear();
    for (auto& sub : mSubscribers) sub->rtp.clear();
    mHost.setRecording(true);
    Incoming in;
    protectBatch(*mPublisher, s, next, count, in, true);
    const TimePoint now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i)
      mHost.dispatch(std::span(in.buffers[i]).first(in.lengths[i]), mPublisher->address(), now);
    pump(now);
    mHost.setRecording(false);
    for (auto& sub : mSubscribers)
      if (sub->rtp.size() != count || !sub->srtpErrors.empty()) return false;
    return true;
  }

  struct Result {
    uint64_t incoming = 0, forwarded = 0;
    int64_t cpuNs = 0;
    uint64_t news = 0, mallocs = 0;
  };

  // Timed: `count` incoming packets in batches of `batch` (through proxies, in parts whose records
  // fit half the ring, the transport worker's drain between them untimed).
  Result run(const Stream& s, uint32_t& next, size_t count, size_t batch) {
    Result r;
    Incoming in;
    const uint64_t forwardedBefore = mRouter.stats().rtpForwarded;
    sfu::Fanout* fanout = mWorkers ? &mWorkers->home.fanout() : nullptr;
    // A record: the packet as written (a few bytes of header extensions more at most), the
    // record's header, the ring's header and padding.
    const size_t recordBytes = s.deltaTemplate.size() + 64;
    const size_t part =
        mWorkers
            ? std::clamp<size_t>(mWorkers->config.mediaRingBytes / 2 / (recordBytes * mSubscribers.size()), 1, batch)
            : batch;
    for (size_t done = 0; done < count; done += batch) {
      protectBatch(*mPublisher, s, next, batch, in);
      const net::Endpoint from = mPublisher->address();
      for (size_t first = 0; first < batch; first += part) {
        const size_t end = std::min(batch, first + part);
        AllocationWindow window(true);
        const int64_t t0 = cpuNanos();
        TimePoint now{};
        for (size_t i = first; i < end; ++i) {
          if (i == first || (i & 31) == 0) {                // once per recvmmsg batch
            if (fanout && i != first) fanout->wakePeers();  // MediaWorker::flush, after the round
            now = std::chrono::steady_clock::now();
            if (fanout) fanout->setBatchTime(now);
          }
          mHost.dispatch(std::span(in.buffers[i]).first(in.lengths[i]), from, now);
        }
        if (fanout) fanout->wakePeers();
        r.cpuNs += cpuNanos() - t0;
        window.stop();
        r.news += window.news;
        r.mallocs += window.mallocs;
        if (mWorkers) mWorkers->drain();
      }
      r.incoming += batch;
    }
    r.forwarded = mRouter.stats().rtpForwarded - forwardedBefore;
    return r;
  }

 private:
  std::unique_ptr<BrowserPeer> connect(const std::string& id, sfu::TransportRole role, const net::Endpoint& address) {
    auto peer = std::make_unique<BrowserPeer>(mBrowser, address, transport::test::fingerprintOf(mServer));
    mRouter.addParticipant(id);
    sfu::TransportSpec spec;
    spec.localIce = ice::IceCredentials::generate();
    spec.remoteIce = peer->ice();
    spec.remoteFingerprint = transport::test::fingerprintOf(mBrowser);
    if (mWorkers && role == sfu::TransportRole::Subscribe) {
      // On the other worker, which never runs: the home worker is told "connected" here, as the
      // transport worker would post it once DTLS is up there. Proxies take slots 0, 1, ... of the
      // link in the order they are made, each of generation 1.
      spec.worker = ProxyWorkers::kTransport;
      mRouter.setTransport(id, role, spec);
      const sfu::FanoutHandle handle{mProxies++, 1};
      mWorkers->home.fanout().proxyConnected(ProxyWorkers::kTransport, handle,
                                             std::string(srtp::srtpProfileParams(profile()).name));
      return peer;
    }
    mRouter.setTransport(id, role, spec);
    mPeers[address] = peer.get();
    const TimePoint now = std::chrono::steady_clock::now();
    peer->sendCheck(spec.localIce, true);
    peer->startDtls(now);
    pumpOne(*peer, now);
    if (!peer->dtlsConnected()) {
      std::fprintf(stderr, "setup: %s did not connect\n", id.c_str());
      std::exit(1);
    }
    return peer;
  }

  void pumpOne(BrowserPeer& peer, TimePoint now) {
    for (int round = 0; round < 50; ++round) {
      auto out = peer.takeOutbox();
      for (auto& d : out) mHost.dispatch(d, peer.address(), now);
      auto back = mHost.takeRecorded();
      for (auto& d : back)
        if (auto it = mPeers.find(d.to); it != mPeers.end()) it->second->receive(d.bytes, now);
      if (out.empty() && back.empty()) break;
    }
  }
  void pump(TimePoint now) {
    auto back = mHost.takeRecorded();
    for (auto& d : back)
      if (auto it = mPeers.find(d.to); it != mPeers.end()) it->second->receive(d.bytes, now);
  }

  const dtls::DtlsContext& mServer;
  const dtls::DtlsContext& mBrowser;
  std::unique_ptr<ProxyWorkers> mWorkers;  // --proxy; before the Router, whose proxies use them
  BenchHost mHost;
  sfu::Router mRouter;
  std::unique_ptr<BrowserPeer> mPublisher;
  std::vector<std::unique_ptr<BrowserPeer>> mSubscribers;
  std::map<net::Endpoint, BrowserPeer*> mPeers;
  Stream mVideo = videoStream();
  Stream mAudio = audioStream();
  uint64_t mGeneration = 0;
  uint32_t mProxies = 0;

 public:
  bool proxy() const { return mWorkers != nullptr; }
  const Stream& video() const { return mVideo; }
  const Stream& audio() const { return mAudio; }
};

// ---- SRTP alone, for scale -----------------------------------------------------------------------

srtp::SrtpKeyMaterial keys(srtp::SrtpProfile profile, uint8_t seed) {
  const auto params = srtp::srtpProfileParams(profile);
  std::vector<uint8_t> key(params.masterKeyLength, seed), salt(params.masterSaltLength, static_cast<uint8_t>(seed + 1));
  return *srtp::SrtpKeyMaterial::make(profile, key, salt);
}

struct SrtpAlone {
  double protectNs, unprotectNs, protectMallocs, unprotectMallocs;
};

// Cost of one protect and one unprotect of a packet made from `tmpl`.
SrtpAlone srtpAlone(srtp::SrtpProfile profile, const std::vector<uint8_t>& tmpl, size_t count) {
  srtp::SrtpSession tx(profile, keys(profile, 1), keys(profile, 2));
  srtp::SrtpSession rx(profile, keys(profile, 2), keys(profile, 1));
  std::vector<std::array<uint8_t, 2048>> bufs(count);
  std::vector<size_t> lens(count);
  for (size_t i = 0; i < count; ++i) {
    std::copy(tmpl.begin(), tmpl.end(), bufs[i].begin());
    common::storeU16(&bufs[i][2], static_cast<uint16_t>(i));
    lens[i] = tmpl.size();
  }
  // The first packet of an SSRC creates its stream state: not counted.
  size_t len0 = lens[0];
  if (tx.protectRtp(bufs[0], len0) != srtp::SrtpResult::Ok || rx.unprotectRtp(bufs[0], len0) != srtp::SrtpResult::Ok)
    std::abort();
  AllocationWindow protectAllocs;
  int64_t t0 = cpuNanos();
  for (size_t i = 1; i < count; ++i)
    if (tx.protectRtp(bufs[i], lens[i]) != srtp::SrtpResult::Ok) std::abort();
  const int64_t protect = cpuNanos() - t0;
  protectAllocs.stop();
  AllocationWindow unprotectAllocs;
  t0 = cpuNanos();
  for (size_t i = 1; i < count; ++i)
    if (rx.unprotectRtp(bufs[i], lens[i]) != srtp::SrtpResult::Ok) std::abort();
  const int64_t unprotect = cpuNanos() - t0;
  unprotectAllocs.stop();
  const double n = double(count - 1);
  return {double(protect) / n, double(unprotect) / n, double(protectAllocs.mallocs + protectAllocs.news) / n,
          double(unprotectAllocs.mallocs + unprotectAllocs.news) / n};
}

const char* profileName(srtp::SrtpProfile p) {
  return p == srtp::SrtpProfile::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
}

struct Options {
  bool quick = false;
  bool gcm = true, cm = true, srtpAlone = true;
  bool proxy = false;  // each line again through proxies
  std::vector<size_t> fanouts{1, 10, 100};
  int repetitions = 5;
};

void report(srtp::SrtpProfile profile, const Stream& s, size_t n, bool proxy, std::vector<Call::Result> results) {
  uint64_t news = 0, mallocs = 0, forwarded = 0;
  bool complete = true;
  for (const auto& x : results) {
    news += x.news;
    mallocs += x.mallocs;
    forwarded += x.forwarded;
    complete = complete && x.forwarded == x.incoming * n;
  }
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.cpuNs < b.cpuNs; });
  const auto& r = results[results.size() / 2];  // the median run
  const double nsPerForwarded = double(r.cpuNs) / double(r.forwarded);
  std::printf("%-24s %-5s %-5s %4zu %5zu | %10.0f %10.0f | %7.0f %8.0f | %7.3f %8.3f%s\n", profileName(profile),
              s.media == Media::Video ? "video" : "audio", proxy ? "proxy" : "local", n, s.keyTemplate.size(),
              1e9 * double(r.incoming) / double(r.cpuNs), 1e9 / nsPerForwarded, nsPerForwarded,
              double(r.cpuNs) / double(r.incoming), double(news) / double(forwarded),
              double(mallocs) / double(forwarded), complete ? "" : "  (NOT ALL FORWARDED)");
  std::fflush(stdout);
}

// Video, then audio, through one call's subscribers.
void benchCall(Call& call, size_t n, const Options& o) {
  for (const Stream* s : {&call.video(), &call.audio()}) {
    // About the same number of forwarded packets for every N, under 32768 per consumer.
    const size_t target = o.quick ? 100'000 : 600'000;
    const size_t count = std::clamp<size_t>(target / n, 1024, 28'672) / 1024 * 1024;
    std::vector<Call::Result> results;
    uint32_t next = 0;
    for (int rep = 0; rep < o.repetitions; ++rep) {
      if (!call.restartConsumers(*s, next, 16)) {
        std::printf("warm-up failed: not every packet reached every subscriber (through proxies: the ring)\n");
        std::exit(1);
      }
      results.push_back(call.run(*s, next, count, 1024));
    }
    report(call.profile(), *s, n, call.proxy(), results);
  }
}

void benchProfile(const dtls::DtlsContext& server, const dtls::DtlsContext& browser, const Options& o) {
  for (size_t n : o.fanouts) {
    for (bool proxy : {false, true}) {
      if (proxy && !o.proxy) continue;
      Call call(server, browser, n, proxy);
      benchCall(call, n, o);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      options.quick = true;
      options.repetitions = 2;
    } else if (arg == "--gcm") {
      options.cm = false;
    } else if (arg == "--cm") {
      options.gcm = false;
    } else if (arg == "--proxy") {
      options.proxy = true;
    } else if (arg.rfind("--fanout=", 0) == 0) {
      options.fanouts = {std::stoul(arg.substr(9))};
      options.srtpAlone = false;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--gcm|--cm] [--fanout=N] [--proxy]\n", argv[0]);
      return 2;
    }
  }
  common::initLogging({"warn", false});
  void* warm[4];
  backtrace(warm, 4);  // loads libgcc_s now, not inside a counted allocation

  const dtls::DtlsContext server(common::Certificate::generateSelfSigned("sfu"));
  // The browser sides offer both profiles (the SFU, as DTLS server, picks GCM), or only
  // AES_CM_128_HMAC_SHA1_80 (what Chromium gets when it is the DTLS server).
  const dtls::DtlsContext browserGcm(common::Certificate::generateSelfSigned("browser"));
  const dtls::DtlsContext browserCm(common::Certificate::generateSelfSigned("browser"));
  if (SSL_CTX_set_tlsext_use_srtp(browserCm.native(), "SRTP_AES128_CM_SHA1_80") != 0) return 1;

  if (options.srtpAlone)
    std::printf("SRTP alone (per packet, CPU time; allocations made inside SrtpSession and OpenSSL):\n");
  for (auto profile : {srtp::SrtpProfile::AeadAes128Gcm, srtp::SrtpProfile::AesCm128HmacSha1_80}) {
    if (!options.srtpAlone) break;
    for (const auto& tmpl : {videoStream().deltaTemplate, audioStream().deltaTemplate}) {
      const auto r = srtpAlone(profile, tmpl, options.quick ? 20'000 : 100'000);
      std::printf("  %-24s %5zu bytes: protect %6.0f ns %5.2f allocs | unprotect %6.0f ns %5.2f allocs\n",
                  profileName(profile), tmpl.size(), r.protectNs, r.protectMallocs, r.unprotectNs, r.unprotectMallocs);
    }
  }
  std::printf("\nForwarding, one thread (median of %d runs; rates per core from thread CPU time):\n",
              options.repetitions);
  std::printf("%-24s %-5s %-5s %4s %5s | %10s %10s | %7s %8s | %7s %8s\n", "profile", "media", "path", "N", "bytes",
              "in pkt/s", "fwd pkt/s", "ns/fwd", "ns/in", "new/fwd", "malloc/fwd");
  if (options.gcm) benchProfile(server, browserGcm, options);
  if (options.cm) benchProfile(server, browserCm, options);
  printTraces();
  return 0;
}
