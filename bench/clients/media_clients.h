// Synthetic browser sides for the benchmarks: publishers that send simulcast VP8 and Opus as
// Chrome does, subscribers that receive, check and give feedback as Chrome does. Each browser
// side is a transport::test::BrowserPeer (ICE, DTLS, SRTP) on a UDP socket of its own.
//
// Shared by sfu_room_bench (bench/sfu, in-process with a MediaWorker) and conclave-load
// (bench/load, against a running server over its signaling): they differ in who sets up the
// SFU side and in the loops that drive these objects, not in what goes over the wire.
#pragma once

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bytes.h"
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
#include "transport/browser_peer.h"

namespace conclave::bench {

using namespace std::chrono_literals;
using common::TimePoint;
using transport::test::BrowserPeer;

// ---- the wire format, as Chrome negotiates it with Conclave (sdp/capabilities.cpp) ---------------

inline constexpr uint8_t kAudioLevelId = 1, kAbsSendTimeId = 2, kTccId = 3, kMidId = 4, kRidId = 10,
                         kRepairedRidId = 11;
inline constexpr uint8_t kVp8Pt = 96, kRtxPt = 97, kOpusPt = 111;
inline constexpr int kLayers = 3;
inline constexpr std::array<const char*, kLayers> kRids = {"q", "h", "f"};
inline constexpr std::array<uint16_t, kLayers> kWidths = {320, 640, 1280};
inline constexpr std::array<uint16_t, kLayers> kHeights = {180, 360, 720};
inline constexpr int kKeyframeFactor = 4;  // a keyframe has 4 times the packets of a delta frame
inline constexpr size_t kOpusBytes = 100;
inline constexpr common::Duration kFrameInterval = std::chrono::nanoseconds(1'000'000'000 / 30);
inline constexpr common::Duration kAudioInterval = 20ms;
inline constexpr common::Duration kFeedbackInterval = 50ms;
inline constexpr common::Duration kReportInterval = 1s;
inline constexpr common::Duration kConsentInterval = 5s;

// What each simulcast layer of a camera sends per frame (30 frames/s): packets and payload bytes
// of each packet.
struct VideoLayers {
  std::array<int, kLayers> packetsPerFrame;
  std::array<size_t, kLayers> payloadBytes;
};
// About 150 k / 500 k / 1.5 M bit/s of payload (sfu_room_bench).
inline constexpr VideoLayers kRoomBenchLayers{{1, 2, 6}, {625, 1040, 1040}};

// The payload's last bytes, where SFrame ciphertext would be: magic, layer (kLayers for audio),
// publisher, frame number, and the publisher's steady clock (CLOCK_MONOTONIC, ns) just before it
// protected the packet.
inline constexpr size_t kTrailer = 16;
inline constexpr uint8_t kMagic = 0xCB;

inline int64_t nanosOf(TimePoint t) { return t.time_since_epoch().count(); }
inline int64_t cpuNanos(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
inline uint64_t ntpNow() {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  return (uint64_t(secs.count()) + 2'208'988'800ull) << 32 | ((uint64_t(nanos) << 32) / 1'000'000'000ull);
}

// Fills `out` with bytes that look random (SFrame ciphertext does), the same bytes for the same
// seed: a retransmission carries what the original carried.
inline void fillPseudoRandom(std::span<uint8_t> out, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < out.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    for (size_t k = 0; k < 8 && i + k < out.size(); ++k) out[i + k] = uint8_t(x >> (8 * k));
  }
}

// ---- what the client threads record (each its own, summed after a window) -----------------------

// Latencies: 1 us buckets up to 100 ms, then 1 ms buckets up to 10 s (an overloaded server's
// queues reach seconds).
struct Histogram {
  static constexpr size_t kFineBuckets = 100'000;
  static constexpr size_t kBuckets = kFineBuckets + 9'900;
  std::vector<uint32_t> buckets = std::vector<uint32_t>(kBuckets + 1);
  int64_t maxNs = 0;
  uint64_t count = 0;
  static size_t bucketOf(int64_t ns) {
    const size_t us = size_t(std::max<int64_t>(ns, 0) / 1000);
    return us < kFineBuckets ? us : std::min(kFineBuckets + (us - kFineBuckets) / 1000, kBuckets);
  }
  void add(int64_t ns) {
    buckets[bucketOf(ns)]++;
    maxNs = std::max(maxNs, ns);
    ++count;
  }
  void merge(const Histogram& o) {
    for (size_t i = 0; i <= kBuckets; ++i) buckets[i] += o.buckets[i];
    maxNs = std::max(maxNs, o.maxNs);
    count += o.count;
  }
  // The middle of the bucket the p-quantile falls in.
  double percentileUs(double p) const {
    const uint64_t rank = uint64_t(p * double(count));
    uint64_t seen = 0;
    for (size_t i = 0; i <= kBuckets; ++i)
      if ((seen += buckets[i]) > rank)
        return i < kFineBuckets ? double(i) + 0.5 : double(kFineBuckets) + double(i - kFineBuckets) * 1000 + 500;
    return double(kFineBuckets) + double(kBuckets - kFineBuckets) * 1000;
  }
};

struct ClientStats {
  uint64_t rtpSent = 0, rtcpSent = 0, framesSkipped = 0, rtxSent = 0, nackMisses = 0;
  uint64_t plis = 0, firs = 0, nacksToPublishers = 0, feedbackToPublishers = 0, reportsToPublishers = 0;
  uint64_t rtpReceived = 0, rtxReceived = 0, probesReceived = 0, decrypted = 0, lost = 0, repaired = 0;
  uint64_t srtpFailures = 0, srtpReplays = 0, srtpRtcp = 0, wrongPublisher = 0, pictureIdJumps = 0, keyframes = 0,
           nacked = 0, unknownSsrc = 0;
  std::array<uint64_t, kLayers + 1> byLayer{};  // video layers, then audio
  Histogram latency;
  // How long received RTP waited in the load tool's own sockets (its read minus the kernel's
  // receive stamp): a tool that falls behind queues there, and that wait is not in `latency`.
  Histogram receiveWait;
  void reset() { *this = ClientStats{}; }
  // A packet SRTP refused: counted, and apart if libsrtp called it a replay or it was RTCP.
  void srtpFailed(srtp::SrtpResult r, bool rtcp) {
    ++srtpFailures;
    srtpReplays += r == srtp::SrtpResult::ReplayOld || r == srtp::SrtpResult::ReplayDuplicate ? 1 : 0;
    srtpRtcp += rtcp ? 1 : 0;
  }
  void merge(const ClientStats& o) {
    rtpSent += o.rtpSent, rtcpSent += o.rtcpSent, framesSkipped += o.framesSkipped, plis += o.plis, firs += o.firs;
    rtxSent += o.rtxSent, nackMisses += o.nackMisses;
    nacksToPublishers += o.nacksToPublishers, feedbackToPublishers += o.feedbackToPublishers;
    reportsToPublishers += o.reportsToPublishers, rtpReceived += o.rtpReceived, rtxReceived += o.rtxReceived;
    probesReceived += o.probesReceived, decrypted += o.decrypted, lost += o.lost, srtpFailures += o.srtpFailures;
    srtpReplays += o.srtpReplays, srtpRtcp += o.srtpRtcp;
    repaired += o.repaired, unknownSsrc += o.unknownSsrc;
    wrongPublisher += o.wrongPublisher, pictureIdJumps += o.pictureIdJumps, keyframes += o.keyframes;
    nacked += o.nacked;
    for (size_t i = 0; i < byLayer.size(); ++i) byLayer[i] += o.byLayer[i];
    latency.merge(o.latency);
    receiveWait.merge(o.receiveWait);
  }
};

// Set by sfu_room_bench's main thread: the offered rate (frames and audio packets come this many
// times as often).
inline std::atomic<double> gRateScale{1.0};

// ---- one browser side: a BrowserPeer on its own UDP socket ---------------------------------------

struct Browser {
  // `socket` is bound to `local` (an address, not a wildcard: BrowserPeer names it in its answers
  // to the SFU's checks); the SFU's media goes to `sfu`. `batch`: datagrams per sendmmsg.
  Browser(const dtls::DtlsContext& browser, transport::RemoteFingerprint sfuFingerprint, const net::Endpoint& sfu,
          std::unique_ptr<net::UdpSocket> udp, const net::Endpoint& local, bool stamps, size_t batch = 64,
          dtls::DtlsRole role = dtls::DtlsRole::Client)
      : socket(std::move(udp)),
        peer(browser, local, std::move(sfuFingerprint), role),
        target(sfu),
        send(*socket, batch) {
    if (stamps && !socket->enableReceiveTimestamps()) std::fprintf(stderr, "no kernel receive timestamps\n");
  }
  // On 127.0.0.1 with an SFU whose certificate is `server` (sfu_room_bench).
  Browser(const dtls::DtlsContext& browser, const dtls::DtlsContext& server, const net::Endpoint& sfu, bool stamps)
      : Browser(browser, transport::test::fingerprintOf(server), sfu, std::make_unique<net::UdpSocket>("127.0.0.1", 0),
                net::Endpoint(), stamps) {
    peer.setAddress(net::Endpoint::v4({127, 0, 0, 1}, socket->localPort()));
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
  net::SendBatch send;
  TimePoint nextConsent{};
};

// Handles what is not SRTP (ICE, DTLS) through BrowserPeer; true if it was.
inline bool handleControl(Browser& b, std::span<const uint8_t> datagram, TimePoint now) {
  if (ice::classifyPacket(datagram) == ice::PacketKind::RtpRtcp) return false;
  b.peer.receive(datagram, now);
  b.peer.stunAnswers.clear();
  return true;
}

// A consent check to the SFU every 5 s, as browsers send them; DTLS retransmission timers.
inline void browserTimers(Browser& b, TimePoint now) {
  if (auto t = b.peer.dtls().nextTimeout(); t && *t <= now) b.peer.dtls().handleTimeout(now);
  if (b.peer.dtlsConnected() && now >= b.nextConsent) {
    b.nextConsent = now + kConsentInterval;
    b.peer.sendCheck(b.serverIce, false);
  }
  b.flushPeer();
}

// ---- publisher -----------------------------------------------------------------------------------

struct PublisherConfig {
  bool audio = true;
  bool video = true;
  VideoLayers layers = kRoomBenchLayers;
  std::string videoMid = "0";
  std::string audioMid = "1";
  // Answer NACKs with RTX on each layer's RTX SSRC (repaired-rtp-stream-id), as Chrome does. Off
  // in sfu_room_bench, whose producers have no RTX stream.
  bool retransmit = false;
};

struct Publisher {
  // The SSRCs of publisher i: its layers', their RTX streams' and its microphone's.
  static uint32_t layerSsrc(int i, int layer) { return 0x10000000u * uint32_t(layer + 1) + uint32_t(i) * 16; }
  static uint32_t rtxSsrc(int i, int layer) { return layerSsrc(i, layer) + 1; }
  static uint32_t audioSsrcOf(int i) { return 0x40000000u + uint32_t(i) * 16; }

  Publisher(int i, Browser& b, PublisherConfig c = {}) : index(i), browser(b), config(std::move(c)) {
    for (int l = 0; l < kLayers; ++l) {
      ssrc[size_t(l)] = layerSsrc(i, l);
      seq[size_t(l)] = uint16_t(1000 * (l + 1) + i);
      rtxSeq[size_t(l)] = uint16_t(5000 * (l + 1) + i);
      pictureId[size_t(l)] = uint16_t(100 * (l + 1) + i);
      keyWanted[size_t(l)] = true;
    }
    audioSsrc = audioSsrcOf(i);
    if (config.retransmit) history.resize(kLayers * kHistory);
  }

  int layerOf(uint32_t s) const {
    for (int l = 0; l < kLayers; ++l)
      if (ssrc[size_t(l)] == s) return l;
    return -1;
  }

  // The payload: `head` (what SFrame leaves clear), random-looking bytes, the trailer.
  size_t writePayload(std::span<uint8_t> out, std::span<const uint8_t> head, size_t payloadBytes, uint8_t layer,
                      uint32_t frame, int64_t sentNs, uint64_t seed) const {
    payloadBytes = std::clamp(payloadBytes, head.size() + kTrailer, out.size());
    std::copy(head.begin(), head.end(), out.begin());
    fillPseudoRandom(out.subspan(head.size(), payloadBytes - head.size() - kTrailer), seed);
    uint8_t* t = &out[payloadBytes - kTrailer];
    t[0] = kMagic;
    t[1] = layer;
    common::storeU16(t + 2, uint16_t(index));
    common::storeU32(t + 4, frame);
    common::storeU64(t + 8, uint64_t(sentNs));
    return payloadBytes;
  }

  // One RTP packet into the send batch; the payload's first bytes are `head`, its last the trailer.
  void sendRtp(const rtp::RtpHeader& h, std::span<const rtp::ExtensionValue> ext, std::span<const uint8_t> head,
               size_t payloadBytes, uint8_t layer, ClientStats& stats) {
    std::array<uint8_t, 1200> payload{};
    const int64_t sentNs = nanosOf(std::chrono::steady_clock::now());
    const size_t n = writePayload(payload, head, payloadBytes, layer, uint32_t(frames), sentNs, seedOf(h));
    if (config.retransmit && layer < kLayers) {
      SentPacket& s = history[size_t(layer) * kHistory + h.sequenceNumber % kHistory];
      s = SentPacket{
          true,   h.marker, uint8_t(head.size()), uint16_t(n), h.sequenceNumber, h.timestamp, uint32_t(frames),
          sentNs, {}};
      std::copy(head.begin(), head.end(), s.head.begin());
    }
    auto slot = browser.send.slot();
    const size_t written = rtp::writeRtpPacket(slot, h, ext, std::span(payload).first(n));
    if (written > 0 && browser.commitProtected(slot, written, false)) ++stats.rtpSent;
  }

  std::span<const uint8_t> midBytes(const std::string& mid) const {
    return {reinterpret_cast<const uint8_t*>(mid.data()), mid.size()};
  }

  void sendFrame(TimePoint now, ClientStats& stats) {
    const uint32_t ts = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count() * 9 / 100);
    for (int l = 0; l < kLayers; ++l) {
      const size_t L = size_t(l);
      const bool key = keyWanted[L];
      keyWanted[L] = false;
      const int packets = config.layers.packetsPerFrame[L] * (key ? kKeyframeFactor : 1);
      // As libwebrtc packetizes: the frame's bytes split about equally, the last packets one byte
      // longer than the others, and the frame size varies a little from frame to frame.
      const size_t frameBytes = config.layers.payloadBytes[L] * size_t(packets) -
                                size_t(frames * 7919 + uint64_t(l)) % (size_t(packets) * 4 + 1);
      const size_t shorter = frameBytes / size_t(packets);
      const int longer = int(frameBytes % size_t(packets));
      for (int p = 0; p < packets; ++p) {
        std::array<uint8_t, 2> tcc{};
        common::storeU16(tcc.data(), transportSeq++);
        const rtp::ExtensionValue ext[] = {{kTccId, tcc},
                                           {kMidId, midBytes(config.videoMid)},
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
        sendRtp(h, ext, head, shorter + (p >= packets - longer ? 1 : 0), uint8_t(l), stats);
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
    const rtp::ExtensionValue ext[] = {
        {kAudioLevelId, std::span(&level, 1)}, {kTccId, tcc}, {kMidId, midBytes(config.audioMid)}};
    rtp::RtpHeader h;
    h.payloadType = kOpusPt;
    h.sequenceNumber = audioSeq++;
    h.timestamp = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(now - start).count() * 48 / 1000);
    h.ssrc = audioSsrc;
    const uint8_t toc[] = {0x78};  // Opus TOC: SILK-only wideband 20 ms
    sendRtp(h, ext, toc, kOpusBytes, kLayers, stats);
  }

  // RFC 4588, as Chrome answers a NACK: the original payload behind its sequence number, on the
  // layer's RTX SSRC with the repaired-rtp-stream-id.
  void retransmit(int layer, uint16_t lost, ClientStats& stats) {
    const SentPacket& s = history[size_t(layer) * kHistory + lost % kHistory];
    if (!s.valid || s.seq != lost) {
      ++stats.nackMisses;
      return;
    }
    std::array<uint8_t, 1202> payload{};
    common::storeU16(payload.data(), lost);
    rtp::RtpHeader original;
    original.sequenceNumber = s.seq;
    original.ssrc = ssrc[size_t(layer)];
    const size_t n = writePayload(std::span(payload).subspan(2, 1200), std::span(s.head).first(s.headSize),
                                  s.payloadBytes, uint8_t(layer), s.frame, s.sentNs, seedOf(original));
    std::array<uint8_t, 2> tcc{};
    common::storeU16(tcc.data(), transportSeq++);
    const rtp::ExtensionValue ext[] = {
        {kTccId, tcc},
        {kMidId, midBytes(config.videoMid)},
        {kRepairedRidId, std::span(reinterpret_cast<const uint8_t*>(kRids[size_t(layer)]), 1)}};
    rtp::RtpHeader h;
    h.marker = s.marker;
    h.payloadType = kRtxPt;
    h.sequenceNumber = rtxSeq[size_t(layer)]++;
    h.timestamp = s.timestamp;
    h.ssrc = rtxSsrc(index, layer);
    auto slot = browser.send.slot();
    const size_t written = rtp::writeRtpPacket(slot, h, ext, std::span(payload).first(n + 2));
    if (written > 0 && browser.commitProtected(slot, written, false)) ++stats.rtxSent;
  }

  void sendReports(TimePoint now, ClientStats& stats) {
    std::array<uint8_t, 512> buf{};
    common::ByteWriter w(buf);
    const uint64_t ntp = ntpNow();
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
    if (config.video)
      for (int l = 0; l < kLayers; ++l)
        rtcp::SenderReport::write(w, ssrc[size_t(l)], {ntp, uint32_t(us * 9 / 100), 0, 0}, {});
    if (config.audio) rtcp::SenderReport::write(w, audioSsrc, {ntp, uint32_t(us * 48 / 1000), 0, 0}, {});
    if (!w.ok()) return;
    auto slot = browser.send.slot();
    std::copy(w.written().begin(), w.written().end(), slot.begin());
    if (browser.commitProtected(slot, w.written().size(), true)) ++stats.rtcpSent;
  }

  void onRtcp(std::span<uint8_t> datagram, ClientStats& stats) {
    size_t n = datagram.size();
    if (const auto r = browser.peer.srtp().unprotectRtcp(datagram, n); r != srtp::SrtpResult::Ok) {
      stats.srtpFailed(r, true);
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
        ++stats.nacksToPublishers;
        auto nack = config.retransmit ? rtcp::GenericNack::parse(*p) : std::nullopt;
        if (const int l = nack ? layerOf(nack->mediaSsrc()) : -1; l >= 0)
          nack->forEachLost([&](uint16_t lost) { retransmit(l, lost, stats); });
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
    while (config.video && nextFrame <= now) {
      sendFrame(now, stats);
      nextFrame += frameInterval;
    }
    while (config.audio && nextAudio <= now) {
      sendAudio(now, stats);
      nextAudio += audioInterval;
    }
    if (now >= nextReport) {
      sendReports(now, stats);
      nextReport = now + kReportInterval;
    }
    TimePoint next = nextReport;
    if (config.video) next = std::min(next, nextFrame);
    if (config.audio) next = std::min(next, nextAudio);
    return next;
  }

  void begin(TimePoint now, int count) {
    start = now;
    nextFrame = now + kFrameInterval * index / count;
    nextAudio = now + kAudioInterval * index / count;
    nextReport = now + 1s;
  }

  // What a packet of layer l was, to send it again on a NACK (its payload is made again from it).
  struct SentPacket {
    bool valid = false;
    bool marker = false;
    uint8_t headSize = 0;
    uint16_t payloadBytes = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    uint32_t frame = 0;
    int64_t sentNs = 0;
    std::array<uint8_t, 16> head{};
  };
  static constexpr size_t kHistory = 1024;  // per layer: 1.1 s of the top layer at 2.5 Mbit/s
  static uint64_t seedOf(const rtp::RtpHeader& h) { return uint64_t(h.ssrc) << 16 | h.sequenceNumber; }

  int index;
  Browser& browser;
  PublisherConfig config;
  std::array<uint32_t, kLayers> ssrc{};
  std::array<uint16_t, kLayers> seq{};
  std::array<uint16_t, kLayers> rtxSeq{};
  std::array<uint16_t, kLayers> pictureId{};
  std::array<uint8_t, kLayers> tl0{};
  std::array<bool, kLayers> keyWanted{};
  uint32_t audioSsrc = 0;
  uint16_t audioSeq = 1;
  uint16_t transportSeq = 1;
  uint64_t frames = 0;
  TimePoint start{}, nextFrame{}, nextAudio{}, nextReport{};
  std::vector<uint8_t> scratchHead = std::vector<uint8_t>(64);
  std::vector<SentPacket> history;  // kHistory per layer, when config.retransmit
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
  int layer = -1;  // of the last packet decrypted (kLayers: audio)
  bool havePicture = false;
  bool gapSinceFrame = false;  // a packet was lost since the last frame's first packet
  uint16_t lastPictureId = 0;
  uint32_t lastSr = 0;
  TimePoint lastSrAt{};
  // Video: sequence numbers found missing since the last NACK (a browser NACKs them at once).
  std::array<uint16_t, 64> missing{};
  size_t missingCount = 0;
  // Video: the last sequence numbers found missing, until an RTX repairs them.
  std::array<uint16_t, 128> unrepaired{};
  size_t unrepairedCount = 0;

  // True if `seq` was missing (and is no more).
  bool repair(uint16_t seq) {
    for (size_t i = 0; i < unrepairedCount; ++i)
      if (unrepaired[i] == seq) {
        unrepaired[i] = unrepaired[--unrepairedCount];
        return true;
      }
    return false;
  }
};

struct Subscriber {
  // `pendingCapacity`: room for the transport-wide sequence numbers of one feedback interval,
  // reserved so that receiving allocates nothing.
  Subscriber(int i, Browser& b, size_t pendingCapacity = 8192)
      : index(i), browser(b), rtcpSsrc(0x50000000u + uint32_t(i)) {
    pending.reserve(pendingCapacity);
  }

  InStream* find(uint32_t ssrc, bool& rtx) {
    auto it = bySsrc.find(ssrc);
    if (it == bySsrc.end()) return nullptr;
    rtx = it->second.second;
    return &streams[it->second.first];
  }

  void addStream(const InStream& s) {
    bySsrc[s.ssrc] = {streams.size(), false};
    if (s.video && s.rtxSsrc != 0) bySsrc[s.rtxSsrc] = {streams.size(), true};
    streams.push_back(s);
  }

  void onRtx(InStream& s, std::span<uint8_t> datagram, ClientStats& stats) {
    size_t n = datagram.size();
    if (const auto r = browser.peer.srtp().unprotectRtp(datagram, n); r != srtp::SrtpResult::Ok) {
      stats.srtpFailed(r, false);
      return;
    }
    auto p = rtp::RtpPacket::parse(datagram.first(n));
    if (!p || p->payloadSize() == 0) {
      ++stats.probesReceived;
      return;
    }
    ++stats.rtxReceived;
    if (p->payloadSize() >= 2 && s.repair(common::loadU16(p->payload().data()))) ++stats.repaired;
  }

  // Every packet's clear header is read; 1 in `sample` of each stream is decrypted and checked,
  // and every one of its first kDecryptFirst: libsrtp learns the stream's rollover counter from
  // the first packet it authenticates, which must come before the sequence number first wraps.
  static constexpr uint64_t kDecryptFirst = 64;
  void onRtp(std::span<uint8_t> datagram, TimePoint arrival, int sample, ClientStats& stats) {
    // The header is clear in SRTP, the padding is not: its length (the last byte) is read only
    // after unprotect, so the clear header is parsed as if P were unset.
    if (datagram.empty()) return;
    const bool padded = (datagram[0] & 0x20) != 0;
    datagram[0] = uint8_t(datagram[0] & ~0x20);
    auto clear = rtp::RtpPacket::parse(datagram);
    if (padded) datagram[0] = uint8_t(datagram[0] | 0x20);
    if (!clear) return;
    if (auto ext = clear->extension(tccId))
      if (auto tseq = rtp::parseTransportSequenceNumber(*ext))
        pending.emplace_back(*tseq,
                             std::chrono::duration_cast<std::chrono::microseconds>(arrival.time_since_epoch()).count());
    bool rtx = false;
    InStream* s = find(clear->ssrc(), rtx);
    if (!s) {
      ++stats.unknownSsrc;
      return;
    }
    lastSsrc = clear->ssrc();
    if (rtx) {
      onRtx(*s, datagram, stats);
      return;
    }
    ++stats.rtpReceived;
    countSequence(*s, clear->sequenceNumber(), clear->timestamp(), arrival, stats);
    if (s->received > kDecryptFirst && s->received % uint64_t(sample) != 0) return;
    size_t n = datagram.size();
    if (const auto r = browser.peer.srtp().unprotectRtp(datagram, n); r != srtp::SrtpResult::Ok) {
      stats.srtpFailed(r, false);
      return;
    }
    ++stats.decrypted;
    auto p = rtp::RtpPacket::parse(datagram.first(n));
    if (!p || p->payloadSize() < kTrailer) return;
    auto payload = p->payload();
    const uint8_t* t = &payload[payload.size() - kTrailer];
    if (t[0] != kMagic || common::loadU16(t + 2) != uint16_t(s->publisher) || t[1] > kLayers ||
        (t[1] == kLayers) == s->video) {
      ++stats.wrongPublisher;
      return;
    }
    ++stats.byLayer[t[1]];
    s->layer = t[1];
    stats.latency.add(nanosOf(arrival) - int64_t(common::loadU64(t + 8)));
    if (!s->video) return;
    auto d = rtp::Vp8Descriptor::parse(payload);
    if (!d || !d->pictureId) return;
    if (d->keyframe) ++stats.keyframes;
    if (d->startOfFrame()) {
      // Consecutive frames of the output stream have consecutive picture IDs, across layer
      // switches too (checked when every packet is decrypted and none was lost in between).
      if (sample == 1 && s->havePicture && !s->gapSinceFrame && *d->pictureId != ((s->lastPictureId + 1) & 0x7FFF))
        ++stats.pictureIdJumps;
      s->havePicture = true;
      s->gapSinceFrame = false;
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
      if (delta > 1) {
        stats.lost += delta - 1u;
        s.gapSinceFrame = true;
        for (uint16_t m = uint16_t(s.maxSeq + 1); s.video && m != seq; ++m) {
          if (s.missingCount < s.missing.size()) s.missing[s.missingCount++] = m;
          if (s.unrepairedCount == s.unrepaired.size()) s.unrepairedCount = 0;  // too old to be repaired
          s.unrepaired[s.unrepairedCount++] = m;
        }
      }
      s.maxSeq = seq;
    }
    // RFC 3550 A.8 in 32-bit arithmetic: an RTP timestamp that wraps is no jump in transit.
    const double d = std::abs(double(int32_t(uint32_t(transit) - uint32_t(s.lastTransit))));
    s.lastTransit = transit;
    s.jitter += (d - s.jitter) / 16.0;
  }

  void onRtcp(std::span<uint8_t> datagram, TimePoint now, ClientStats& stats) {
    size_t n = datagram.size();
    if (const auto r = browser.peer.srtp().unprotectRtcp(datagram, n); r != srtp::SrtpResult::Ok) {
      stats.srtpFailed(r, true);
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

  void sendNacks(ClientStats& stats) {
    for (auto& s : streams) {
      if (s.missingCount == 0) continue;
      auto slot = browser.send.slot();
      common::ByteWriter w(slot);
      if (rtcp::GenericNack::write(w, rtcpSsrc, s.ssrc, std::span(s.missing).first(s.missingCount)) && w.ok() &&
          browser.commitProtected(slot, w.written().size(), true)) {
        ++stats.rtcpSent;
        stats.nacked += s.missingCount;
      }
      s.missingCount = 0;
    }
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
    sendNacks(stats);
    if (now >= nextFeedback) {
      if (feedback) sendFeedback(stats);
      pending.clear();
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
  bool feedback = true;                                          // transport-cc negotiated toward this subscriber
  uint8_t tccId = kTccId;                                        // its header extension id
  uint8_t feedbackCount = 0;
  uint16_t nextSeq = 0;
  bool haveNext = false;
  uint32_t lastSsrc = 0;
  TimePoint nextFeedback{}, nextReport{};
};

}  // namespace conclave::bench
