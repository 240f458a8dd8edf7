// Router with real transports: each participant's browser side (our ICE client, DTLS client and
// SRTP session) is connected through a FakeHost that routes like MediaWorker, in memory. The
// publisher sends captured Chromium packets; what the subscribers get is decrypted and checked.
// The Router is driven the way signaling/media_room.cpp drives it.
#include "sfu/router.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/certificate.h"
#include "rtcp/report_block.h"
#include "rtp/captured_packets.h"
#include "rtp/header_extensions.h"
#include "rtp/packet_writer.h"
#include "rtp/vp8.h"
#include "sfu/sfu_test_util.h"
#include "transport/dtls_contexts_test.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using common::TimePoint;
using sfu::test::FakeHost;
using transport::test::BrowserPeer;
using transport::test::Datagram;
using transport::test::Wire;

namespace {

// Chromium's SSRCs and payload types in the captured packets.
constexpr uint32_t kVideoSsrc = 0xfc91b0bd;
constexpr uint32_t kVideoRtxSsrc = 0x7cf7c518;
constexpr uint32_t kAudioSsrc = 0xd0dd2577;
// Extension ids in the captured packets: abs-send-time 2, transport-cc 3, mid 4, audio-level 1.
constexpr uint8_t kAbsSendTime = 2, kTransportCc = 3, kMid = 4, kAudioLevel = 1;
// What the subscribers negotiated for abs-send-time (another id, to see the remapping).
constexpr uint8_t kSubscriberAbsSendTime = 6;

constexpr uint64_t kVideoProducer = 1, kAudioProducer = 2;
constexpr uint64_t kBobVideo = 11, kCarolVideo = 12, kBobAudio = 13;
constexpr uint32_t kBobVideoSsrc = 0xb0b00001, kCarolVideoSsrc = 0xca701001, kBobAudioSsrc = 0xb0b00002;
constexpr uint8_t kSubscriberVideoPt = 98, kSubscriberAudioPt = 109;

struct Failure {
  std::string participant;
  TransportRole role;
  std::string reason;
};

struct Observer final : RouterObserver {
  void onTransportFailed(const std::string& id, TransportRole role, std::string_view reason) override {
    failures.push_back({id, role, std::string(reason)});
  }
  std::vector<Failure> failures;
};

ProducerSpec videoSpec() {
  ProducerSpec s;
  s.id = kVideoProducer;
  s.kind = MediaKind::Video;
  s.ssrc = kVideoSsrc;
  s.rtxSsrc = kVideoRtxSsrc;
  s.payloadType = 96;
  s.clockRate = 90000;
  // As MediaRoom builds it: mid and transport-cc are removed, the rest gets the subscriber id.
  s.extensionMap = {{kAbsSendTime, kSubscriberAbsSendTime}, {kTransportCc, 0}, {kMid, 0}};
  return s;
}

ProducerSpec audioSpec() {
  ProducerSpec s;
  s.id = kAudioProducer;
  s.kind = MediaKind::Audio;
  s.ssrc = kAudioSsrc;
  s.payloadType = 111;
  s.clockRate = 48000;
  s.extensionMap = {{kAudioLevel, kAudioLevel}, {kTransportCc, 0}, {kMid, 0}};
  return s;
}

ConsumerSpec consumerSpec(uint64_t id, uint64_t producer, uint32_t ssrc, uint8_t pt) {
  ConsumerSpec s;
  s.id = id;
  s.producerId = producer;
  s.ssrc = ssrc;
  s.payloadType = pt;
  return s;
}

class RouterTest : public transport::test::DtlsContextsTest {
 protected:
  void SetUp() override {
    for (auto* p : {&alice, &bob, &carol}) wire.attach(*p);
    for (auto id : {"alice", "bob", "carol"}) router.addParticipant(id);
  }

  BrowserPeer makePeer(uint16_t port) {
    return BrowserPeer(*sBrowser, transport::test::loopback(port), transport::test::fingerprintOf(*sServer));
  }

  // Publish: the browser's offer carries its ICE credentials and fingerprint; the answer is ours.
  void connectPublisher(const std::string& id, BrowserPeer& peer) {
    TransportSpec spec;
    spec.localIce = ice::IceCredentials::generate();
    spec.remoteIce = peer.ice();
    spec.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport(id, TransportRole::Publish, spec);
    serverIce[&peer] = spec.localIce;
    handshake(peer);
  }

  // Subscribe: our offer creates the transport; the browser's answer completes it.
  void createSubscriber(const std::string& id, BrowserPeer& peer) {
    TransportSpec spec;
    spec.localIce = ice::IceCredentials::generate();
    router.setTransport(id, TransportRole::Subscribe, spec);
    spec.remoteIce = peer.ice();
    spec.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
    router.setTransport(id, TransportRole::Subscribe, spec);
    serverIce[&peer] = spec.localIce;
  }
  void connectSubscriber(const std::string& id, BrowserPeer& peer) {
    createSubscriber(id, peer);
    handshake(peer);
  }

  void handshake(BrowserPeer& peer) {
    peer.sendCheck(serverIce[&peer], true);
    wire.pump(now);
    peer.startDtls(now);
    wire.pump(now);
    ASSERT_TRUE(peer.dtlsConnected());
  }

  // Alice publishes video; Bob and Carol subscribe to it.
  void setUpVideoCall() {
    connectPublisher("alice", alice);
    router.addProducer("alice", videoSpec());
    connectSubscriber("bob", bob);
    connectSubscriber("carol", carol);
    router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
    router.addConsumer("carol", consumerSpec(kCarolVideo, kVideoProducer, kCarolVideoSsrc, kSubscriberVideoPt));
    wire.pump(now);
  }

  // Source packet i of the video stream: a key frame first, then delta frames.
  static std::vector<uint8_t> videoPacket(size_t i, bool key = false) {
    const auto seq = static_cast<uint16_t>(kFirstSeq + i);
    const uint32_t ts = kFirstTs + static_cast<uint32_t>(i) * 3000;
    return sfu::test::rtpFrom(
        key ? std::span<const uint8_t>(testdata::kChromeVp8Key) : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
        seq, ts);
  }
  void sendVideo(size_t from, size_t count, bool firstIsKey = true) {
    for (size_t i = from; i < from + count; ++i) alice.sendRtp(videoPacket(i, firstIsKey && i == from));
    wire.pump(now);
  }

  static constexpr uint16_t kFirstSeq = 65530;  // wraps during the tests
  static constexpr uint32_t kFirstTs = 0xfffff000;

  TimePoint now = std::chrono::steady_clock::now();
  FakeHost host{*sServer};
  Observer observer;
  Router router{host, &observer};
  BrowserPeer alice = makePeer(40001), bob = makePeer(40002), carol = makePeer(40003);
  std::map<BrowserPeer*, ice::IceCredentials> serverIce;
  Wire wire{host.recorder(),
            [this](std::span<uint8_t> d, const net::Endpoint& from, TimePoint t) { host.dispatch(d, from, t); }};
};

TEST_F(RouterTest, ForwardsToEverySubscriberWithItsOwnSsrcSequenceAndPayloadType) {
  setUpVideoCall();
  sendVideo(0, 10);
  EXPECT_EQ(router.stats().rtpForwarded, 20u);
  std::set<uint16_t> firstSeqs;
  for (auto [peer, ssrc] : {std::pair{&bob, kBobVideoSsrc}, std::pair{&carol, kCarolVideoSsrc}}) {
    ASSERT_EQ(peer->rtp.size(), 10u);
    EXPECT_TRUE(peer->srtpErrors.empty());
    auto first = rtp::RtpPacket::parse(peer->rtp[0]);
    ASSERT_TRUE(first);
    firstSeqs.insert(first->sequenceNumber());
    for (size_t i = 0; i < 10; ++i) {
      auto p = rtp::RtpPacket::parse(peer->rtp[i]);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->ssrc(), ssrc);
      EXPECT_EQ(p->payloadType(), kSubscriberVideoPt);
      // Continuous across the source's wrap, with the source's timestamp spacing.
      EXPECT_EQ(p->sequenceNumber(), static_cast<uint16_t>(first->sequenceNumber() + i));
      EXPECT_EQ(p->timestamp() - first->timestamp(), i * 3000);
      EXPECT_EQ(p->marker(), true);
      EXPECT_EQ(sfu::test::payloadOf(peer->rtp[i]), sfu::test::payloadOf(videoPacket(i, i == 0)));
    }
  }
  // Each subscriber has its own random sequence space.
  EXPECT_EQ(firstSeqs.size(), 2u);
}

TEST_F(RouterTest, HeaderExtensionsAreRemappedAndMidAndTransportCcRemoved) {
  setUpVideoCall();
  sendVideo(0, 2);
  ASSERT_EQ(bob.rtp.size(), 2u);
  auto source = videoPacket(0, true);
  auto in = rtp::RtpPacket::parse(source);
  ASSERT_TRUE(in);
  ASSERT_TRUE(in->extension(kMid));
  ASSERT_TRUE(in->extension(kTransportCc));
  auto out = rtp::RtpPacket::parse(bob.rtp[0]);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->extension(kMid));
  EXPECT_FALSE(out->extension(kTransportCc));
  EXPECT_FALSE(out->extension(kAbsSendTime));
  auto abs = out->extension(kSubscriberAbsSendTime);
  ASSERT_TRUE(abs);
  auto srcAbs = in->extension(kAbsSendTime);
  EXPECT_TRUE(std::equal(abs->begin(), abs->end(), srcAbs->begin(), srcAbs->end()));
  size_t elements = 0;
  out->forEachExtension([&](const rtp::HeaderExtension&) { ++elements; });
  EXPECT_EQ(elements, 1u);

  // Audio: audio-level kept under its id, the rest removed.
  router.addProducer("alice", audioSpec());
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  auto opus = std::vector<uint8_t>(std::begin(testdata::kChromeOpus), std::end(testdata::kChromeOpus));
  alice.sendRtp(opus);
  wire.pump(now);
  ASSERT_EQ(bob.rtp.size(), 3u);
  auto a = rtp::RtpPacket::parse(bob.rtp[2]);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ssrc(), kBobAudioSsrc);
  EXPECT_EQ(a->payloadType(), kSubscriberAudioPt);
  ASSERT_TRUE(a->extension(kAudioLevel));
  EXPECT_EQ((*a->extension(kAudioLevel))[0], 0xff);
  EXPECT_FALSE(a->extension(kMid));
  EXPECT_FALSE(a->extension(kTransportCc));
}

TEST_F(RouterTest, VideoConsumersWaitForAKeyframeAudioConsumersDoNot) {
  setUpVideoCall();
  // Delta frames only: nothing can be decoded, nothing is sent.
  sendVideo(0, 5, false);
  EXPECT_TRUE(bob.rtp.empty());
  EXPECT_TRUE(carol.rtp.empty());
  EXPECT_EQ(router.stats().rtpForwarded, 0u);
  // The key frame starts both streams; later delta frames follow it.
  sendVideo(5, 3, true);
  ASSERT_EQ(bob.rtp.size(), 3u);
  ASSERT_EQ(carol.rtp.size(), 3u);
  auto first = rtp::RtpPacket::parse(bob.rtp[0]);
  auto vp8 = rtp::Vp8Descriptor::parse(first->payload());
  ASSERT_TRUE(vp8);
  EXPECT_TRUE(vp8->keyframe);
  auto last = rtp::RtpPacket::parse(bob.rtp[2]);
  EXPECT_EQ(last->sequenceNumber(), static_cast<uint16_t>(first->sequenceNumber() + 2));

  router.addProducer("alice", audioSpec());
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  alice.sendRtp(std::vector<uint8_t>(std::begin(testdata::kChromeOpus), std::end(testdata::kChromeOpus)));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 4u);
}

TEST_F(RouterTest, AddingAConsumerAsksThePublisherForAKeyframeAtMostTwiceASecond) {
  connectPublisher("alice", alice);
  router.addProducer("alice", videoSpec());
  connectSubscriber("bob", bob);
  connectSubscriber("carol", carol);
  router.addProducer("alice", audioSpec());
  wire.pump(now);
  EXPECT_TRUE(sfu::test::plisOf(alice).empty());

  const TimePoint t0 = std::chrono::steady_clock::now();
  router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
  wire.pump(t0);
  auto plis = sfu::test::plisOf(alice);
  ASSERT_EQ(plis.size(), 1u);
  EXPECT_EQ(plis[0].mediaSsrc(), kVideoSsrc);
  const uint32_t routerSsrc = plis[0].senderSsrc();

  // A second consumer right after: throttled, kept pending.
  router.addConsumer("carol", consumerSpec(kCarolVideo, kVideoProducer, kCarolVideoSsrc, kSubscriberVideoPt));
  // An audio consumer asks for nothing.
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  wire.pump(t0);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), 1u);
  router.tick(t0 + 100ms);
  wire.pump(t0 + 100ms);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), 1u);

  // The pending request goes out once 500 ms have passed.
  router.tick(t0 + 600ms);
  wire.pump(t0 + 600ms);
  plis = sfu::test::plisOf(alice);
  ASSERT_EQ(plis.size(), 2u);
  EXPECT_EQ(plis[1].mediaSsrc(), kVideoSsrc);
  EXPECT_EQ(plis[1].senderSsrc(), routerSsrc);
  // Nothing pending any more.
  router.tick(t0 + 1200ms);
  wire.pump(t0 + 1200ms);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), 2u);
  EXPECT_EQ(router.stats().keyframeRequests, 2u);
}

TEST_F(RouterTest, ASubscriberThatConnectsLaterGetsAKeyframeRequest) {
  // MediaRoom's order: the consumer exists before the subscriber's transport is up.
  connectPublisher("alice", alice);
  router.addProducer("alice", videoSpec());
  createSubscriber("bob", bob);
  router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
  wire.pump(now);
  ASSERT_EQ(sfu::test::plisOf(alice).size(), 1u);
  // Packets before the subscriber is connected go nowhere.
  sendVideo(0, 3);
  EXPECT_EQ(router.stats().rtpForwarded, 0u);

  handshake(bob);
  // The request on connection falls inside the throttle window: it is sent by a later tick.
  const TimePoint later = std::chrono::steady_clock::now() + 600ms;
  router.tick(later);
  wire.pump(later);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), 2u);
  // Delta frames are held back until the key frame.
  sendVideo(3, 2, false);
  EXPECT_TRUE(bob.rtp.empty());
  sendVideo(5, 1, true);
  EXPECT_EQ(bob.rtp.size(), 1u);
}

TEST_F(RouterTest, ANackIsAnsweredFromTheCacheWithTheSameOutputSequenceNumber) {
  setUpVideoCall();
  // Lose the 4th and 6th RTP packets on the way to Bob.
  size_t toBob = 0;
  wire.setFilter([&](const Datagram& d) {
    if (d.to != bob.address() || ice::classifyPacket(d.bytes) != ice::PacketKind::RtpRtcp || ice::isRtcp(d.bytes))
      return true;
    ++toBob;
    return toBob != 4 && toBob != 6;
  });
  sendVideo(0, 10);
  ASSERT_EQ(bob.rtp.size(), 8u);
  ASSERT_EQ(carol.rtp.size(), 10u);
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  const uint32_t ts = rtp::RtpPacket::parse(bob.rtp[0])->timestamp();
  // Bob's stream has holes at s+3 and s+5.
  EXPECT_EQ(rtp::RtpPacket::parse(bob.rtp[3])->sequenceNumber(), static_cast<uint16_t>(s + 4));

  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(s + 3), static_cast<uint16_t>(s + 5)}));
  wire.pump(now);
  ASSERT_EQ(bob.rtp.size(), 10u);
  EXPECT_TRUE(bob.srtpErrors.empty());
  EXPECT_EQ(router.stats().retransmitted, 2u);
  for (auto [k, offset] : {std::pair{8u, 3u}, std::pair{9u, 5u}}) {
    auto p = rtp::RtpPacket::parse(bob.rtp[k]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->ssrc(), kBobVideoSsrc);
    EXPECT_EQ(p->payloadType(), kSubscriberVideoPt);
    EXPECT_EQ(p->sequenceNumber(), static_cast<uint16_t>(s + offset));
    EXPECT_EQ(p->timestamp(), ts + offset * 3000);
    EXPECT_EQ(sfu::test::payloadOf(bob.rtp[k]), sfu::test::payloadOf(videoPacket(offset)));
    EXPECT_FALSE(p->extension(kMid));
  }
  // Carol got nothing extra; a NACK for a packet not sent yet, or for Carol's SSRC, is ignored.
  EXPECT_EQ(carol.rtp.size(), 10u);
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(s + 20)}));
  bob.sendRtcp(sfu::test::nack(0x0b0b, kCarolVideoSsrc, {static_cast<uint16_t>(s + 3)}));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 10u);
  EXPECT_EQ(carol.rtp.size(), 10u);
  EXPECT_EQ(router.stats().retransmitted, 2u);
}

// Issue 7, finding 2: NACKs that list the same packets over and over. Fifty NACKs (each naming
// all 100 cached packets, some twice) over two seconds used to resend 5,000 packets; now each packet
// goes out at most Consumer::kMaxResends times, at most once per kMinResendInterval, and all
// resent bytes stay within the consumer's budget: the burst plus half of what it was forwarded.
TEST_F(RouterTest, ANackFloodIsBoundedPerPacketAndByTheRetransmissionBudget) {
  setUpVideoCall();
  constexpr size_t kPackets = 100;
  sendVideo(0, kPackets);
  ASSERT_EQ(bob.rtp.size(), kPackets);
  size_t forwardedBytes = 0;
  for (const auto& p : bob.rtp) forwardedBytes += p.size();
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  std::vector<uint16_t> all;
  for (size_t i = 0; i < kPackets; ++i) all.push_back(static_cast<uint16_t>(s + i));
  all.push_back(s);  // listed twice in the same NACK
  size_t resentBytes = 0, resentPackets = 0;
  wire.setFilter([&](const Datagram& d) {
    if (d.to == bob.address() && ice::classifyPacket(d.bytes) == ice::PacketKind::RtpRtcp && !ice::isRtcp(d.bytes)) {
      resentBytes += d.bytes.size();
      ++resentPackets;
    }
    return true;
  });
  const size_t nackBytes = sfu::test::nack(0x0b0b, kBobVideoSsrc, all).size();
  for (int i = 0; i < 50; ++i) {
    bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, all));
    wire.pump(now + i * 40ms);
  }
  std::printf("50 NACKs of %zu bytes: %zu packets, %zu bytes resent (forwarded %zu bytes)\n", nackBytes, resentPackets,
              resentBytes, forwardedBytes);
  EXPECT_LE(resentPackets, kPackets * Consumer::kMaxResends);
  // SRTP adds its tag to every packet the budget counted in plain bytes.
  const size_t budget =
      static_cast<size_t>(Consumer::kRetransmitBurstBytes) + forwardedBytes * Consumer::kRetransmitSharePercent / 100;
  EXPECT_LE(resentBytes, budget + resentPackets * 16);
  EXPECT_GT(resentPackets, 0u);  // a real loss is still repaired
  EXPECT_GT(router.stats().retransmitsRefused, 0u);
  // Carol's budget is her own: her NACK is answered (counted on the wire: her SRTP context drops
  // the copy as a replay, since she had the packet).
  const uint16_t c = rtp::RtpPacket::parse(carol.rtp[0])->sequenceNumber();
  size_t toCarol = 0;
  wire.setFilter([&](const Datagram& d) {
    if (d.to == carol.address() && ice::classifyPacket(d.bytes) == ice::PacketKind::RtpRtcp && !ice::isRtcp(d.bytes))
      ++toCarol;
    return true;
  });
  carol.sendRtcp(sfu::test::nack(0x0c0c, kCarolVideoSsrc, {static_cast<uint16_t>(c + 7)}));
  wire.pump(now + 3s);
  EXPECT_EQ(toCarol, 1u);
}

// A packet NACKed twice within the minimum interval is resent once; after the interval, again,
// up to kMaxResends times in all.
TEST_F(RouterTest, APacketIsResentAtMostAFewTimesAndNotFasterThanTheMinimumInterval) {
  setUpVideoCall();
  sendVideo(0, 10);
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  const auto lost = static_cast<uint16_t>(s + 4);
  size_t resent = 0;  // on the wire (Bob's SRTP drops the copies as replays)
  wire.setFilter([&](const Datagram& d) {
    if (d.to == bob.address() && ice::classifyPacket(d.bytes) == ice::PacketKind::RtpRtcp && !ice::isRtcp(d.bytes))
      ++resent;
    return true;
  });
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {lost, lost}));
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {lost}));
  wire.pump(now);
  EXPECT_EQ(resent, 1u);
  for (int i = 1; i <= 5; ++i) {
    bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {lost}));
    wire.pump(now + i * Consumer::kMinResendInterval);
  }
  EXPECT_EQ(resent, size_t{Consumer::kMaxResends});
}

// Issue 7, finding 3: a published video section costs no cache memory until its media arrives,
// at most the cache's byte bound after, and nothing once the producer is gone.
TEST_F(RouterTest, RetransmissionCachesAreAllocatedOnFirstMediaAndFreedWithTheirProducer) {
  connectPublisher("alice", alice);
  for (uint64_t i = 0; i < 63; ++i) {
    auto spec = videoSpec();
    spec.id = 1000 + i;
    spec.ssrc = 0x1000 + static_cast<uint32_t>(i);
    spec.rtxSsrc.reset();
    router.addProducer("alice", spec);
  }
  EXPECT_EQ(router.producerCount(), 63u);
  EXPECT_EQ(router.cacheBytes(), 0u);
  router.addProducer("alice", videoSpec());
  connectSubscriber("bob", bob);
  router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
  sendVideo(0, 10);
  EXPECT_GT(router.cacheBytes(), 0u);
  EXPECT_LE(router.cacheBytes(), rtp::PacketCache::kDefaultMaxBytes + 1024 * 32);
  router.removeProducer(kVideoProducer);
  for (uint64_t i = 0; i < 63; ++i) router.removeProducer(1000 + i);
  EXPECT_EQ(router.cacheBytes(), 0u);
  EXPECT_EQ(router.producerCount(), 0u);
}

TEST_F(RouterTest, SubscriberPliAndFirReachThePublisherAsPli) {
  setUpVideoCall();
  sendVideo(0, 2);
  const size_t before = sfu::test::plisOf(alice).size();
  // Past the throttle window of the requests made when the consumers were added.
  const TimePoint t1 = std::chrono::steady_clock::now() + 600ms;
  router.tick(t1);
  wire.pump(t1);
  const size_t afterTick = sfu::test::plisOf(alice).size();
  EXPECT_GE(afterTick, before);

  const TimePoint t2 = t1 + 600ms;
  bob.sendRtcp(sfu::test::pli(0x0b0b, kBobVideoSsrc));
  wire.pump(t2);
  auto plis = sfu::test::plisOf(alice);
  ASSERT_EQ(plis.size(), afterTick + 1);
  EXPECT_EQ(plis.back().mediaSsrc(), kVideoSsrc);

  const TimePoint t3 = t2 + 600ms;
  carol.sendRtcp(sfu::test::fir(0xca70, kCarolVideoSsrc, 1));
  wire.pump(t3);
  plis = sfu::test::plisOf(alice);
  ASSERT_EQ(plis.size(), afterTick + 2);
  EXPECT_EQ(plis.back().mediaSsrc(), kVideoSsrc);
  // FIR is translated, never passed on as FIR.
  EXPECT_TRUE(sfu::test::rtcpOf(alice.rtcp, rtcp::type::kPayloadFeedback, rtcp::fmt::kFir).empty());

  // A PLI for an SSRC the subscriber does not consume asks for nothing.
  const TimePoint t4 = t3 + 600ms;
  bob.sendRtcp(sfu::test::pli(0x0b0b, 0x12345678));
  wire.pump(t4);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), afterTick + 2);
}

TEST_F(RouterTest, PublisherSenderReportReachesSubscribersRewritten) {
  setUpVideoCall();
  // Before any packet was forwarded there is no timestamp mapping: nothing is sent.
  const uint64_t ntp = 0xe8d4a51000123456ull;
  alice.sendRtcp(sfu::test::senderReport(kVideoSsrc, {ntp, kFirstTs, 0, 0}));
  wire.pump(now);
  EXPECT_TRUE(sfu::test::rtcpOf(bob.rtcp, rtcp::type::kSenderReport).empty());

  sendVideo(0, 10);
  const uint32_t srcTs = kFirstTs + 9 * 3000 + 1500;
  alice.sendRtcp(sfu::test::senderReport(kVideoSsrc, {ntp, srcTs, 10, 12345}));
  wire.pump(now);
  for (auto [peer, ssrc] : {std::pair{&bob, kBobVideoSsrc}, std::pair{&carol, kCarolVideoSsrc}}) {
    auto srs = sfu::test::rtcpOf(peer->rtcp, rtcp::type::kSenderReport);
    ASSERT_EQ(srs.size(), 1u);
    auto sr = rtcp::SenderReport::parse(srs[0]);
    ASSERT_TRUE(sr);
    EXPECT_EQ(sr->senderSsrc(), ssrc);
    const auto info = sr->senderInfo();
    EXPECT_EQ(info.ntpTimestamp, ntp);
    // The subscriber's timestamp: the last packet's output timestamp plus the same 1500 ticks.
    const uint32_t lastOut = rtp::RtpPacket::parse(peer->rtp.back())->timestamp();
    EXPECT_EQ(info.rtpTimestamp, lastOut + 1500);
    EXPECT_EQ(info.packetCount, 10u);
    uint32_t octets = 0;
    for (auto& p : peer->rtp) octets += static_cast<uint32_t>(rtp::RtpPacket::parse(p)->payloadSize());
    EXPECT_EQ(info.octetCount, octets);
  }
  // An SR for an SSRC the publisher does not own is not forwarded.
  alice.sendRtcp(sfu::test::senderReport(0x01020304, {ntp, srcTs, 10, 12345}));
  wire.pump(now);
  EXPECT_EQ(sfu::test::rtcpOf(bob.rtcp, rtcp::type::kSenderReport).size(), 1u);
}

TEST_F(RouterTest, ReceiverReportAndRembGoToThePublisherEverySecond) {
  setUpVideoCall();
  router.addProducer("alice", audioSpec());
  sendVideo(0, 10);
  alice.sendRtp(std::vector<uint8_t>(std::begin(testdata::kChromeOpus), std::end(testdata::kChromeOpus)));
  wire.pump(now);
  alice.rtcp.clear();

  const TimePoint t0 = std::chrono::steady_clock::now() + 1s;
  router.tick(t0);
  wire.pump(t0);
  auto rrs = sfu::test::rtcpOf(alice.rtcp, rtcp::type::kReceiverReport);
  ASSERT_EQ(rrs.size(), 1u);
  auto rr = rtcp::ReceiverReport::parse(rrs[0]);
  ASSERT_TRUE(rr);
  ASSERT_EQ(rr->reportCount(), 2u);
  std::map<uint32_t, rtcp::ReportBlock> blocks;
  for (size_t i = 0; i < rr->reportCount(); ++i) blocks[rr->reportBlock(i).ssrc] = rr->reportBlock(i);
  ASSERT_TRUE(blocks.count(kVideoSsrc));
  ASSERT_TRUE(blocks.count(kAudioSsrc));
  // 10 packets from 65530 across the wrap: extended highest = 1 cycle + 3.
  EXPECT_EQ(blocks[kVideoSsrc].highestSequence, 65536u + 3u);
  EXPECT_EQ(blocks[kVideoSsrc].cumulativeLost, 0);
  EXPECT_EQ(blocks[kAudioSsrc].highestSequence, 0x512cu);
  // REMB in the same compound, for the video stream only.
  std::vector<std::vector<uint8_t>> withRr;
  for (const auto& c : alice.rtcp)
    if (!sfu::test::rtcpOf({c}, rtcp::type::kReceiverReport).empty()) withRr.push_back(c);
  ASSERT_EQ(withRr.size(), 1u);
  auto rembs = sfu::test::rtcpOf(withRr, rtcp::type::kPayloadFeedback, rtcp::fmt::kAfb);
  ASSERT_EQ(rembs.size(), 1u);
  auto remb = rtcp::Remb::parse(rembs[0]);
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->senderSsrc(), rr->senderSsrc());
  EXPECT_EQ(remb->bitrate(), 2'000'000u);
  ASSERT_EQ(remb->ssrcCount(), 1u);
  EXPECT_EQ(remb->ssrc(0), kVideoSsrc);
  // Subscribers get no receiver reports from the router.
  EXPECT_TRUE(sfu::test::rtcpOf(bob.rtcp, rtcp::type::kReceiverReport).empty());

  router.tick(t0 + 500ms);
  wire.pump(t0 + 500ms);
  EXPECT_EQ(sfu::test::rtcpOf(alice.rtcp, rtcp::type::kReceiverReport).size(), 1u);
  router.tick(t0 + 1000ms);
  wire.pump(t0 + 1000ms);
  EXPECT_EQ(sfu::test::rtcpOf(alice.rtcp, rtcp::type::kReceiverReport).size(), 2u);
}

// A long call: more packets than half the 16-bit sequence space (audio at 50 packets/s passes
// 32768 packets after 11 minutes; 1000 video packets/s after 33 s) must keep flowing.
// DISABLED: fails today, StreamRewriter::map() compares each packet with the segment's first
// sequence number in 16-bit arithmetic, so 32768 packets after a consumer started every packet
// looks "older than the segment" and is dropped until the source sequence number wraps. Enable
// together with the fix (compare extended sequence numbers).
TEST_F(RouterTest, ForwardingGoesOnPastHalfTheSequenceNumberSpace) {
  connectPublisher("alice", alice);
  router.addProducer("alice", audioSpec());
  connectSubscriber("bob", bob);
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  wire.pump(now);
  const std::span<const uint8_t> opus(testdata::kChromeOpus);
  constexpr size_t kPackets = 70000;
  std::vector<size_t> missing;
  size_t received = 0;
  for (size_t i = 0; i < kPackets; ++i) {
    alice.sendRtp(sfu::test::rtpFrom(opus, static_cast<uint16_t>(i), static_cast<uint32_t>(960 * i)));
    if (i % 1000 == 999 || i + 1 == kPackets) {
      wire.pump(now);
      received += bob.rtp.size();
      bob.rtp.clear();
      if (received != i + 1 && missing.size() < 5) missing.push_back(i + 1);
    }
  }
  EXPECT_EQ(received, kPackets) << "first shortfall after " << (missing.empty() ? 0 : missing[0]) << " packets";
  EXPECT_EQ(router.stats().rtpForwarded, kPackets);
  EXPECT_TRUE(bob.srtpErrors.empty());
}

TEST_F(RouterTest, RtxAndPaddingProbesAreNotForwarded) {
  setUpVideoCall();
  sendVideo(0, 1);
  const auto dropped = router.stats().rtpDropped;
  alice.sendRtp(std::vector<uint8_t>(std::begin(testdata::kChromeRtxOfKey), std::end(testdata::kChromeRtxOfKey)));
  alice.sendRtp(std::vector<uint8_t>(std::begin(testdata::kChromePaddingOnly), std::end(testdata::kChromePaddingOnly)));
  wire.pump(now);
  EXPECT_EQ(router.stats().rtpDropped, dropped + 2);
  EXPECT_EQ(bob.rtp.size(), 1u);
  // RTP a subscriber sends is not media of anyone.
  bob.sendRtp(videoPacket(1));
  wire.pump(now);
  EXPECT_EQ(router.stats().rtpDropped, dropped + 3);
  EXPECT_EQ(carol.rtp.size(), 1u);
}

TEST_F(RouterTest, RemovingAProducerRemovesItsConsumers) {
  setUpVideoCall();
  router.addProducer("alice", audioSpec());
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  ASSERT_EQ(router.producerCount(), 2u);
  ASSERT_EQ(router.consumerCount(), 3u);
  sendVideo(0, 2);
  ASSERT_EQ(bob.rtp.size(), 2u);

  router.removeProducer(kVideoProducer);
  EXPECT_EQ(router.producerCount(), 1u);
  EXPECT_EQ(router.consumerCount(), 1u);
  EXPECT_EQ(router.producer(kVideoProducer), nullptr);
  const auto dropped = router.stats().rtpDropped;
  sendVideo(2, 2);
  EXPECT_EQ(router.stats().rtpDropped, dropped + 2);
  EXPECT_EQ(bob.rtp.size(), 2u);
  EXPECT_EQ(carol.rtp.size(), 2u);
  // Feedback about the removed stream finds nothing.
  bob.sendRtcp(sfu::test::nack(1, kBobVideoSsrc, {1, 2, 3}));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 2u);
  // The audio stream is untouched.
  alice.sendRtp(std::vector<uint8_t>(std::begin(testdata::kChromeOpus), std::end(testdata::kChromeOpus)));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 3u);
  router.removeConsumer(kBobAudio);
  EXPECT_EQ(router.consumerCount(), 0u);
}

TEST_F(RouterTest, RemovingASubscriberCleansItsConsumersAndTransport) {
  setUpVideoCall();
  sendVideo(0, 1);
  const auto bobUfrag = serverIce[&bob].ufrag;
  ASSERT_TRUE(host.byUfrag.count(bobUfrag));
  ASSERT_TRUE(host.byEndpoint.count(bob.address()));

  router.removeParticipant("bob");
  EXPECT_EQ(router.consumerCount(), 1u);
  EXPECT_EQ(router.transport("bob", TransportRole::Subscribe), nullptr);
  EXPECT_FALSE(host.byUfrag.count(bobUfrag));
  EXPECT_FALSE(host.byEndpoint.count(bob.address()));
  // Forwarding to the others goes on; what Bob still sends is not routed.
  sendVideo(1, 2, false);
  EXPECT_EQ(carol.rtp.size(), 3u);
  EXPECT_EQ(bob.rtp.size(), 1u);
  const auto unrouted = host.unrouted;
  bob.sendRtcp(sfu::test::pli(1, kBobVideoSsrc));
  wire.pump(now);
  EXPECT_EQ(host.unrouted, unrouted + 1);
}

TEST_F(RouterTest, RemovingThePublisherCleansEverything) {
  setUpVideoCall();
  BrowserPeer bobPublish = makePeer(40004);  // Bob publishes too; Carol consumes both
  wire.attach(bobPublish);
  connectPublisher("bob", bobPublish);
  ProducerSpec bobs = audioSpec();
  bobs.id = 3;
  router.addProducer("bob", bobs);
  router.addConsumer("carol", consumerSpec(14, 3, 0xca702002, kSubscriberAudioPt));
  ASSERT_EQ(router.producerCount(), 2u);
  ASSERT_EQ(router.consumerCount(), 3u);

  router.removeParticipant("alice");
  EXPECT_EQ(router.producerCount(), 1u);
  EXPECT_EQ(router.consumerCount(), 1u);
  EXPECT_EQ(router.transport("alice", TransportRole::Publish), nullptr);
  EXPECT_FALSE(host.byEndpoint.count(alice.address()));
  for (const auto& [ufrag, t] : host.byUfrag) EXPECT_NE(ufrag, serverIce[&alice].ufrag);

  router.removeParticipant("bob");
  router.removeParticipant("carol");
  wire.detach(bobPublish);
  EXPECT_EQ(router.producerCount(), 0u);
  EXPECT_EQ(router.consumerCount(), 0u);
  EXPECT_TRUE(router.empty());
  EXPECT_TRUE(host.byUfrag.empty());
  EXPECT_TRUE(host.byEndpoint.empty());
  router.tick(now + 2s);  // nothing left to touch
}

TEST_F(RouterTest, IceConsentLossIsReportedToTheObserver) {
  setUpVideoCall();
  const TimePoint late = std::chrono::steady_clock::now() + 31s;
  router.tick(late);
  ASSERT_EQ(observer.failures.size(), 3u);
  std::set<std::string> who;
  for (const auto& f : observer.failures) {
    who.insert(f.participant);
    EXPECT_EQ(f.reason, "ice consent expired");
    EXPECT_EQ(f.role, f.participant == "alice" ? TransportRole::Publish : TransportRole::Subscribe);
  }
  EXPECT_EQ(who, (std::set<std::string>{"alice", "bob", "carol"}));
}

TEST_F(RouterTest, SetTransportWithNewLocalCredentialsRestartsIceAndKeepsSrtp) {
  setUpVideoCall();
  sendVideo(0, 2);
  const auto* before = router.transport("bob", TransportRole::Subscribe);
  bob.setIce(ice::IceCredentials::generate());
  bob.setAddress(transport::test::loopback(40012));
  TransportSpec spec;
  spec.localIce = ice::IceCredentials::generate();
  spec.remoteIce = bob.ice();
  spec.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
  router.setTransport("bob", TransportRole::Subscribe, spec);
  EXPECT_EQ(router.transport("bob", TransportRole::Subscribe), before);
  EXPECT_TRUE(host.byUfrag.count(spec.localIce.ufrag));
  bob.sendCheck(spec.localIce, true);
  wire.pump(now);
  // The new path answered our check; the switch waits switchInterval (2 s) after the last one.
  router.tick(now + 2s);
  wire.pump(now + 2s);
  EXPECT_EQ(*before->selectedEndpoint(), bob.address());
  sendVideo(2, 2, false);
  ASSERT_EQ(bob.rtp.size(), 4u);
  EXPECT_TRUE(bob.srtpErrors.empty());
  EXPECT_EQ(rtp::RtpPacket::parse(bob.rtp[3])->sequenceNumber(),
            static_cast<uint16_t>(rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber() + 3));
}

TEST_F(RouterTest, AFailedTransportIsReportedDestroyedAndReplaceable) {
  connectPublisher("alice", alice);
  router.addProducer("alice", videoSpec());
  // Bob's answer carries a fingerprint that does not match his certificate.
  TransportSpec spec;
  spec.localIce = ice::IceCredentials::generate();
  spec.remoteIce = bob.ice();
  spec.remoteFingerprint = transport::test::fingerprintOf(*sBrowser);
  spec.remoteFingerprint->digest[0] ^= 0x80;
  router.setTransport("bob", TransportRole::Subscribe, spec);
  serverIce[&bob] = spec.localIce;
  bob.sendCheck(spec.localIce, true);
  wire.pump(now);
  bob.startDtls(now);
  wire.pump(now);
  ASSERT_EQ(observer.failures.size(), 1u);
  EXPECT_EQ(observer.failures[0].participant, "bob");
  EXPECT_EQ(observer.failures[0].role, TransportRole::Subscribe);
  EXPECT_FALSE(host.byUfrag.count(spec.localIce.ufrag));
  router.tick(now);
  EXPECT_EQ(router.transport("bob", TransportRole::Subscribe), nullptr);

  // A new negotiation creates a new transport that works.
  BrowserPeer bob2 = makePeer(40022);
  wire.attach(bob2);
  connectSubscriber("bob", bob2);
  router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
  sendVideo(0, 3);
  EXPECT_EQ(bob2.rtp.size(), 3u);
  wire.detach(bob2);
}

}  // namespace

// Issue 10: a host's mute is enforced here, not in the muted browser. A paused producer's
// packets reach no subscriber, are not cached (a NACK brings none of them back), and resuming
// starts each subscriber again at a keyframe it asks the publisher for.
TEST_F(RouterTest, APausedProducerForwardsNothingUntilResumedAtAKeyframe) {
  setUpVideoCall();
  sendVideo(0, 3);
  ASSERT_EQ(bob.rtp.size(), 3u);
  ASSERT_EQ(carol.rtp.size(), 3u);
  const uint16_t lastSeq = rtp::RtpPacket::parse(bob.rtp[2])->sequenceNumber();

  router.setProducerPaused(kVideoProducer, true);
  sendVideo(3, 10);
  EXPECT_EQ(bob.rtp.size(), 3u);
  EXPECT_EQ(carol.rtp.size(), 3u);
  EXPECT_EQ(router.stats().rtpPaused, 10u);
  // Asking for what was sent during the mute brings nothing.
  bob.sendRtcp(
      sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(lastSeq + 1), static_cast<uint16_t>(lastSeq + 2)}));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 3u);
  EXPECT_EQ(router.stats().retransmitted, 0u);

  const TimePoint later = std::chrono::steady_clock::now() + 1s;
  const size_t plis = sfu::test::plisOf(alice).size();
  router.setProducerPaused(kVideoProducer, false);
  router.tick(later);
  wire.pump(later);
  EXPECT_GT(sfu::test::plisOf(alice).size(), plis);
  // Delta frames after the resume wait for the keyframe.
  sendVideo(13, 2, false);
  EXPECT_EQ(bob.rtp.size(), 3u);
  sendVideo(15, 2, true);
  EXPECT_EQ(bob.rtp.size(), 5u);
  EXPECT_EQ(carol.rtp.size(), 5u);
}

TEST_F(RouterTest, AProducerCreatedPausedForwardsNothing) {
  connectPublisher("alice", alice);
  ProducerSpec spec = audioSpec();
  spec.paused = true;
  router.addProducer("alice", spec);
  connectSubscriber("bob", bob);
  router.addConsumer("bob", consumerSpec(kBobAudio, kAudioProducer, kBobAudioSsrc, kSubscriberAudioPt));
  wire.pump(now);
  auto opus = [](uint16_t seq) { return sfu::test::rtpFrom(testdata::kChromeOpus, seq, seq * 960u); };
  alice.sendRtp(opus(1));
  wire.pump(now);
  EXPECT_TRUE(bob.rtp.empty());
  EXPECT_EQ(router.stats().rtpPaused, 1u);
  router.setProducerPaused(kAudioProducer, false);
  alice.sendRtp(opus(2));
  wire.pump(now);
  EXPECT_EQ(bob.rtp.size(), 1u);
}

// ---- issue 11: upstream NACK, RTX both ways, transport-wide congestion control ----------------

namespace {

std::vector<uint16_t> nackedBy(const BrowserPeer& peer, uint32_t mediaSsrc) {
  std::vector<uint16_t> out;
  for (const auto& p : sfu::test::rtcpOf(peer.rtcp, rtcp::type::kRtpFeedback, rtcp::fmt::kNack))
    if (auto nack = rtcp::GenericNack::parse(p); nack && nack->mediaSsrc() == mediaSsrc)
      nack->forEachLost([&](uint16_t seq) { out.push_back(seq); });
  return out;
}

std::vector<rtcp::TransportCcPacket> transportFeedbackTo(const BrowserPeer& peer) {
  std::vector<rtcp::TransportCcPacket> out;
  for (const auto& p : sfu::test::rtcpOf(peer.rtcp, rtcp::type::kRtpFeedback, rtcp::fmt::kTransportCc))
    if (auto fb = rtcp::TransportCcFeedback::parse(p))
      fb->forEachPacket([&](const rtcp::TransportCcPacket& packet) { out.push_back(packet); });
  return out;
}

// The publisher's RTX (PT 97, its RTX SSRC) of `original`.
std::vector<uint8_t> rtxOf(std::vector<uint8_t> original, uint16_t rtxSeq) {
  auto p = rtp::RtpPacket::parse(original);
  std::vector<uint8_t> out(original.size() + 2);
  out.resize(rtp::writeRtx(out, *p, 97, kVideoRtxSsrc, rtxSeq));
  return out;
}

std::optional<uint16_t> transportSeqOf(std::vector<uint8_t> bytes, uint8_t id) {
  auto p = rtp::RtpPacket::parse(bytes);
  auto value = p ? p->extension(id) : std::nullopt;
  return value ? rtp::parseTransportSequenceNumber(*value) : std::nullopt;
}

}  // namespace

// Issue 11: 10 % upstream loss froze everyone's view of that publisher, because the SFU never
// NACKed it. Now a hole in a publisher's stream is NACKed at once and again after the retry
// interval; the RTX answer is unwrapped and forwarded to every subscriber, once.
TEST_F(RouterTest, APublisherLossIsNackedAndTheRtxRepairReachesEverySubscriberOnce) {
  setUpVideoCall();
  sendVideo(0, 4);
  sendVideo(5, 5, false);  // packet 4 lost on the way to the SFU
  ASSERT_EQ(bob.rtp.size(), 9u);
  const auto lost = static_cast<uint16_t>(kFirstSeq + 4);
  EXPECT_EQ(nackedBy(alice, kVideoSsrc), (std::vector<uint16_t>{lost}));
  // Not again within the retry interval; again after it.
  router.tick(now + 50ms);
  wire.pump(now + 50ms);
  EXPECT_EQ(nackedBy(alice, kVideoSsrc).size(), 1u);
  router.tick(now + 150ms);
  wire.pump(now + 150ms);
  EXPECT_EQ(nackedBy(alice, kVideoSsrc), (std::vector<uint16_t>{lost, lost}));

  alice.sendRtp(rtxOf(videoPacket(4), 700));
  wire.pump(now + 160ms);
  ASSERT_EQ(bob.rtp.size(), 10u);
  ASSERT_EQ(carol.rtp.size(), 10u);
  EXPECT_EQ(router.stats().rtxRepaired, 1u);
  auto repaired = rtp::RtpPacket::parse(bob.rtp[9]);
  ASSERT_TRUE(repaired);
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  EXPECT_EQ(repaired->ssrc(), kBobVideoSsrc);
  EXPECT_EQ(repaired->payloadType(), kSubscriberVideoPt);
  EXPECT_EQ(repaired->sequenceNumber(), static_cast<uint16_t>(s + 4));
  EXPECT_EQ(sfu::test::payloadOf(bob.rtp[9]), sfu::test::payloadOf(videoPacket(4)));
  // The same repair again (a second answer, or a probe made of it) reaches no one.
  alice.sendRtp(rtxOf(videoPacket(4), 701));
  wire.pump(now + 170ms);
  EXPECT_EQ(bob.rtp.size(), 10u);
  // Nothing is missing any more: no more NACKs.
  router.tick(now + 400ms);
  wire.pump(now + 400ms);
  EXPECT_EQ(nackedBy(alice, kVideoSsrc).size(), 2u);
  EXPECT_EQ(router.stats().nacksSent, 2u);
}

TEST_F(RouterTest, AnUnrepairedLossIsGivenUpAndAKeyframeRequestedInstead) {
  setUpVideoCall();
  sendVideo(0, 2);
  sendVideo(3, 2, false);
  const size_t plis = sfu::test::plisOf(alice).size();
  TimePoint t = now;
  for (int i = 0; i < 12; ++i) {
    t += 100ms;
    router.tick(t);
    wire.pump(t);
  }
  EXPECT_EQ(nackedBy(alice, kVideoSsrc).size(), rtp::NackGenerator::kMaxRetries);
  EXPECT_EQ(sfu::test::plisOf(alice).size(), plis + 1);
}

TEST_F(RouterTest, AGapTooLargeToRepairAsksForAKeyframeAndNacksNothing) {
  setUpVideoCall();
  sendVideo(0, 2);
  const size_t plis = sfu::test::plisOf(alice).size();
  alice.sendRtp(videoPacket(2 + rtp::NackGenerator::kMaxGap + 1));
  wire.pump(now + 1s);  // past the keyframe request interval
  EXPECT_TRUE(nackedBy(alice, kVideoSsrc).empty());
  EXPECT_EQ(sfu::test::plisOf(alice).size(), plis + 1);
}

// Subscribers' NACKs are answered on the consumer's RTX stream: its own SSRC, payload type and
// sequence numbers, the original sequence number (the subscriber's) in the first two bytes.
TEST_F(RouterTest, ASubscribersNackIsAnsweredWithRtxOnItsRtxSsrc) {
  connectPublisher("alice", alice);
  router.addProducer("alice", videoSpec());
  connectSubscriber("bob", bob);
  ConsumerSpec spec = consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt);
  spec.rtxSsrc = 0xb0b0f1d0;
  spec.rtxPayloadType = 99;
  router.addConsumer("bob", spec);
  wire.pump(now);
  size_t toBob = 0;
  wire.setFilter([&](const Datagram& d) {
    if (d.to != bob.address() || ice::classifyPacket(d.bytes) != ice::PacketKind::RtpRtcp || ice::isRtcp(d.bytes))
      return true;
    return ++toBob != 4;
  });
  sendVideo(0, 6);
  ASSERT_EQ(bob.rtp.size(), 5u);
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(s + 3)}));
  wire.pump(now + 40ms);
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(s + 3)}));
  wire.pump(now + 80ms);
  ASSERT_EQ(bob.rtp.size(), 7u);
  EXPECT_TRUE(bob.srtpErrors.empty());
  const auto original = sfu::test::payloadOf(videoPacket(3));
  std::optional<uint16_t> previous;
  for (size_t k : {5u, 6u}) {
    auto p = rtp::RtpPacket::parse(bob.rtp[k]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->ssrc(), 0xb0b0f1d0u);
    EXPECT_EQ(p->payloadType(), 99);
    EXPECT_EQ(p->timestamp(), rtp::RtpPacket::parse(bob.rtp[0])->timestamp() + 3 * 3000);
    auto payload = p->payload();
    ASSERT_EQ(payload.size(), original.size() + 2);
    EXPECT_EQ(common::loadU16(payload.data()), static_cast<uint16_t>(s + 3));
    EXPECT_TRUE(std::equal(original.begin(), original.end(), payload.begin() + 2));
    if (previous) {
      EXPECT_EQ(p->sequenceNumber(), static_cast<uint16_t>(*previous + 1));
    }
    previous = p->sequenceNumber();
  }
  EXPECT_EQ(router.stats().retransmitted, 2u);
}

// The publisher's browser estimates its uplink from the SFU's transport-wide feedback: every
// tick reports what arrived since the last one, losses included.
TEST_F(RouterTest, ThePublisherGetsTransportWideFeedbackForWhatArrived) {
  connectPublisher("alice", alice);
  ProducerSpec spec = videoSpec();
  spec.extensionMap = {{kAbsSendTime, kSubscriberAbsSendTime}, {kTransportCc, kTransportCc}, {kMid, 0}};
  spec.transportCcId = kTransportCc;
  router.addProducer("alice", spec);
  auto numbered = [](size_t i, uint16_t transportSeq) {
    auto bytes = videoPacket(i, i == 0);
    auto p = rtp::RtpPacket::parse(bytes);
    rtp::setTransportSequenceNumber(*p, kTransportCc, transportSeq);
    return bytes;
  };
  for (uint16_t i = 0; i < 6; ++i)
    if (i != 2) alice.sendRtp(numbered(i, static_cast<uint16_t>(65533 + i)));
  // A probe on the RTX SSRC (an old packet sent again) counts too, and is not forwarded.
  alice.sendRtp(rtxOf(numbered(0, 3), 5));
  wire.pump(now);
  EXPECT_TRUE(transportFeedbackTo(alice).empty());  // feedback goes out with the tick
  router.tick(now + 50ms);
  wire.pump(now + 50ms);
  auto fb = transportFeedbackTo(alice);
  ASSERT_EQ(fb.size(), 7u);
  for (size_t i = 0; i < fb.size(); ++i) {
    EXPECT_EQ(fb[i].sequenceNumber, static_cast<uint16_t>(65533 + i));
    EXPECT_EQ(fb[i].received, i != 2) << i;
  }
  EXPECT_EQ(router.stats().transportFeedbackSent, 1u);
  // Nothing new, nothing sent; the next packets start the next message.
  router.tick(now + 100ms);
  wire.pump(now + 100ms);
  EXPECT_EQ(transportFeedbackTo(alice).size(), 7u);
  alice.sendRtp(numbered(6, 4));
  wire.pump(now + 120ms);
  router.tick(now + 150ms);
  wire.pump(now + 150ms);
  fb = transportFeedbackTo(alice);
  ASSERT_EQ(fb.size(), 8u);
  EXPECT_EQ(fb.back().sequenceNumber, 4u);
  EXPECT_TRUE(fb.back().received);
}

// Issue 11: publishers' estimates stayed low. Every packet with a transport-wide number counts,
// also one of an SSRC the router does not know (padding, a simulcast layer not yet learned):
// left out, it would be reported lost. Arrival times are the host's per-datagram times (the
// kernel's), not one time per receive batch, and the feedback names one of the publisher's
// SSRCs as its media source (libwebrtc ignores feedback about SSRCs it does not send, in some
// versions).
TEST_F(RouterTest, TransportFeedbackCoversUnknownSsrcsWithPerDatagramArrivalTimes) {
  connectPublisher("alice", alice);
  ProducerSpec spec = videoSpec();
  // The publisher's id (3) is not the subscribers' (5): the arrival is read before remapping.
  spec.extensionMap = {{kAbsSendTime, kSubscriberAbsSendTime}, {kTransportCc, 5}, {kMid, 0}};
  spec.transportCcId = 5;
  router.addProducer("alice", spec);
  auto numbered = [](size_t i, uint16_t transportSeq, uint32_t ssrc) {
    auto bytes = videoPacket(i, i == 0);
    auto p = rtp::RtpPacket::parse(bytes);
    rtp::setTransportSequenceNumber(*p, kTransportCc, transportSeq);
    p->setSsrc(ssrc);
    return bytes;
  };
  host.arrival = now + 1ms;
  alice.sendRtp(numbered(0, 100, kVideoSsrc));
  wire.pump(now);
  host.arrival = now + 3ms;
  alice.sendRtp(numbered(1, 101, 0x0badf00d));  // an SSRC nobody announced
  wire.pump(now);
  host.arrival = now + 4ms;
  alice.sendRtp(numbered(2, 102, kVideoSsrc));
  wire.pump(now);
  host.arrival.reset();
  router.tick(now + 50ms);
  wire.pump(now + 50ms);
  auto fb = transportFeedbackTo(alice);
  ASSERT_EQ(fb.size(), 3u);
  for (const auto& p : fb) EXPECT_TRUE(p.received) << p.sequenceNumber;
  EXPECT_EQ(fb[1].arrivalUs - fb[0].arrivalUs, 2000);
  EXPECT_EQ(fb[2].arrivalUs - fb[1].arrivalUs, 1000);
  const auto messages = sfu::test::rtcpOf(alice.rtcp, rtcp::type::kRtpFeedback, rtcp::fmt::kTransportCc);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(rtcp::TransportCcFeedback::parse(messages[0])->mediaSsrc(), kVideoSsrc);
  EXPECT_EQ(router.stats().rtpDropped, 1u);  // the unknown SSRC still goes nowhere
}

// Toward subscribers, each subscribe transport numbers every packet it sends (media and
// retransmissions) in its own transport-wide sequence, and its feedback is read back against
// what was sent: the per-packet results the bandwidth estimator will take.
TEST_F(RouterTest, EachSubscriberTransportNumbersWhatItSendsAndItsFeedbackIsRead) {
  connectPublisher("alice", alice);
  ProducerSpec pspec = videoSpec();
  pspec.extensionMap = {{kAbsSendTime, kSubscriberAbsSendTime}, {kTransportCc, kTransportCc}, {kMid, 0}};
  pspec.transportCcId = kTransportCc;
  router.addProducer("alice", pspec);
  connectSubscriber("bob", bob);
  connectSubscriber("carol", carol);
  for (auto [who, id, ssrc] : {std::tuple{"bob", kBobVideo, kBobVideoSsrc}, {"carol", kCarolVideo, kCarolVideoSsrc}}) {
    ConsumerSpec spec = consumerSpec(id, kVideoProducer, ssrc, kSubscriberVideoPt);
    spec.transportCcId = kTransportCc;
    spec.rtxSsrc = ssrc + 1;
    spec.rtxPayloadType = 99;
    router.addConsumer(who, spec);
  }
  wire.pump(now);
  sendVideo(0, 10);  // the captured packets all carry the same publisher transport number
  ASSERT_EQ(bob.rtp.size(), 10u);
  std::vector<uint16_t> bobSeqs, carolSeqs;
  for (const auto& p : bob.rtp) bobSeqs.push_back(transportSeqOf(p, kTransportCc).value_or(0));
  for (const auto& p : carol.rtp) carolSeqs.push_back(transportSeqOf(p, kTransportCc).value_or(0));
  for (size_t i = 1; i < 10; ++i) {
    EXPECT_EQ(bobSeqs[i], static_cast<uint16_t>(bobSeqs[0] + i));
    EXPECT_EQ(carolSeqs[i], static_cast<uint16_t>(carolSeqs[0] + i));
  }
  // A retransmission (RTX) takes the next number.
  const uint16_t s = rtp::RtpPacket::parse(bob.rtp[0])->sequenceNumber();
  bob.sendRtcp(sfu::test::nack(0x0b0b, kBobVideoSsrc, {static_cast<uint16_t>(s + 2)}));
  wire.pump(now);
  ASSERT_EQ(bob.rtp.size(), 11u);
  EXPECT_EQ(transportSeqOf(bob.rtp[10], kTransportCc), static_cast<uint16_t>(bobSeqs[0] + 10));

  // Bob reports the first 11: all arrived but the 4th.
  rtcp::TransportCcBuilder builder(0x0b0b, kBobVideoSsrc);
  builder.reset(0, bobSeqs[0]);
  for (uint16_t i = 0; i < 11; ++i)
    if (i != 3) {
      ASSERT_TRUE(builder.addReceived(static_cast<uint16_t>(bobSeqs[0] + i), 1'000'000 + i * 1000));
    }
  // ... and, hostile, numbers never sent: they are not results.
  ASSERT_TRUE(builder.addReceived(static_cast<uint16_t>(bobSeqs[0] + 40), 1'100'000));
  std::vector<uint8_t> buf(512);
  common::ByteWriter w(buf);
  ASSERT_TRUE(builder.write(w));
  buf.resize(w.size());
  bob.sendRtcp(buf);
  wire.pump(now);
  EXPECT_EQ(router.stats().transportFeedbackReceived, 1u);
  EXPECT_EQ(router.stats().transportPacketsReported, 11u);
  EXPECT_EQ(router.stats().transportPacketsLost, 1u);
}

// What a paused (host-muted) producer sends is never asked for again, so no repair can carry it
// to anyone after the mute; an RTX packet can only fill a hole, never run ahead of the stream.
TEST_F(RouterTest, NothingSentDuringAMuteIsNackedAndRtxOnlyFillsHoles) {
  setUpVideoCall();
  sendVideo(0, 3);
  router.setProducerPaused(kVideoProducer, true);
  sendVideo(3, 1, false);
  sendVideo(5, 2, false);  // 4 lost while paused
  router.setProducerPaused(kVideoProducer, false);
  sendVideo(7, 2);
  router.tick(now + 200ms);
  wire.pump(now + 200ms);
  EXPECT_TRUE(nackedBy(alice, kVideoSsrc).empty());
  const size_t bobHas = bob.rtp.size();
  alice.sendRtp(rtxOf(videoPacket(4), 1));   // a packet of the mute
  alice.sendRtp(rtxOf(videoPacket(30), 2));  // ahead of the stream
  wire.pump(now + 210ms);
  EXPECT_EQ(bob.rtp.size(), bobHas);
  EXPECT_EQ(router.stats().rtxRepaired, 0u);
  // The stream did not move: the next packet makes no hole.
  sendVideo(9, 1, false);
  EXPECT_TRUE(nackedBy(alice, kVideoSsrc).empty());
}

// f732230: a subscriber that joins while a repair is on its way must not start on it. Packet 4 (a
// keyframe's) and 7 are lost upstream before Carol subscribes; their RTX repairs come later. The
// repair of 4 reaches Bob, who forwards that stream, but not Carol, who waits for a keyframe
// (with SFrame it may be under a key she must not have). Carol starts at the next keyframe (9),
// and the later repair of 7, older than her start, never reaches her either.
TEST_F(RouterTest, ARepairGoesOnlyToConsumersForwardingItsLayerAndNeverBeforeTheirStart) {
  connectPublisher("alice", alice);
  router.addProducer("alice", videoSpec());
  connectSubscriber("bob", bob);
  router.addConsumer("bob", consumerSpec(kBobVideo, kVideoProducer, kBobVideoSsrc, kSubscriberVideoPt));
  wire.pump(now);
  sendVideo(0, 4);
  sendVideo(5, 2, false);  // 4 lost
  sendVideo(8, 1, false);  // 7 lost
  ASSERT_EQ(bob.rtp.size(), 7u);
  connectSubscriber("carol", carol);
  router.addConsumer("carol", consumerSpec(kCarolVideo, kVideoProducer, kCarolVideoSsrc, kSubscriberVideoPt));
  wire.pump(now);
  ASSERT_TRUE(carol.rtp.empty());

  alice.sendRtp(rtxOf(videoPacket(4, true), 700));
  wire.pump(now + 10ms);
  EXPECT_EQ(router.stats().rtxRepaired, 1u);
  ASSERT_EQ(bob.rtp.size(), 8u);
  EXPECT_EQ(sfu::test::payloadOf(bob.rtp[7]), sfu::test::payloadOf(videoPacket(4, true)));
  EXPECT_TRUE(carol.rtp.empty());

  sendVideo(9, 2);  // a keyframe: Carol starts here
  ASSERT_EQ(carol.rtp.size(), 2u);
  EXPECT_EQ(sfu::test::payloadOf(carol.rtp[0]), sfu::test::payloadOf(videoPacket(9, true)));
  alice.sendRtp(rtxOf(videoPacket(7), 701));
  wire.pump(now + 20ms);
  EXPECT_EQ(router.stats().rtxRepaired, 2u);
  EXPECT_EQ(bob.rtp.size(), 11u);
  EXPECT_EQ(carol.rtp.size(), 2u);
  EXPECT_TRUE(carol.srtpErrors.empty());
}
