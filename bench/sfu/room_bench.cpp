// A whole room through the real media worker: publishers with three simulcast VP8 layers and
// audio, subscribers of everyone else, over real UDP sockets on 127.0.0.1.
//
// Run it (a plain executable, not a test; the default RelWithDebInfo build is -O2):
//   cmake -S . -B build-bench -G Ninja -DCONCLAVE_TESTS=OFF -DCONCLAVE_FUZZ=OFF
//         -DCONCLAVE_LAYERS="common;ice;dtls;srtp;rtp;rtcp;net;transport;sfu;bwe"   (one command)
//   ninja -C build-bench sfu_room_bench
//   build-bench/bench/sfu/sfu_room_bench                       # 10 x 10, rate scale 1, 10 s
//   build-bench/bench/sfu/sfu_room_bench --rate-scale=1,2,4,8  # one timed window per scale
//   options: --publishers=N --subscribers=M (participant i publishes if i < N and subscribes to
//   every other publisher if i < M), --seconds=S (each timed window), --rate-scale=X[,Y...]
//   (X times the packet rate of every stream: frames and audio packets come X times as often,
//   sizes and mix unchanged), --sample=K (subscribers decrypt and check 1 packet in K; the rest
//   only have their clear RTP header read: a knob to keep the clients' CPU out of the way when
//   looking for the worker's saturation point; latency is then measured on the decrypted ones),
//   --warmup=S (at most this long for the layer allocation to settle; default 40),
//   --trace-allocations (backtraces of 1 in 16 worker-thread allocations, to tell those inside
//   libsrtp2 from the others; it costs worker CPU, so the rate figures of such a run are lower),
//   --srtp=gcm|cm (the SRTP profile the browsers offer: AEAD_AES_128_GCM, the default, or
//   AES_CM_128_HMAC_SHA1_80), --no-gso (the worker sends every datagram as its own message, without UDP GSO),
//   --no-subscriber-bwe (the consumers without transport-cc, as for a browser that did not
//   negotiate it: no per-subscriber estimate, layers follow the tiles' sizes only; so that a
//   search for the saturation point is not confounded by estimates that fall when the worker
//   is late, see below), --audio-only (publishers send Opus only; no video producers or
//   consumers), --workers=2 (two media workers linked for fan-out, docs/fanout.md; the room and
//   every publish transport on worker 0) with --fanout-from=N (subscribers N and up have their
//   subscribe transports, and their browsers' target port, on worker 1; without it all stay on
//   worker 0 and worker 1 idles).
//
// What runs: one sfu::MediaWorker (its thread, epoll loop, recvmmsg/sendmmsg on one UDP socket),
// set up the way conference/media_room.cpp does it: a Router for the room, per participant a
// publish and a subscribe transport, a simulcast VP8 producer (rids q/h/f learned from the rid
// extension, mid/rid/repaired-rid ids as Chrome offers them, transport-cc kept) and an Opus
// producer, per subscriber a video consumer (RTX stream, transport-cc) and an audio consumer of
// every other publisher. The "browsers" are transport::test::BrowserPeer (real ICE checks with
// USE-CANDIDATE, a real DTLS handshake, SRTP keyed from it), each on its own UDP socket, driven by
// client threads of this process (one for the publishers, one for the subscribers):
//   - publishers send, per layer, 30 frames/s of VP8 (payload descriptor with 15-bit picture ID
//     and TL0PICIDX, keyframes with the frame header that names their size, answered to PLI/FIR;
//     q: 1 x 625 bytes, h: 2 x 1040, f: 6 x 1040 per frame, about 150 k / 500 k / 1.5 M bit/s of
//     payload) and Opus at 50 packets/s (100 bytes, audio level), all numbered with the
//     transport-wide sequence number, SRTP-protected, a frame's packets in one sendmmsg; a sender
//     report per stream every second. Frames of different publishers are spread over the frame
//     interval, as unsynchronised cameras are.
//   - subscribers receive with recvmmsg and kernel receive timestamps, decrypt and check each
//     packet (authentication, that it is the publisher this consumer's SSRC belongs to, VP8
//     picture IDs continuous per output stream), and send NACKs for gaps in video at once,
//     transport-cc feedback every 50 ms and a receiver report (loss, jitter, LSR/DLSR) every
//     second, as browsers do, so the SFU's per-subscriber estimate runs on real feedback. They
//     answer the SFU's consent checks and send their own every 5 s.
// Subscribers ask for different sizes (per tile 1280, 640 or 320 pixels wide, varying by
// subscriber and publisher; setConsumerMaxLayer as MediaRoom::setVideoPreferences maps widths),
// and the allocation by estimate does the rest. The timed windows start once the estimates have
// ramped up (no layer switch and the median estimate steady for 3 s).
//
// Figures, per timed window:
//   - in / out: datagrams the worker received and sent (its counters), forwarded RTP (router
//     stats), per second of wall time. Worker CPU: the worker thread's CPU time
//     (pthread_getcpuclockid, read on the worker thread at the window's edges) over wall time.
//     "Forwarded RTP/s per core": forwarded packets per second of worker CPU time, so the figure
//     holds on a busy machine. That CPU time includes the kernel's work in the worker's
//     recvmmsg/sendmmsg, and on loopback the delivery into the receivers' sockets, which on a
//     NIC partly runs elsewhere; it also includes the worker's fixed costs (epoll wake-ups, the
//     50 ms tick over every transport), which weigh more at low rates. Client threads' CPU is
//     shown too: they, the kernel and anything else share the machine's cores.
//   - latency: subscriber's kernel receive timestamp (SO_TIMESTAMPNS) minus the publisher's
//     steady clock read just before it SRTP-protected the packet (carried in the payload's last
//     bytes, where SFrame ciphertext would be; 1 us buckets). It includes: the publisher's
//     protect of the rest of its burst and sendmmsg, loopback into the worker's socket, waiting
//     there (and for the worker thread to be scheduled), the worker's receive batch (up to 32
//     datagrams), route, SRTP unprotect, routing and rewriting, SRTP protect for every
//     subscriber, sendmmsg (up to 256 per call, UDP GSO per subscriber), and loopback into the subscriber's socket. It
//     excludes the subscriber's wake-up and decrypt.
//   - allocations: malloc/calloc/realloc and operator new made on the worker thread during the
//     window (everything it does: forwarding, RTCP, feedback, timers).
//
// Measured (RelWithDebInfo, -O2, g++ 12; SRTP_AEAD_AES_128_GCM; Debian's libsrtp2, built on NSS;
// a 2-core VM shared with browser e2e runs whose load came and went, so the figures move with
// it: ranges are over the runs of one afternoon):
//   10 x 10, estimation on, x1: all 90 video consumers on the layer their tile asks for (30 q,
//   30 h, 30 f; estimates 9.2-10 Mbit/s); in 3,429 datagrams/s (3,200 RTP/s), out 12,995/s,
//   forwarded 12,600 RTP/s; worker 7.3-13.4 % of a core = 94,000-172,000 forwarded RTP/s per
//   core (5.8-10.6 us per forwarded packet, epoll and tick costs included); in->out p50
//   172-290 us, p99 346 us-1.1 ms, max 5.8-8.8 ms; no loss, no SRTP or stream errors, picture
//   IDs continuous. 6.5 worker allocations per forwarded packet; --trace-allocations puts 99.9 %
//   of them inside libsrtp2 (NSS's PK11_Encrypt/Decrypt under it allocate per call) and the
//   other ~0.01 per packet in the 50 ms tick re-arming its timer (EventLoop::setTimer:
//   std::function and map node) and in OpenSSL's HMAC_Init_ex / HMAC_Final for STUN integrity
//   (consent checks and their answers); none in Conclave's RTP path.
//   Since Conclave does SRTP itself (issue 13; libsrtp2 is now only the tests' oracle, so
//   --trace-allocations finds nothing inside it): 10 x 10, x1, with the machine at load 6.7 from
//   other jobs: 0.009 worker allocations per forwarded packet (the tick and STUN ones above),
//   5.2 us worker CPU per forwarded packet = 191,000 forwarded RTP/s per core, in->out p50
//   154 us, p99 492 us, max 2.2 ms; no loss, no SRTP errors.
//   10 x 10, --no-subscriber-bwe --rate-scale=1,2,4,8,10,12,16,20 (1-3 runs a row): forwarded RTP/s;
//   worker CPU per forwarded packet and forwarded RTP/s per core; in->out p50 / p99:
//     x1    12,600/s  4.6-9.5 us  105,000-218,000/core  146-252 us / 0.3-1.0 ms
//     x2    25,200/s  3.6-5.3 us  189,000-279,000/core  248-290 us / 0.8-2.1 ms
//     x4    50,400/s  3.6-5.9 us  169,000-275,000/core  248-348 us / 0.9-3.8 ms
//     x8   100,800/s  3.5-4.5 us  223,000-287,000/core  0.25-1.4 ms / 4.6-37 ms
//     x10  126,000/s  3.8 us      265,000/core          1.2 ms / 69 ms
//     x12  122,000-142,000/s (5-29 % lost, gaps)       74-88 ms / 118-156 ms
//     x16  113,000-142,000/s (28-44 % lost)            85-102 ms / 116-169 ms
//     x20  116,000/s (56 % lost)                       101 ms / 234 ms
//   The cost per packet falls with the rate as recvmmsg/sendmmsg batches fill, and at x1 it
//   varied from 4.6 to 10.6 us between runs, on a busy and on an idle machine alike (a VM:
//   wake-ups from idle and shared caches): read the per-core figures with that spread. From x8
//   on the machine saturates, not the worker thread: with its two cores shared fairly among the
//   worker, the two client threads (40-70 % of a core together) and whatever else runs, the
//   worker never got more than about 60 % of a core, and forwarding levels off at 115,000-
//   142,000 RTP/s with the sockets overflowing (ksoftirqd ~0 %, so the loopback delivery is in
//   the worker's CPU time). The per-core figures suggest a worker with a core of its own would
//   carry 200,000-280,000 forwarded RTP/s of this mix (~4 packets out per packet in) before it
//   saturates; that was not measured here.
//   Under load the estimates fall: in runs while the e2e browsers were busy (in->out p99 36-360
//   ms), the subscribers' estimates dropped from 10 to 0.3-4 Mbit/s over loopback and video was
//   paused for most consumers at x2 and above. A likely contributor on the server side (not
//   measured apart): a packet's transport-cc send time is the `now` of its receive batch
//   (Router::forward -> stampTransportCc), not when sendmmsg ran, so the time the worker spends
//   late (or descheduled) before sending reads as path delay to the delay-based estimator. (A
//   local A/B, with the stamp taken when each packet is written, run side by side: neither
//   variant collapsed at that time, so this is not confirmed.)
#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "allocation_hooks.h"
#include "clients/proc_stat.h"
#include "common/certificate.h"
#include "common/log.h"
#include "room_clients.h"
#include "sfu/worker.h"

// ---- allocation counting (worker thread only) ----------------------------------------------------

namespace {

std::atomic<bool> gCounting{false};
std::atomic<bool> gTracing{false};  // --trace-allocations
std::atomic<uint64_t> gMallocs{0};
std::atomic<uint64_t> gNews{0};
thread_local bool tWorkerThread = false;
thread_local bool tInHook = false;
thread_local uint64_t tAllocations = 0;

// With --trace-allocations, every kTraceEvery-th allocation of the worker thread gets a
// backtrace: those made inside libsrtp2 (and the crypto library under it) are counted apart, the
// first few others are kept to be printed.
constexpr uint64_t kTraceEvery = 16;
constexpr int kMaxTraces = 512;
constexpr int kTraceDepth = 24;
std::array<std::array<void*, kTraceDepth>, kMaxTraces> gTraces{};
std::array<int, kMaxTraces> gTraceDepths{};
std::atomic<int> gTraceCount{0};
std::atomic<uint64_t> gTraced{0};
std::atomic<uint64_t> gTracedInSrtp{0};

void traceAllocation() {
  std::array<void*, kTraceDepth> frames{};
  const int depth = backtrace(frames.data(), kTraceDepth);
  for (int i = 0; i < depth; ++i) {
    Dl_info info{};
    if (dladdr(frames[size_t(i)], &info) != 0 && info.dli_fname && std::strstr(info.dli_fname, "libsrtp2")) {
      gTracedInSrtp.fetch_add(1, std::memory_order_relaxed);
      gTraced.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  gTraced.fetch_add(1, std::memory_order_relaxed);
  const int slot = gTraceCount.load(std::memory_order_relaxed);
  if (slot >= kMaxTraces) return;
  gTraces[size_t(slot)] = frames;
  gTraceDepths[size_t(slot)] = depth;
  gTraceCount.store(slot + 1, std::memory_order_relaxed);
}

void noteAllocation(std::atomic<uint64_t>& counter) {
  if (!tWorkerThread || tInHook || !gCounting.load(std::memory_order_relaxed)) return;
  counter.fetch_add(1, std::memory_order_relaxed);
  if (!gTracing.load(std::memory_order_relaxed) || ++tAllocations % kTraceEvery != 0) return;
  tInHook = true;
  traceAllocation();
  tInHook = false;
}

}  // namespace

namespace conclave::bench {
void noteAllocation(bool cxx) { ::noteAllocation(cxx ? gNews : gMallocs); }
}  // namespace conclave::bench

namespace {

using namespace conclave;
using namespace conclave::bench;

// ---- setup ---------------------------------------------------------------------------------------

struct NullObserver final : sfu::RouterObserver {
  void onTransportFailed(const std::string&, sfu::TransportRole, std::string_view reason) override {
    std::fprintf(stderr, "transport failed: %.*s\n", int(reason.size()), reason.data());
    ++failures;
  }
  std::atomic<int> failures{0};
};

struct Options {
  int publishers = 10, subscribers = 10;
  double seconds = 10;
  std::vector<double> scales{1.0};
  int sample = 1;
  double warmup = 40;
  bool traceAllocations = false;
  bool subscriberBwe = true;
  bool gso = true;
  srtp::SrtpProfile srtp = srtp::SrtpProfile::AeadAes128Gcm;
  bool audioOnly = false;
  // Media workers (1 or 2; the room's home is worker 0) and the first subscriber whose subscribe
  // transport worker 1 hosts (docs/fanout.md); -1: none.
  int workers = 1;
  int fanoutFrom = -1;
  bool hostedOnSecond(int subscriber) const { return workers > 1 && fanoutFrom >= 0 && subscriber >= fanoutFrom; }
};

// The layer a tile of `width` pixels asks for (MediaRoom::setVideoPreferences, layerForWidth).
int layerForWidth(uint32_t width) { return width <= 320 ? 0 : width <= 640 ? 1 : 2; }

// The machine around the worker, from /proc: CPU ticks of every core (all, and idle), and of the
// kernel's softirq threads (ksoftirqd/N). Under load the kernel leaves part of the loopback
// delivery that the worker's sendmmsg starts to those threads, and that part is then not in the
// worker thread's CPU time (this kernel has no IRQ_TIME_ACCOUNTING: softirq work done inline
// is).
struct MachineTicks {
  uint64_t all = 0, idle = 0, ksoftirqd = 0;

  static MachineTicks read() {
    MachineTicks t;
    std::ifstream stat("/proc/stat");
    std::string label;
    std::array<uint64_t, 8> v{};  // user nice system idle iowait irq softirq steal
    stat >> label;
    for (auto& x : v) stat >> x;
    if (stat && label == "cpu") {
      for (auto x : v) t.all += x;
      t.idle = v[3] + v[4];
    }
    for (int pid : ksoftirqdPids()) t.ksoftirqd += cpuTicksOf(pid).value_or(0);
    return t;
  }

  // The pids of the ksoftirqd/N threads, found once.
  static const std::vector<int>& ksoftirqdPids() {
    static const std::vector<int> pids = [] {
      std::vector<int> found;
      DIR* proc = ::opendir("/proc");
      while (const dirent* e = proc ? ::readdir(proc) : nullptr) {
        const std::string_view name(e->d_name);
        int pid = 0;
        if (std::from_chars(name.data(), name.data() + name.size(), pid).ptr != name.data() + name.size()) continue;
        std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
        std::string comm;
        if (std::getline(in, comm) && comm.rfind("ksoftirqd/", 0) == 0) found.push_back(pid);
      }
      if (proc) ::closedir(proc);
      return found;
    }();
    return pids;
  }
};

constexpr int kMaxWorkers = 2;

struct WindowSnapshot {
  int64_t cpuNs = 0;  // the home worker's
  uint64_t received = 0, sent = 0, forwarded = 0, retransmitted = 0, probes = 0, switches = 0, keyframeRequests = 0;
  uint64_t mallocs = 0, news = 0;
  TimePoint at{};
  // Per worker (0: home): CPU time, datagrams sent. The fan-out link 0 -> 1: records the home
  // worker wrote and those the ring refused; what worker 1 sent, found stale, dropped for age.
  std::array<int64_t, kMaxWorkers> workerCpuNs{};
  std::array<uint64_t, kMaxWorkers> workerSent{};
  uint64_t linkRecords = 0, linkRefused = 0, linkSent = 0, linkStale = 0, linkExpired = 0;
};

// /proc/loadavg's first three fields: the machine is shared, its load goes with every figure.
std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

class Room {
 public:
  explicit Room(const Options& o) : mOptions(o) {}

  void setUp() {
    for (int w = 0; w < mOptions.workers; ++w)
      mWorkers.push_back(std::make_unique<sfu::MediaWorker>(w, "127.0.0.1", 0, mServerContext, &mObserver));
    std::vector<sfu::MediaWorker*> workers;
    for (auto& w : mWorkers) workers.push_back(w.get());
    if (workers.size() > 1) sfu::connectWorkers(workers);
    bool gso = true;
    for (auto& w : mWorkers) gso = w->setSegmentation(mOptions.gso) && gso;
    std::printf("UDP GSO on the workers' sends: %s\n", gso ? "on" : "off");
    for (auto& w : mWorkers) {
      w->start();
      onWorker(*w, [this](sfu::MediaWorker& worker) {
        tWorkerThread = true;
        pthread_getcpuclockid(pthread_self(), &mWorkerClocks[size_t(worker.index())]);
      });
    }
    const int participants = std::max(mOptions.publishers, mOptions.subscribers);
    const auto fingerprint = transport::test::fingerprintOf(mBrowserContext);
    auto sfuOf = [this](int worker) { return net::Endpoint::v4({127, 0, 0, 1}, mWorkers[size_t(worker)]->port()); };
    PublisherConfig publisherConfig;
    publisherConfig.video = !mOptions.audioOnly;
    for (int i = 0; i < participants; ++i) {
      if (i < mOptions.publishers) {
        mBrowsers.push_back(std::make_unique<Browser>(mBrowserContext, mServerContext, sfuOf(0), false));
        mPublishers.push_back(std::make_unique<Publisher>(i, *mBrowsers.back(), publisherConfig));
      }
      if (i < mOptions.subscribers) {
        const net::Endpoint sfu = sfuOf(mOptions.hostedOnSecond(i) ? 1 : 0);
        mBrowsers.push_back(std::make_unique<Browser>(mBrowserContext, mServerContext, sfu, true));
        mSubscribers.push_back(std::make_unique<Subscriber>(i, *mBrowsers.back()));
        mSubscribers.back()->feedback = mOptions.subscriberBwe;
      }
    }
    // The Router as MediaRoom sets it up for Chrome's offers (ids from sdp/capabilities.cpp).
    std::vector<std::function<void(sfu::Router&)>> steps;
    uint64_t nextId = 1;
    std::vector<std::pair<uint64_t, uint64_t>> producerIds;  // video, audio per publisher
    for (auto& p : mPublishers) {
      const std::string id = name(p->index);
      sfu::TransportSpec spec;
      spec.localIce = ice::IceCredentials::generate();
      spec.remoteIce = p->browser.peer.ice();
      spec.remoteFingerprint = fingerprint;
      p->browser.serverIce = spec.localIce;
      sfu::ProducerSpec video;
      video.id = nextId++;
      video.kind = sfu::MediaKind::Video;
      video.payloadType = kVp8Pt;
      video.clockRate = 90000;
      video.rids = {"q", "h", "f"};
      video.mid = "0";
      video.midExtensionId = kMidId;
      video.ridExtensionId = kRidId;
      video.repairedRidExtensionId = kRepairedRidId;
      video.extensionMap = {
          {kAbsSendTimeId, kAbsSendTimeId}, {kTccId, kTccId}, {kMidId, 0}, {kRidId, 0}, {kRepairedRidId, 0}};
      video.transportCcId = kTccId;
      sfu::ProducerSpec audio;
      audio.id = nextId++;
      audio.kind = sfu::MediaKind::Audio;
      audio.ssrc = p->audioSsrc;
      audio.payloadType = kOpusPt;
      audio.clockRate = 48000;
      audio.extensionMap = {
          {kAudioLevelId, kAudioLevelId}, {kAbsSendTimeId, kAbsSendTimeId}, {kTccId, kTccId}, {kMidId, 0}};
      audio.transportCcId = kTccId;
      producerIds.emplace_back(video.id, audio.id);
      const bool withVideo = !mOptions.audioOnly;
      steps.push_back([id, spec, video, audio, withVideo](sfu::Router& r) {
        r.addParticipant(id);
        r.setTransport(id, sfu::TransportRole::Publish, spec);
        if (withVideo) r.addProducer(id, video);
        r.addProducer(id, audio);
      });
    }
    for (auto& s : mSubscribers) {
      const std::string id = name(s->index);
      sfu::TransportSpec spec;
      spec.localIce = ice::IceCredentials::generate();
      spec.remoteIce = s->browser.peer.ice();
      spec.remoteFingerprint = fingerprint;
      if (mOptions.hostedOnSecond(s->index)) spec.worker = 1;
      s->browser.serverIce = spec.localIce;
      std::vector<sfu::ConsumerSpec> consumers;
      std::vector<std::pair<uint64_t, int>> maxLayers;
      for (size_t k = 0; k < mPublishers.size(); ++k) {
        const Publisher& p = *mPublishers[k];
        if (p.index == s->index) continue;
        const uint32_t base = 0x60000000u + uint32_t(s->index) * 0x10000 + uint32_t(p.index) * 16;
        const uint8_t tcc = mOptions.subscriberBwe ? kTccId : 0;
        sfu::ConsumerSpec v{nextId++, producerIds[k].first, base | 1, kVp8Pt, base | 3, kRtxPt, tcc};
        sfu::ConsumerSpec a{nextId++, producerIds[k].second, base | 5, kOpusPt, std::nullopt, 0, tcc};
        if (!mOptions.audioOnly) {
          consumers.push_back(v);
          const uint32_t width = kWidths[size_t(s->index + p.index) % kLayers];
          maxLayers.emplace_back(v.id, layerForWidth(width));
          mVideoConsumers.push_back({s->index, v.id});
          s->bySsrc[v.ssrc] = {s->streams.size(), false};
          s->bySsrc[*v.rtxSsrc] = {s->streams.size(), true};
          s->streams.push_back(InStream{.publisher = p.index, .video = true, .ssrc = v.ssrc, .rtxSsrc = *v.rtxSsrc});
        }
        consumers.push_back(a);
        s->bySsrc[a.ssrc] = {s->streams.size(), false};
        s->streams.push_back(InStream{.publisher = p.index, .video = false, .ssrc = a.ssrc, .clockRate = 48000});
      }
      steps.push_back([id, spec, consumers, maxLayers](sfu::Router& r) {
        r.addParticipant(id);
        r.setTransport(id, sfu::TransportRole::Subscribe, spec);
        for (const auto& c : consumers) r.addConsumer(id, c);
        for (auto [consumer, layer] : maxLayers) r.setConsumerMaxLayer(consumer, layer);
      });
    }
    onWorker([&steps](sfu::MediaWorker& w) {
      for (auto& step : steps) step(w.router("room"));
    });
    connect();
  }

  // ICE (a check with USE-CANDIDATE from each browser), then DTLS, over the real sockets.
  void connect() {
    for (auto& b : mBrowsers) b->peer.sendCheck(b->serverIce, true);
    pumpUntil([&] {
      return std::all_of(mBrowsers.begin(), mBrowsers.end(), [](auto& b) { return !b->peer.stunAnswers.empty(); });
    });
    for (auto& b : mBrowsers) b->peer.startDtls(std::chrono::steady_clock::now());
    pumpUntil([&] {
      return std::all_of(mBrowsers.begin(), mBrowsers.end(), [](auto& b) { return b->peer.dtlsConnected(); });
    });
    for (auto& b : mBrowsers) {
      b->peer.stunAnswers.clear();
      b->nextConsent = std::chrono::steady_clock::now() + kConsentInterval;
    }
  }

  template <typename Done>
  void pumpUntil(Done done) {
    const auto end = std::chrono::steady_clock::now() + 20s;
    std::vector<pollfd> fds;
    fds.reserve(mBrowsers.size());
    for (auto& b : mBrowsers) fds.push_back({b->socket->fd(), POLLIN, 0});
    net::ReceiveBatch receive(64);
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) {
        std::fprintf(stderr, "setup: ICE or DTLS did not complete\n");
        std::exit(1);
      }
      for (auto& b : mBrowsers) {
        if (auto t = b->peer.dtls().nextTimeout(); t && *t <= std::chrono::steady_clock::now())
          b->peer.dtls().handleTimeout(std::chrono::steady_clock::now());
        b->flushPeer();
        b->send.flush();
      }
      ::poll(fds.data(), fds.size(), 10);
      for (auto& b : mBrowsers)
        while (size_t n = receive.receive(*b->socket))
          for (size_t k = 0; k < n; ++k) b->peer.receive(receive.data(k), std::chrono::steady_clock::now());
    }
  }

  std::string_view srtpProfile() const {
    const auto profile = mBrowsers.front()->peer.profile();
    return profile ? srtp::srtpProfileParams(*profile).name : "none";
  }

  void startClients() {
    mPublisherThread.publishers.clear();
    for (auto& p : mPublishers) mPublisherThread.publishers.push_back(p.get());
    for (auto& s : mSubscribers) mSubscriberThread.subscribers.push_back(s.get());
    mSubscriberThread.sample = mOptions.sample;
    for (ClientThread* t : {&mPublisherThread, &mSubscriberThread}) {
      t->thread = std::thread([t] { t->loop(); });
      pthread_getcpuclockid(t->thread.native_handle(), &t->cpuClock);
    }
  }

  void stopClients() {
    for (ClientThread* t : {&mPublisherThread, &mSubscriberThread}) {
      t->stop = true;
      t->thread.join();
    }
  }

  // Waits until the subscribers' estimates have ramped up: no consumer switched layer and the
  // median estimate moved less than 3 % in the last 3 s (at most `limit` s). Returns the time.
  double settle(double limit) {
    const auto begin = std::chrono::steady_clock::now();
    std::vector<std::pair<uint64_t, uint32_t>> history;  // per second: layer switches, median estimate
    for (int second = 1; std::chrono::steady_clock::now() - begin < std::chrono::duration<double>(limit); ++second) {
      std::this_thread::sleep_for(1s);
      history.emplace_back(snapshot(false).switches, allocation().medianEstimate);
      if (second % 5 == 0) {
        std::printf("  warm-up %d s:", second);
        printAllocation();
      }
      if (history.size() < 4) continue;
      const auto& [switches, estimate] = history.back();
      const auto& [switches3, estimate3] = history[history.size() - 4];
      if (switches == switches3 && std::abs(double(estimate) - double(estimate3)) < 0.03 * double(estimate3)) break;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  }

  // On the worker thread: its CPU time, counters and router stats; starts or ends the count of
  // its allocations.
  WindowSnapshot snapshot(std::optional<bool> counting) {
    WindowSnapshot s;
    // The other workers first (their CPU and counters read from here: a benchmark's view, not
    // synchronised with their threads), then the home worker on its thread.
    for (size_t w = 1; w < mWorkers.size(); ++w) {
      s.workerCpuNs[w] = cpuNanos(mWorkerClocks[w]);
      s.workerSent[w] = mWorkers[w]->counters().datagramsSent.load();
    }
    if (const sfu::FanoutLink* link = mWorkers[0]->fanout().outboundLink(1)) {
      s.linkSent = link->transport().mediaSent.load();
      s.linkStale = link->transport().mediaStale.load();
      s.linkExpired = link->transport().mediaExpired.load();
    }
    onWorker([&](sfu::MediaWorker& w) {
      if (counting && !*counting) gCounting = false;
      s.cpuNs = cpuNanos(mWorkerClocks[0]);
      s.workerCpuNs[0] = s.cpuNs;
      s.workerSent[0] = w.counters().datagramsSent.load();
      if (const sfu::FanoutLink* link = w.fanout().outboundLink(1)) {
        s.linkRecords = link->home().mediaRecords.load();
        s.linkRefused = link->home().mediaRefused.load();
      }
      s.at = std::chrono::steady_clock::now();
      s.received = w.counters().datagramsReceived.load();
      s.sent = w.counters().datagramsSent.load();
      const auto& st = w.router("room").stats();
      s.forwarded = st.rtpForwarded;
      s.retransmitted = st.retransmitted;
      s.probes = st.probePackets;
      s.switches = st.layerSwitches;
      s.keyframeRequests = st.keyframeRequests;
      s.mallocs = gMallocs.load();
      s.news = gNews.load();
      if (counting && *counting) gCounting = true;
    });
    return s;
  }

  struct Allocation {
    std::array<int, kLayers + 1> layers{};  // video consumers per current layer (first: none, paused)
    std::array<int, kLayers> wanted{};      // ... per layer their tile asks for
    uint32_t minEstimate = 0, medianEstimate = 0, maxEstimate = 0;
  };
  Allocation allocation() {
    Allocation a;
    std::vector<uint32_t> estimates;
    onWorker([&](sfu::MediaWorker& w) {
      auto& r = w.router("room");
      for (auto [sub, id] : mVideoConsumers) {
        if (const auto* c = r.consumer(id)) {
          const int slot = std::max(c->currentLayer(), -1) + 1;
          ++a.layers[static_cast<size_t>(slot)];
          ++a.wanted[size_t(std::clamp(c->maxLayer(), 0, kLayers - 1))];
        }
      }
      for (auto& s : mSubscribers)
        if (const auto* b = r.bandwidth(name(s->index))) estimates.push_back(b->estimateBps());
    });
    std::sort(estimates.begin(), estimates.end());
    if (!estimates.empty()) {
      a.minEstimate = estimates.front();
      a.medianEstimate = estimates[estimates.size() / 2];
      a.maxEstimate = estimates.back();
    }
    return a;
  }
  void printAllocation() {
    const Allocation a = allocation();
    std::printf("  video consumers by layer: none %d, q %d, h %d, f %d (tiles ask for q %d, h %d, f %d)", a.layers[0],
                a.layers[1], a.layers[2], a.layers[3], a.wanted[0], a.wanted[1], a.wanted[2]);
    if (mOptions.subscriberBwe)
      std::printf("; subscriber estimates: min %.2f, median %.2f, max %.2f Mbit/s", a.minEstimate / 1e6,
                  a.medianEstimate / 1e6, a.maxEstimate / 1e6);
    std::printf("\n");
  }

  void window(double scale) {
    gRateScale = scale;
    std::this_thread::sleep_for(2s);  // the new rate reaches every stream
    for (ClientThread* t : {&mPublisherThread, &mSubscriberThread}) {
      t->stats.reset();  // the threads do not write `stats` while not recording
    }
    const int64_t pubCpu0 = cpuNanos(mPublisherThread.cpuClock), subCpu0 = cpuNanos(mSubscriberThread.cpuClock);
    const MachineTicks machine0 = MachineTicks::read();
    gRecording = true;
    gTraceCount = 0;
    gTraced = 0;
    gTracedInSrtp = 0;
    const WindowSnapshot a = snapshot(true);
    std::this_thread::sleep_for(std::chrono::duration<double>(mOptions.seconds));
    const WindowSnapshot b = snapshot(false);
    gRecording = false;
    const int64_t pubCpu = cpuNanos(mPublisherThread.cpuClock) - pubCpu0;
    const int64_t subCpu = cpuNanos(mSubscriberThread.cpuClock) - subCpu0;
    const MachineTicks machine1 = MachineTicks::read();
    std::this_thread::sleep_for(100ms);  // the threads finish the packet they were at
    ClientStats st;
    st.merge(mPublisherThread.stats);
    st.merge(mSubscriberThread.stats);
    const double wall = std::chrono::duration<double>(b.at - a.at).count();
    const double cpu = double(b.cpuNs - a.cpuNs) / 1e9;
    const uint64_t forwarded = b.forwarded - a.forwarded;
    const uint64_t allocs = (b.mallocs - a.mallocs) + (b.news - a.news);
    std::printf(
        "rate x%.2f, %.1f s: in %.0f dgram/s (publishers sent %.0f RTP/s), out %.0f dgram/s, forwarded "
        "%.0f RTP/s (+%.0f RTX, %.0f probe pkt/s)\n",
        scale, wall, double(b.received - a.received) / wall, double(st.rtpSent) / wall, double(b.sent - a.sent) / wall,
        double(forwarded) / wall, double(b.retransmitted - a.retransmitted) / wall, double(b.probes - a.probes) / wall);
    std::printf(
        "  %sworker CPU %.1f %% of a core: %.0f forwarded RTP/s per core, %.2f us CPU per forwarded packet; "
        "client threads CPU: publishers %.1f %%, subscribers %.1f %%; load average %s\n",
        mWorkers.size() > 1 ? "home " : "", 100 * cpu / wall, double(forwarded) / cpu, cpu * 1e6 / double(forwarded),
        100 * double(pubCpu) / 1e9 / wall, 100 * double(subCpu) / 1e9 / wall, loadAverage().c_str());
    if (mWorkers.size() > 1) printWorkers(a, b, wall, forwarded);
    const double ticks = double(sysconf(_SC_CLK_TCK));
    std::printf(
        "  machine: %.0f %% idle over all cores; kernel softirq threads %.1f %% of a core (not in the worker's "
        "CPU time)\n",
        100 * double(machine1.idle - machine0.idle) / double(std::max<uint64_t>(machine1.all - machine0.all, 1)),
        100 * double(machine1.ksoftirqd - machine0.ksoftirqd) / ticks / wall);
    std::printf(
        "  in->out latency (publisher before protect -> subscriber kernel receive), %llu packets: p50 %.0f us, "
        "p99 %.0f us, max %.0f us\n",
        static_cast<unsigned long long>(st.latency.count), st.latency.percentileUs(0.5), st.latency.percentileUs(0.99),
        double(st.latency.maxNs) / 1e3);
    std::printf(
        "  subscribers: %llu RTP (%llu decrypted: q %llu, h %llu, f %llu, audio %llu), %llu lost (gaps, before "
        "repair), %llu NACKed, %llu RTX, %llu probes, %llu keyframes; errors: srtp %llu, wrong stream %llu, picture ID "
        "jumps %llu\n",
        static_cast<unsigned long long>(st.rtpReceived), static_cast<unsigned long long>(st.decrypted),
        static_cast<unsigned long long>(st.byLayer[0]), static_cast<unsigned long long>(st.byLayer[1]),
        static_cast<unsigned long long>(st.byLayer[2]), static_cast<unsigned long long>(st.byLayer[3]),
        static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(st.nacked),
        static_cast<unsigned long long>(st.rtxReceived), static_cast<unsigned long long>(st.probesReceived),
        static_cast<unsigned long long>(st.keyframes), static_cast<unsigned long long>(st.srtpFailures),
        static_cast<unsigned long long>(st.wrongPublisher), static_cast<unsigned long long>(st.pictureIdJumps));
    std::printf(
        "  publishers got: %llu PLI, %llu FIR, %llu NACK, %llu transport-cc feedback, %llu RR; layer "
        "switches %llu, keyframe requests %llu\n",
        static_cast<unsigned long long>(st.plis), static_cast<unsigned long long>(st.firs),
        static_cast<unsigned long long>(st.nacksToPublishers), static_cast<unsigned long long>(st.feedbackToPublishers),
        static_cast<unsigned long long>(st.reportsToPublishers),
        static_cast<unsigned long long>(b.switches - a.switches),
        static_cast<unsigned long long>(b.keyframeRequests - a.keyframeRequests));
    std::printf("  worker-thread allocations: %llu (%.3f per forwarded packet)",
                static_cast<unsigned long long>(allocs), double(allocs) / double(std::max<uint64_t>(forwarded, 1)));
    if (gTracing && gTraced > 0) {
      const double inSrtp = double(gTracedInSrtp) / double(gTraced);
      std::printf(
          "; 1 in %llu traced: %.1f %% inside libsrtp2 and its crypto library, so about %.3f per forwarded "
          "packet there and %.3f elsewhere\n",
          static_cast<unsigned long long>(kTraceEvery), 100 * inSrtp,
          inSrtp * double(allocs) / double(std::max<uint64_t>(forwarded, 1)),
          (1 - inSrtp) * double(allocs) / double(std::max<uint64_t>(forwarded, 1)));
    } else {
      std::printf("\n");
    }
    if (st.framesSkipped > 0)
      std::printf("  the publisher thread fell behind: %llu frames skipped\n",
                  static_cast<unsigned long long>(st.framesSkipped));
    printAllocation();
    printTraces();
    std::fflush(stdout);
  }

  // With two workers: each one's CPU and sends, the cost per forwarded packet on each side of the
  // fan-out link, and the link's counters.
  void printWorkers(const WindowSnapshot& a, const WindowSnapshot& b, double wall, uint64_t forwarded) {
    const double records = double(b.linkRecords - a.linkRecords);
    double allCpu = 0;
    for (size_t w = 0; w < mWorkers.size(); ++w) {
      const double cpu = double(b.workerCpuNs[w] - a.workerCpuNs[w]) / 1e9;
      allCpu += cpu;
      const double sent = double(b.workerSent[w] - a.workerSent[w]);
      std::printf("  worker %zu%s: CPU %.1f %% of a core, sent %.0f dgram/s (%.2f us CPU per datagram sent)\n", w,
                  w == 0 ? " (home)" : "", 100 * cpu / wall, sent / wall, cpu * 1e6 / std::max(sent, 1.0));
    }
    std::printf("  both workers: %.2f us CPU per forwarded packet, %.0f forwarded RTP/s per core\n",
                allCpu * 1e6 / std::max(double(forwarded), 1.0), double(forwarded) / std::max(allCpu, 1e-9));
    // The records are the forwarded RTP for worker 1's subscribers and the sender reports
    // forwarded to them (one per publisher's stream per second each).
    std::printf(
        "  link 0 -> 1: records written %.0f/s, refused (ring full) %.0f; worker 1 sent %.0f/s, stale %.0f, "
        "expired (older than its maximum queue delay) %.0f\n",
        records / wall, double(b.linkRefused - a.linkRefused), double(b.linkSent - a.linkSent) / wall,
        double(b.linkStale - a.linkStale), double(b.linkExpired - a.linkExpired));
  }

  // The traced allocations outside libsrtp2, one backtrace per call path with its count.
  void printTraces() {
    const size_t n = size_t(std::min(gTraceCount.load(), kMaxTraces));
    std::vector<std::pair<size_t, size_t>> paths;  // first trace of a path, count
    for (size_t i = 0; i < n; ++i) {
      auto same = [&](const auto& p) {
        return gTraceDepths[p.first] == gTraceDepths[i] && gTraces[p.first] == gTraces[i];
      };
      if (auto it = std::find_if(paths.begin(), paths.end(), same); it != paths.end()) ++it->second;
      else paths.emplace_back(i, 1);
    }
    std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [first, count] : paths) {
      std::printf("  %zu traced allocation(s) on the worker thread outside libsrtp2 from:\n", count);
      std::fflush(stdout);
      backtrace_symbols_fd(gTraces[first].data(), gTraceDepths[first], STDOUT_FILENO);
    }
  }

  void tearDown() {
    stopClients();
    for (auto& w : mWorkers) w->stop();
    for (auto& w : mWorkers) {
      const auto& c = w->counters();
      std::printf("worker %d sends: %llu datagrams in %llu messages (%.2f datagrams per message)\n", w->index(),
                  static_cast<unsigned long long>(c.datagramsSent.load()),
                  static_cast<unsigned long long>(c.messagesSent.load()),
                  static_cast<double>(c.datagramsSent.load()) /
                      static_cast<double>(std::max<uint64_t>(1, c.messagesSent.load())));
    }
    if (mObserver.failures > 0) std::printf("transport failures: %d\n", mObserver.failures.load());
  }

 private:
  static std::string name(int i) { return "p" + std::to_string(i); }

  // On the home worker (the room's).
  void onWorker(const std::function<void(sfu::MediaWorker&)>& task) { onWorker(*mWorkers[0], task); }
  void onWorker(sfu::MediaWorker& worker, const std::function<void(sfu::MediaWorker&)>& task) {
    std::promise<void> done;
    worker.post([&](sfu::MediaWorker& w) {
      task(w);
      done.set_value();
    });
    if (done.get_future().wait_for(10s) != std::future_status::ready) {
      std::fprintf(stderr, "the worker did not run a task within 10 s\n");
      std::exit(1);
    }
  }

  const Options mOptions;
  const dtls::DtlsContext mServerContext{common::Certificate::generateSelfSigned("sfu")};
  // The browsers offer the one profile measured (the SFU, as in production, both).
  const dtls::DtlsContext mBrowserContext = [this] {
    dtls::DtlsContext context(common::Certificate::generateSelfSigned("browser"));
    context.restrictSrtpProfile(mOptions.srtp);
    return context;
  }();
  NullObserver mObserver;
  std::vector<std::unique_ptr<sfu::MediaWorker>> mWorkers;  // [0]: the room's home
  std::array<clockid_t, kMaxWorkers> mWorkerClocks{};
  std::vector<std::unique_ptr<Browser>> mBrowsers;
  std::vector<std::unique_ptr<Publisher>> mPublishers;
  std::vector<std::unique_ptr<Subscriber>> mSubscribers;
  std::vector<std::pair<int, uint64_t>> mVideoConsumers;  // subscriber, consumer id
  ClientThread mPublisherThread, mSubscriberThread;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* prefix) -> std::optional<std::string> {
      const size_t n = std::strlen(prefix);
      return arg.compare(0, n, prefix) == 0 ? std::optional(arg.substr(n)) : std::nullopt;
    };
    if (auto v = value("--publishers=")) {
      o.publishers = std::stoi(*v);
    } else if (auto v2 = value("--subscribers=")) {
      o.subscribers = std::stoi(*v2);
    } else if (auto v3 = value("--seconds=")) {
      o.seconds = std::stod(*v3);
    } else if (auto v4 = value("--sample=")) {
      o.sample = std::max(1, std::stoi(*v4));
    } else if (auto v5 = value("--warmup=")) {
      o.warmup = std::stod(*v5);
    } else if (arg == "--trace-allocations") {
      o.traceAllocations = true;
    } else if (auto v7 = value("--srtp=")) {
      if (*v7 != "gcm" && *v7 != "cm") return false;
      o.srtp = *v7 == "gcm" ? srtp::SrtpProfile::AeadAes128Gcm : srtp::SrtpProfile::AesCm128HmacSha1_80;
    } else if (arg == "--no-gso") {
      o.gso = false;
    } else if (arg == "--no-subscriber-bwe") {
      o.subscriberBwe = false;
    } else if (arg == "--audio-only") {
      o.audioOnly = true;
    } else if (auto v8 = value("--workers=")) {
      o.workers = std::stoi(*v8);
    } else if (auto v9 = value("--fanout-from=")) {
      o.fanoutFrom = std::stoi(*v9);
    } else if (auto v6 = value("--rate-scale=")) {
      o.scales.clear();
      for (size_t pos = 0; pos < v6->size();) {
        const size_t comma = std::min(v6->find(',', pos), v6->size());
        o.scales.push_back(std::stod(v6->substr(pos, comma - pos)));
        pos = comma + 1;
      }
    } else {
      return false;
    }
  }
  return o.publishers >= 1 && o.subscribers >= 1 && !o.scales.empty() && o.seconds > 0 && o.workers >= 1 &&
         o.workers <= kMaxWorkers;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s [--publishers=N] [--subscribers=M] [--seconds=S] [--rate-scale=X[,Y...]] [--sample=K] "
                 "[--warmup=S] [--trace-allocations] [--no-subscriber-bwe] [--no-gso] [--srtp=gcm|cm] [--audio-only] "
                 "[--workers=1|2] [--fanout-from=N]\n",
                 argv[0]);
    return 2;
  }
  common::initLogging({"warn", false});
  void* warm[4];
  backtrace(warm, 4);  // loads libgcc_s now, not inside a counted allocation

  gTracing = options.traceAllocations;
  Room room(options);
  room.setUp();
  std::printf(
      "room: %d publishers (%s each), %d subscribers of every other publisher; SRTP %s; %u cores online; %d "
      "worker(s)",
      options.publishers, options.audioOnly ? "Opus" : "3 simulcast VP8 layers + Opus", options.subscribers,
      std::string(room.srtpProfile()).c_str(), std::thread::hardware_concurrency(), options.workers);
  if (options.workers > 1 && options.fanoutFrom >= 0 && options.fanoutFrom < options.subscribers)
    std::printf(", subscribers %d-%d hosted by worker 1", options.fanoutFrom, options.subscribers - 1);
  std::printf("; load average %s\n", loadAverage().c_str());
  room.startClients();
  gRateScale = options.scales.front();
  const double settled = room.settle(options.warmup);
  std::printf("allocation settled after %.1f s:\n", settled);
  room.printAllocation();
  for (double scale : options.scales) room.window(scale);
  room.tearDown();
  return 0;
}
