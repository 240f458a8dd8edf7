// Simulcast in the SFU's model: a Producer with three layers whose SSRCs are learned from rids,
// and Consumers that forward one layer, switch only at a keyframe of the target layer and keep
// the output stream continuous (SSRC, sequence numbers, timestamps, VP8 picture ID, TL0PICIDX).
// Packets are built here: a VP8 payload descriptor as browsers send it, then a few clear payload
// header bytes (as SFrame leaves them) and opaque bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "rtp/packet.h"
#include "rtp/seq_num.h"
#include "rtp/vp8.h"
#include "sfu/consumer.h"
#include "sfu/producer.h"
#include "sfu/router.h"
#include "sfu/sfu_test_util.h"
#include "transport/dtls_contexts_test.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using common::TimePoint;

namespace {

constexpr uint8_t kRidId = 10, kRepairedRidId = 11;
constexpr std::array<uint32_t, 3> kLayerSsrcs = {0x11110000, 0x22220000, 0x33330000};
constexpr uint32_t kOutSsrc = 0xABCD0001;

ProducerSpec simulcastSpec() {
  ProducerSpec s;
  s.id = 1;
  s.kind = MediaKind::Video;
  s.payloadType = 96;
  s.clockRate = 90000;
  s.rids = {"q", "h", "f"};
  s.ridExtensionId = kRidId;
  s.repairedRidExtensionId = kRepairedRidId;
  return s;
}

ConsumerSpec consumerSpec() {
  ConsumerSpec s;
  s.id = 7;
  s.producerId = 1;
  s.ssrc = kOutSsrc;
  s.payloadType = 98;
  return s;
}

// One RTP packet of a VP8 stream; `rid` adds the rid header extension (one-byte form).
std::vector<uint8_t> vp8Packet(uint32_t ssrc, uint16_t seq, uint32_t ts, uint16_t pictureId, uint8_t tl0, bool key,
                               const std::string& rid = {}, uint8_t ridId = kRidId) {
  std::vector<uint8_t> b = {0x80,
                            96,
                            static_cast<uint8_t>(seq >> 8),
                            static_cast<uint8_t>(seq),
                            static_cast<uint8_t>(ts >> 24),
                            static_cast<uint8_t>(ts >> 16),
                            static_cast<uint8_t>(ts >> 8),
                            static_cast<uint8_t>(ts),
                            static_cast<uint8_t>(ssrc >> 24),
                            static_cast<uint8_t>(ssrc >> 16),
                            static_cast<uint8_t>(ssrc >> 8),
                            static_cast<uint8_t>(ssrc)};
  if (!rid.empty()) {
    b[0] |= 0x10;
    std::vector<uint8_t> ext = {static_cast<uint8_t>((ridId << 4) | (rid.size() - 1))};
    ext.insert(ext.end(), rid.begin(), rid.end());
    while (ext.size() % 4) ext.push_back(0);
    b.insert(b.end(), {0xBE, 0xDE, 0x00, static_cast<uint8_t>(ext.size() / 4)});
    b.insert(b.end(), ext.begin(), ext.end());
  }
  // Descriptor: X, S, PID 0; I (15-bit picture ID), L, T.
  b.insert(b.end(),
           {0x90, 0xE0, static_cast<uint8_t>(0x80 | (pictureId >> 8)), static_cast<uint8_t>(pictureId), tl0, 0x00});
  if (key) {
    // Frame tag with P = 0, start code, 640x360, then ciphertext stand-in.
    b.insert(b.end(), {0x50, 0x2D, 0x01, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01, 0xEE, 0xEE});
  } else {
    b.insert(b.end(), {0x31, 0x07, 0x00, 0xEE, 0xEE, 0xEE});
  }
  return b;
}

struct Out {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint16_t pictureId = 0;
  uint8_t tl0 = 0;
  bool key = false;
};

// One simulcast source: its own sequence numbers, timestamps and picture numbering.
struct Layer {
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  uint16_t pictureId;
  uint8_t tl0;
};

class SimulcastTest : public ::testing::Test {
 protected:
  SimulcastTest() {
    for (int i = 0; i < 3; ++i)
      producer.learnLayerSsrc(simulcastSpec().rids[static_cast<size_t>(i)], kLayerSsrcs[i], false);
    producer.consumers().push_back(&consumer);
  }

  // The next frame (one packet) of layer `index`, as the router hands it over; what the consumer
  // wrote, if anything.
  std::optional<Out> send(int index, bool key) {
    Layer& l = layers[static_cast<size_t>(index)];
    auto bytes = vp8Packet(l.ssrc, l.seq++, l.ts, l.pictureId, l.tl0, key);
    l.ts += 3000;
    l.pictureId = static_cast<uint16_t>((l.pictureId + 1) & 0x7FFF);
    ++l.tl0;
    auto packet = rtp::RtpPacket::parse(bytes);
    producer.onRtp(*packet, index, now);
    std::array<uint8_t, 1500> out{};
    const size_t n = consumer.writeLayerPacket(*packet, index, out, now);
    producer.onForwarded(*packet, index, now, Producer::takesLayer(consumer, index));
    if (n == 0) return std::nullopt;
    auto written = rtp::RtpPacket::parse(std::span(out).first(n));
    auto d = rtp::Vp8Descriptor::parse(written->payload());
    return Out{written->ssrc(),          written->sequenceNumber(), written->timestamp(),
               d->pictureId.value_or(0), d->tl0PicIdx.value_or(0),  d->keyframe};
  }

  // A frame from every layer at the same instant, as a simulcast publisher sends; the last packet
  // forwarded, if any. At a switch both the old layer's frame and the new layer's keyframe of that
  // instant may go out; every packet forwarded must continue the output stream.
  std::optional<Out> sendAll(std::array<bool, 3> key = {false, false, false}) {
    std::optional<Out> forwarded;
    for (int i = 0; i < 3; ++i)
      if (auto o = send(i, key[static_cast<size_t>(i)])) {
        if (last) expectContinues(*last, *o);
        last = o;
        forwarded = o;
      }
    now += 33ms;
    return forwarded;
  }

  // Checks that `next` continues `prev` by one packet and one picture.
  static void expectContinues(const Out& prev, const Out& next) {
    EXPECT_EQ(next.ssrc, kOutSsrc);
    EXPECT_EQ(next.seq, static_cast<uint16_t>(prev.seq + 1));
    EXPECT_TRUE(rtp::RtpTimestamp::isNewer(next.ts, prev.ts));
    EXPECT_LT(rtp::RtpTimestamp::diff(next.ts, prev.ts), 90000);  // under a second of clock
    EXPECT_EQ(next.pictureId, static_cast<uint16_t>((prev.pictureId + 1) & 0x7FFF));
    EXPECT_EQ(next.tl0, static_cast<uint8_t>(prev.tl0 + 1));
  }

  TimePoint now = TimePoint{} + 1000s;
  std::optional<Out> last;  // the newest packet the consumer wrote
  Producer producer{simulcastSpec(), "alice"};
  Consumer consumer{consumerSpec(), producer, "bob"};
  // Far apart and near their wrap-around points, so that a switch without rewriting shows.
  std::array<Layer, 3> layers = {Layer{kLayerSsrcs[0], 65500, 0xFFFF0000, 0x7FF0, 250},
                                 Layer{kLayerSsrcs[1], 1000, 5000000, 200, 17},
                                 Layer{kLayerSsrcs[2], 40000, 0x80000000, 16000, 99}};
};

}  // namespace

TEST_F(SimulcastTest, LayerSsrcsAreLearnedOnceFromTheirRids) {
  Producer p(simulcastSpec(), "alice");
  EXPECT_EQ(p.layerCount(), 3);
  EXPECT_EQ(p.learnLayerSsrc("h", 0x1234, false), 1);
  EXPECT_EQ(p.learnLayerSsrc("h", 0x5678, false), -1);  // the layer has its SSRC
  EXPECT_EQ(p.learnLayerSsrc("f", 0x1234, false), -1);  // the SSRC is taken
  EXPECT_EQ(p.learnLayerSsrc("x", 0x9999, false), -1);  // no such rid
  EXPECT_EQ(p.learnLayerSsrc("h", 0x4321, true), 1);    // its RTX stream (repaired rid)
  EXPECT_EQ(p.layerOf(0x1234), 1);
  EXPECT_EQ(p.rtxLayerOf(0x4321), 1);
  EXPECT_EQ(p.layerOf(0x4321), -1);
  EXPECT_EQ(p.layer(1).ssrc, 0x1234u);
}

TEST_F(SimulcastTest, TheConsumerStartsAtAKeyframeOfTheTopLayerAndForwardsOnlyThatLayer) {
  EXPECT_FALSE(sendAll());  // delta frames: nothing to start with
  EXPECT_EQ(consumer.currentLayer(), -1);
  EXPECT_EQ(consumer.targetLayer(), 2);
  EXPECT_TRUE(consumer.wantsKeyframe());
  // Keyframes of the lower layers do not start it: it waits for the top layer's.
  EXPECT_FALSE(sendAll({true, true, false}));
  auto first = sendAll({false, false, true});
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->key);
  EXPECT_EQ(first->ssrc, kOutSsrc);
  EXPECT_EQ(consumer.currentLayer(), 2);
  EXPECT_FALSE(consumer.wantsKeyframe());
  auto next = sendAll();
  ASSERT_TRUE(next);
  expectContinues(*first, *next);
}

TEST_F(SimulcastTest, ASwitchWaitsForAKeyframeOfTheTargetLayer) {
  sendAll();
  auto prev = sendAll({false, false, true});
  ASSERT_TRUE(prev);
  consumer.setMaxLayer(0);
  EXPECT_EQ(consumer.maxLayer(), 0);
  // Until layer 0 sends a keyframe, layer 2 goes on and the consumer asks for one.
  for (int i = 0; i < 5; ++i) {
    auto o = sendAll({false, false, i == 2});  // a keyframe of the old layer changes nothing
    ASSERT_TRUE(o);
    expectContinues(*prev, *o);
    prev = o;
    EXPECT_EQ(consumer.currentLayer(), 2);
    EXPECT_EQ(consumer.targetLayer(), 0);
    EXPECT_TRUE(consumer.wantsKeyframe());
  }
  auto switched = sendAll({true, false, false});
  ASSERT_TRUE(switched);
  EXPECT_TRUE(switched->key);
  expectContinues(*prev, *switched);
  EXPECT_EQ(consumer.currentLayer(), 0);
  EXPECT_FALSE(consumer.wantsKeyframe());
  EXPECT_EQ(consumer.layerSwitches(), 1u);
  // Now only layer 0 is forwarded.
  auto after = sendAll({false, false, true});
  ASSERT_TRUE(after);
  expectContinues(*switched, *after);
  EXPECT_EQ(consumer.currentLayer(), 0);
}

// Issue 13: a NACK can only name a packet of the layer its consumer forwards, so only layers a
// consumer is on (or switching to) are cached, and a layer left for a cache window gives its pages
// back.
TEST_F(SimulcastTest, OnlyTheLayersConsumersAreOnOrSwitchingToAreCached) {
  sendAll();
  ASSERT_TRUE(sendAll({false, false, true}));  // on layer 2
  // 2 s: longer than a cache window, so what the start cached of other layers is gone.
  for (int i = 0; i < 60; ++i) sendAll();
  EXPECT_EQ(producer.cache(0)->chunkBytes(), 0u);
  EXPECT_EQ(producer.cache(1)->chunkBytes(), 0u);
  EXPECT_FALSE(producer.cache(0)->get(static_cast<uint16_t>(layers[0].seq - 1)));
  EXPECT_GT(producer.cache(2)->chunkBytes(), 0u);
  EXPECT_TRUE(producer.cache(2)->get(static_cast<uint16_t>(layers[2].seq - 1)));
  // Switching to layer 0: its packets are cached from the request on, and the keyframe the switch
  // happens at even when the target changed at that very packet.
  consumer.setMaxLayer(0);
  const uint16_t keyframe = layers[0].seq;
  ASSERT_TRUE(sendAll({true, false, false}));
  EXPECT_EQ(consumer.currentLayer(), 0);
  EXPECT_TRUE(producer.cache(0)->get(keyframe));
  // Layer 2's copies stay for a window (a NACK sent just before the switch), then its pages go.
  const size_t top = producer.cache(2)->chunkBytes();
  const auto lastOfTop = static_cast<uint16_t>(layers[2].seq - 2);
  sendAll();
  EXPECT_EQ(producer.cache(2)->chunkBytes(), top);
  EXPECT_TRUE(producer.cache(2)->get(lastOfTop));
  for (int i = 0; i < 60; ++i) sendAll();
  EXPECT_EQ(producer.cache(2)->chunkBytes(), 0u);
  EXPECT_FALSE(producer.cache(2)->get(lastOfTop));
  EXPECT_EQ(producer.cache(1)->chunkBytes(), 0u);
  EXPECT_TRUE(producer.cache(0)->get(static_cast<uint16_t>(layers[0].seq - 1)));
}

TEST_F(SimulcastTest, OutputStaysContinuousAcrossManySwitchesAndWrapArounds) {
  sendAll();
  auto prev = sendAll({false, false, true});
  ASSERT_TRUE(prev);
  const Out first = *prev;
  // Down, up, middle, up, ...: every layer's numbers wrap at some point (layer 0 starts near
  // the 16-bit sequence, 32-bit timestamp and 15-bit picture ID limits and runs the longest).
  const std::array<int, 8> targets = {0, 2, 1, 0, 1, 2, 0, 1};
  for (int target : targets) {
    consumer.setMaxLayer(target);
    for (int i = 0; i < 40; ++i) {
      std::array<bool, 3> key{};
      key[static_cast<size_t>(target)] = i == 20;  // the target's keyframe comes after a while
      auto o = sendAll(key);
      ASSERT_TRUE(o) << "no packet at step " << i << " towards layer " << target;
      EXPECT_EQ(consumer.currentLayer() == target, i >= 20);
      prev = o;
    }
  }
  EXPECT_EQ(consumer.layerSwitches(), targets.size());
  // Output sequence numbers count every packet written: none skipped, none twice.
  EXPECT_EQ(static_cast<uint16_t>(last->seq - first.seq + 1), consumer.packetsSent());
  EXPECT_LT(layers[0].seq, 1000);  // layer 0's sequence numbers did wrap
}

TEST_F(SimulcastTest, APausedConsumerForwardsNothingAndResumesAtAKeyframe) {
  sendAll();
  auto prev = sendAll({false, false, true});
  ASSERT_TRUE(prev);
  consumer.setPaused(true);
  EXPECT_FALSE(consumer.wantsKeyframe());  // no keyframe requests for a hidden tile
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(sendAll({true, true, true}));
  consumer.setPaused(false);
  EXPECT_TRUE(consumer.wantsKeyframe());
  EXPECT_FALSE(sendAll());  // resumes only at a keyframe
  auto resumed = sendAll({false, false, true});
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(resumed->key);
  EXPECT_EQ(resumed->seq, static_cast<uint16_t>(prev->seq + 1));  // no gap for what was not sent
  EXPECT_TRUE(rtp::RtpTimestamp::isNewer(resumed->ts, prev->ts));
}

TEST_F(SimulcastTest, TheTargetFallsBackWhenTheWantedLayerStops) {
  sendAll();
  ASSERT_TRUE(sendAll({false, false, true}));
  // The publisher stops layer 2 (its uplink is short): the target becomes layer 1.
  now += Producer::kLayerTimeout;
  for (int i = 0; i < 3; ++i) {
    send(0, false);
    send(1, i == 2);
    now += 33ms;
  }
  EXPECT_EQ(consumer.targetLayer(), 1);
  EXPECT_EQ(consumer.currentLayer(), 1);
  // With a max layer below every active layer, the lowest active one is the target.
  Producer sparse(simulcastSpec(), "alice");
  sparse.learnLayerSsrc("f", kLayerSsrcs[2], false);
  auto bytes = vp8Packet(kLayerSsrcs[2], 1, 1, 1, 1, false);
  sparse.onRtp(*rtp::RtpPacket::parse(bytes), 2, now);
  Consumer c(consumerSpec(), sparse, "carol");
  c.setMaxLayer(0);
  c.updateTargetLayer(now);
  EXPECT_EQ(c.targetLayer(), 2);
}

TEST_F(SimulcastTest, EachLayerMeasuresItsBitrate) {
  for (int i = 0; i < 30; ++i) {
    auto small = vp8Packet(kLayerSsrcs[0], static_cast<uint16_t>(i), 0, 0, 0, false);
    small.resize(small.size() + 100);  // ~126 bytes every 33 ms
    producer.onRtp(*rtp::RtpPacket::parse(small), 0, now);
    auto large = vp8Packet(kLayerSsrcs[2], static_cast<uint16_t>(i), 0, 0, 0, false);
    large.resize(1000);
    producer.onRtp(*rtp::RtpPacket::parse(large), 2, now);
    now += 33ms;
  }
  const uint32_t low = producer.layerBitrate(0, now);
  const uint32_t high = producer.layerBitrate(2, now);
  // About 30 packets a second of 1000 bytes: 240 kbit/s (the 1 s window holds 30 +- 1 of them).
  EXPECT_NEAR(high, 240000, 16000);
  EXPECT_NEAR(low, 126 * 8 * 30, 2000);
  EXPECT_EQ(producer.layerBitrate(1, now), 0u);
  // A second later without packets, the meter reads 0.
  EXPECT_EQ(producer.layerBitrate(2, now + 1100ms), 0u);
}

// ---- Through the Router, with real transports (in memory) -------------------------------------

namespace {

using transport::test::BrowserPeer;
using transport::test::Wire;

// Alice publishes simulcast (no SSRCs announced); Bob subscribes. Packets carry the rid (or
// repaired rid) header extension as browsers send them.
class SimulcastRouterTest : public transport::test::DtlsContextsTest {
 protected:
  void SetUp() override {
    for (auto* p : {&alice, &bob}) wire.attach(*p);
    for (auto id : {"alice", "bob"}) router.addParticipant(id);
    TransportSpec pub;
    pub.localIce = ice::IceCredentials::generate();
    pub.remoteIce = alice.ice();
    pub.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport("alice", TransportRole::Publish, pub);
    handshake(alice, pub.localIce);
    TransportSpec sub;
    sub.localIce = ice::IceCredentials::generate();
    router.setTransport("bob", TransportRole::Subscribe, sub);
    sub.remoteIce = bob.ice();
    sub.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport("bob", TransportRole::Subscribe, sub);
    handshake(bob, sub.localIce);
    ProducerSpec spec = simulcastSpec();
    spec.extensionMap = {{kRidId, 0}, {kRepairedRidId, 0}};
    router.addProducer("alice", spec);
    router.addConsumer("bob", consumerSpec());
    wire.pump(now);
  }

  void handshake(BrowserPeer& peer, const ice::IceCredentials& server) {
    peer.sendCheck(server, true);
    wire.pump(now);
    peer.startDtls(now);
    wire.pump(now);
    ASSERT_TRUE(peer.dtlsConnected());
  }

  // The next frame of layer `index` (the first packets of each layer carry its rid).
  void send(int index, bool key, bool withRid = true) {
    Layer& l = layers[static_cast<size_t>(index)];
    alice.sendRtp(vp8Packet(l.ssrc, l.seq++, l.ts, l.pictureId, l.tl0, key,
                            withRid ? std::string(1, "qhf"[index]) : std::string()));
    l.ts += 3000;
    l.pictureId = static_cast<uint16_t>((l.pictureId + 1) & 0x7FFF);
    ++l.tl0;
    wire.pump(now);
  }

  std::vector<uint32_t> pliSsrcs() {
    std::vector<uint32_t> out;
    for (const auto& pli : sfu::test::plisOf(alice)) out.push_back(pli.mediaSsrc());
    return out;
  }

  const Consumer& consumer() { return *router.consumer(7); }

  TimePoint now = std::chrono::steady_clock::now();
  sfu::test::FakeHost host{*sServer};
  Router router{host, nullptr};
  BrowserPeer alice =
      BrowserPeer(*sBrowser, transport::test::loopback(41001), transport::test::fingerprintOf(*sServer));
  BrowserPeer bob = BrowserPeer(*sBrowser, transport::test::loopback(41002), transport::test::fingerprintOf(*sServer));
  Wire wire{host.recorder(),
            [this](std::span<uint8_t> d, const net::Endpoint& from, TimePoint t) { host.dispatch(d, from, t); }};
  std::array<Layer, 3> layers = {Layer{kLayerSsrcs[0], 100, 1000, 10, 1}, Layer{kLayerSsrcs[1], 200, 2000, 20, 2},
                                 Layer{kLayerSsrcs[2], 300, 3000, 30, 3}};
};

}  // namespace

TEST_F(SimulcastRouterTest, LayersAreLearnedFromRidsAndOnlyTheTargetLayerReachesTheSubscriber) {
  // An SSRC without a rid is not a layer: dropped, nothing learned.
  send(2, true, false);
  EXPECT_TRUE(bob.rtp.empty());
  EXPECT_EQ(router.producer(1)->layerOf(kLayerSsrcs[2]), -1);
  // RTX of layer 1 (repaired rid) is learned as that layer's RTX, not forwarded.
  alice.sendRtp(vp8Packet(0x22229999, 1, 1, 1, 1, false, "h", kRepairedRidId));
  wire.pump(now);
  EXPECT_EQ(router.producer(1)->rtxLayerOf(0x22229999), 1);
  EXPECT_TRUE(bob.rtp.empty());
  // Each layer's first packets carry its rid. The consumer starts with the first layer that sends
  // (the lowest here) and climbs at each higher layer's keyframe.
  for (int i = 0; i < 3; ++i) send(i, true);
  ASSERT_EQ(bob.rtp.size(), 3u);
  EXPECT_EQ(router.stats().layerSwitches, 2u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(router.producer(1)->layerOf(kLayerSsrcs[static_cast<size_t>(i)]), i);
  // Later packets need no rid: the SSRCs are known.
  for (int i = 0; i < 3; ++i) send(i, false, false);
  ASSERT_EQ(bob.rtp.size(), 4u);
  auto first = rtp::RtpPacket::parse(bob.rtp[0]);
  auto second = rtp::RtpPacket::parse(bob.rtp[3]);
  EXPECT_EQ(first->ssrc(), kOutSsrc);
  EXPECT_EQ(second->ssrc(), kOutSsrc);
  EXPECT_FALSE(first->extension(kRidId).has_value());  // the rid is the publisher's business
  EXPECT_EQ(consumer().currentLayer(), 2);
}

// A camera stopped and started again: the browser publishes a new track on the same sender,
// which keeps its SSRCs and, its rids acknowledged by the SFU's receiver reports long ago, sends
// them without rid. The new producer takes the SSRCs over from the one removed before it; a
// stream that does come with its rid and another SSRC still replaces one taken over.
TEST_F(SimulcastRouterTest, AProducerOnTheSameSectionTakesOverTheLayerSsrcsOfTheOneBefore) {
  for (int i = 0; i < 3; ++i) send(i, true);
  ASSERT_EQ(bob.rtp.size(), 3u);
  router.removeProducer(1);
  ProducerSpec again = simulcastSpec();
  again.id = 2;
  again.extensionMap = {{kRidId, 0}, {kRepairedRidId, 0}};
  router.addProducer("alice", again);
  ConsumerSpec consumer = consumerSpec();
  consumer.id = 8;
  consumer.producerId = 2;
  consumer.ssrc = kOutSsrc + 1;  // a new stream toward Bob (the old one's SRTP replay window stays)
  router.addConsumer("bob", consumer);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(router.producer(2)->layerOf(kLayerSsrcs[static_cast<size_t>(i)]), i);
  const size_t before = bob.rtp.size();
  for (int i = 0; i < 3; ++i) send(i, true, false);
  EXPECT_GT(bob.rtp.size(), before);

  // Layer 0 comes back under a new SSRC with its rid: it replaces the one taken over, once.
  alice.sendRtp(vp8Packet(0x0A0A0A0A, 1, 1, 1, 1, true, "q"));
  wire.pump(now);
  EXPECT_EQ(router.producer(2)->layerOf(0x0A0A0A0A), 0);
  EXPECT_EQ(router.producer(2)->layerOf(kLayerSsrcs[0]), -1);
  alice.sendRtp(vp8Packet(0x0B0B0B0B, 1, 1, 1, 1, true, "q"));
  wire.pump(now);
  EXPECT_EQ(router.producer(2)->layerOf(0x0B0B0B0B), -1);
  EXPECT_EQ(router.producer(2)->layerOf(0x0A0A0A0A), 0);

  // A producer on another section takes nothing over.
  router.removeProducer(2);
  ProducerSpec other = simulcastSpec();
  other.id = 3;
  other.mid = "5";
  router.addProducer("alice", other);
  EXPECT_EQ(router.producer(3)->layerOf(kLayerSsrcs[1]), -1);
}

TEST_F(SimulcastRouterTest, ASwitchDownAsksTheTargetLayerForAKeyframeAndHappensAtIt) {
  for (int i = 0; i < 3; ++i) send(i, i == 2);
  EXPECT_EQ(router.stats().layerSwitches, 0u);
  ASSERT_EQ(consumer().currentLayer(), 2);
  const auto before = pliSsrcs();
  router.setConsumerMaxLayer(7, 0);
  EXPECT_EQ(consumer().targetLayer(), 0);
  // The next packet makes the router ask layer 0's SSRC for a keyframe (past the throttle).
  now += 600ms;
  for (int i = 0; i < 3; ++i) send(i, false);
  auto plis = pliSsrcs();
  ASSERT_GT(plis.size(), before.size());
  EXPECT_EQ(plis.back(), kLayerSsrcs[0]);
  EXPECT_EQ(consumer().currentLayer(), 2);  // still layer 2 until that keyframe
  const size_t forwarded = bob.rtp.size();
  send(0, true);
  EXPECT_EQ(consumer().currentLayer(), 0);
  ASSERT_EQ(bob.rtp.size(), forwarded + 1);
  EXPECT_EQ(router.stats().layerSwitches, 1u);
  auto prev = rtp::RtpPacket::parse(bob.rtp[forwarded - 1]);
  auto next = rtp::RtpPacket::parse(bob.rtp[forwarded]);
  EXPECT_EQ(next->sequenceNumber(), static_cast<uint16_t>(prev->sequenceNumber() + 1));
  auto prevVp8 = rtp::Vp8Descriptor::parse(prev->payload());
  auto nextVp8 = rtp::Vp8Descriptor::parse(next->payload());
  EXPECT_EQ(*nextVp8->pictureId, static_cast<uint16_t>(*prevVp8->pictureId + 1));
  // A subscriber's PLI now asks layer 0.
  now += 600ms;
  bob.sendRtcp(sfu::test::pli(0x0b0b, kOutSsrc));
  wire.pump(now);
  EXPECT_EQ(pliSsrcs().back(), kLayerSsrcs[0]);
}

TEST_F(SimulcastRouterTest, APausedConsumerGetsNothingAndAsksForNoKeyframe) {
  for (int i = 0; i < 3; ++i) send(i, i == 2);
  router.setConsumerPaused(7, true);
  // A request throttled before the pause may still go out once.
  now += 600ms;
  router.tick(now);
  wire.pump(now);
  const size_t forwarded = bob.rtp.size();
  const size_t plis = pliSsrcs().size();
  for (int round = 0; round < 5; ++round) {
    now += 600ms;
    for (int i = 0; i < 3; ++i) send(i, true);
    router.tick(now);
    wire.pump(now);
  }
  EXPECT_EQ(bob.rtp.size(), forwarded);
  EXPECT_EQ(pliSsrcs().size(), plis);
  router.setConsumerPaused(7, false);
  send(2, true);
  EXPECT_EQ(bob.rtp.size(), forwarded + 1);
}

// Forwarded video is padded to a multiple of Consumer::kVideoSizeQuantum (so that a frame's
// packets, which libwebrtc makes differ by a byte, are one size for UDP GSO): P set, the count in
// the last byte, the payload as it came. Packets that carry padding already keep theirs.
TEST_F(SimulcastTest, ForwardedVideoIsPaddedToTheSizeQuantumWithThePayloadUntouched) {
  sendAll({false, false, true});
  ASSERT_EQ(consumer.currentLayer(), 2);
  for (size_t extra = 0; extra < 40; ++extra) {
    Layer& l = layers[2];
    auto bytes = vp8Packet(l.ssrc, l.seq++, l.ts, l.pictureId, l.tl0, false);
    bytes.insert(bytes.end(), extra, 0xEE);
    auto source = rtp::RtpPacket::parse(bytes);
    ASSERT_TRUE(source);
    std::array<uint8_t, 1500> out{};
    const size_t n = consumer.writeLayerPacket(*source, 2, out, now);
    ASSERT_GT(n, 0u);
    EXPECT_EQ(n % Consumer::kVideoSizeQuantum, 0u) << "from " << bytes.size();
    EXPECT_LT(n - bytes.size(), Consumer::kVideoSizeQuantum);
    auto written = rtp::RtpPacket::parse(std::span(out).first(n));
    ASSERT_TRUE(written);
    EXPECT_EQ(written->paddingSize(), n - bytes.size());
    EXPECT_EQ(written->hasPadding(), n != bytes.size());
    EXPECT_TRUE(std::equal(written->payload().begin(), written->payload().end(), source->payload().begin(),
                           source->payload().end()));
  }
  // A packet with padding of its own (3 bytes) is forwarded at its size.
  Layer& l = layers[2];
  auto padded = vp8Packet(l.ssrc, l.seq++, l.ts, l.pictureId, l.tl0, false);
  padded[0] |= 0x20;
  padded.insert(padded.end(), {0, 0, 3});
  if (padded.size() % Consumer::kVideoSizeQuantum == 0) padded.insert(padded.end() - 3, 0xEE);
  auto source = rtp::RtpPacket::parse(padded);
  ASSERT_TRUE(source);
  std::array<uint8_t, 1500> out{};
  EXPECT_EQ(consumer.writeLayerPacket(*source, 2, out, now), padded.size());
  // No room in the output for the padding: unpadded.
  Layer& again = layers[2];
  auto tight = vp8Packet(again.ssrc, again.seq++, again.ts, again.pictureId, again.tl0, false);
  if (tight.size() % Consumer::kVideoSizeQuantum == 0) tight.push_back(0xEE);
  auto tightPacket = rtp::RtpPacket::parse(tight);
  std::vector<uint8_t> small(tight.size());
  EXPECT_EQ(consumer.writeLayerPacket(*tightPacket, 2, small, now), tight.size());
}
