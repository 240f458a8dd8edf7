// One room's fan-out across two real MediaWorkers (docs/fanout.md): the room lives on the home
// worker (Alice publishes there, Carol's subscribe transport is there), Bob's subscribe transport
// is hosted by the other worker, whose UDP port Bob's browser side talks to. Real sockets, ICE,
// DTLS and SRTP; the two workers meet only through their link's rings and posted tasks.
#include "sfu/fanout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/certificate.h"
#include "rtp/captured_packets.h"
#include "rtp/header_extensions.h"
#include "sfu/sfu_test_util.h"
#include "sfu/udp_browser.h"
#include "sfu/worker.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using sfu::test::endpointOf;
using sfu::test::NullObserver;
using sfu::test::runUntil;
using sfu::test::UdpBrowser;
using transport::test::BrowserPeer;

namespace {

constexpr uint32_t kVideoSsrc = 0xfc91b0bd;
constexpr uint32_t kVideoRtxSsrc = 0x7cf7c518;
constexpr uint32_t kBobSsrc = 0xb0b00001, kCarolSsrc = 0xca700001;
constexpr int kHome = 0, kOther = 1;

class FanoutTest : public ::testing::Test {
 protected:
  explicit FanoutTest(FanoutLink::Config config = {}) : mConfig(config) {}
  void SetUp() override {
    connectWorkers({&home, &other}, mConfig);
    home.start();
    other.start();
  }
  void TearDown() override {
    home.stop();
    other.stop();
  }

  // Runs `task` on worker `w`'s thread and waits for it.
  template <typename T>
  T on(MediaWorker& w, const std::function<T(MediaWorker&)>& task) {
    return test::runOn(w, task);
  }
  void onHome(const std::function<void(Router&)>& task) {
    on<bool>(home, [&](MediaWorker& w) {
      task(w.router("room"));
      return true;
    });
  }
  Router::Stats homeStats() {
    return on<Router::Stats>(home, [](MediaWorker& w) { return w.router("room").stats(); });
  }
  size_t hostedOnOther() {
    return on<size_t>(other, [](MediaWorker& w) { return w.fanout().hostedCount(); });
  }

  // As MediaRoom does it, with Bob's subscribe transport placed on the other worker.
  // `rtx`: RTX streams and transport-wide numbering, so that NACKs are answered.
  void setUpRoom(bool rtx = false) {
    subs["bob"].worker = kOther;
    const test::VideoRoom room(kVideoSsrc, kVideoRtxSsrc, kBobSsrc, kCarolSsrc, rtx);
    room.setUp([this](const auto& step) { onHome(step); }, alice, bob, carol,
               transport::test::fingerprintOf(browserContext), pub, subs);
  }

  void connectAll() {
    test::connectBrowsers({{&alice, pub.localIce}, {&bob, subs["bob"].localIce}, {&carol, subs["carol"].localIce}});
    // Both subscribers' transports are up (Bob's as the home worker learnt from the other): the
    // Router has asked Alice for a keyframe.
    ASSERT_TRUE(runUntil(
        all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  }

  // The control plane restarts ICE for Bob: new credentials on both sides, passed to the home
  // worker's Router (which passes them to the worker hosting his transport).
  TransportSpec restartBobsIce() {
    TransportSpec restarted = subs["bob"];
    restarted.localIce = ice::IceCredentials::generate();
    bob.peer.setIce(ice::IceCredentials::generate());
    restarted.remoteIce = bob.peer.ice();
    onHome([&](Router& r) { r.setTransport("bob", TransportRole::Subscribe, restarted); });
    return restarted;
  }

  // After an ICE restart of Bob's: the same DTLS association and SRTP keys carry on, on the
  // transport the other worker still hosts, with `failures` failures reported so far.
  void expectBobsSessionKept(size_t dtlsBefore, int failures) {
    EXPECT_EQ(bob.peer.dtlsDatagramsReceived(), dtlsBefore);  // no new handshake
    EXPECT_TRUE(bob.peer.srtpErrors.empty());
    EXPECT_EQ(observer.failures.load(), failures);
    EXPECT_EQ(hostedOnOther(), 1u);
  }

  // A room with RTX in which Bob has received 30 packets: the sequence number of the tenth he
  // got, for a NACK, or none if they did not arrive.
  std::optional<uint16_t> receiveThirtyWithRtx() {
    setUpRoom(true);
    connectAll();
    constexpr size_t kPackets = 30;
    sendVideo(kPackets);
    if (!runUntil(
            all, [&] { return packetsOf(bob.peer, kBobSsrc) >= kPackets; }, 5s))
      return std::nullopt;
    auto tenthBytes = bob.peer.rtp.at(10);
    auto tenth = rtp::RtpPacket::parse(tenthBytes);
    if (!tenth) return std::nullopt;
    return tenth->sequenceNumber();
  }

  // `count` packets from `first`, a keyframe first, in bursts of 10 as a camera sends.
  void sendVideo(size_t count, size_t first = 0) { test::sendVideo(alice, all, count, first); }

  static size_t packetsOf(const BrowserPeer& peer, uint32_t ssrc) {
    size_t n = 0;
    for (auto bytes : peer.rtp)
      if (auto p = rtp::RtpPacket::parse(bytes); p && p->ssrc() == ssrc) ++n;
    return n;
  }

  // `count` packets of `ssrc`, in order, with no SRTP error.
  static void expectStream(const BrowserPeer& peer, uint32_t ssrc, size_t count) {
    EXPECT_TRUE(peer.srtpErrors.empty());
    std::vector<uint16_t> seqs;
    for (auto bytes : peer.rtp) {
      auto p = rtp::RtpPacket::parse(bytes);
      ASSERT_TRUE(p);
      if (p->ssrc() != ssrc) continue;
      EXPECT_EQ(p->payloadType(), 98);
      seqs.push_back(p->sequenceNumber());
    }
    ASSERT_EQ(seqs.size(), count);
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<uint16_t>(seqs[0] + i));
  }

  const dtls::DtlsContext serverContext{common::Certificate::generateSelfSigned("sfu")};
  const dtls::DtlsContext browserContext{common::Certificate::generateSelfSigned("browser")};
  NullObserver observer;
  MediaWorker home{kHome, "127.0.0.1", 0, serverContext, &observer};
  MediaWorker other{kOther, "127.0.0.1", 0, serverContext, &observer};
  UdpBrowser alice{browserContext, serverContext, endpointOf("127.0.0.1", home.port())};
  UdpBrowser bob{browserContext, serverContext, endpointOf("127.0.0.1", other.port())};
  UdpBrowser carol{browserContext, serverContext, endpointOf("127.0.0.1", home.port())};
  std::vector<UdpBrowser*> all{&alice, &bob, &carol};
  TransportSpec pub;
  std::map<std::string, TransportSpec> subs;

 private:
  FanoutLink::Config mConfig;
};

// Links whose media ring holds a few packets only.
class SmallRingFanoutTest : public FanoutTest {
 protected:
  SmallRingFanoutTest() : FanoutTest(FanoutLink::Config{16 * 1024, 16 * 1024}) {}
};

// Both workers let a record wait 1 h outside the one phase that tests the bound, so that a slow
// test machine never makes fresh records look old.
class AgedRecordFanoutTest : public FanoutTest {
 protected:
  AgedRecordFanoutTest() {
    home.setMaxQueueDelay(std::chrono::hours(1));
    other.setMaxQueueDelay(std::chrono::hours(1));
  }
  static constexpr auto kMaxDelay = 100ms;
};

TEST_F(FanoutTest, ASubscriberWhoseTransportAnotherWorkerHostsGetsEveryPacketFromThatWorker) {
  setUpRoom();
  connectAll();
  constexpr size_t kPackets = 300;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer.rtp.size() << ", carol " << carol.peer.rtp.size();
  expectStream(bob.peer, kBobSsrc, kPackets);
  expectStream(carol.peer, kCarolSsrc, kPackets);

  // The Router decided for both and counted both; Bob's copies crossed the link and left from
  // the other worker's socket, Carol's from the home worker's.
  EXPECT_EQ(homeStats().rtpForwarded, 2 * kPackets);
  EXPECT_EQ(on<const transport::WebRtcTransport*>(
                home, [](MediaWorker& w) { return w.router("room").transport("bob", TransportRole::Subscribe); }),
            nullptr);
  EXPECT_EQ(hostedOnOther(), 1u);
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  EXPECT_GE(link->home().mediaRecords.load(), kPackets);
  EXPECT_EQ(link->home().mediaRefused.load(), 0u);
  EXPECT_TRUE(runUntil(
      all, [&] { return link->transport().mediaSent.load() == link->home().mediaRecords.load(); }, 2s));
  EXPECT_EQ(link->transport().mediaStale.load(), 0u);
  EXPECT_GE(other.counters().datagramsSent.load(), kPackets);
  EXPECT_EQ(other.counters().datagramsUnrouted.load(), 0u);
  home.stop();
  other.stop();
  EXPECT_EQ(observer.failures.load(), 0);
}

// What Bob sends arrives at the other worker and reaches the home worker's Router through the
// link's return ring: his NACK is answered from Alice's packet cache (RTX, through the link
// again), his PLI becomes a keyframe request to Alice.
TEST_F(FanoutTest, TheRemoteSubscribersNackAndPliReachTheRouter) {
  const std::optional<uint16_t> tenth = receiveThirtyWithRtx();
  ASSERT_TRUE(tenth) << "Bob did not receive the first 30 packets";
  const uint16_t lost = *tenth;

  bob.peer.sendRtcp(sfu::test::nack(0x1234, kBobSsrc, {lost}));
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc + 1) >= 1; }, 5s))
      << "no retransmission reached Bob";
  for (auto bytes : bob.peer.rtp) {
    auto p = rtp::RtpPacket::parse(bytes);
    if (!p || p->ssrc() != kBobSsrc + 1) continue;
    EXPECT_EQ(p->payloadType(), 99);
    EXPECT_EQ(common::loadU16(p->payload().data()), lost);  // RFC 4588: the original number first
  }
  EXPECT_EQ(homeStats().retransmitted, 1u);

  const size_t plis = sfu::test::plisOf(alice.peer).size();
  bob.peer.sendRtcp(sfu::test::pli(0x1234, kBobSsrc));
  EXPECT_TRUE(runUntil(
      all, [&] { return sfu::test::plisOf(alice.peer).size() > plis; }, 3s))
      << "Bob's PLI did not become a keyframe request";
  const FanoutLink* link = other.fanout().inboundLink(kHome);
  ASSERT_NE(link, nullptr);
  EXPECT_GE(link->transport().rtcpRecords.load(), 2u);
  EXPECT_EQ(link->home().rtcpStale.load(), 0u);
}

// The RTCP ring toward the home worker is shared by every transport the other worker hosts for
// it: a flood of RTCP from Bob goes into it only up to his budget (a burst, then a rate), the
// rest is refused and counted.
TEST_F(FanoutTest, ARemoteSubscribersRtcpFloodIsCutAtItsBudget) {
  setUpRoom(true);
  connectAll();
  const FanoutLink* link = other.fanout().inboundLink(kHome);
  ASSERT_NE(link, nullptr);
  const auto& counters = link->transport();
  const uint64_t before = counters.rtcpRecords.load() + counters.rtcpRefused.load();
  const uint64_t recordsBefore = counters.rtcpRecords.load();
  constexpr size_t kFlood = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < kFlood; ++i) bob.peer.sendRtcp(sfu::test::pli(0x1234, kBobSsrc));
  ASSERT_TRUE(runUntil(
      all, [&] { return counters.rtcpRecords.load() + counters.rtcpRefused.load() >= before + kFlood; }, 10s))
      << "records " << counters.rtcpRecords.load() << ", refused " << counters.rtcpRefused.load();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // However long the flood took to read (a slow machine: seconds), no more than the budget.
  EXPECT_LE(static_cast<double>(counters.rtcpRecords.load() - recordsBefore),
            Fanout::kRtcpBurst + Fanout::kRtcpPerSecond * seconds + 1);
  EXPECT_GT(counters.rtcpRefused.load(), 0u);
}

// Bob leaves while media flows: the home worker closes his proxy and the other worker destroys
// the transport it hosted; records still in the ring find no transport and are dropped, and
// Carol's stream goes on.
TEST_F(FanoutTest, WhenTheRemoteSubscriberLeavesItsHostedTransportGoesAndMediaGoesOn) {
  setUpRoom();
  connectAll();
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc) >= kPackets; }, 5s));
  // Leaving between two bursts, with packets on their way.
  alice.peer.sendRtp(test::videoPacket(kPackets));
  alice.flush();
  onHome([](Router& r) { r.removeParticipant("bob"); });
  EXPECT_TRUE(runUntil(
      all, [&] { return hostedOnOther() == 0; }, 3s));
  sendVideo(kPackets, kPackets + 1);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= 2 * kPackets + 1; }, 5s));
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  const uint64_t written = link->home().mediaRecords.load();
  // Nothing for Bob after he left: his packets, and the record that has SRTP forget his stream.
  EXPECT_LE(written, kPackets + 2);
  EXPECT_TRUE(runUntil(
      all, [&] { return link->transport().mediaSent.load() + link->transport().mediaStale.load() == written; }, 2s));
  EXPECT_LE(packetsOf(bob.peer, kBobSsrc), kPackets + 1);
  // And a newcomer can take the freed slot: the other worker hosts its transport (a new
  // generation; nothing of Bob's matches it).
  TransportSpec dave;
  dave.localIce = ice::IceCredentials::generate();
  dave.worker = kOther;
  onHome([&](Router& r) {
    r.addParticipant("dave");
    r.setTransport("dave", TransportRole::Subscribe, dave);
  });
  EXPECT_TRUE(runUntil(
      all, [&] { return hostedOnOther() == 1; }, 3s));
}

// The other worker is busy (a task holds its thread): the home worker fills the ring, and what
// does not fit is dropped and counted, never waited for. Once the other worker runs again, Bob
// gets every packet that was written, in order, decryptable, and nothing else. A dropped packet
// was never given a transport-wide number (the record is claimed before the packet is written):
// the numbers Bob gets have no gaps, so his feedback cannot make the estimator take the drops for
// loss on his path.
TEST_F(SmallRingFanoutTest, AFullRingDropsAndCountsWithoutWaitingOrStamping) {
  setUpRoom(true);
  connectAll();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  other.post([&holding, released](MediaWorker&) {
    holding.set_value();
    released.wait();
  });
  holding.get_future().wait();
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  // Carol's copies (home worker) flow all along: the home worker never waited for the ring.
  const bool carolGotAll = runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= kPackets; }, 5s);
  const uint64_t refused = link->home().mediaRefused.load();
  release.set_value();
  ASSERT_TRUE(carolGotAll);
  EXPECT_GT(refused, 0u);
  const uint64_t written = link->home().mediaRecords.load();
  // Bob's video, and the probes his estimate may have asked for (on his RTX stream).
  EXPECT_GE(written + refused, kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return link->transport().mediaSent.load() >= written; }, 5s));
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= written; }, 5s));
  EXPECT_EQ(bob.peer.rtp.size(), written);
  EXPECT_LT(packetsOf(bob.peer, kBobSsrc), kPackets);
  EXPECT_TRUE(bob.peer.srtpErrors.empty());
  // The dropped packets are gaps in Bob's sequence (he may NACK them), not a reordering; the
  // transport-wide numbers have none.
  std::optional<uint16_t> lastSeq, lastWide;
  for (auto bytes : bob.peer.rtp) {
    auto p = rtp::RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    if (p->ssrc() == kBobSsrc) {
      if (lastSeq) {
        EXPECT_LT(static_cast<uint16_t>(p->sequenceNumber() - *lastSeq - 1), 0x8000u);
      }
      lastSeq = p->sequenceNumber();
    }
    auto ext = p->extension(3);
    ASSERT_TRUE(ext);
    auto wide = rtp::parseTransportSequenceNumber(*ext);
    ASSERT_TRUE(wide);
    if (lastWide) {
      EXPECT_EQ(*wide, static_cast<uint16_t>(*lastWide + 1));
    }
    lastWide = wide;
  }
}

// Bob's browser closes DTLS: the other worker's transport is dead, the home worker learns it
// (the observer hears of the failure, as for a local transport), its Router lets the proxy go on
// its next tick, and the other worker destroys what it hosted.
TEST_F(FanoutTest, ADtlsCloseOnTheHostingWorkerReachesTheHomeWorkerAndFreesTheTransport) {
  setUpRoom();
  connectAll();
  EXPECT_EQ(hostedOnOther(), 1u);
  bob.peer.dtls().close();
  EXPECT_TRUE(runUntil(
      all, [&] { return observer.failures.load() == 1 && hostedOnOther() == 0; }, 5s))
      << "failures " << observer.failures.load();
  // Carol's stream is untouched.
  constexpr size_t kPackets = 20;
  sendVideo(kPackets);
  EXPECT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= kPackets; }, 5s));
  EXPECT_EQ(packetsOf(bob.peer, kBobSsrc), 0u);
}

// The other worker is held longer than it lets a packet wait (its maximum queue delay, the bound
// it sheds its socket's backlog by): what the home worker wrote for Bob meanwhile is dropped unsent
// when the other worker reads it, and counted. Fresh records after it reach Bob.
TEST_F(AgedRecordFanoutTest, RecordsOlderThanTheMaximumQueueDelayAreDroppedUnsent) {
  setUpRoom();
  connectAll();
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  const auto& counters = link->transport();
  auto accounted = [&] {
    return counters.mediaSent.load() + counters.mediaStale.load() + counters.mediaExpired.load();
  };
  const uint64_t writtenBefore = link->home().mediaRecords.load();
  ASSERT_TRUE(runUntil(
      all, [&] { return accounted() == writtenBefore; }, 2s));
  std::promise<void> holding, release;
  std::shared_future<void> released = release.get_future().share();
  other.post([&holding, released](MediaWorker& w) {
    holding.set_value();
    released.wait();
    w.setMaxQueueDelay(kMaxDelay);
  });
  holding.get_future().wait();
  constexpr size_t kPackets = 20;
  sendVideo(kPackets);
  // Carol's copies left with the batches that wrote Bob's records: those are in the ring.
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= kPackets; }, 5s));
  const uint64_t written = link->home().mediaRecords.load() - writtenBefore;
  EXPECT_EQ(written, kPackets);
  // What the test waits for is the records' age: nothing else happens until it passes the bound.
  std::this_thread::sleep_until(std::chrono::steady_clock::now() + kMaxDelay + 20ms);
  release.set_value();
  ASSERT_TRUE(runUntil(
      all, [&] { return accounted() == writtenBefore + written; }, 5s));
  EXPECT_EQ(counters.mediaExpired.load(), written);
  EXPECT_EQ(packetsOf(bob.peer, kBobSsrc), 0u);

  on<bool>(other, [](MediaWorker& w) {
    w.setMaxQueueDelay(std::chrono::hours(1));
    return true;
  });
  sendVideo(kPackets, kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc) >= kPackets; }, 5s));
  EXPECT_EQ(packetsOf(bob.peer, kBobSsrc), kPackets);
  EXPECT_TRUE(bob.peer.srtpErrors.empty());
  EXPECT_EQ(counters.mediaExpired.load(), written);
}

// The other direction: the home worker is held longer than it lets a datagram wait, while Bob's
// NACK arrives at the other worker and waits in the return ring. The home worker then drops it
// unread (no retransmission), counted; a fresh NACK after it is answered.
TEST_F(AgedRecordFanoutTest, RtcpOlderThanTheHomeWorkersMaximumQueueDelayIsDroppedThere) {
  const std::optional<uint16_t> tenth = receiveThirtyWithRtx();
  ASSERT_TRUE(tenth) << "Bob did not receive the first 30 packets";
  const uint16_t lost = *tenth;
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  const uint64_t recordsBefore = link->transport().rtcpRecords.load();

  std::promise<void> holding, release;
  std::shared_future<void> released = release.get_future().share();
  home.post([&holding, released](MediaWorker& w) {
    holding.set_value();
    released.wait();
    w.setMaxQueueDelay(kMaxDelay);
  });
  holding.get_future().wait();
  bob.peer.sendRtcp(sfu::test::nack(0x1234, kBobSsrc, {lost}));
  const bool inRing = runUntil(
      all, [&] { return link->transport().rtcpRecords.load() > recordsBefore; }, 5s);
  // What the test waits for is the record's age: nothing else happens until it passes the bound.
  if (inRing) std::this_thread::sleep_until(std::chrono::steady_clock::now() + kMaxDelay + 20ms);
  release.set_value();
  ASSERT_TRUE(inRing);
  // Every record the held home worker found in the ring (the NACK, and whatever else Bob sent).
  EXPECT_TRUE(runUntil(
      all, [&] { return link->home().rtcpExpired.load() == link->transport().rtcpRecords.load() - recordsBefore; },
      5s));
  const uint64_t expired = link->home().rtcpExpired.load();
  EXPECT_GE(expired, 1u);
  EXPECT_EQ(homeStats().retransmitted, 0u);
  EXPECT_EQ(link->home().rtcpStale.load(), 0u);

  on<bool>(home, [](MediaWorker& w) {
    w.setMaxQueueDelay(std::chrono::hours(1));
    return true;
  });
  bob.peer.sendRtcp(sfu::test::nack(0x1234, kBobSsrc, {lost}));
  EXPECT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc + 1) >= 1; }, 5s))
      << "the fresh NACK was not answered";
  EXPECT_EQ(homeStats().retransmitted, 1u);
  EXPECT_EQ(link->home().rtcpExpired.load(), expired);
}

// Bob's DTLS handshake fails on the hosting worker (his certificate is not the one the answer
// named): the home worker hears of it as of a local transport's failure (the observer is told),
// its Router lets the proxy go on its next tick, and the other worker destroys what it hosted.
TEST_F(FanoutTest, ADtlsFailureOnTheHostingWorkerReachesTheObserverAndFreesTheTransport) {
  setUpRoom();
  TransportSpec wrong = subs["bob"];
  wrong.remoteFingerprint = transport::test::fingerprintOf(serverContext);
  onHome([&](Router& r) { r.setTransport("bob", TransportRole::Subscribe, wrong); });
  test::connectBrowsers({{&alice, pub.localIce}, {&carol, subs["carol"].localIce}});
  bob.peer.sendCheck(subs["bob"].localIce, true);
  ASSERT_TRUE(runUntil(
      all, [&] { return !bob.peer.stunAnswers.empty(); }, 5s));
  EXPECT_EQ(hostedOnOther(), 1u);
  bob.peer.startDtls(std::chrono::steady_clock::now());
  EXPECT_TRUE(runUntil(
      all, [&] { return observer.failures.load() == 1 && hostedOnOther() == 0; }, 10s))
      << "failures " << observer.failures.load();
  EXPECT_EQ(observer.failed(), std::vector<std::string>{"bob: dtls failed"});
  EXPECT_FALSE(bob.peer.dtlsConnected());
  constexpr size_t kPackets = 20;
  sendVideo(kPackets);
  EXPECT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= kPackets; }, 5s));
  EXPECT_EQ(observer.failures.load(), 1);
}

// Consent expires on the hosting worker (Bob's browser stopped answering; the worker's timers run
// 31 s ahead, as RFC 7675's 30 s would take): the home worker's observer is told, as for a local
// transport. From then on the home worker writes nothing for Bob (his proxy, like a local
// transport without a selected pair, gives the Router no room), Carol's stream goes on, and the
// transport stays for an ICE restart, after which the home worker writes for Bob again and his
// media follows, with the same DTLS association and SRTP keys.
TEST_F(FanoutTest, ConsentExpiringOnTheHostingWorkerStopsTheHomeWorkersRecordsUntilAnIceRestart) {
  setUpRoom();
  connectAll();
  constexpr size_t kPackets = 10;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc) >= kPackets; }, 5s));
  on<bool>(other, [](MediaWorker& w) {
    w.fanout().tick(std::chrono::steady_clock::now() + 31s);
    return true;
  });
  ASSERT_TRUE(runUntil(
      all, [&] { return observer.failures.load() == 1; }, 5s));
  EXPECT_EQ(observer.failed(), std::vector<std::string>{"bob: ice consent expired"});
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  const auto& counters = link->transport();
  // The proxy stopped writing before the observer was told (both on the home worker's thread).
  const uint64_t written = link->home().mediaRecords.load();
  sendVideo(kPackets, kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= 2 * kPackets; }, 5s));
  EXPECT_EQ(link->home().mediaRecords.load(), written);
  EXPECT_EQ(link->home().mediaRefused.load(), 0u);
  EXPECT_TRUE(runUntil(
      all, [&] { return counters.mediaSent.load() + counters.mediaStale.load() == written; }, 5s));
  EXPECT_EQ(packetsOf(bob.peer, kBobSsrc), kPackets);
  EXPECT_EQ(hostedOnOther(), 1u);

  // The control plane restarts ICE; Bob nominates the new credentials from where he is.
  const TransportSpec restarted = restartBobsIce();
  const size_t dtlsBefore = bob.peer.dtlsDatagramsReceived();
  ASSERT_TRUE(test::moveAndMeasureGap(alice, bob, all, restarted.localIce, true, [] {}))
      << "no media for Bob within 10 s of the ICE restart";
  EXPECT_GT(link->home().mediaRecords.load(), written);
  expectBobsSessionKept(dtlsBefore, 1);
}

// The control plane restarts ICE for Bob (new credentials on both sides, as after a network
// change): the home worker's Router passes the restart to the hosting worker, which then routes
// checks with the new server ufrag. Bob, now at another address (the only way his checks can
// reach his transport there is that ufrag), nominates it, and media reaches him again with the
// same DTLS association and SRTP keys.
TEST_F(FanoutTest, AnIceRestartOfAHostedTransportBringsItsMediaToTheNewPath) {
  setUpRoom();
  connectAll();
  constexpr size_t kPackets = 20;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(bob.peer, kBobSsrc) >= kPackets; }, 5s));
  const TransportSpec restarted = restartBobsIce();
  const size_t dtlsBefore = bob.peer.dtlsDatagramsReceived();
  const auto gap = test::moveAndMeasureGap(alice, bob, all, restarted.localIce, true,
                                           [&] { bob.moveTo("127.0.0.1", endpointOf("127.0.0.1", other.port())); });
  ASSERT_TRUE(gap) << "no media at the new address within 10 s";
  expectBobsSessionKept(dtlsBefore, 0);
}

// The same bound as for a local transport (worker_test.cpp) on the worker that hosts Bob's: many
// restarts leave his transport there two routing entries, the current and the previous ufrag;
// the one before no longer routes. His transport going frees both.
TEST_F(FanoutTest, IceRestartsOfAHostedTransportKeepOnlyTheCurrentAndThePreviousUfrag) {
  setUpRoom();
  auto routedUfrags = [this] { return on<size_t>(other, [](MediaWorker& w) { return w.routedUfrags(); }); };
  ASSERT_EQ(routedUfrags(), 1u);  // Bob's; the home worker routes Alice's and Carol's
  std::vector<ice::IceCredentials> generations{subs["bob"].localIce};
  for (int i = 0; i < 50; ++i) {
    TransportSpec restarted = subs["bob"];
    restarted.localIce = ice::IceCredentials::generate();
    restarted.remoteIce = bob.peer.ice();
    onHome([&](Router& r) { r.setTransport("bob", TransportRole::Subscribe, restarted); });
    generations.push_back(restarted.localIce);
  }
  // The home worker posted each restart to the other before this task.
  EXPECT_EQ(routedUfrags(), 2u);
  const std::vector<ice::IceCredentials> lastThree(generations.end() - 3, generations.end());
  const auto probe = test::probeChecks(other, bob.peer, lastThree);
  EXPECT_EQ(probe.answers, 2u);
  EXPECT_EQ(probe.unrouted, 1u);

  onHome([](Router& r) { r.removeParticipant("bob"); });
  EXPECT_EQ(hostedOnOther(), 0u);
  EXPECT_EQ(routedUfrags(), 0u);
}

// The room closes (closeRouter) while the other worker is busy and records for Bob wait in the
// ring: the proxies go with the Router, the other worker destroys what it hosted once it runs
// again, every record is accounted for (sent before the destroy, or dropped as stale after it),
// and no one is told of a failure. The freed handle serves a transport of a new room.
TEST_F(FanoutTest, ClosingTheRoomWithRecordsInFlightFreesEverythingOnBothWorkers) {
  setUpRoom();
  connectAll();
  const FanoutLink* link = home.fanout().outboundLink(kOther);
  ASSERT_NE(link, nullptr);
  std::promise<void> holding, release;
  std::shared_future<void> released = release.get_future().share();
  other.post([&holding, released](MediaWorker&) {
    holding.set_value();
    released.wait();
  });
  holding.get_future().wait();
  constexpr size_t kPackets = 50;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return packetsOf(carol.peer, kCarolSsrc) >= kPackets; }, 5s));
  EXPECT_TRUE(on<bool>(home, [](MediaWorker& w) {
    w.closeRouter("room");
    return w.findRouter("room") == nullptr;
  }));
  release.set_value();
  EXPECT_TRUE(runUntil(
      all, [&] { return hostedOnOther() == 0; }, 5s));
  const uint64_t written = link->home().mediaRecords.load();
  EXPECT_GE(written, kPackets);
  const auto& counters = link->transport();
  EXPECT_TRUE(runUntil(
      all,
      [&] { return counters.mediaSent.load() + counters.mediaStale.load() + counters.mediaExpired.load() == written; },
      5s));
  EXPECT_EQ(observer.failures.load(), 0);

  TransportSpec dave;
  dave.localIce = ice::IceCredentials::generate();
  dave.worker = kOther;
  on<bool>(home, [&](MediaWorker& w) {
    Router& r = w.router("room2");
    r.addParticipant("dave");
    r.setTransport("dave", TransportRole::Subscribe, dave);
    return true;
  });
  EXPECT_TRUE(runUntil(
      all, [&] { return hostedOnOther() == 1; }, 3s));
}

// Links at start are bounded (docs/fanout.md, "Budgets"): each worker links to its partners, the
// next Fanout::kMaxPartners workers round the ring, not to every other worker, so the links (and
// their rings' address space and mappings) grow with the workers, not with their square. Each
// worker is the transport worker of as many homes as it has partners.
TEST(FanoutPartnersTest, EachWorkerLinksOnlyToItsPartners) {
  EXPECT_EQ(fanoutPartners(0, 1), std::vector<int>{});
  EXPECT_EQ(fanoutPartners(0, 2), std::vector<int>{1});
  EXPECT_EQ(fanoutPartners(1, 3), (std::vector<int>{2, 0}));
  EXPECT_EQ(fanoutPartners(5, 6), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(fanoutPartners(255, 256).size(), static_cast<size_t>(Fanout::kMaxPartners));
  EXPECT_EQ(fanoutPartners(2, 16, 7), (std::vector<int>{3, 4, 5, 6, 7, 8, 9}));

  const dtls::DtlsContext context{common::Certificate::generateSelfSigned("sfu")};
  NullObserver observer;
  constexpr int kWorkers = 6;
  std::vector<std::unique_ptr<MediaWorker>> owned;
  std::vector<MediaWorker*> workers;
  for (int i = 0; i < kWorkers; ++i) {
    owned.push_back(std::make_unique<MediaWorker>(i, "127.0.0.1", 0, context, &observer));
    workers.push_back(owned.back().get());
  }
  connectWorkers(workers, FanoutLink::Config{16 * 1024, 16 * 1024});
  size_t links = 0;
  for (int w = 0; w < kWorkers; ++w) {
    std::vector<int> outbound, inbound;
    for (int peer = 0; peer < kWorkers; ++peer) {
      if (const FanoutLink* link = workers[w]->fanout().outboundLink(peer)) {
        outbound.push_back(peer);
        EXPECT_EQ(link, workers[peer]->fanout().inboundLink(w)) << "one link, seen from both ends";
      }
      if (workers[w]->fanout().inboundLink(peer)) inbound.push_back(peer);
    }
    std::vector<int> partners = fanoutPartners(w, kWorkers);
    std::sort(partners.begin(), partners.end());
    EXPECT_EQ(outbound, partners) << "worker " << w;
    EXPECT_EQ(inbound.size(), static_cast<size_t>(Fanout::kMaxPartners)) << "worker " << w;
    links += outbound.size();
  }
  EXPECT_EQ(links, static_cast<size_t>(kWorkers * Fanout::kMaxPartners));  // not 6 x 5 = 30
}

}  // namespace
