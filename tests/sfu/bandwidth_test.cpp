// A subscriber's downlink through the Router, with real transports in memory and a simulated
// bottleneck: Alice publishes audio and three simulcast layers (~145 kbit/s, ~490 kbit/s and
// ~1.7 Mbit/s); each subscriber's packets go through a drop-tail link of a given capacity, and the
// subscriber sends transport-cc feedback every 50 ms and NACKs what its link lost, as a browser
// does. Time is simulated (5 ms steps); the figures are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rtcp/transport_cc.h"
#include "rtp/header_extensions.h"
#include "rtp/packet.h"
#include "rtp/packet_writer.h"
#include "sfu/router.h"
#include "sfu/sfu_test_util.h"
#include "transport/dtls_contexts_test.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using common::TimePoint;
using transport::test::BrowserPeer;

namespace {

constexpr uint8_t kRidId = 10, kTcc = 3;
constexpr std::array<uint32_t, 3> kLayerSsrcs = {0x11110000, 0x22220000, 0x33330000};
constexpr uint32_t kAudioSsrc = 0xA0A0A0A0;
// Per frame (30 per second): packets and their size, per layer.
constexpr std::array<int, 3> kPacketsPerFrame = {1, 2, 6};
constexpr std::array<size_t, 3> kPacketBytes = {600, 1000, 1150};

int64_t micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// One subscriber: its browser, its link from the SFU, and what it saw.
struct Subscriber {
  Subscriber(std::string name, const dtls::DtlsContext& browser, const dtls::DtlsContext& server, uint16_t port)
      : id(std::move(name)),
        peer(browser, transport::test::loopback(port), transport::test::fingerprintOf(server)),
        videoSsrc(0xB0000000u + 2u * port),
        audioSsrc(0xC0000000u + port),
        videoConsumer(100u + 2u * port) {}

  std::string id;
  BrowserPeer peer;
  uint32_t videoSsrc;
  uint32_t audioSsrc;
  uint64_t videoConsumer;
  // The link: drop-tail queue at `capacityBps`, 20 ms one way.
  double capacityBps = 5e6;
  int64_t linkFreeUs = 0;
  bool feedback = true;  // sends transport-cc feedback
  bool nacks = true;
  struct Pending {
    uint16_t seq;
    int64_t arrivalUs;
    bool lost;
  };
  std::deque<Pending> pending;
  std::vector<uint16_t> lostVideo;  // to NACK
  size_t seen = 0;                  // of peer.rtp
  uint8_t feedbackCount = 0;
  // Per simulated second: bits the SFU sent, audio packets that arrived.
  std::map<int64_t, uint64_t> sentBits;
  std::map<int64_t, int> audioArrived;
  std::map<int64_t, int> probePackets;
};

class BandwidthTest : public transport::test::DtlsContextsTest {
 protected:
  void SetUp() override {
    // The Router starts estimators and transports on the simulated clock the test runs on, not on
    // the steady clock (which a slow machine's handshakes would move ahead of it).
    host.clock = &now;
    wire.attach(alice);
    router.addParticipant("alice");
    TransportSpec pub;
    pub.localIce = ice::IceCredentials::generate();
    pub.remoteIce = alice.ice();
    pub.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport("alice", TransportRole::Publish, pub);
    handshake(alice, pub.localIce);
    ProducerSpec video;
    video.id = 1;
    video.kind = MediaKind::Video;
    video.payloadType = 96;
    video.clockRate = 90000;
    video.rids = {"q", "h", "f"};
    video.ridExtensionId = kRidId;
    video.extensionMap = {{kRidId, 0}, {kTcc, kTcc}};
    router.addProducer("alice", video);
    ProducerSpec audio;
    audio.id = 2;
    audio.kind = MediaKind::Audio;
    audio.payloadType = 111;
    audio.clockRate = 48000;
    audio.ssrc = kAudioSsrc;
    audio.extensionMap = {{kTcc, kTcc}};
    router.addProducer("alice", audio);
  }

  Subscriber& addSubscriber(const std::string& id, uint16_t port, double capacityBps) {
    auto s = std::make_unique<Subscriber>(id, *sBrowser, *sServer, port);
    s->capacityBps = capacityBps;
    wire.attach(s->peer);
    router.addParticipant(id);
    TransportSpec sub;
    sub.localIce = ice::IceCredentials::generate();
    router.setTransport(id, TransportRole::Subscribe, sub);
    sub.remoteIce = s->peer.ice();
    sub.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport(id, TransportRole::Subscribe, sub);
    handshake(s->peer, sub.localIce);
    ConsumerSpec v;
    v.id = s->videoConsumer;
    v.producerId = 1;
    v.ssrc = s->videoSsrc;
    v.payloadType = 96;
    v.rtxSsrc = s->videoSsrc + 1;
    v.rtxPayloadType = 97;
    v.transportCcId = kTcc;
    router.addConsumer(id, v);
    ConsumerSpec a;
    a.id = s->videoConsumer + 1;
    a.producerId = 2;
    a.ssrc = s->audioSsrc;
    a.payloadType = 111;
    a.transportCcId = kTcc;
    router.addConsumer(id, a);
    subscribers.push_back(std::move(s));
    return *subscribers.back();
  }

  void handshake(BrowserPeer& peer, const ice::IceCredentials& server) {
    peer.sendCheck(server, true);
    wire.pump(now);
    peer.startDtls(now);
    wire.pump(now);
    ASSERT_TRUE(peer.dtlsConnected());
  }

  std::vector<uint8_t> packet(uint8_t pt, uint32_t ssrc, uint16_t seq, uint32_t ts, bool marker, const std::string& rid,
                              std::span<const uint8_t> payload) {
    const std::array<uint8_t, 2> tcc{};
    std::vector<rtp::ExtensionValue> ext = {{kTcc, tcc}};
    if (!rid.empty()) ext.push_back({kRidId, std::span(reinterpret_cast<const uint8_t*>(rid.data()), rid.size())});
    rtp::RtpHeader h;
    h.marker = marker;
    h.payloadType = pt;
    h.sequenceNumber = seq;
    h.timestamp = ts;
    h.ssrc = ssrc;
    std::vector<uint8_t> out(1500);
    out.resize(rtp::writeRtpPacket(out, h, ext, payload));
    return out;
  }

  // One frame of every layer (a keyframe where one was asked for), and audio every 20 ms.
  void publish() {
    while (now >= nextAudio) {
      const std::vector<uint8_t> opus(80, 0x55);
      alice.sendRtp(packet(111, kAudioSsrc, audioSeq++, audioTs, false, "", opus));
      audioTs += 960;
      nextAudio += 20ms;
    }
    if (now < nextFrame) return;
    nextFrame += 33ms;
    for (size_t i = plisSeen; i < alice.rtcp.size(); ++i) {
      rtcp::CompoundReader reader(alice.rtcp[i]);
      while (auto p = reader.next()) {
        if (p->header.packetType != rtcp::type::kPayloadFeedback || p->header.count != rtcp::fmt::kPli) continue;
        if (auto parsed = rtcp::Pli::parse(*p))
          for (size_t l = 0; l < 3; ++l)
            if (parsed->mediaSsrc() == kLayerSsrcs[l]) keyWanted[l] = true;
      }
    }
    plisSeen = alice.rtcp.size();
    for (size_t l = 0; l < 3; ++l) {
      const bool key = keyWanted[l] || frame == 0;
      keyWanted[l] = false;
      for (int i = 0; i < kPacketsPerFrame[l]; ++i) {
        std::vector<uint8_t> payload = {
            static_cast<uint8_t>(i == 0 ? 0x90 : 0x80), 0xE0, static_cast<uint8_t>(0x80 | (pictureId[l] >> 8)),
            static_cast<uint8_t>(pictureId[l]),         0,    0x00};
        if (i == 0 && key) {
          payload.insert(payload.end(), {0x50, 0x2D, 0x01, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01});
        } else if (i == 0) {
          payload.insert(payload.end(), {0x31, 0x07, 0x00});
        }
        payload.resize(kPacketBytes[l] - 24, 0xEE);
        alice.sendRtp(packet(96, kLayerSsrcs[l], videoSeq[l]++, videoTs, i + 1 == kPacketsPerFrame[l],
                             std::string(1, "qhf"[l]), payload));
      }
      pictureId[l] = static_cast<uint16_t>((pictureId[l] + 1) & 0x7FFF);
    }
    videoTs += 3000;
    ++frame;
  }

  // What reached each subscriber's browser since the last step goes through its link.
  void carry(Subscriber& s) {
    const int64_t nowUs = micros(now);
    const int64_t second = (nowUs - startUs) / 1'000'000;
    for (; s.seen < s.peer.rtp.size(); ++s.seen) {
      auto p = rtp::RtpPacket::parse(s.peer.rtp[s.seen]);
      if (!p) continue;
      const uint64_t bytes = p->size() + 10;  // SRTP's tag
      s.sentBits[second] += bytes * 8;
      if (p->ssrc() == s.videoSsrc + 1 && p->payloadSize() == 0) ++s.probePackets[second];
      auto ext = p->extension(kTcc);
      auto seq = ext ? rtp::parseTransportSequenceNumber(*ext) : std::nullopt;
      const int64_t start = std::max(nowUs, s.linkFreeUs);
      const bool lost = start - nowUs > 200'000;  // a 200 ms queue, then drop-tail
      int64_t arrival = 0;
      if (!lost) {
        s.linkFreeUs = start + static_cast<int64_t>(static_cast<double>(bytes) * 8e6 / s.capacityBps);
        arrival = s.linkFreeUs + 20'000;
        if (p->ssrc() == s.audioSsrc) ++s.audioArrived[second];
      } else if (p->ssrc() == s.videoSsrc) {
        s.lostVideo.push_back(p->sequenceNumber());
      }
      if (seq) s.pending.push_back({*seq, arrival, lost});
    }
  }

  // Every 50 ms: transport-cc feedback for what has arrived (or was lost before it), and NACKs.
  void report(Subscriber& s) {
    const int64_t nowUs = micros(now);
    if (s.feedback) {
      rtcp::TransportCcBuilder builder(0x0b0b, s.videoSsrc);
      bool started = false;
      while (!s.pending.empty() && (s.pending.front().lost || s.pending.front().arrivalUs <= nowUs)) {
        const auto e = s.pending.front();
        s.pending.pop_front();
        if (!started) {
          builder.reset(s.feedbackCount++, e.seq);
          started = true;
        }
        if (!e.lost) builder.addReceived(e.seq, e.arrivalUs);
      }
      if (started && !builder.empty()) s.peer.sendRtcp(write(builder));
    } else {
      s.pending.clear();
    }
    if (s.nacks && !s.lostVideo.empty()) {
      const size_t n = std::min<size_t>(s.lostVideo.size(), 16);
      s.peer.sendRtcp(sfu::test::nack(0x0b0b, s.videoSsrc, {s.lostVideo.begin(), s.lostVideo.begin() + n}));
    }
    s.lostVideo.clear();
  }

  static std::vector<uint8_t> write(const rtcp::TransportCcBuilder& builder) {
    std::vector<uint8_t> buf(builder.size() + 16);
    common::ByteWriter w(buf);
    if (!builder.write(w)) return {};
    buf.resize(w.size());
    return buf;
  }

  // Runs the call for `duration` in 5 ms steps; `each` runs after every step.
  template <typename F>
  void run(common::Duration duration, F&& each) {
    const TimePoint end = now + duration;
    while (now < end) {
      now += 5ms;
      publish();
      wire.pump(now);
      if (now >= nextTick) {
        nextTick += 50ms;
        router.tick(now);
        wire.pump(now);
        for (auto& s : subscribers) {
          carry(*s);
          report(*s);
        }
        wire.pump(now);
      }
      for (auto& s : subscribers) carry(*s);
      each();
    }
  }
  void run(common::Duration duration) {
    run(duration, [] {});
  }

  int64_t second() const { return (micros(now) - startUs) / 1'000'000; }
  const Consumer& video(const Subscriber& s) { return *router.consumer(s.videoConsumer); }
  uint32_t estimate(const Subscriber& s) { return router.bandwidth(s.id)->estimateBps(); }

  TimePoint now = std::chrono::steady_clock::now();
  const int64_t startUs = micros(now);
  TimePoint nextAudio = now, nextFrame = now, nextTick = now;
  sfu::test::FakeHost host{*sServer};
  Router router{host, nullptr};
  BrowserPeer alice =
      BrowserPeer(*sBrowser, transport::test::loopback(42001), transport::test::fingerprintOf(*sServer));
  transport::test::Wire wire{host.recorder(), [this](std::span<uint8_t> d, const net::Endpoint& from, TimePoint t) {
                               host.dispatch(d, from, t);
                             }};
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  uint16_t audioSeq = 1;
  uint32_t audioTs = 0, videoTs = 0;
  std::array<uint16_t, 3> videoSeq{100, 2000, 30000};
  std::array<uint16_t, 3> pictureId{1, 1000, 20000};
  std::array<bool, 3> keyWanted{};
  size_t plisSeen = 0;
  uint64_t frame = 0;
};

std::string perSecond(const std::map<int64_t, uint64_t>& bits) {
  std::string out;
  for (const auto& [s, b] : bits) out += std::to_string(b / 1000) + " ";
  return out + "kbit/s";
}

}  // namespace

// Issue 11: with a subscriber's downlink capped at 300 kbit/s, the SFU kept sending full-rate video
// and answered the resulting NACKs with ~10,000 retransmissions a second. Now the subscriber's
// estimate falls to what its link carries, its consumer moves to the lowest layer, and what the
// SFU sends it (media, RTX, probes) stays within the estimate.
TEST_F(BandwidthTest, ASubscriberBehindA300kbitBottleneckGetsTheLowestLayerAndNoMoreThanItsEstimate) {
  Subscriber& bob = addSubscriber("bob", 42002, 300'000);
  Subscriber& carol = addSubscriber("carol", 42003, 20'000'000);
  std::map<int64_t, uint32_t> bobEstimate;
  run(25s, [&] { bobEstimate[second()] = estimate(bob); });
  std::printf("bob (300 kbit/s): sent %s; estimate now %u bit/s; retransmitted %llu, dropped for the estimate %llu\n",
              perSecond(bob.sentBits).c_str(), estimate(bob),
              static_cast<unsigned long long>(router.stats().retransmitted),
              static_cast<unsigned long long>(router.stats().retransmitsOverEstimate));
  std::printf("carol (20 Mbit/s): sent %s; estimate %u bit/s\n", perSecond(carol.sentBits).c_str(), estimate(carol));
  EXPECT_EQ(video(bob).currentLayer(), 0);
  EXPECT_FALSE(video(bob).paused());
  EXPECT_EQ(video(carol).currentLayer(), 2);
  EXPECT_LT(estimate(bob), 360'000u);
  EXPECT_GT(estimate(bob), 150'000u);
  // Within 5 s on the lowest layer; from then on each second's bytes stay within the estimate (as
  // sampled at the second's ends, +10 %: a second may hold a 60 ms probe cluster at 1.5-2x).
  for (int64_t s = 8; s < 25; ++s) {
    EXPECT_LE(bob.sentBits[s], std::max(bobEstimate[s], bobEstimate[s - 1]) * 11 / 10) << "second " << s;
    EXPECT_LE(bob.sentBits[s], 330'000u) << "second " << s;
    EXPECT_GE(bob.audioArrived[s], 45) << "second " << s;
    EXPECT_GE(bob.sentBits[s], 150'000u) << "second " << s;  // video too
  }
  EXPECT_GT(router.stats().layerSwitchesDown, 0u);
}

// When the cap goes, a probe shows the headroom first, then the consumer climbs back.
TEST_F(BandwidthTest, ItClimbsBackToTheHighLayerAfterAProbeWhenTheCapGoes) {
  Subscriber& bob = addSubscriber("bob", 42002, 300'000);
  run(15s);
  ASSERT_EQ(video(bob).currentLayer(), 0);
  bob.capacityBps = 20'000'000;
  const int64_t lifted = second();
  const uint64_t probesBefore = router.stats().probePackets;
  std::optional<int64_t> up, firstProbe;
  uint64_t probesAtUp = 0;
  run(20s, [&] {
    if (!firstProbe && router.stats().probePackets > probesBefore) firstProbe = second();
    if (!up && video(bob).currentLayer() > 0) {
      up = second();
      probesAtUp = router.stats().probePackets;
    }
  });
  std::printf("cap lifted at %lld s: first probe at %lld s, first switch up at %lld s, layer %d at %lld s; sent %s\n",
              static_cast<long long>(lifted), static_cast<long long>(firstProbe.value_or(-1)),
              static_cast<long long>(up.value_or(-1)), video(bob).currentLayer(), static_cast<long long>(second()),
              perSecond(bob.sentBits).c_str());
  ASSERT_TRUE(up.has_value());
  EXPECT_GT(probesAtUp, probesBefore);  // a probe went out before the switch up
  EXPECT_EQ(video(bob).currentLayer(), 2);
  EXPECT_GT(router.stats().layerSwitchesUp, 0u);
}

// Below even the lowest layer, video pauses; audio goes on.
TEST_F(BandwidthTest, AudioContinuesWhenVideoIsPausedForBandwidth) {
  Subscriber& bob = addSubscriber("bob", 42002, 110'000);
  run(20s);
  std::printf("bob (110 kbit/s): sent %s; estimate %u bit/s; paused %d\n", perSecond(bob.sentBits).c_str(),
              estimate(bob), video(bob).paused());
  EXPECT_TRUE(video(bob).paused());
  EXPECT_GT(router.stats().consumersPausedForBandwidth, 0u);
  for (int64_t s = 12; s < 20; ++s) EXPECT_GE(bob.audioArrived[s], 45) << "second " << s;
}

// A subscriber whose feedback stops does not keep a stale high estimate.
TEST_F(BandwidthTest, TheEstimateDecaysWhenFeedbackStops) {
  Subscriber& bob = addSubscriber("bob", 42002, 20'000'000);
  run(10s);
  const uint32_t before = estimate(bob);
  bob.feedback = false;
  run(5s);
  const uint32_t after5 = estimate(bob);
  run(10s);
  const uint32_t after15 = estimate(bob);
  std::printf("feedback stopped at %u bit/s: %u after 5 s, %u after 15 s\n", before, after5, after15);
  EXPECT_GE(before, 1'000'000u);
  EXPECT_LE(after5, before / 3);
  EXPECT_EQ(after15, SubscriberBandwidth::kMinBps);
}

// A hostile subscriber's feedback (every packet received at once, contradictions, numbers never
// sent) and a NACK flood: the others' estimates do not move, and what the SFU sends the hostile
// one stays within the budget its estimate allows (never more than the layers it may have plus a
// bounded share for repair and probes).
TEST_F(BandwidthTest, HostileFeedbackCannotRaiseWhatOthersGetOrExceedTheBudget) {
  Subscriber& mallory = addSubscriber("mallory", 42002, 1e9);
  Subscriber& carol = addSubscriber("carol", 42003, 300'000);
  mallory.feedback = false;
  mallory.nacks = false;
  uint16_t forged = 0;
  int steps = 0;
  run(25s, [&] {
    if (++steps % 4 != 0 || mallory.peer.rtp.empty()) return;
    // Everything reported received at one instant, then lost, then received, and far ahead.
    for (size_t seen = 0; seen < mallory.peer.rtp.size(); ++seen) {
      if (auto p = rtp::RtpPacket::parse(mallory.peer.rtp[seen]))
        if (auto ext = p->extension(kTcc)) forged = rtp::parseTransportSequenceNumber(*ext).value_or(forged);
    }
    rtcp::TransportCcBuilder builder(0x0d0d, mallory.videoSsrc);
    builder.reset(static_cast<uint8_t>(forged), static_cast<uint16_t>(forged - 200));
    for (uint16_t i = 0; i < 200; ++i) builder.addReceived(static_cast<uint16_t>(forged - 200 + i), 1'000'000);
    mallory.peer.sendRtcp(write(builder));
    builder.reset(1, static_cast<uint16_t>(forged - 100));
    builder.addReceived(forged, 5'000'000'000);
    mallory.peer.sendRtcp(write(builder));
    builder.reset(2, static_cast<uint16_t>(forged + 1000));
    for (uint16_t i = 0; i < 500; ++i) builder.addReceived(static_cast<uint16_t>(forged + 1000 + i), i);
    mallory.peer.sendRtcp(write(builder));
    std::vector<uint16_t> all;
    const uint16_t top = rtp::RtpPacket::parse(mallory.peer.rtp.back())->sequenceNumber();
    for (uint16_t i = 0; i < 64; ++i) all.push_back(static_cast<uint16_t>(top - i));
    mallory.peer.sendRtcp(sfu::test::nack(0x0d0d, mallory.videoSsrc, all));
    mallory.peer.rtp.erase(mallory.peer.rtp.begin(), mallory.peer.rtp.begin() + static_cast<long>(mallory.seen));
    mallory.seen = 0;
  });
  std::printf("mallory: sent %s; estimate %u bit/s; carol (300 kbit/s): sent %s, estimate %u bit/s\n",
              perSecond(mallory.sentBits).c_str(), estimate(mallory), perSecond(carol.sentBits).c_str(),
              estimate(carol));
  EXPECT_LE(estimate(mallory), SubscriberBandwidth::kMaxBps);
  EXPECT_LT(estimate(carol), 360'000u);
  EXPECT_EQ(video(carol).currentLayer(), 0);
  // Everything Alice publishes is ~2.4 Mbit/s; Mallory gets at most that plus a bounded share.
  for (int64_t s = 2; s < 25; ++s) EXPECT_LE(mallory.sentBits[s], 3'200'000u) << "second " << s;
}
