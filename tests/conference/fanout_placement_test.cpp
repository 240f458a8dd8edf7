// Placement of subscribe transports across media workers (src/conference/placement.h,
// docs/fanout.md): a MediaPlane of two real workers on 127.0.0.1 with a tiny fanout_threshold,
// rooms driven through MediaRoom as the server drives them. Once the room's worker carries more
// subscribed streams than the threshold, a newcomer's subscribe offer names the other worker's
// port (UDP and ICE-TCP), the transport lives there and never moves (ICE restart, leave, room
// close); and media published on the room's worker reaches such a subscriber, decrypted, from
// the other worker's socket (real ICE, DTLS and SRTP on both sides).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/certificate.h"
#include "common/metrics_text.h"
#include "conference/media_plane.h"
#include "conference/room_test_util.h"
#include "rtp/captured_packets.h"
#include "sfu/sfu_test_util.h"
#include "sfu/udp_browser.h"

namespace conclave::conference {
namespace {

using namespace std::chrono_literals;
using namespace conference::test;
using sfu::test::endpointOf;
using sfu::test::runUntil;
using sfu::test::UdpBrowser;

constexpr const char* kRoomId = "big-room";
constexpr int kHome = 0, kOther = 1;

// What a subscribe offer tells the browser about the server's side.
struct OfferedTransport {
  ice::IceCredentials ice;
  std::set<uint16_t> ports;  // of the m-lines and of every candidate, UDP and TCP
  std::set<std::string> candidateTransports;
};

OfferedTransport transportOf(const std::string& offerText) {
  OfferedTransport out;
  for (const auto& m : parsed(offerText).media) {
    if (m.rejected()) continue;
    out.ice = ice::IceCredentials{m.ice.ufrag, m.ice.pwd};
    out.ports.insert(m.port);
    for (const auto& c : m.candidates) {
      out.ports.insert(c.port);
      out.candidateTransports.insert(c.transport);
    }
  }
  return out;
}

class FanoutPlacementTest : public ::testing::Test {
 protected:
  void SetUp() override { open(2); }
  void TearDown() override {
    room.reset();
    plane.reset();
  }

  void open(size_t threshold, int workers = 2) {
    room.reset();
    plane.reset();
    MediaSettings settings;
    settings.listen = "127.0.0.1";
    settings.announcedAddresses = {"127.0.0.1"};
    settings.port = 0;
    settings.workers = workers;
    settings.fanoutThreshold = threshold;
    plane = std::make_unique<MediaPlane>(
        settings, [](const std::function<void()>&) {},
        [this](common::Duration delay, std::function<void()> task) { timer.schedule(delay, std::move(task)); });
    plane->start();
    room = plane->createRoom(kRoomId);
    ASSERT_EQ(room->worker().index(), kHome);
  }

  sfu::MediaWorker& worker(int index) { return *plane->workers().at(static_cast<size_t>(index)); }

  // Runs `task` on worker `index` once everything posted to the room's worker before ran there
  // (and what that posted to worker `index`, such as a transport's creation or destruction).
  template <typename T>
  T afterHome(int index, std::function<T(sfu::MediaWorker&)> task) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    sfu::MediaWorker* target = &worker(index);
    worker(kHome).post([target, promise, task](sfu::MediaWorker&) {
      target->post([promise, task](sfu::MediaWorker& w) { promise->set_value(task(w)); });
    });
    EXPECT_EQ(future.wait_for(60s), std::future_status::ready) << "the media workers did not run the task";
    return future.get();
  }
  size_t hostedOn(int index) {
    return afterHome<size_t>(index, [](sfu::MediaWorker& w) { return w.fanout().hostedCount(); });
  }

  PeerRecorder& join(const std::string& id) {
    room->addParticipant(id, peers[id]);
    return peers[id];
  }
  // The port the participant's last subscribe offer names (0 when it names several, or none).
  uint16_t offeredPort(const std::string& id) {
    const auto& offers = peers[id].offers;
    EXPECT_FALSE(offers.empty()) << id << " has no subscribe offer";
    if (offers.empty()) return 0;
    const auto t = transportOf(offers.back().sdp);
    EXPECT_EQ(t.candidateTransports, (std::set<std::string>{"udp", "tcp"}));
    return t.ports.size() == 1 ? *t.ports.begin() : 0;
  }

  std::string scrape() {
    common::MetricsText out;
    plane->writeMetrics(out);
    return out.text();
  }

  ManualTimer timer;
  std::map<std::string, PeerRecorder> peers;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<MediaRoom> room;
};

// The value of the sample `line` ("name{labels}") in a scrape, or -1 when it is missing.
double sampleValue(const std::string& text, const std::string& line) {
  auto at = text.find("\n" + line + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line.size() + 2));
}

TEST_F(FanoutPlacementTest, OnceTheHomeWorkerIsOverTheThresholdNewcomersSubscribeOnTheWorkerWithFewestStreams) {
  const Placement& placement = plane->placement();
  join("alice");
  ASSERT_EQ(errorCode(room->publish("alice", publishOffer(1), kMicAndCamera)), "");
  // Each newcomer subscribes to Alice's two tracks, one at a time.
  const std::vector<std::pair<std::string, int>> expected{
      {"bob", kHome},      // home carries 0 streams: at most the threshold (2)
      {"carol", kHome},    // 2: still at most
      {"dave", kOther},    // 4 > 2: the other worker carries fewer (0)
      {"erin", kOther},    // home 4, other 2
      {"frank", kHome},    // 4 and 4: a tie stays home
      {"grace", kOther}};  // home 6, other 4
  for (const auto& [id, where] : expected) {
    join(id);
    timer.elapse();
    EXPECT_EQ(offeredPort(id), worker(where).port()) << id;
    ASSERT_NE(room->subscribeWorker(id), nullptr);
    EXPECT_EQ(room->subscribeWorker(id)->index(), where) << id;
    EXPECT_EQ(errorCode(room->subscribeAnswer(id, BrowserSubscriber().answer(peers[id].offers.back().sdp))), "");
  }
  EXPECT_EQ(placement.streams(kHome), 6u);
  EXPECT_EQ(placement.streams(kOther), 6u);
  EXPECT_EQ(hostedOn(kOther), 3u);
  EXPECT_EQ(hostedOn(kHome), 0u);  // the home worker's own transports are its Router's
  // The room's Router holds proxies for them: it has no local transport for dave.
  EXPECT_FALSE(afterHome<bool>(kHome, [](sfu::MediaWorker& w) {
    return w.findRouter(kRoomId)->transport("dave", sfu::TransportRole::Subscribe) != nullptr;
  }));
  const std::string metrics = scrape();
  EXPECT_EQ(sampleValue(metrics, "conclave_worker_subscribed_streams{worker=\"1\"}"), 6);
  EXPECT_EQ(sampleValue(metrics, "conclave_worker_fanout_records_total{worker=\"0\",direction=\"to_transport\"}"), 0);
  for (const char* sample : {"conclave_worker_fanout_expired_total{worker=\"1\",direction=\"to_transport\"}",
                             "conclave_worker_fanout_expired_total{worker=\"0\",direction=\"to_home\"}"})
    EXPECT_EQ(sampleValue(metrics, sample), 0) << sample;

  // An ICE restart keeps the transport where it is: the new credentials, the same port.
  const auto before = transportOf(peers["dave"].offers.back().sdp);
  room->restartSubscribe("dave");
  timer.elapse();
  const auto restarted = transportOf(peers["dave"].offers.back().sdp);
  EXPECT_NE(restarted.ice.ufrag, before.ice.ufrag);
  EXPECT_EQ(offeredPort("dave"), worker(kOther).port());
  EXPECT_EQ(errorCode(room->subscribeAnswer("dave", BrowserSubscriber().answer(peers["dave"].offers.back().sdp))), "");
  EXPECT_EQ(hostedOn(kOther), 3u);

  // Alice stops her camera: every subscriber loses a stream, counted where its transport is.
  ASSERT_EQ(errorCode(room->publish("alice", publishOffer(1, Sends::AudioOnly), kMicAndCamera)), "");
  timer.elapse();
  EXPECT_EQ(placement.streams(kHome), 3u);
  EXPECT_EQ(placement.streams(kOther), 3u);

  // Leaving frees the transport on the worker that hosts it, and the streams counted there.
  room->removeParticipant("dave");
  EXPECT_EQ(placement.streams(kOther), 2u);
  EXPECT_EQ(hostedOn(kOther), 2u);
  // Rejoining is a new participant: placed again (home 3 > 2, the other worker has 2).
  join("dave");
  timer.elapse();
  EXPECT_EQ(offeredPort("dave"), worker(kOther).port());

  // The room closes: its Router goes, and with it the transports the other worker hosted.
  room.reset();
  EXPECT_EQ(placement.streams(kHome), 0u);
  EXPECT_EQ(placement.streams(kOther), 0u);
  EXPECT_EQ(hostedOn(kOther), 0u);
}

// Six workers: the room's worker (0) is linked to its partners 1, 2 and 3 only
// (sfu::Fanout::kMaxPartners), so its newcomers go there, the least loaded partner first, and
// never to workers 4 and 5, however idle: no link reaches them.
TEST_F(FanoutPlacementTest, WithManyWorkersNewcomersGoOnlyToTheHomeWorkersPartners) {
  open(2, 6);
  ASSERT_EQ(sfu::fanoutPartners(kHome, 6), (std::vector<int>{1, 2, 3}));
  join("alice");
  ASSERT_EQ(errorCode(room->publish("alice", publishOffer(1), kMicAndCamera)), "");
  const std::vector<std::pair<std::string, int>> expected{
      {"bob", kHome}, {"carol", kHome},  // up to the threshold: home
      {"dave", 1},    {"erin", 2},      {"frank", 3},   {"grace", 1},
      {"henry", 2},   {"ivan", 3},      {"judy", kHome}};  // home 4, partners 4 each: a tie stays home
  for (const auto& [id, where] : expected) {
    join(id);
    timer.elapse();
    EXPECT_EQ(offeredPort(id), worker(where).port()) << id;
    EXPECT_EQ(errorCode(room->subscribeAnswer(id, BrowserSubscriber().answer(peers[id].offers.back().sdp))), "");
  }
  const Placement& placement = plane->placement();
  for (int w : {1, 2, 3}) {
    EXPECT_EQ(placement.streams(w), 4u) << w;
    EXPECT_EQ(hostedOn(w), 2u) << w;
  }
  for (int w : {4, 5}) {
    EXPECT_EQ(placement.streams(w), 0u) << w;
    EXPECT_EQ(hostedOn(w), 0u) << w;
  }
  // /metrics lists every worker, linked or not.
  EXPECT_EQ(sampleValue(scrape(), "conclave_worker_fanout_sent_total{worker=\"5\",direction=\"to_transport\"}"), 0);
}

// The Placement alone: a home worker over the threshold picks the partner with the fewest
// streams, even when a worker it has no link to carries fewer.
TEST(PlacementTest, PicksAmongTheHomeWorkersPartnersOnly) {
  const dtls::DtlsContext context{common::Certificate::generateSelfSigned("sfu")};
  sfu::test::NullObserver observer;
  std::vector<std::unique_ptr<sfu::MediaWorker>> owned;
  std::vector<sfu::MediaWorker*> workers;
  for (int i = 0; i < 6; ++i) {
    owned.push_back(std::make_unique<sfu::MediaWorker>(i, "127.0.0.1", 0, context, &observer));
    workers.push_back(owned.back().get());
  }
  sfu::connectWorkers(workers, sfu::FanoutLink::Config{16 * 1024, 16 * 1024});
  Placement placement(workers, 10);
  const std::vector<int64_t> streams{20, 9, 7, 8, 0, 1};
  for (size_t i = 0; i < streams.size(); ++i) placement.addStreams(*workers[i], streams[i]);
  EXPECT_EQ(placement.subscribeWorker(*workers[0]).index(), 2);  // of 1, 2, 3; not 4 (0 streams)
  EXPECT_EQ(placement.subscribeWorker(*workers[4]).index(), 4);  // 0 streams: at most the threshold
  placement.addStreams(*workers[4], 30);
  EXPECT_EQ(placement.subscribeWorker(*workers[4]).index(), 5);  // of 5, 0, 1: 5 has 1
  // Worker 3 (28 streams) has partners 4, 5 and 0 (30, 21, 20); 1 and 2 carry fewer, unreachable.
  placement.addStreams(*workers[3], 20);
  placement.addStreams(*workers[5], 20);
  EXPECT_EQ(placement.subscribeWorker(*workers[3]).index(), 0);
}

TEST_F(FanoutPlacementTest, ThresholdZeroKeepsEverySubscriberHome) {
  open(0);
  EXPECT_FALSE(plane->placement().enabled());
  join("alice");
  ASSERT_EQ(errorCode(room->publish("alice", publishOffer(1), kMicAndCamera)), "");
  for (const char* id : {"bob", "carol", "dave", "erin"}) {
    join(id);
    timer.elapse();
    EXPECT_EQ(offeredPort(id), worker(kHome).port()) << id;
  }
  EXPECT_EQ(scrape().find("conclave_worker_fanout"), std::string::npos) << "no links, no link metrics";
}

// Alice publishes on the room's worker; Bob's subscribe transport is there too, Carol's on the
// other worker (threshold 1: Bob's two streams put the home worker over it). Real browsers' sides:
// ICE checks, DTLS and SRTP against the ports their offers named. Both get Alice's audio and
// video; Carol's went through the link between the workers.
TEST_F(FanoutPlacementTest, MediaReachesASubscriberWhoseTransportTheOtherWorkerHosts) {
  open(1);
  const dtls::DtlsContext browserContext{common::Certificate::generateSelfSigned("browser")};
  const auto serverFingerprint = transport::RemoteFingerprint{"sha-256", plane->environment().fingerprint.bytes};
  const sdp::Fingerprint browserFingerprint{"sha-256", transport::test::fingerprintOf(browserContext).digest};
  const auto makeBrowser = [&](uint16_t port) {
    auto b = std::make_unique<UdpBrowser>(browserContext, browserContext, endpointOf("127.0.0.1", port));
    // The SFU's certificate is the plane's, not the one UdpBrowser assumed.
    b->peer.dtls().setRemoteFingerprint(serverFingerprint.algorithm, serverFingerprint.digest);
    return b;
  };

  // Alice's publish offer carries her browser side's ICE credentials and certificate.
  auto alice = makeBrowser(worker(kHome).port());
  std::string offer = publishOffer(1);
  offer = replaceAll(offer, "a=ice-ufrag:Sb8F1", "a=ice-ufrag:" + alice->peer.ice().ufrag);
  offer = replaceAll(offer, "a=ice-pwd:01HpAFeWgQw1a8QGJP6Hi3AL", "a=ice-pwd:" + alice->peer.ice().pwd);
  const std::string capturedFingerprint =
      "A3:36:6D:C2:52:52:7E:1E:E4:5C:EC:E3:29:34:20:19:62:61:87:5B:CF:2C:36:53:8D:96:F9:F2:6D:E3:39:A0";
  offer = replaceAll(offer, capturedFingerprint, sdp::formatFingerprint(browserFingerprint).substr(8));
  join("alice");
  const auto published = room->publish("alice", offer, kMicAndCamera);
  ASSERT_EQ(errorCode(published), "");
  const auto publishIce = transportOf(published.value()).ice;

  std::map<std::string, std::unique_ptr<UdpBrowser>> subscribers;
  std::map<std::string, OfferedTransport> offered;
  std::map<std::string, BrowserSubscriber> answering;
  for (const auto& [id, where] : std::vector<std::pair<std::string, int>>{{"bob", kHome}, {"carol", kOther}}) {
    join(id);
    timer.elapse();
    ASSERT_EQ(offeredPort(id), worker(where).port()) << id;
    offered[id] = transportOf(peers[id].offers.back().sdp);
    subscribers[id] = makeBrowser(worker(where).port());
    const auto& ice = subscribers[id]->peer.ice();
    auto& browser = answering.try_emplace(id, ice.ufrag, ice.pwd, browserFingerprint).first->second;
    ASSERT_EQ(errorCode(room->subscribeAnswer(id, browser.answer(peers[id].offers.back().sdp))), "");
  }
  UdpBrowser& bob = *subscribers["bob"];
  UdpBrowser& carol = *subscribers["carol"];
  const std::vector<UdpBrowser*> all{alice.get(), &bob, &carol};

  // The transports exist once the room's worker ran its tasks and the other worker the creation
  // it posted (a browser would repeat its checks until then; these sides check once).
  ASSERT_EQ(hostedOn(kOther), 1u);
  alice->peer.sendCheck(publishIce, true);
  bob.peer.sendCheck(offered["bob"].ice, true);
  carol.peer.sendCheck(offered["carol"].ice, true);
  ASSERT_TRUE(runUntil(
      all,
      [&] {
        return !alice->peer.stunAnswers.empty() && !bob.peer.stunAnswers.empty() && !carol.peer.stunAnswers.empty();
      },
      10s));
  for (auto* side : all) {
    ASSERT_EQ(side->peer.stunAnswers[0].cls, ice::StunClass::SuccessResponse);
    side->peer.startDtls(std::chrono::steady_clock::now());
  }
  ASSERT_TRUE(runUntil(
      all, [&] { return alice->peer.dtlsConnected() && bob.peer.dtlsConnected() && carol.peer.dtlsConnected(); }, 20s));

  // Alice's microphone and camera, with the SSRCs her offer announced.
  uint16_t audioSeq = 100, videoSeq = 1000;
  const auto sendAudio = [&] {
    auto audio = sfu::test::rtpFrom(testdata::kChromeOpus, audioSeq, 960u * audioSeq);
    ++audioSeq;
    auto a = rtp::RtpPacket::parse(audio);
    ASSERT_TRUE(a);
    a->setSsrc(kAudioSsrc + 10);
    a->setPayloadType(111);
    alice->peer.sendRtp(audio);
  };
  const auto sendVideo = [&](bool keyframe) {
    auto video = sfu::test::rtpFrom(keyframe ? std::span<const uint8_t>(testdata::kChromeVp8Key)
                                             : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
                                    videoSeq, 3000u * videoSeq);
    ++videoSeq;
    auto v = rtp::RtpPacket::parse(video);
    ASSERT_TRUE(v);
    v->setSsrc(kVideoSsrc + 10);
    v->setPayloadType(96);
    alice->peer.sendRtp(video);
  };
  // Each subscriber's streams, by the SSRCs its offer gave them.
  const auto received = [](const UdpBrowser& b, uint32_t ssrc) {
    size_t n = 0;
    for (auto bytes : b.peer.rtp)
      if (auto p = rtp::RtpPacket::parse(bytes); p && p->ssrc() == ssrc) ++n;
    return n;
  };
  const auto ssrcsOf = [&](const std::string& id) {
    std::map<sdp::MediaKind, uint32_t> out;
    for (const auto& m : parsed(peers[id].offers.back().sdp).media)
      if (!m.ssrcs.empty()) out.emplace(m.kind, m.ssrcs.front().ssrc);
    return out;
  };
  auto bobSsrcs = ssrcsOf("bob"), carolSsrcs = ssrcsOf("carol");
  ASSERT_EQ(bobSsrcs.size(), 2u);
  ASSERT_EQ(carolSsrcs.size(), 2u);
  const uint32_t bobAudio = bobSsrcs[sdp::MediaKind::Audio], carolAudio = carolSsrcs[sdp::MediaKind::Audio];
  const uint32_t bobVideo = bobSsrcs[sdp::MediaKind::Video], carolVideo = carolSsrcs[sdp::MediaKind::Video];

  // The Router sends to a subscriber once it knows the transport connected; for Carol that news
  // comes from the other worker as a posted task, after her side saw DTLS up. Audio until both
  // hear it.
  bool flowing = false;
  for (int i = 0; i < 2000 && !flowing; ++i) {
    sendAudio();
    flowing = runUntil(
        all, [&] { return received(bob, bobAudio) > 0 && received(carol, carolAudio) > 0; }, 5ms);
  }
  ASSERT_TRUE(flowing) << "no audio reached both subscribers";

  // From now on nothing is lost on loopback: every packet reaches both (video from a keyframe).
  const size_t audioBefore[] = {received(bob, bobAudio), received(carol, carolAudio)};
  constexpr size_t kPackets = 60;
  for (size_t i = 0; i < kPackets; ++i) {
    sendAudio();
    sendVideo(i == 0);
    if (i % 10 == 9)
      runUntil(
          all, [] { return false; }, 5ms);
  }
  const auto everything = [&] {
    return received(bob, bobAudio) >= audioBefore[0] + kPackets && received(bob, bobVideo) >= kPackets &&
           received(carol, carolAudio) >= audioBefore[1] + kPackets && received(carol, carolVideo) >= kPackets;
  };
  EXPECT_TRUE(runUntil(all, everything, 10s))
      << "bob audio " << received(bob, bobAudio) - audioBefore[0] << " video " << received(bob, bobVideo)
      << "; carol audio " << received(carol, carolAudio) - audioBefore[1] << " video " << received(carol, carolVideo);
  EXPECT_TRUE(carol.peer.srtpErrors.empty());
  EXPECT_TRUE(bob.peer.srtpErrors.empty());

  // Carol's copies crossed the link and left from the other worker; /metrics says so.
  const std::string metrics = scrape();
  EXPECT_GE(sampleValue(metrics, "conclave_worker_fanout_records_total{worker=\"0\",direction=\"to_transport\"}"),
            2 * kPackets);
  EXPECT_GE(sampleValue(metrics, "conclave_worker_fanout_sent_total{worker=\"1\",direction=\"to_transport\"}"),
            2 * kPackets);
  EXPECT_EQ(sampleValue(metrics, "conclave_worker_fanout_refused_total{worker=\"0\",direction=\"to_transport\"}"), 0);
  EXPECT_GE(sampleValue(metrics, "conclave_worker_fanout_records_total{worker=\"1\",direction=\"to_home\"}"), 0);
  EXPECT_GE(worker(kOther).counters().datagramsSent.load(), 2 * kPackets);

  // Carol's browser restarts ICE: the new offer names the same worker, her checks with the new
  // credentials reach the transport there (the new ufrag is routed to it) and her stream goes on
  // over the same DTLS association.
  room->restartSubscribe("carol");
  timer.elapse();
  ASSERT_EQ(offeredPort("carol"), worker(kOther).port());
  const auto restarted = transportOf(peers["carol"].offers.back().sdp);
  ASSERT_NE(restarted.ice.ufrag, offered["carol"].ice.ufrag);
  const std::string answer = answering.at("carol").answer(peers["carol"].offers.back().sdp);
  carol.peer.setIce({answering.at("carol").ufrag(), carol.peer.ice().pwd});
  ASSERT_EQ(errorCode(room->subscribeAnswer("carol", answer)), "");
  ASSERT_EQ(hostedOn(kOther), 1u);  // the same transport, its restart run there
  carol.peer.sendCheck(restarted.ice, true);
  ASSERT_TRUE(runUntil(
      all, [&] { return carol.peer.stunAnswers.size() >= 2; }, 10s));
  EXPECT_EQ(carol.peer.stunAnswers.back().cls, ice::StunClass::SuccessResponse);
  EXPECT_TRUE(carol.peer.stunAnswers.back().integrityOk);
  const size_t carolBefore = received(carol, carolAudio);
  for (size_t i = 0; i < kPackets; ++i) sendAudio();
  EXPECT_TRUE(runUntil(
      all, [&] { return received(carol, carolAudio) >= carolBefore + kPackets; }, 10s))
      << "after the restart carol got " << received(carol, carolAudio) - carolBefore;
  EXPECT_TRUE(carol.peer.srtpErrors.empty());

  // The server's shutdown order: the workers stop with the room's Router, its proxy and the
  // transport the other worker hosts all alive; the room goes after.
  plane->stop();
  room.reset();
  EXPECT_EQ(plane->placement().streams(kOther), 0u);
}

}  // namespace
}  // namespace conclave::conference
