// One call through a real MediaWorker: its thread, epoll loop and UDP socket on 127.0.0.1. Three
// browser sides, each on its own UdpSocket, connect with real ICE, DTLS and SRTP; the publisher
// sends N video packets and each subscriber must decrypt all N, in order, as its own stream.
// The Router is set up the way signaling/media_room.cpp does it: tasks posted to the worker.
#include "sfu/worker.h"

#include <gtest/gtest.h>

#include <poll.h>

#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "common/certificate.h"
#include "net/udp_socket.h"
#include "rtp/captured_packets.h"
#include "rtp/header_extensions.h"
#include "rtp/packet_writer.h"
#include "sfu/sfu_test_util.h"
#include "sfu/udp_browser.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using common::TimePoint;
using sfu::test::endpointOf;
using sfu::test::NullObserver;
using sfu::test::runUntil;
using sfu::test::UdpBrowser;
using transport::test::BrowserPeer;

namespace {

constexpr uint32_t kVideoSsrc = 0xfc91b0bd;
constexpr uint32_t kVideoRtxSsrc = 0x7cf7c518;

class MediaWorkerTest : public ::testing::Test {
 protected:
  MediaWorkerTest() : MediaWorkerTest("127.0.0.1", "127.0.0.1") {}
  // The worker's socket on `listen`, the browsers' on `browsers`.
  MediaWorkerTest(std::string listen, std::string browsers)
      : listenAddress(std::move(listen)), browserAddress(std::move(browsers)) {}

  void SetUp() override { worker.start(); }
  void TearDown() override { worker.stop(); }

  // Runs `task` on the worker thread and waits for it (MediaRoom::post, plus the wait).
  void onWorker(std::function<void(Router&)> task) {
    std::promise<void> done;
    worker.post([&](MediaWorker& w) {
      task(w.router("room"));
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }

  // As MediaRoom does it: Alice's publish offer gives her transport and producer; the subscribe
  // offers create Bob's and Carol's transports and consumers; their answers complete them.
  // `transportCc`: the publisher numbers its packets (extension 3, kept for the subscribers) and
  // sends RTX on kVideoRtxSsrc; the consumers have RTX streams and number what they get.
  void setUpRoom(bool transportCc = false) {
    const test::VideoRoom room(kVideoSsrc, kVideoRtxSsrc, kBobSsrc, kCarolSsrc, transportCc);
    room.setUp([this](const auto& step) { onWorker(step); }, alice, bob, carol,
               transport::test::fingerprintOf(browserContext), pub, subs);
  }

  // ICE checks, then DTLS, over the real sockets.
  void connectAll() {
    test::connectBrowsers({{&alice, pub.localIce}, {&bob, subs["bob"].localIce}, {&carol, subs["carol"].localIce}});
  }

  // `count` packets, a key frame first, then delta frames, in bursts of 10 as a camera sends.
  void sendVideo(size_t count) { test::sendVideo(alice, all, count); }

  void expectStream(const BrowserPeer& peer, uint32_t ssrc, size_t count) {
    EXPECT_EQ(peer.rtp.size(), count);
    EXPECT_TRUE(peer.srtpErrors.empty());
    auto firstBytes = peer.rtp.at(0);
    auto first = rtp::RtpPacket::parse(firstBytes);
    ASSERT_TRUE(first);
    for (size_t i = 0; i < peer.rtp.size(); ++i) {
      auto bytes = peer.rtp[i];
      auto p = rtp::RtpPacket::parse(bytes);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->ssrc(), ssrc);
      EXPECT_EQ(p->payloadType(), 98);
      EXPECT_EQ(p->sequenceNumber(), static_cast<uint16_t>(first->sequenceNumber() + i));
      EXPECT_FALSE(p->extension(4));  // mid removed
    }
  }

  // Runs `task` on the worker thread with the worker itself.
  template <typename T>
  T onWorkerValue(const std::function<T(MediaWorker&)>& task) {
    return test::runOn(worker, task);
  }

  static constexpr uint32_t kBobSsrc = 0xb0b00001, kCarolSsrc = 0xca700001;
  const dtls::DtlsContext serverContext{common::Certificate::generateSelfSigned("sfu")};
  const dtls::DtlsContext browserContext{common::Certificate::generateSelfSigned("browser")};
  NullObserver observer;
  const std::string listenAddress;
  const std::string browserAddress;
  MediaWorker worker{0, listenAddress, 0, serverContext, &observer};
  const net::Endpoint sfuAddress = endpointOf(browserAddress, worker.port());
  UdpBrowser alice{browserContext, serverContext, sfuAddress, browserAddress};
  UdpBrowser bob{browserContext, serverContext, sfuAddress, browserAddress};
  UdpBrowser carol{browserContext, serverContext, sfuAddress, browserAddress};
  std::vector<UdpBrowser*> all{&alice, &bob, &carol};
  TransportSpec pub;
  std::map<std::string, TransportSpec> subs;
};

TEST_F(MediaWorkerTest, PublisherToTwoSubscribersOverRealUdp) {
  setUpRoom();
  connectAll();
  // The consumers were added before the publisher connected, so their keyframe requests had no
  // way out yet; a pending one reaches the publisher once the throttle interval has passed.
  EXPECT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));

  constexpr size_t kPackets = 300;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer.rtp.size() << ", carol " << carol.peer.rtp.size();
  expectStream(bob.peer, kBobSsrc, kPackets);
  expectStream(carol.peer, kCarolSsrc, kPackets);

  Router::Stats stats;
  onWorker([&](Router& r) { stats = r.stats(); });
  EXPECT_EQ(stats.rtpForwarded, 2 * kPackets);
  EXPECT_EQ(stats.rtpDropped, 0u);
  EXPECT_GE(worker.counters().datagramsReceived.load(), kPackets);
  EXPECT_GE(worker.counters().datagramsSent.load(), 2 * kPackets);
  EXPECT_EQ(worker.counters().datagramsUnrouted.load(), 0u);
  worker.stop();
  EXPECT_EQ(observer.failures.load(), 0);
}

// /metrics reads the worker's counters from another thread: the rooms' Router statistics are
// published on the worker's tick, and a closed room's stay counted.
TEST_F(MediaWorkerTest, TheCountersCarryTheRoomsStatisticsAlsoAfterTheRoomCloses) {
  setUpRoom();
  connectAll();
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s));
  constexpr size_t kForwarded = 0;  // kRouterStatMetrics[0] is rtpForwarded
  static_assert(kRouterStatMetrics[kForwarded].field == &Router::Stats::rtpForwarded);
  const auto& counters = worker.counters();
  EXPECT_TRUE(runUntil(
      all, [&] { return counters.routerStats[kForwarded].load() == 2 * kPackets; }, 5s));
  EXPECT_EQ(counters.rooms.load(), 1u);
  EXPECT_GT(counters.bytesReceived.load(), kPackets * 12);  // at least their RTP headers
  EXPECT_GT(counters.bytesSent.load(), 2 * kPackets * 12);

  worker.post([](MediaWorker& w) { w.closeRouter("room"); });
  EXPECT_TRUE(runUntil(
      all, [&] { return counters.rooms.load() == 0; }, 5s));
  EXPECT_EQ(counters.routerStats[kForwarded].load(), 2 * kPackets);
  worker.stop();
}

// Issue 11 through the real worker loop and UDP sockets: a packet lost on the way from the
// publisher is NACKed, its RTX repair reaches both subscribers, the publisher gets transport-wide
// feedback, and each subscriber's packets carry its own transport-wide sequence.
TEST_F(MediaWorkerTest, UpstreamLossIsRepairedByNackAndRtxAndTransportFeedbackFlowsOverRealUdp) {
  setUpRoom(true);
  connectAll();
  auto packet = [](size_t i) {
    auto bytes = sfu::test::rtpFrom(
        i == 0 ? std::span<const uint8_t>(testdata::kChromeVp8Key) : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
        static_cast<uint16_t>(1000 + i), static_cast<uint32_t>(90000 + 3000 * i));
    auto p = rtp::RtpPacket::parse(bytes);
    rtp::setTransportSequenceNumber(*p, 3, static_cast<uint16_t>(500 + i));
    return bytes;
  };
  constexpr size_t kPackets = 20, kLost = 7;
  for (size_t i = 0; i < kPackets; ++i)
    if (i != kLost) alice.peer.sendRtp(packet(i));
  auto nacked = [&] {
    for (const auto& p : sfu::test::rtcpOf(alice.peer.rtcp, rtcp::type::kRtpFeedback, rtcp::fmt::kNack))
      if (auto nack = rtcp::GenericNack::parse(p); nack && nack->item(0).pid == 1000 + kLost) return true;
    return false;
  };
  ASSERT_TRUE(runUntil(all, nacked, 5s)) << "no NACK reached the publisher";
  auto original = packet(kLost);
  auto view = rtp::RtpPacket::parse(original);
  std::vector<uint8_t> rtx(original.size() + 2);
  rtx.resize(rtp::writeRtx(rtx, *view, 97, kVideoRtxSsrc, 1));
  alice.peer.sendRtp(rtx);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer.rtp.size() << ", carol " << carol.peer.rtp.size();
  // Transport-wide feedback for the publisher's numbers 500..519, 507 lost.
  auto feedback = [&] {
    size_t received = 0;
    for (const auto& p : sfu::test::rtcpOf(alice.peer.rtcp, rtcp::type::kRtpFeedback, rtcp::fmt::kTransportCc))
      if (auto fb = rtcp::TransportCcFeedback::parse(p)) received += fb->receivedCount();
    return received;
  };
  // The 19 media packets that arrived.
  ASSERT_TRUE(runUntil(
      all, [&] { return feedback() >= kPackets - 1; }, 5s))
      << feedback();
  std::set<uint16_t> bobSeqs;
  for (auto bytes : bob.peer.rtp) {
    auto p = rtp::RtpPacket::parse(bytes);
    ASSERT_TRUE(p && p->extension(3));
    bobSeqs.insert(*rtp::parseTransportSequenceNumber(*p->extension(3)));
  }
  EXPECT_EQ(bobSeqs.size(), bob.peer.rtp.size());  // every packet its own number
  EXPECT_EQ(static_cast<uint16_t>(*bobSeqs.rbegin() - *bobSeqs.begin()), bob.peer.rtp.size() - 1);
  Router::Stats stats;
  onWorker([&](Router& r) { stats = r.stats(); });
  EXPECT_EQ(stats.rtxRepaired, 1u);
  EXPECT_GE(stats.nacksSent, 1u);
  EXPECT_GE(stats.transportFeedbackSent, 1u);
  worker.stop();
}

// A socket on 127.0.0.1 that plays the third party: it never answers, it only counts.
struct ThirdParty {
  size_t drain() {
    size_t n = 0;
    while (size_t got = receive.receive(socket)) {
      for (size_t i = 0; i < got; ++i) {
        auto d = receive.data(i);
        (ice::isStun(d) ? stunBytes : otherBytes) += d.size();
        ++n;
      }
    }
    return n;
  }
  net::UdpSocket socket{"127.0.0.1", 0};
  net::SendBatch send{socket, 16};
  net::ReceiveBatch receive{32};
  size_t stunBytes = 0, otherBytes = 0;
};

// Issue 7, finding 2: a subscriber who knows its own ICE password sends nominating checks with a
// third party's source address. Media must stay on the subscriber's proven path; the third party
// gets only the STUN answers and our return-path checks, a few hundred bytes.
TEST_F(MediaWorkerTest, ASpoofedNominationDoesNotAimMediaAtAThirdParty) {
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  ThirdParty victim;
  const auto bobPath = bob.peer.address();
  for (int i = 0; i < 5; ++i) {
    // Bob's check, but from the victim's address (what a raw socket with a forged source sends).
    victim.send.send(bob.peer.bindingRequest(subs["bob"].localIce, true), sfuAddress);
    victim.send.flush();
    runUntil(
        all, [] { return false; }, 20ms);
  }
  constexpr size_t kPackets = 200;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return carol.peer.rtp.size() >= kPackets; }, 5s))
      << carol.peer.rtp.size();
  EXPECT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets; }, 2s))
      << bob.peer.rtp.size();
  runUntil(
      all, [] { return false; }, 50ms);
  victim.drain();
  EXPECT_EQ(victim.otherBytes, 0u) << "media or DTLS reached the third party";
  EXPECT_LE(victim.stunBytes, 5u * 2 * 120) << "more than an answer and a check per spoofed request";
  std::printf("third party received %zu STUN bytes and %zu other bytes\n", victim.stunBytes, victim.otherBytes);
  auto selected = onWorkerValue<std::optional<net::Endpoint>>(
      [](MediaWorker& w) { return w.router("room").transport("bob", TransportRole::Subscribe)->selectedEndpoint(); });
  EXPECT_EQ(selected, bobPath);
}

// Issue 7, finding 10: checks from ever new source addresses (the participant's own password,
// forged sources) must not grow the worker's 5-tuple routing table without bound.
TEST_F(MediaWorkerTest, TheRoutingTableIsBoundedPerTransport) {
  setUpRoom();
  connectAll();
  const size_t before = onWorkerValue<size_t>([](MediaWorker& w) { return w.routedEndpoints(); });
  EXPECT_EQ(before, 3u);
  std::vector<std::unique_ptr<ThirdParty>> sources;
  for (int i = 0; i < 40; ++i) {
    sources.push_back(std::make_unique<ThirdParty>());
    sources.back()->send.send(bob.peer.bindingRequest(subs["bob"].localIce, false), sfuAddress);
    sources.back()->send.flush();
  }
  // Wait until the worker answered every one of them (each source gets its answer).
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  size_t answered = 0;
  while (answered < sources.size() && std::chrono::steady_clock::now() < deadline) {
    answered = 0;
    for (auto& s : sources) {
      s->drain();
      if (s->stunBytes > 0) ++answered;
    }
    runUntil(
        all, [] { return false; }, 5ms);
  }
  ASSERT_EQ(answered, sources.size());
  const size_t after = onWorkerValue<size_t>([](MediaWorker& w) { return w.routedEndpoints(); });
  // Bob's transport holds at most IceServer::Config::maxPairs (8) addresses, his own included.
  EXPECT_LE(after, 2u + 8u);
  EXPECT_GE(after, 3u);
  // Bob's own path still works.
  sendVideo(20);
  EXPECT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= 20; }, 5s));
}

// A client that restarts ICE again and again (each restart is one signaling message) adds no
// routing entries beyond its transport's current and previous credentials: the checks of the
// generation before the last restart still route (the browser may still be using it), older ones
// do not. Removing the transport removes its entries.
TEST_F(MediaWorkerTest, IceRestartsKeepOnlyTheCurrentAndThePreviousUfragOfATransport) {
  setUpRoom();
  auto routedUfrags = [this] { return onWorkerValue<size_t>([](MediaWorker& w) { return w.routedUfrags(); }); };
  ASSERT_EQ(routedUfrags(), 3u);  // Alice's publish, Bob's and Carol's subscribe transports
  std::vector<ice::IceCredentials> generations{subs["bob"].localIce};
  for (int i = 0; i < 50; ++i) {
    TransportSpec restarted = subs["bob"];
    restarted.localIce = ice::IceCredentials::generate();
    restarted.remoteIce = bob.peer.ice();
    onWorker([&](Router& r) { r.setTransport("bob", TransportRole::Subscribe, restarted); });
    generations.push_back(restarted.localIce);
  }
  EXPECT_EQ(routedUfrags(), 3u + 1u);

  // The last three generations: the oldest is not routed, the previous and the current are.
  const std::vector<ice::IceCredentials> lastThree(generations.end() - 3, generations.end());
  const auto probe = test::probeChecks(worker, bob.peer, lastThree);
  EXPECT_EQ(probe.answers, 2u);
  EXPECT_EQ(probe.unrouted, 1u);
  // The very first generation is long gone too.
  EXPECT_EQ(test::probeChecks(worker, bob.peer, {generations.front(), generations.back()}).unrouted, 1u);

  onWorker([](Router& r) { r.removeParticipant("bob"); });
  EXPECT_EQ(routedUfrags(), 2u);
}

// Issue 7, finding 2, both halves together, over real UDP: Bob forges a nomination from a third
// party's address, then sends 50 NACKs that each name every packet he got. The third party gets no
// media; Bob gets at most his retransmission budget (32 KiB plus half of what he was forwarded),
// where the server used to resend every listed packet for every NACK.
TEST_F(MediaWorkerTest, ANackFloodAfterAForgedNominationIsBoundedAndReachesNoThirdParty) {
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  ThirdParty victim;
  victim.send.send(bob.peer.bindingRequest(subs["bob"].localIce, true), sfuAddress);
  victim.send.flush();
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets; }, 5s))
      << bob.peer.rtp.size();
  size_t forwarded = 0;
  for (const auto& p : bob.peer.rtp) forwarded += p.size();
  const uint16_t first = rtp::RtpPacket::parse(bob.peer.rtp[0])->sequenceNumber();
  std::vector<uint16_t> lost;
  for (size_t i = 0; i < kPackets; ++i) lost.push_back(static_cast<uint16_t>(first + i));
  const auto nack = sfu::test::nack(0x0b0b, kBobSsrc, lost);
  const size_t bobBefore = bob.bytesReceived;
  for (int i = 0; i < 50; ++i) {
    bob.peer.sendRtcp(nack);
    runUntil(
        all, [] { return false; }, 10ms);
  }
  runUntil(
      all, [] { return false; }, 100ms);
  victim.drain();
  const size_t toBob = bob.bytesReceived - bobBefore;
  std::printf("50 NACKs of %zu bytes: %zu bytes to Bob (forwarded %zu), third party %zu STUN + %zu other bytes\n",
              nack.size(), toBob, forwarded, victim.stunBytes, victim.otherBytes);
  EXPECT_EQ(victim.otherBytes, 0u);
  // Plain-byte budget, plus SRTP tags, plus the RTCP and STUN the server sends Bob meanwhile.
  EXPECT_LE(toBob, Consumer::kRetransmitBurstBytes + forwarded * Consumer::kRetransmitSharePercent / 100 + 16 * 1024);
}

// NAT rebinding mid-call: Bob's NAT gives him a new port. His browser does not notice and goes on
// checking what it sees as the same pair, without USE-CANDIDATE, now from the new port. Once that
// port answered the server's check and the old one stopped answering, media follows Bob to the
// new port, with the same DTLS association and SRTP keys; what he sends from there is accepted.
TEST_F(MediaWorkerTest, AfterANatRebindingMediaFlowsAgainToTheNewPort) {
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  sendVideo(20);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= 20; }, 5s));
  const net::Endpoint oldPath = bob.peer.address();
  const size_t dtlsBefore = bob.peer.dtlsDatagramsReceived();
  const auto gap =
      moveAndMeasureGap(alice, bob, all, subs["bob"].localIce, false, [&] { bob.moveTo("127.0.0.1", sfuAddress); });
  ASSERT_TRUE(gap) << "no media at the new port within 10 s";
  std::printf("NAT rebinding without nomination: video again after %lld ms\n", static_cast<long long>(gap->count()));
  // Probe of the old path, one retry a second later, then the switch: well under the 30 s consent.
  EXPECT_LT(*gap, 5s);
  ASSERT_NE(bob.peer.address(), oldPath);
  auto selected = onWorkerValue<std::optional<net::Endpoint>>(
      [](MediaWorker& w) { return w.router("room").transport("bob", TransportRole::Subscribe)->selectedEndpoint(); });
  EXPECT_EQ(selected, bob.peer.address());
  EXPECT_EQ(bob.peer.dtlsDatagramsReceived(), dtlsBefore);  // no new handshake
  EXPECT_TRUE(bob.peer.srtpErrors.empty());
  // Bob's RTCP from the new port reaches Alice (a PLI, forwarded upstream).
  const size_t plisBefore = sfu::test::plisOf(alice.peer).size();
  runUntil(
      all, [] { return false; }, 600ms);  // the router's keyframe request throttle
  bob.peer.sendRtcp(sfu::test::pli(0x0b0b, kBobSsrc));
  EXPECT_TRUE(runUntil(
      all, [&] { return sfu::test::plisOf(alice.peer).size() > plisBefore; }, 3s));
  EXPECT_EQ(observer.failures.load(), 0);
}

// The worker on one dual-stack socket ("::"), the browsers on IPv6 loopback.
// Issue 13: an overloaded worker must not forward seconds-old media. While a task holds the
// worker (as a long batch or a CPU taken by others would), datagrams wait in its socket; once
// they are older than the maximum queue delay, the RTP and RTCP among them are dropped unread and
// counted, while a STUN consent check and a DTLS ClientHello that waited as long are still
// answered. Fresh media before and after is forwarded. The bound is 1 h outside the one held
// phase, so that a slow test machine never makes the fresh packets look stale.
class ShedWorkerTest : public MediaWorkerTest {
 protected:
  ShedWorkerTest() { worker.setMaxQueueDelay(std::chrono::hours(1)); }
  static constexpr auto kMaxDelay = 100ms;
};

TEST_F(ShedWorkerTest, RtpAndRtcpThatWaitedTooLongAreDroppedUnreadWhileStunAndDtlsAreAnswered) {
  setUpRoom();
  // ICE for all three, DTLS for Alice (publisher) and Carol; Bob's DTLS starts while the worker is held.
  alice.peer.sendCheck(pub.localIce, true);
  bob.peer.sendCheck(subs["bob"].localIce, true);
  carol.peer.sendCheck(subs["carol"].localIce, true);
  ASSERT_TRUE(runUntil(
      all,
      [&] { return alice.peer.stunAnswers.size() + bob.peer.stunAnswers.size() + carol.peer.stunAnswers.size() == 3; },
      5s));
  alice.peer.startDtls(std::chrono::steady_clock::now());
  carol.peer.startDtls(std::chrono::steady_clock::now());
  ASSERT_TRUE(runUntil(
      all, [&] { return alice.peer.dtlsConnected() && carol.peer.dtlsConnected(); }, 10s));
  auto video = [](uint16_t seq, bool key) {
    return sfu::test::rtpFrom(
        key ? std::span<const uint8_t>(testdata::kChromeVp8Key) : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
        seq, 90000u + 3000u * seq);
  };
  constexpr size_t kFresh = 10, kStale = 20;
  for (uint16_t i = 0; i < kFresh; ++i) alice.peer.sendRtp(video(1000 + i, i == 0));
  ASSERT_TRUE(runUntil(
      all, [&] { return carol.peer.rtp.size() == kFresh; }, 5s));

  const auto& counters = worker.counters();
  const uint64_t receivedBefore = counters.datagramsReceived.load();
  ASSERT_EQ(counters.datagramsShed.load(), 0u);
  std::promise<void> held, release;
  auto released = release.get_future();
  worker.post([&](MediaWorker& w) {
    held.set_value();
    released.wait();
    w.setMaxQueueDelay(kMaxDelay);
  });
  held.get_future().wait();
  for (uint16_t i = 0; i < kStale; ++i) alice.peer.sendRtp(video(1000 + kFresh + i, false));
  carol.peer.sendRtcp(sfu::test::pli(0xca7ca7, kCarolSsrc));
  bob.peer.stunAnswers.clear();
  bob.peer.sendCheck(subs["bob"].localIce, false);  // a consent check
  bob.peer.startDtls(std::chrono::steady_clock::now());
  for (auto* s : all) s->flush();
  // The datagrams are in the worker's socket now (loopback delivers within the send call). What
  // the test waits for is their age: nothing else happens until it passes the bound.
  std::this_thread::sleep_until(std::chrono::steady_clock::now() + kMaxDelay + 20ms);
  release.set_value();

  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.dtlsConnected() && !bob.peer.stunAnswers.empty(); }, 10s))
      << "the consent check and the ClientHello that waited were not answered";
  EXPECT_EQ(bob.peer.stunAnswers[0].cls, ice::StunClass::SuccessResponse);
  EXPECT_EQ(counters.datagramsShed.load(), kStale + 1) << "the RTP and the PLI, nothing else";
  EXPECT_GE(counters.datagramsReceived.load(), receivedBefore + kStale + 3) << "shed datagrams count as received";
  EXPECT_EQ(carol.peer.rtp.size(), kFresh) << "nothing of what waited was forwarded";

  onWorkerValue<int>([](MediaWorker& w) {
    w.setMaxQueueDelay(std::chrono::hours(1));
    return 0;
  });
  const uint16_t next = 1000 + kFresh + kStale;
  for (uint16_t i = 0; i < kFresh; ++i) alice.peer.sendRtp(video(next + i, i == 0));
  ASSERT_TRUE(runUntil(
      all, [&] { return carol.peer.rtp.size() == 2 * kFresh && bob.peer.rtp.size() == kFresh; }, 5s))
      << "carol " << carol.peer.rtp.size() << ", bob " << bob.peer.rtp.size();
  EXPECT_EQ(counters.datagramsShed.load(), kStale + 1);
  Router::Stats stats;
  onWorker([&](Router& r) { stats = r.stats(); });
  EXPECT_EQ(stats.rtpForwarded, 3 * kFresh) << "the router never saw the stale packets";
  worker.stop();
  EXPECT_EQ(observer.failures.load(), 0);
}

class DualStackWorkerTest : public MediaWorkerTest {
 protected:
  DualStackWorkerTest() : MediaWorkerTest("::", "::1") {}
};

TEST_F(DualStackWorkerTest, ACallOverIpv6ConnectsAndForwards) {
  setUpRoom();
  connectAll();  // ICE and the DTLS handshake over ::1; mapped addresses checked there
  ASSERT_TRUE(alice.peer.stunAnswers[0].mappedAddress);
  EXPECT_TRUE(alice.peer.stunAnswers[0].mappedAddress->isV6());
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer.rtp.size() << ", carol " << carol.peer.rtp.size();
  expectStream(bob.peer, kBobSsrc, kPackets);
  expectStream(carol.peer, kCarolSsrc, kPackets);
  EXPECT_EQ(worker.counters().datagramsUnrouted.load(), 0u);
}

TEST_F(DualStackWorkerTest, Ipv4AndIpv6BrowsersShareTheOnePort) {
  // Carol comes over IPv4 to the same port: the socket sees ::ffff:127.0.0.1, she sees 127.0.0.1
  // in XOR-MAPPED-ADDRESS (checked in connectAll) and gets her media.
  carol.moveTo("127.0.0.1", endpointOf("127.0.0.1", worker.port()));
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= kPackets && carol.peer.rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer.rtp.size() << ", carol " << carol.peer.rtp.size();
  expectStream(carol.peer, kCarolSsrc, kPackets);
  auto selected = onWorkerValue<std::optional<net::Endpoint>>(
      [](MediaWorker& w) { return w.router("room").transport("carol", TransportRole::Subscribe)->selectedEndpoint(); });
  ASSERT_TRUE(selected);
  EXPECT_TRUE(selected->isV4Mapped());
  EXPECT_EQ(selected->unmapped(), carol.peer.address());
}

TEST_F(DualStackWorkerTest, ABrowserMovingFromIpv6ToIpv4KeepsTheCall) {
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer).empty(); }, 3s));
  sendVideo(20);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer.rtp.size() >= 20; }, 5s));
  // Another network, another family: the browser nominates its new pair.
  const auto gap = moveAndMeasureGap(alice, bob, all, subs["bob"].localIce, true,
                                     [&] { bob.moveTo("127.0.0.1", endpointOf("127.0.0.1", worker.port())); });
  ASSERT_TRUE(gap) << "no media at the new address within 10 s";
  std::printf("IPv6 -> IPv4 move with nomination: video again after %lld ms\n", static_cast<long long>(gap->count()));
  EXPECT_LT(*gap, 5s);
  EXPECT_TRUE(bob.peer.srtpErrors.empty());
}

}  // namespace
