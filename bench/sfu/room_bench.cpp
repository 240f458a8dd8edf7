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
//   --warmup=S (at most this long for the layer allocation to settle; default 30).
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
//     picture IDs continuous per output stream), and send transport-cc feedback every 50 ms and
//     a receiver report (loss, jitter, LSR/DLSR) every second, as browsers do, so the SFU's
//     per-subscriber estimate runs on real feedback. They answer the SFU's consent checks.
// Subscribers ask for different sizes (per tile 1280, 640 or 320 pixels wide, varying by
// subscriber and publisher; setConsumerMaxLayer as MediaRoom::setVideoPreferences maps widths),
// and the allocation by estimate does the rest. The timed windows start once no consumer has
// switched layer for 3 s.
//
// Figures, per timed window:
//   - in / out: datagrams the worker received and sent (its counters), forwarded RTP (router
//     stats), per second of wall time; worker CPU: the worker thread's CPU time
//     (pthread_getcpuclockid, read on the worker thread at the window's edges) over wall time;
//     "fwd/s per core": forwarded RTP packets per second of worker CPU time, so the figure holds
//     on a busy machine. Client threads' CPU is shown too (they share the machine's cores).
//   - latency: subscriber's kernel receive timestamp (SO_TIMESTAMPNS) minus the publisher's
//     steady clock read just before it SRTP-protected the packet (carried in the payload's last
//     bytes, where SFrame ciphertext would be). It includes: the publisher's protect of the rest
//     of its burst and sendmmsg, loopback into the worker's socket, waiting there, the worker's
//     receive batch (up to 32 datagrams), route, SRTP unprotect, routing and rewriting, SRTP
//     protect for every subscriber, sendmmsg (up to 64 per call), and loopback into the
//     subscriber's socket. It excludes the subscriber's wake-up and decrypt.
//   - allocations: malloc/calloc/realloc and operator new made on the worker thread during the
//     window are counted (everything it does: forwarding, RTCP, feedback, timers), and the
//     first few are printed with a backtrace.
#include <dlfcn.h>
#include <execinfo.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/certificate.h"
#include "common/log.h"
#include "ice/demux.h"
#include "net/udp_socket.h"
#include "rtcp/compound.h"
#include "rtcp/feedback.h"
#include "rtcp/header.h"
#include "rtcp/sender_report.h"
#include "rtcp/transport_cc.h"
#include "rtp/header_extensions.h"
#include "rtp/packet.h"
#include "rtp/packet_writer.h"
#include "rtp/vp8.h"
#include "sfu/worker.h"
#include "transport/browser_peer.h"

// ---- allocation counting (worker thread only) ----------------------------------------------------

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);
}

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
constexpr int kMaxTraces = 3;
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

void* newImpl(size_t size) {
  noteAllocation(gNews);
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

extern "C" void* malloc(size_t size) noexcept {
  noteAllocation(gMallocs);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) noexcept {
  noteAllocation(gMallocs);
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* p, size_t size) noexcept {
  noteAllocation(gMallocs);
  return __libc_realloc(p, size);
}
extern "C" void free(void* p) noexcept { __libc_free(p); }

void* operator new(size_t size) { return newImpl(size); }
void* operator new[](size_t size) { return newImpl(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  noteAllocation(gNews);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  noteAllocation(gNews);
  return __libc_malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }

namespace {

using namespace conclave;
using namespace std::chrono_literals;
using common::TimePoint;
using transport::test::BrowserPeer;

// ---- the wire format, as Chrome negotiates it with Conclave (sdp/capabilities.cpp) ---------------

constexpr uint8_t kAudioLevelId = 1, kAbsSendTimeId = 2, kTccId = 3, kMidId = 4, kRidId = 10, kRepairedRidId = 11;
constexpr uint8_t kVp8Pt = 96, kRtxPt = 97, kOpusPt = 111;
constexpr int kLayers = 3;
constexpr std::array<const char*, kLayers> kRids = {"q", "h", "f"};
constexpr std::array<int, kLayers> kPacketsPerFrame = {1, 2, 6};
constexpr std::array<size_t, kLayers> kPayloadBytes = {625, 1040, 1040};
constexpr std::array<uint16_t, kLayers> kWidths = {320, 640, 1280};
constexpr std::array<uint16_t, kLayers> kHeights = {180, 360, 720};
constexpr int kKeyframeFactor = 4;  // a keyframe has 4 times the packets of a delta frame
constexpr size_t kOpusBytes = 100;
constexpr common::Duration kFrameInterval = std::chrono::nanoseconds(1'000'000'000 / 30);
constexpr common::Duration kAudioInterval = 20ms;
constexpr common::Duration kFeedbackInterval = 50ms;
constexpr common::Duration kReportInterval = 1s;
constexpr common::Duration kConsentInterval = 5s;

// The payload's last bytes: who sent it and when (where SFrame ciphertext would be).
constexpr size_t kTrailer = 16;
constexpr uint16_t kMagic = 0xCB11;

int64_t nanosOf(TimePoint t) { return t.time_since_epoch().count(); }
int64_t cpuNanos(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
uint64_t ntpNow() {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  return (uint64_t(secs.count()) + 2'208'988'800ull) << 32 | ((uint64_t(nanos) << 32) / 1'000'000'000ull);
}

// ---- what the client threads record (each its own, summed after a window) -----------------------

struct Histogram {
  static constexpr size_t kBuckets = 500'000;  // 1 us each, up to 500 ms
  std::vector<uint32_t> buckets = std::vector<uint32_t>(kBuckets + 1);
  int64_t maxNs = 0;
  uint64_t count = 0;
  void add(int64_t ns) {
    buckets[std::min<size_t>(size_t(std::max<int64_t>(ns, 0) / 1000), kBuckets)]++;
    maxNs = std::max(maxNs, ns);
    ++count;
  }
  void merge(const Histogram& o) {
    for (size_t i = 0; i <= kBuckets; ++i) buckets[i] += o.buckets[i];
    maxNs = std::max(maxNs, o.maxNs);
    count += o.count;
  }
  double percentileUs(double p) const {
    const uint64_t rank = uint64_t(p * double(count));
    uint64_t seen = 0;
    for (size_t i = 0; i <= kBuckets; ++i)
      if ((seen += buckets[i]) > rank) return double(i) + 0.5;
    return double(kBuckets);
  }
};

struct ClientStats {
  uint64_t rtpSent = 0, rtcpSent = 0, framesSkipped = 0;
  uint64_t plis = 0, firs = 0, nacksToPublishers = 0, feedbackToPublishers = 0, reportsToPublishers = 0;
  uint64_t rtpReceived = 0, rtxReceived = 0, probesReceived = 0, decrypted = 0, lost = 0;
  uint64_t srtpFailures = 0, wrongPublisher = 0, pictureIdJumps = 0, keyframes = 0;
  std::array<uint64_t, kLayers + 1> byLayer{};  // video layers, then audio
  Histogram latency;
  void reset() { *this = ClientStats{}; }
  void merge(const ClientStats& o) {
    rtpSent += o.rtpSent, rtcpSent += o.rtcpSent, framesSkipped += o.framesSkipped, plis += o.plis, firs += o.firs;
    nacksToPublishers += o.nacksToPublishers, feedbackToPublishers += o.feedbackToPublishers;
    reportsToPublishers += o.reportsToPublishers, rtpReceived += o.rtpReceived, rtxReceived += o.rtxReceived;
    probesReceived += o.probesReceived, decrypted += o.decrypted, lost += o.lost, srtpFailures += o.srtpFailures;
    wrongPublisher += o.wrongPublisher, pictureIdJumps += o.pictureIdJumps, keyframes += o.keyframes;
    for (size_t i = 0; i < byLayer.size(); ++i) byLayer[i] += o.byLayer[i];
    latency.merge(o.latency);
  }
};

// Set by the main thread: whether client threads record, and the offered rate.
std::atomic<bool> gRecording{false};
std::atomic<double> gRateScale{1.0};

// ---- one browser side: a BrowserPeer on its own UDP socket ---------------------------------------

struct Browser {
  Browser(const dtls::DtlsContext& browser, const dtls::DtlsContext& server, const net::Endpoint& sfu, bool stamps)
      : socket(std::make_unique<net::UdpSocket>("127.0.0.1", 0)),
        peer(browser, net::Endpoint::v4({127, 0, 0, 1}, socket->localPort()), transport::test::fingerprintOf(server)),
        target(sfu) {
    if (stamps && !socket->enableReceiveTimestamps()) std::fprintf(stderr, "no kernel receive timestamps\n");
  }
  // What BrowserPeer queued (ICE, DTLS, answers to consent checks) goes out.
  void flushPeer() {
    for (auto& d : peer.takeOutbox()) send.send(d, target);
  }
  // Protects the plain RTP or RTCP packet written in `slot` (length `n`) and commits it.
  bool commitProtected(std::span<uint8_t> slot, size_t n, bool rtcp) {
    const auto r = rtcp ? peer.srtp().protectRtcp(slot, n) : peer.srtp().protectRtp(slot, n);
    if (r != srtp::SrtpResult::Ok) return false;
    send.commit(n, target);
    return true;
  }

  std::unique_ptr<net::UdpSocket> socket;
  BrowserPeer peer;
  net::Endpoint target;
  ice::IceCredentials serverIce;
  net::SendBatch send{*socket, 64};
  net::ReceiveBatch receive{64};
  TimePoint nextConsent{};
};

// Handles what is not SRTP (ICE, DTLS) through BrowserPeer; true if it was.
bool handleControl(Browser& b, std::span<const uint8_t> datagram, TimePoint now) {
  if (ice::classifyPacket(datagram) == ice::PacketKind::RtpRtcp) return false;
  b.peer.receive(datagram, now);
  b.peer.stunAnswers.clear();
  return true;
}

// A consent check to the SFU every 5 s, as browsers send them; DTLS retransmission timers.
void browserTimers(Browser& b, TimePoint now) {
  if (auto t = b.peer.dtls().nextTimeout(); t && *t <= now) b.peer.dtls().handleTimeout(now);
  if (b.peer.dtlsConnected() && now >= b.nextConsent) {
    b.nextConsent = now + kConsentInterval;
    b.peer.sendCheck(b.serverIce, false);
  }
  b.flushPeer();
}

// ---- publisher -----------------------------------------------------------------------------------

struct Publisher {
  Publisher(int i, Browser& b) : index(i), browser(b) {
    for (int l = 0; l < kLayers; ++l) {
      ssrc[size_t(l)] = 0x10000000u * uint32_t(l + 1) + uint32_t(i) * 16;
      seq[size_t(l)] = uint16_t(1000 * (l + 1) + i);
      pictureId[size_t(l)] = uint16_t(100 * (l + 1) + i);
      keyWanted[size_t(l)] = true;
    }
    audioSsrc = 0x40000000u + uint32_t(i) * 16;
  }

  int layerOf(uint32_t s) const {
    for (int l = 0; l < kLayers; ++l)
      if (ssrc[size_t(l)] == s) return l;
    return -1;
  }

  // One RTP packet into the send batch; the payload's first bytes are `head`, its last the trailer.
  void sendRtp(const rtp::RtpHeader& h, std::span<const rtp::ExtensionValue> ext, std::span<const uint8_t> head,
               size_t payloadBytes, uint8_t layer, ClientStats& stats) {
    std::array<uint8_t, 1200> payload{};
    std::copy(head.begin(), head.end(), payload.begin());
    for (size_t i = head.size(); i + kTrailer < payloadBytes; ++i) payload[i] = uint8_t(i * 131 + 7);
    uint8_t* t = &payload[payloadBytes - kTrailer];
    common::storeU16(t, kMagic);
    t[2] = uint8_t(index);
    t[3] = layer;
    common::storeU32(t + 4, uint32_t(frames));
    common::storeU64(t + 8, uint64_t(nanosOf(std::chrono::steady_clock::now())));
    auto slot = browser.send.slot();
    const size_t n = rtp::writeRtpPacket(slot, h, ext, std::span(payload).first(payloadBytes));
    if (n > 0 && browser.commitProtected(slot, n, false)) ++stats.rtpSent;
  }

  void sendFrame(TimePoint now, ClientStats& stats) {
    const uint32_t ts = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count() * 9 / 100);
    const std::string mid = "0";
    for (int l = 0; l < kLayers; ++l) {
      const size_t L = size_t(l);
      const bool key = keyWanted[L];
      keyWanted[L] = false;
      const int packets = kPacketsPerFrame[L] * (key ? kKeyframeFactor : 1);
      for (int p = 0; p < packets; ++p) {
        std::array<uint8_t, 2> tcc{};
        common::storeU16(tcc.data(), transportSeq++);
        const rtp::ExtensionValue ext[] = {
            {kTccId, tcc},
            {kMidId, std::span(reinterpret_cast<const uint8_t*>(mid.data()), mid.size())},
            {kRidId, std::span(reinterpret_cast<const uint8_t*>(kRids[L]), 1)}};
        rtp::RtpHeader h;
        h.marker = p + 1 == packets;
        h.payloadType = kVp8Pt;
        h.sequenceNumber = seq[L]++;
        h.timestamp = ts;
        h.ssrc = ssrc[L];
        // Descriptor: X, S (first packet), PID 0; I (15-bit picture ID), L, T (TID 0, Y).
        std::vector<uint8_t>& head = scratchHead;
        head.assign({uint8_t(p == 0 ? 0x90 : 0x80), 0xE0, uint8_t(0x80 | (pictureId[L] >> 8)), uint8_t(pictureId[L]),
                     tl0[L], 0x20});
        if (p == 0 && key) {
          // Frame tag (P = 0), start code, width and height: what SFrame leaves clear.
          head.insert(head.end(), {0x50, 0x2D, 0x01, 0x9D, 0x01, 0x2A, uint8_t(kWidths[L]), uint8_t(kWidths[L] >> 8),
                                   uint8_t(kHeights[L]), uint8_t(kHeights[L] >> 8)});
        } else if (p == 0) {
          head.insert(head.end(), {0x31, 0x07, 0x00});
        }
        sendRtp(h, ext, head, kPayloadBytes[L], uint8_t(l), stats);
      }
      pictureId[L] = uint16_t((pictureId[L] + 1) & 0x7FFF);
      ++tl0[L];
    }
    ++frames;
  }

  void sendAudio(TimePoint now, ClientStats& stats) {
    std::array<uint8_t, 2> tcc{};
    common::storeU16(tcc.data(), transportSeq++);
    const uint8_t level = uint8_t(0x80 | (30 + (audioSeq % 40)));  // voice activity, -30..-70 dBov
    const std::string mid = "1";
    const rtp::ExtensionValue ext[] = {{kAudioLevelId, std::span(&level, 1)},
                                       {kTccId, tcc},
                                       {kMidId, std::span(reinterpret_cast<const uint8_t*>(mid.data()), mid.size())}};
    rtp::RtpHeader h;
    h.payloadType = kOpusPt;
    h.sequenceNumber = audioSeq++;
    h.timestamp = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count() * 48 / 1000);
    h.ssrc = audioSsrc;
    const uint8_t toc[] = {0x78};  // Opus TOC: SILK-only wideband 20 ms
    sendRtp(h, ext, toc, kOpusBytes, kLayers, stats);
  }

  void sendReports(TimePoint now, ClientStats& stats) {
    std::array<uint8_t, 512> buf{};
    common::ByteWriter w(buf);
    const uint64_t ntp = ntpNow();
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
    for (int l = 0; l < kLayers; ++l)
      rtcp::SenderReport::write(w, ssrc[size_t(l)], {ntp, uint32_t(us * 9 / 100), 0, 0}, {});
    rtcp::SenderReport::write(w, audioSsrc, {ntp, uint32_t(us * 48 / 1000), 0, 0}, {});
    if (!w.ok()) return;
    auto slot = browser.send.slot();
    std::copy(w.written().begin(), w.written().end(), slot.begin());
    if (browser.commitProtected(slot, w.written().size(), true)) ++stats.rtcpSent;
  }

  void onRtcp(std::span<uint8_t> datagram, ClientStats& stats) {
    size_t n = datagram.size();
    if (browser.peer.srtp().unprotectRtcp(datagram, n) != srtp::SrtpResult::Ok) {
      ++stats.srtpFailures;
      return;
    }
    rtcp::CompoundReader reader(datagram.first(n));
    while (auto p = reader.next()) {
      const uint8_t type = p->header.packetType, fmt = p->header.count;
      if (type == rtcp::type::kPayloadFeedback && fmt == rtcp::fmt::kPli) {
        if (auto pli = rtcp::Pli::parse(*p); pli && layerOf(pli->mediaSsrc()) >= 0) {
          keyWanted[size_t(layerOf(pli->mediaSsrc()))] = true;
          ++stats.plis;
        }
      } else if (type == rtcp::type::kPayloadFeedback && fmt == rtcp::fmt::kFir) {
        if (auto fir = rtcp::Fir::parse(*p))
          for (size_t i = 0; i < fir->entryCount(); ++i)
            if (int l = layerOf(fir->entry(i).ssrc); l >= 0) keyWanted[size_t(l)] = true, ++stats.firs;
      } else if (type == rtcp::type::kRtpFeedback && fmt == rtcp::fmt::kNack) {
        ++stats.nacksToPublishers;  // no RTX from the publishers here: loopback loses nothing
      } else if (type == rtcp::type::kRtpFeedback && fmt == rtcp::fmt::kTransportCc) {
        ++stats.feedbackToPublishers;
      } else if (type == rtcp::type::kReceiverReport) {
        ++stats.reportsToPublishers;
      }
    }
  }

  // Sends what is due; returns when something is due next.
  TimePoint run(TimePoint now, ClientStats& stats) {
    const double scale = gRateScale.load(std::memory_order_relaxed);
    const auto frameInterval = std::chrono::duration_cast<common::Duration>(kFrameInterval / scale);
    const auto audioInterval = std::chrono::duration_cast<common::Duration>(kAudioInterval / scale);
    // A late thread catches up at most a few frames, then skips (a camera does not queue frames).
    if (now - nextFrame > 4 * frameInterval) {
      stats.framesSkipped += uint64_t((now - nextFrame) / frameInterval);
      nextFrame = now;
    }
    if (now - nextAudio > 4 * audioInterval) nextAudio = now;
    while (nextFrame <= now) {
      sendFrame(now, stats);
      nextFrame += frameInterval;
    }
    while (nextAudio <= now) {
      sendAudio(now, stats);
      nextAudio += audioInterval;
    }
    if (now >= nextReport) {
      sendReports(now, stats);
      nextReport = now + kReportInterval;
    }
    return std::min({nextFrame, nextAudio, nextReport});
  }

  void begin(TimePoint now, int count) {
    start = now;
    nextFrame = now + kFrameInterval * index / count;
    nextAudio = now + kAudioInterval * index / count;
    nextReport = now + 1s;
  }

  int index;
  Browser& browser;
  std::array<uint32_t, kLayers> ssrc{};
  std::array<uint16_t, kLayers> seq{};
  std::array<uint16_t, kLayers> pictureId{};
  std::array<uint8_t, kLayers> tl0{};
  std::array<bool, kLayers> keyWanted{};
  uint32_t audioSsrc = 0;
  uint16_t audioSeq = 1;
  uint16_t transportSeq = 1;
  uint64_t frames = 0;
  TimePoint start{}, nextFrame{}, nextAudio{}, nextReport{};
  std::vector<uint8_t> scratchHead = std::vector<uint8_t>(64);
};

// ---- subscriber ----------------------------------------------------------------------------------

// One stream a subscriber receives (a consumer's output SSRC).
struct InStream {
  int publisher = 0;
  bool video = false;
  uint32_t ssrc = 0, rtxSsrc = 0;
  uint32_t clockRate = 90000;
  bool started = false;
  uint16_t maxSeq = 0;
  uint32_t cycles = 0, baseSeq = 0;
  uint64_t received = 0, expectedPrior = 0, receivedPrior = 0;
  int64_t lastTransit = 0;
  double jitter = 0;
  bool havePicture = false;
  uint16_t lastPictureId = 0;
  uint32_t lastSr = 0;
  TimePoint lastSrAt{};
};

struct Subscriber {
  Subscriber(int i, Browser& b) : index(i), browser(b), rtcpSsrc(0x50000000u + uint32_t(i)) {
    pending.reserve(8192);
  }

  InStream* find(uint32_t ssrc, bool& rtx) {
    auto it = bySsrc.find(ssrc);
    if (it == bySsrc.end()) return nullptr;
    rtx = it->second.second;
    return &streams[it->second.first];
  }

  void onRtp(std::span<uint8_t> datagram, TimePoint arrival, uint64_t& sampleCounter, int sample,
             ClientStats& stats) {
    auto clear = rtp::RtpPacket::parse(datagram);  // the header is clear in SRTP
    if (!clear) return;
    if (auto ext = clear->extension(kTccId))
      if (auto tseq = rtp::parseTransportSequenceNumber(*ext))
        pending.emplace_back(*tseq, std::chrono::duration_cast<std::chrono::microseconds>(arrival.time_since_epoch()).count());
    bool rtx = false;
    InStream* s = find(clear->ssrc(), rtx);
    if (!s) return;
    lastSsrc = clear->ssrc();
    if (rtx) {
      size_t n = datagram.size();
      if (browser.peer.srtp().unprotectRtp(datagram, n) != srtp::SrtpResult::Ok) {
        ++stats.srtpFailures;
        return;
      }
      auto p = rtp::RtpPacket::parse(datagram.first(n));
      ++(p && p->payloadSize() == 0 ? stats.probesReceived : stats.rtxReceived);
      return;
    }
    ++stats.rtpReceived;
    countSequence(*s, clear->sequenceNumber(), clear->timestamp(), arrival, stats);
    if (++sampleCounter % uint64_t(sample) != 0) return;
    size_t n = datagram.size();
    if (browser.peer.srtp().unprotectRtp(datagram, n) != srtp::SrtpResult::Ok) {
      ++stats.srtpFailures;
      return;
    }
    ++stats.decrypted;
    auto p = rtp::RtpPacket::parse(datagram.first(n));
    if (!p || p->payloadSize() < kTrailer) return;
    auto payload = p->payload();
    const uint8_t* t = &payload[payload.size() - kTrailer];
    if (common::loadU16(t) != kMagic || t[2] != s->publisher || (t[3] == kLayers) == s->video) {
      ++stats.wrongPublisher;
      return;
    }
    ++stats.byLayer[t[3]];
    stats.latency.add(nanosOf(arrival) - int64_t(common::loadU64(t + 8)));
    if (!s->video) return;
    auto d = rtp::Vp8Descriptor::parse(payload);
    if (!d || !d->pictureId) return;
    if (d->keyframe) ++stats.keyframes;
    if (d->startOfFrame()) {
      // The output stream is continuous across layer switches only when sampling sees every
      // packet; with --sample the check is skipped.
      if (sample == 1 && s->havePicture && *d->pictureId != ((s->lastPictureId + 1) & 0x7FFF)) ++stats.pictureIdJumps;
      s->havePicture = true;
      s->lastPictureId = *d->pictureId;
    }
  }

  // RFC 3550 A.1 / A.8: extended highest sequence number, losses by gaps, interarrival jitter.
  void countSequence(InStream& s, uint16_t seq, uint32_t ts, TimePoint arrival, ClientStats& stats) {
    const int64_t arrivalUnits =
        std::chrono::duration_cast<std::chrono::microseconds>(arrival.time_since_epoch()).count() *
        int64_t(s.clockRate) / 1'000'000;
    const int64_t transit = arrivalUnits - int64_t(ts);
    if (!s.started) {
      s.started = true;
      s.maxSeq = seq;
      s.baseSeq = seq;
      s.received = 1;
      s.lastTransit = transit;
      return;
    }
    ++s.received;
    const uint16_t delta = uint16_t(seq - s.maxSeq);
    if (delta > 0 && delta < 0x8000) {
      if (seq < s.maxSeq) ++s.cycles;
      if (delta > 1) stats.lost += delta - 1u;
      s.maxSeq = seq;
    }
    const double d = std::abs(double(transit - s.lastTransit));
    s.lastTransit = transit;
    s.jitter += (d - s.jitter) / 16.0;
  }

  void onRtcp(std::span<uint8_t> datagram, TimePoint now, ClientStats& stats) {
    size_t n = datagram.size();
    if (browser.peer.srtp().unprotectRtcp(datagram, n) != srtp::SrtpResult::Ok) {
      ++stats.srtpFailures;
      return;
    }
    rtcp::CompoundReader reader(datagram.first(n));
    while (auto p = reader.next()) {
      if (p->header.packetType != rtcp::type::kSenderReport) continue;
      auto sr = rtcp::SenderReport::parse(*p);
      bool rtx = false;
      if (InStream* s = sr ? find(sr->senderSsrc(), rtx) : nullptr) {
        s->lastSr = uint32_t(sr->senderInfo().ntpTimestamp >> 16);
        s->lastSrAt = now;
      }
    }
  }

  void sendFeedback(ClientStats& stats) {
    if (pending.empty()) return;
    rtcp::TransportCcBuilder builder(rtcpSsrc, lastSsrc);
    bool started = false;
    auto flushBuilder = [&] {
      if (builder.empty()) return;
      auto slot = browser.send.slot();
      common::ByteWriter w(slot);
      if (builder.write(w) && w.ok() && browser.commitProtected(slot, w.written().size(), true)) ++stats.rtcpSent;
    };
    for (const auto& [seq, us] : pending) {
      if (!started) {
        builder.reset(feedbackCount++, haveNext ? std::optional<uint16_t>(nextSeq) : std::nullopt);
        started = true;
      }
      // Reordered packets (an RTX after newer media) are left out: reported lost, as a browser
      // that wrote its feedback already would have.
      if (haveNext && uint16_t(seq - nextSeq) >= 0x8000) continue;
      if (!builder.addReceived(seq, us)) {
        flushBuilder();
        builder.reset(feedbackCount++, seq);
        if (!builder.addReceived(seq, us)) continue;
      }
      nextSeq = uint16_t(seq + 1);
      haveNext = true;
    }
    flushBuilder();
    pending.clear();
  }

  void sendReport(TimePoint now, ClientStats& stats) {
    std::array<rtcp::ReportBlock, rtcp::ReceiverReport::kMaxBlocks> blocks{};
    size_t count = 0;
    for (auto& s : streams) {
      if (!s.started || count == blocks.size()) continue;
      auto& b = blocks[count++];
      const uint64_t extended = (uint64_t(s.cycles) << 16) | s.maxSeq;
      const uint64_t expected = extended - s.baseSeq + 1;
      const uint64_t expectedInterval = expected - s.expectedPrior, receivedInterval = s.received - s.receivedPrior;
      s.expectedPrior = expected;
      s.receivedPrior = s.received;
      const int64_t lostInterval = int64_t(expectedInterval) - int64_t(receivedInterval);
      b.ssrc = s.ssrc;
      b.fractionLost = expectedInterval == 0 || lostInterval <= 0 ? 0 : uint8_t((lostInterval << 8) / expectedInterval);
      b.cumulativeLost = int32_t(int64_t(expected) - int64_t(s.received));
      b.highestSequence = uint32_t(extended);
      b.jitter = uint32_t(s.jitter);
      if (s.lastSr != 0) {
        b.lastSr = s.lastSr;
        b.delaySinceLastSr = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(now - s.lastSrAt).count() *
                                      65536 / 1'000'000);
      }
    }
    auto slot = browser.send.slot();
    common::ByteWriter w(slot);
    if (rtcp::ReceiverReport::write(w, rtcpSsrc, std::span(blocks).first(count)) && w.ok() &&
        browser.commitProtected(slot, w.written().size(), true))
      ++stats.rtcpSent;
  }

  TimePoint run(TimePoint now, ClientStats& stats) {
    if (now >= nextFeedback) {
      sendFeedback(stats);
      nextFeedback = now + kFeedbackInterval;
    }
    if (now >= nextReport) {
      sendReport(now, stats);
      nextReport = now + kReportInterval;
    }
    return std::min(nextFeedback, nextReport);
  }

  int index;
  Browser& browser;
  uint32_t rtcpSsrc;
  std::vector<InStream> streams;
  std::unordered_map<uint32_t, std::pair<size_t, bool>> bySsrc;  // media or RTX SSRC -> stream
  std::vector<std::pair<uint16_t, int64_t>> pending;             // transport-wide seq, arrival us
  uint8_t feedbackCount = 0;
  uint16_t nextSeq = 0;
  bool haveNext = false;
  uint32_t lastSsrc = 0;
  TimePoint nextFeedback{}, nextReport{};
};

// ---- client threads ------------------------------------------------------------------------------

struct ClientThread {
  std::vector<Publisher*> publishers;
  std::vector<Subscriber*> subscribers;
  int sample = 1;
  std::atomic<bool> stop{false};
  // Written by the thread, read by main between windows (under `mutex`-free handoff: main
  // flips gRecording, waits, then reads; the thread only adds while recording).
  ClientStats stats;
  std::thread thread;
  clockid_t cpuClock{};

  void loop() {
    std::vector<Browser*> browsers;
    for (auto* p : publishers) browsers.push_back(&p->browser);
    for (auto* s : subscribers) browsers.push_back(&s->browser);
    std::vector<pollfd> fds;
    for (auto* b : browsers) fds.push_back({b->socket->fd(), POLLIN, 0});
    const TimePoint begin = std::chrono::steady_clock::now();
    for (auto* p : publishers) p->begin(begin, int(publishers.size()));
    ClientStats scratch;  // what happens outside windows
    uint64_t sampleCounter = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      ClientStats& st = gRecording.load(std::memory_order_relaxed) ? stats : scratch;
      TimePoint now = std::chrono::steady_clock::now();
      TimePoint next = now + 100ms;
      for (auto* p : publishers) next = std::min(next, p->run(now, st));
      for (auto* s : subscribers) next = std::min(next, s->run(now, st));
      for (auto* b : browsers) {
        browserTimers(*b, now);
        b->send.flush();
      }
      now = std::chrono::steady_clock::now();
      const auto wait = std::max<common::Duration>(next - now, common::Duration(0));
      const timespec ts{time_t(wait.count() / 1'000'000'000), long(wait.count() % 1'000'000'000)};
      if (::ppoll(fds.data(), fds.size(), &ts, nullptr) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        Browser& b = *browsers[i];
        Publisher* pub = i < publishers.size() ? publishers[i] : nullptr;
        Subscriber* sub = pub ? nullptr : subscribers[i - publishers.size()];
        while (size_t n = b.receive.receive(*b.socket)) {
          const TimePoint readAt = std::chrono::steady_clock::now();
          for (size_t k = 0; k < n; ++k) {
            auto d = b.receive.data(k);
            if (handleControl(b, d, readAt)) continue;
            if (ice::isRtcp(d)) {
              if (pub) pub->onRtcp(d, st);
              else sub->onRtcp(d, readAt, st);
            } else if (sub) {
              sub->onRtp(d, b.receive.arrival(k), sampleCounter, sample, st);
            }
          }
          if (n < 64) break;
        }
      }
    }
  }
};

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
};

// The layer a tile of `width` pixels asks for (MediaRoom::setVideoPreferences, layerForWidth).
int layerForWidth(uint32_t width) { return width <= 320 ? 0 : width <= 640 ? 1 : 2; }

struct WindowSnapshot {
  int64_t cpuNs = 0;
  uint64_t received = 0, sent = 0, forwarded = 0, retransmitted = 0, probes = 0, switches = 0, keyframeRequests = 0;
  uint64_t mallocs = 0, news = 0;
  TimePoint at{};
};

class Room {
 public:
  explicit Room(const Options& o) : mOptions(o) {}

  void setUp() {
    mWorker.start();
    onWorker([this](sfu::MediaWorker&) {
      tWorkerThread = true;
      pthread_getcpuclockid(pthread_self(), &mWorkerClock);
    });
    const int participants = std::max(mOptions.publishers, mOptions.subscribers);
    const auto fingerprint = transport::test::fingerprintOf(mBrowserContext);
    const net::Endpoint sfu = net::Endpoint::v4({127, 0, 0, 1}, mWorker.port());
    for (int i = 0; i < participants; ++i) {
      if (i < mOptions.publishers) {
        mBrowsers.push_back(std::make_unique<Browser>(mBrowserContext, mServerContext, sfu, false));
        mPublishers.push_back(std::make_unique<Publisher>(i, *mBrowsers.back()));
      }
      if (i < mOptions.subscribers) {
        mBrowsers.push_back(std::make_unique<Browser>(mBrowserContext, mServerContext, sfu, true));
        mSubscribers.push_back(std::make_unique<Subscriber>(i, *mBrowsers.back()));
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
      video.extensionMap = {{kAbsSendTimeId, kAbsSendTimeId}, {kTccId, kTccId}, {kMidId, 0}, {kRidId, 0},
                            {kRepairedRidId, 0}};
      video.transportCcId = kTccId;
      sfu::ProducerSpec audio;
      audio.id = nextId++;
      audio.kind = sfu::MediaKind::Audio;
      audio.ssrc = p->audioSsrc;
      audio.payloadType = kOpusPt;
      audio.clockRate = 48000;
      audio.extensionMap = {{kAudioLevelId, kAudioLevelId}, {kAbsSendTimeId, kAbsSendTimeId}, {kTccId, kTccId},
                            {kMidId, 0}};
      audio.transportCcId = kTccId;
      producerIds.emplace_back(video.id, audio.id);
      steps.push_back([id, spec, video, audio](sfu::Router& r) {
        r.addParticipant(id);
        r.setTransport(id, sfu::TransportRole::Publish, spec);
        r.addProducer(id, video);
        r.addProducer(id, audio);
      });
    }
    for (auto& s : mSubscribers) {
      const std::string id = name(s->index);
      sfu::TransportSpec spec;
      spec.localIce = ice::IceCredentials::generate();
      spec.remoteIce = s->browser.peer.ice();
      spec.remoteFingerprint = fingerprint;
      s->browser.serverIce = spec.localIce;
      std::vector<sfu::ConsumerSpec> consumers;
      std::vector<std::pair<uint64_t, int>> maxLayers;
      for (size_t k = 0; k < mPublishers.size(); ++k) {
        const Publisher& p = *mPublishers[k];
        if (p.index == s->index) continue;
        const uint32_t base = 0x60000000u + uint32_t(s->index) * 0x10000 + uint32_t(p.index) * 16;
        sfu::ConsumerSpec v{nextId++, producerIds[k].first, base | 1, kVp8Pt, base | 3, kRtxPt, kTccId};
        sfu::ConsumerSpec a{nextId++, producerIds[k].second, base | 5, kOpusPt, std::nullopt, 0, kTccId};
        consumers.push_back(v);
        consumers.push_back(a);
        const uint32_t width = kWidths[size_t(s->index + p.index) % kLayers];
        maxLayers.emplace_back(v.id, layerForWidth(width));
        mVideoConsumers.push_back({s->index, v.id});
        s->bySsrc[v.ssrc] = {s->streams.size(), false};
        s->bySsrc[*v.rtxSsrc] = {s->streams.size(), true};
        s->streams.push_back(InStream{.publisher = p.index, .video = true, .ssrc = v.ssrc, .rtxSsrc = *v.rtxSsrc});
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
    for (auto& b : mBrowsers) fds.push_back({b->socket->fd(), POLLIN, 0});
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
        while (size_t n = b->receive.receive(*b->socket))
          for (size_t k = 0; k < n; ++k) b->peer.receive(b->receive.data(k), std::chrono::steady_clock::now());
    }
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
    onWorker([&](sfu::MediaWorker& w) {
      if (counting && !*counting) gCounting = false;
      s.cpuNs = cpuNanos(mWorkerClock);
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
          ++a.layers[size_t(std::max(c->currentLayer(), -1) + 1)];
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
    std::printf("  video consumers by layer: none %d, q %d, h %d, f %d (tiles ask for q %d, h %d, f %d); subscriber "
                "estimates: min %.2f, median %.2f, max %.2f Mbit/s\n",
                a.layers[0], a.layers[1], a.layers[2], a.layers[3], a.wanted[0], a.wanted[1], a.wanted[2],
                a.minEstimate / 1e6, a.medianEstimate / 1e6, a.maxEstimate / 1e6);
  }

  void window(double scale) {
    gRateScale = scale;
    std::this_thread::sleep_for(2s);  // the new rate reaches every stream
    for (ClientThread* t : {&mPublisherThread, &mSubscriberThread}) {
      t->stats.reset();  // the threads do not write `stats` while not recording
    }
    const int64_t pubCpu0 = cpuNanos(mPublisherThread.cpuClock), subCpu0 = cpuNanos(mSubscriberThread.cpuClock);
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
    std::this_thread::sleep_for(100ms);  // the threads finish the packet they were at
    ClientStats st;
    st.merge(mPublisherThread.stats);
    st.merge(mSubscriberThread.stats);
    const double wall = std::chrono::duration<double>(b.at - a.at).count();
    const double cpu = double(b.cpuNs - a.cpuNs) / 1e9;
    const uint64_t forwarded = b.forwarded - a.forwarded;
    const uint64_t allocs = (b.mallocs - a.mallocs) + (b.news - a.news);
    std::printf("rate x%.2f, %.1f s: in %.0f dgram/s (publishers sent %.0f RTP/s), out %.0f dgram/s, forwarded "
                "%.0f RTP/s (+%.0f RTX, %.0f probe pkt/s)\n",
                scale, wall, double(b.received - a.received) / wall, double(st.rtpSent) / wall,
                double(b.sent - a.sent) / wall, double(forwarded) / wall, double(b.retransmitted - a.retransmitted) / wall,
                double(b.probes - a.probes) / wall);
    std::printf("  worker CPU %.1f %% of a core: %.0f forwarded RTP/s per core, %.2f us CPU per forwarded packet; "
                "client threads CPU: publishers %.1f %%, subscribers %.1f %%\n",
                100 * cpu / wall, double(forwarded) / cpu, cpu * 1e6 / double(forwarded),
                100 * double(pubCpu) / 1e9 / wall, 100 * double(subCpu) / 1e9 / wall);
    std::printf("  in->out latency (publisher before protect -> subscriber kernel receive), %llu packets: p50 %.0f us, "
                "p99 %.0f us, max %.0f us\n",
                static_cast<unsigned long long>(st.latency.count), st.latency.percentileUs(0.5),
                st.latency.percentileUs(0.99), double(st.latency.maxNs) / 1e3);
    std::printf("  subscribers: %llu RTP (%llu decrypted: q %llu, h %llu, f %llu, audio %llu), %llu lost (gaps), "
                "%llu RTX, %llu probes, %llu keyframes; errors: srtp %llu, wrong stream %llu, picture ID jumps %llu\n",
                static_cast<unsigned long long>(st.rtpReceived), static_cast<unsigned long long>(st.decrypted),
                static_cast<unsigned long long>(st.byLayer[0]), static_cast<unsigned long long>(st.byLayer[1]),
                static_cast<unsigned long long>(st.byLayer[2]), static_cast<unsigned long long>(st.byLayer[3]),
                static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(st.rtxReceived),
                static_cast<unsigned long long>(st.probesReceived), static_cast<unsigned long long>(st.keyframes),
                static_cast<unsigned long long>(st.srtpFailures), static_cast<unsigned long long>(st.wrongPublisher),
                static_cast<unsigned long long>(st.pictureIdJumps));
    std::printf("  publishers got: %llu PLI, %llu FIR, %llu NACK, %llu transport-cc feedback, %llu RR; layer "
                "switches %llu, keyframe requests %llu\n",
                static_cast<unsigned long long>(st.plis), static_cast<unsigned long long>(st.firs),
                static_cast<unsigned long long>(st.nacksToPublishers),
                static_cast<unsigned long long>(st.feedbackToPublishers),
                static_cast<unsigned long long>(st.reportsToPublishers),
                static_cast<unsigned long long>(b.switches - a.switches),
                static_cast<unsigned long long>(b.keyframeRequests - a.keyframeRequests));
    std::printf("  worker-thread allocations: %llu (%.3f per forwarded packet)", static_cast<unsigned long long>(allocs),
                double(allocs) / double(std::max<uint64_t>(forwarded, 1)));
    if (gTracing && gTraced > 0) {
      const double inSrtp = double(gTracedInSrtp) / double(gTraced);
      std::printf("; 1 in %llu traced: %.1f %% inside libsrtp2 and its crypto library, so about %.3f per forwarded "
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

  void printTraces() {
    const int n = std::min(gTraceCount.load(), kMaxTraces);
    for (int i = 0; i < n; ++i) {
      std::printf("  allocation %d on the worker thread outside libsrtp2:\n", i + 1);
      std::fflush(stdout);
      backtrace_symbols_fd(gTraces[size_t(i)].data(), gTraceDepths[size_t(i)], STDOUT_FILENO);
    }
  }

  void tearDown() {
    stopClients();
    mWorker.stop();
    if (mObserver.failures > 0) std::printf("transport failures: %d\n", mObserver.failures.load());
  }

 private:
  static std::string name(int i) { return "p" + std::to_string(i); }

  void onWorker(std::function<void(sfu::MediaWorker&)> task) {
    std::promise<void> done;
    mWorker.post([&](sfu::MediaWorker& w) {
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
  const dtls::DtlsContext mBrowserContext{common::Certificate::generateSelfSigned("browser")};
  NullObserver mObserver;
  sfu::MediaWorker mWorker{0, "127.0.0.1", 0, mServerContext, &mObserver};
  clockid_t mWorkerClock{};
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
  return o.publishers >= 1 && o.subscribers >= 1 && !o.scales.empty() && o.seconds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s [--publishers=N] [--subscribers=M] [--seconds=S] [--rate-scale=X[,Y...]] [--sample=K] "
                 "[--warmup=S] [--trace-allocations]\n",
                 argv[0]);
    return 2;
  }
  common::initLogging({"warn", false});
  void* warm[4];
  backtrace(warm, 4);  // loads libgcc_s now, not inside a counted allocation

  gTracing = options.traceAllocations;
  Room room(options);
  room.setUp();
  std::printf("room: %d publishers (3 simulcast VP8 layers + Opus each), %d subscribers of every other publisher; "
              "%u cores online\n",
              options.publishers, options.subscribers, std::thread::hardware_concurrency());
  room.startClients();
  gRateScale = options.scales.front();
  const double settled = room.settle(options.warmup);
  std::printf("allocation settled after %.1f s:\n", settled);
  room.printAllocation();
  for (double scale : options.scales) room.window(scale);
  room.tearDown();
  return 0;
}
