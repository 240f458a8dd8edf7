// MediaRoom (src/conference/media_room.h), the SFU control plane of one room: who publishes,
// who receives what, and the subscribe renegotiation that follows. The room runs as it does in
// the server: on a real MediaPlane (one MediaWorker on 127.0.0.1, an ephemeral port), fed with
// Chromium's captured publish offer (tests/sdp/data). Each subscriber answers the server's
// offers the way Chromium does (BrowserSubscriber). The test decides when the batching delay
// has passed (ManualTimer), so nothing here sleeps; what the room posted to the worker is read
// back on the worker thread, after everything posted before it.
#include "conference/media_room.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "conference/media_plane.h"
#include "conference/room_test_util.h"
#include "sdp/sdp_test_util.h"
#include "sdp/session_description.h"

namespace conclave::conference {
namespace {

using namespace std::chrono_literals;
using sdp::MediaKind;
using sdp::test::readData;
using sdp::test::replaceAll;
using sdp::test::replaceOnce;
using namespace conference::test;

// ---- The fixture -----------------------------------------------------------------------------

struct RouterState {
  size_t producers = 0;
  size_t pausedProducers = 0;
  size_t consumers = 0;
  std::string publishLocalUfrag;     // the participant's publish transport (empty: none)
  std::string subscribeLocalUfrag;   // the participant's subscribe transport (empty: none)
  std::string subscribeRemoteUfrag;  // the browser's, once answered
};

class MediaRoomTest : public ::testing::Test {
 protected:
  void SetUp() override { open(loopbackSettings()); }
  void TearDown() override { close(); }

  static MediaSettings loopbackSettings() {
    MediaSettings settings;
    settings.listen = "127.0.0.1";
    settings.announcedAddresses = {"127.0.0.1"};
    return settings;
  }
  void open(MediaSettings settings) {
    close();
    settings.port = 0;
    settings.workers = 1;
    settings.clock = &clock;
    plane = std::make_unique<MediaPlane>(
        // No transport connects in these tests; a failure report (none is expected) is dropped.
        settings, [](const std::function<void()>&) {},
        [this](common::Duration delay, std::function<void()> task) { timer.schedule(delay, std::move(task)); });
    plane->start();
    room = plane->createRoom(kRoomId);
  }
  void close() {
    room.reset();
    plane.reset();
  }

  PeerRecorder& join(const std::string& id) {
    auto& member = members[id];
    room->addParticipant(id, member.peer);
    return member.peer;
  }
  PeerRecorder& peer(const std::string& id) { return members.at(id).peer; }

  // Publishes and expects an answer.
  std::string publish(const std::string& id, const std::string& offer,
                      const std::vector<TrackSource>& sources = kMicAndCamera) {
    const PublishResult result = room->publish(id, offer, sources);
    EXPECT_EQ(errorCode(result), "") << "publish by " << id;
    return answerOf(result);
  }
  std::string publishError(const std::string& id, const std::string& offer,
                           const std::vector<TrackSource>& sources = kMicAndCamera, const SourceSet& forbidden = {}) {
    return errorCode(room->publish(id, offer, sources, forbidden));
  }

  const PeerRecorder::Offer& lastOffer(const std::string& id) {
    static const PeerRecorder::Offer none;
    auto& offers = peer(id).offers;
    EXPECT_FALSE(offers.empty()) << id << " has no subscribe offer";
    return offers.empty() ? none : offers.back();
  }
  // The browser's answer to the participant's last subscribe offer, as it would send it.
  std::string browserAnswer(const std::string& id) { return members.at(id).browser.answer(lastOffer(id).sdp); }
  // Answers the last offer; "" when the room accepts the answer, else its error code.
  std::string answer(const std::string& id) { return errorCode(room->subscribeAnswer(id, browserAnswer(id))); }

  // The Router of the room as the worker sees it once every task posted so far has run.
  RouterState routerState(const std::string& participant = "") {
    auto promise = std::make_shared<std::promise<RouterState>>();
    auto future = promise->get_future();
    room->worker().post([promise, participant](sfu::MediaWorker& worker) {
      RouterState state;
      if (const sfu::Router* router = worker.findRouter(kRoomId)) {
        state.producers = router->producerCount();
        state.consumers = router->consumerCount();
        // MediaRoom numbers producers and consumers from 1 up.
        for (uint64_t id = 1; id < 1000; ++id)
          if (const sfu::Producer* p = router->producer(id); p && p->paused()) ++state.pausedProducers;
        if (const auto* t = router->transport(participant, sfu::TransportRole::Publish))
          state.publishLocalUfrag = t->localIce().ufrag;
        if (const auto* t = router->transport(participant, sfu::TransportRole::Subscribe)) {
          state.subscribeLocalUfrag = t->localIce().ufrag;
          if (const auto& remote = t->ice().remoteCredentials()) state.subscribeRemoteUfrag = remote->ufrag;
        }
      }
      promise->set_value(state);
    });
    // Generous: the worker is idle, but the machine may not be.
    EXPECT_EQ(future.wait_for(60s), std::future_status::ready) << "the media worker did not run the task";
    return future.valid() && future.wait_for(0s) == std::future_status::ready ? future.get() : RouterState{};
  }

  static constexpr const char* kRoomId = "room-under-test";

  struct Member {
    PeerRecorder peer;
    BrowserSubscriber browser;
  };
  ManualTimer timer;
  common::ManualClock clock;  // of the participants' ICE restart budgets
  std::map<std::string, Member> members;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<MediaRoom> room;
};

// The mids, kinds and directions of an offer, "0:audio:sendonly 1:video:inactive".
std::string sectionsOf(const std::string& offerText) {
  std::string out;
  for (const auto& m : parsed(offerText).media)
    out += (out.empty() ? "" : " ") + m.mid + ':' + std::string(sdp::toString(m.kind)) + ':' +
           std::string(m.rejected() ? "stopped" : sdp::toString(m.direction));
  return out;
}

// Whose tracks an offer carries, in mid order: "0=alice/microphone 1=alice/camera".
std::string tracksOf(const PeerRecorder::Offer& offer) {
  std::vector<OfferedTrack> tracks = offer.tracks;
  std::sort(tracks.begin(), tracks.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.mid.size(), a.mid) < std::make_pair(b.mid.size(), b.mid);
  });
  std::string out;
  for (const auto& t : tracks) out += (out.empty() ? "" : " ") + t.mid + '=' + t.participantId + '/' + t.source;
  return out;
}

// The stream (publisher) each sending section names in its msid, by mid.
std::map<std::string, std::string> msidStreams(const std::string& offerText) {
  std::map<std::string, std::string> out;
  for (const auto& m : parsed(offerText).media)
    if (!m.msids.empty()) out[m.mid] = m.msids[0].stream;
  return out;
}

std::string iceUfragOf(const std::string& offerText) {
  auto offer = parsed(offerText);
  return offer.media.empty() ? "" : offer.media[0].ice.ufrag;
}
std::string icePwdOf(const std::string& offerText) {
  auto offer = parsed(offerText);
  return offer.media.empty() ? "" : offer.media[0].ice.pwd;
}

// ---- Renegotiation batching -----------------------------------------------------------------

TEST_F(MediaRoomTest, ChangesWithinTheBatchingDelayMakeOneOfferPerSubscriber) {
  join("carol");
  join("alice");
  join("bob");
  publish("alice", publishOffer(1));
  publish("bob", publishOffer(2));
  EXPECT_TRUE(peer("carol").offers.empty()) << "an offer went out before the batching delay";
  EXPECT_EQ(timer.pending(), 3u);  // one flush per subscriber, however many changes
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 1u);
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=alice/microphone 1=alice/camera 2=bob/microphone 3=bob/camera");
  EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:sendonly 1:video:sendonly 2:audio:sendonly 3:video:sendonly");
  ASSERT_EQ(peer("alice").offers.size(), 1u);
  EXPECT_EQ(tracksOf(lastOffer("alice")), "0=bob/microphone 1=bob/camera");
  ASSERT_EQ(peer("bob").offers.size(), 1u);
  EXPECT_EQ(tracksOf(lastOffer("bob")), "0=alice/microphone 1=alice/camera");
  EXPECT_EQ(timer.elapse(), 0u);
  RouterState state = routerState();
  EXPECT_EQ(state.producers, 4u);
  EXPECT_EQ(state.consumers, 8u);
  for (const char* id : {"carol", "alice", "bob"}) EXPECT_EQ(answer(id), "") << id;

  // A leave and a publish change in one delay: again one offer for carol, covering both.
  room->removeParticipant("alice");
  publish("bob", publishOffer(2, Sends::AudioOnly));
  EXPECT_EQ(peer("carol").offers.size(), 1u);
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  EXPECT_EQ(tracksOf(lastOffer("carol")), "2=bob/microphone");
  EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:inactive 1:video:inactive 2:audio:sendonly 3:video:inactive");
  EXPECT_EQ(peer("bob").offers.size(), 2u);  // alice's tracks ended
  EXPECT_EQ(timer.elapse(), 0u);
  state = routerState();
  EXPECT_EQ(state.producers, 1u);
  EXPECT_EQ(state.consumers, 1u);  // carol receives bob's microphone
}

TEST_F(MediaRoomTest, JoiningAndLeavingWithoutPublishingChangesNoOneElsesOffer) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  // A newcomer receives what is already published, in one offer of its own.
  join("dave");
  timer.elapse();
  ASSERT_EQ(peer("dave").offers.size(), 1u);
  EXPECT_EQ(tracksOf(lastOffer("dave")), "0=alice/microphone 1=alice/camera");
  room->removeParticipant("dave");
  // Someone who leaves before the delay has passed is simply gone.
  join("erin");
  room->removeParticipant("erin");
  timer.elapse();
  EXPECT_EQ(peer("erin").offers.size(), 0u);
  EXPECT_EQ(peer("carol").offers.size(), 1u);
  EXPECT_EQ(peer("alice").offers.size(), 0u);
  EXPECT_EQ(timer.pending(), 0u);
  EXPECT_EQ(routerState().consumers, 2u);  // carol's two
}

// ---- Pending offers ---------------------------------------------------------------------------

TEST_F(MediaRoomTest, ChangesWaitForTheAnswerToTheOfferInFlight) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1, Sends::AudioOnly));
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 1u);
  const auto first = parsed(lastOffer("carol").sdp);

  join("bob");
  publish("bob", publishOffer(2));
  while (timer.elapse() > 0) {
  }
  EXPECT_EQ(peer("carol").offers.size(), 1u) << "a second offer while the first waits for its answer";

  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(peer("carol").offers.size(), 1u) << "the next offer is batched too";
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=alice/microphone 1=bob/microphone 2=bob/camera");
  const auto second = parsed(lastOffer("carol").sdp);
  EXPECT_EQ(second.origin.sessionId, first.origin.sessionId);
  EXPECT_EQ(std::stoull(second.origin.sessionVersion), std::stoull(first.origin.sessionVersion) + 1);
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(timer.elapse(), 0u);
  EXPECT_EQ(routerState().consumers, 6u);  // carol 3, alice 2 (bob's), bob 1 (alice's)
}

TEST_F(MediaRoomTest, AnAnswerWithoutAnOfferIsInvalidState) {
  join("carol");
  const std::string someAnswer = readData("chromium-answer-subscribe.sdp");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", someAnswer)), "invalid-state");
  EXPECT_EQ(errorCode(room->subscribeAnswer("nobody", someAnswer)), "invalid-state");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  const std::string good = browserAnswer("carol");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", good)), "");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", good)), "invalid-state") << "answered twice";
  EXPECT_EQ(timer.pending(), 0u);
}

TEST_F(MediaRoomTest, ABadAnswerIsRefusedAndTheOfferKeepsWaiting) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1, Sends::AudioOnly));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  const std::string staleAnswer = browserAnswer("carol");  // to the one-section offer
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  const std::string good = browserAnswer("carol");

  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", "not an SDP")), "bad-sdp");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", replaceOnce(good, "a=mid:1", "a=mid:1 1"))), "bad-sdp");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", staleAnswer)),
            "negotiation-failed");  // sections differ
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", replaceOnce(good, "a=recvonly", "a=sendrecv"))),
            "negotiation-failed");
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", replaceAll(good, "a=setup:active", "a=setup:actpass"))),
            "negotiation-failed");
  // Refused answers change nothing: no new offer, and the right answer is still welcome.
  EXPECT_EQ(publishError("bob", publishOffer(2)), "invalid-state");  // not in the room yet
  join("bob");
  publish("bob", publishOffer(2));
  timer.elapse();
  EXPECT_EQ(peer("carol").offers.size(), 2u);
  EXPECT_EQ(errorCode(room->subscribeAnswer("carol", good)), "");
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 3u);
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=alice/microphone 1=alice/camera 2=bob/microphone 3=bob/camera");
}

// ---- ICE restart -------------------------------------------------------------------------------

TEST_F(MediaRoomTest, RestartSubscribeOffersNewIceCredentials) {
  join("carol");
  room->restartSubscribe("carol");  // no subscribe connection yet: nothing to restart
  EXPECT_EQ(timer.pending(), 0u);
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  const std::string first = lastOffer("carol").sdp;
  RouterState before = routerState("carol");
  EXPECT_EQ(before.subscribeLocalUfrag, iceUfragOf(first));
  EXPECT_EQ(before.subscribeRemoteUfrag, members.at("carol").browser.ufrag());

  room->restartSubscribe("carol");
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  const std::string second = lastOffer("carol").sdp;
  EXPECT_NE(iceUfragOf(second), iceUfragOf(first));
  EXPECT_NE(icePwdOf(second), icePwdOf(first));
  EXPECT_EQ(sectionsOf(second), sectionsOf(first));
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=alice/microphone 1=alice/camera");
  ASSERT_EQ(answer("carol"), "");
  RouterState after = routerState("carol");
  EXPECT_EQ(after.subscribeLocalUfrag, iceUfragOf(second));
  EXPECT_EQ(after.subscribeRemoteUfrag, members.at("carol").browser.ufrag());
  EXPECT_NE(after.subscribeRemoteUfrag, before.subscribeRemoteUfrag);
  EXPECT_EQ(after.consumers, 2u);

  // The next renegotiation without a restart keeps the new credentials.
  join("bob");
  publish("bob", publishOffer(2, Sends::AudioOnly));
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 3u);
  EXPECT_EQ(iceUfragOf(lastOffer("carol").sdp), iceUfragOf(second));
  EXPECT_EQ(icePwdOf(lastOffer("carol").sdp), icePwdOf(second));
}

TEST_F(MediaRoomTest, ARestartAskedForWhileAnOfferWaitsComesWithTheNextOffer) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1, Sends::AudioOnly));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  const std::string waiting = lastOffer("carol").sdp;
  // The connection fails while that offer waits for its answer; the answer then arrives.
  room->restartSubscribe("carol");
  timer.elapse();
  EXPECT_EQ(peer("carol").offers.size(), 2u);
  ASSERT_EQ(answer("carol"), "");
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 3u) << "the restart was dropped";
  EXPECT_NE(iceUfragOf(lastOffer("carol").sdp), iceUfragOf(waiting));
  EXPECT_NE(icePwdOf(lastOffer("carol").sdp), icePwdOf(waiting));
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(routerState("carol").subscribeLocalUfrag, iceUfragOf(lastOffer("carol").sdp));
}

TEST_F(MediaRoomTest, ATransportFailureReachesThatParticipantWithItsRole) {
  join("alice");
  join("bob");
  room->onTransportFailed("bob", sfu::TransportRole::Subscribe);
  EXPECT_EQ(peer("bob").failures, (std::vector<sfu::TransportRole>{sfu::TransportRole::Subscribe}));
  EXPECT_TRUE(peer("alice").failures.empty());
  room->onTransportFailed("alice", sfu::TransportRole::Publish);
  EXPECT_EQ(peer("alice").failures, (std::vector<sfu::TransportRole>{sfu::TransportRole::Publish}));
  EXPECT_EQ(peer("bob").failures.size(), 1u);
  room->removeParticipant("bob");
  room->onTransportFailed("bob", sfu::TransportRole::Publish);  // gone: nobody to tell
  room->onTransportFailed("nobody", sfu::TransportRole::Publish);
  EXPECT_EQ(peer("bob").failures.size(), 1u);
  EXPECT_EQ(peer("alice").failures.size(), 1u);
  EXPECT_TRUE(peer("alice").offers.empty());
}

TEST_F(MediaRoomTest, APublishIceRestartGetsNewCredentialsAndKeepsTheTracks) {
  join("carol");
  join("alice");
  const std::string first = publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(routerState("alice").publishLocalUfrag, iceUfragOf(first));
  // The same offer again (a renegotiation without changes): same credentials, no new offers.
  EXPECT_EQ(iceUfragOf(publish("alice", publishOffer(1))), iceUfragOf(first));
  // The browser restarts ICE: new ufrag and pwd in its offer, so new ones in the answer.
  const std::string restarted =
      publish("alice", replaceAll(replaceAll(publishOffer(1), "a=ice-ufrag:Sb8F1", "a=ice-ufrag:Rst81"),
                                  "a=ice-pwd:01HpAFeWgQw1a8QGJP6Hi3AL", "a=ice-pwd:restartedPassword012345678"));
  EXPECT_NE(iceUfragOf(restarted), iceUfragOf(first));
  EXPECT_NE(icePwdOf(restarted), icePwdOf(first));
  EXPECT_EQ(room->producerCount(), 2u);
  EXPECT_EQ(timer.pending(), 0u) << "an ICE restart changed no track; subscribers renegotiate nothing";
  RouterState state = routerState("alice");
  EXPECT_EQ(state.publishLocalUfrag, iceUfragOf(restarted));
  EXPECT_EQ(state.producers, 2u);
  EXPECT_EQ(state.consumers, 2u);
}

// A publish offer of participant `n` (publishOffer) whose ICE credentials are those of the
// browser's restart number `restart` (0: the first ones).
std::string publishOfferAfterRestarts(int n, int restart) {
  if (restart == 0) return publishOffer(n);
  return replaceAll(publishOffer(n), "a=ice-ufrag:Sb8F" + std::to_string(n),
                    "a=ice-ufrag:R" + std::to_string(n) + "x" + std::to_string(restart));
}

// A client that restarts ICE without end (each restart one signaling message) is held to its
// budget: kIceRestartBurst restarts, publish and subscribe connections together, then one per
// 6 s; one over it is refused with rate-limited and changes nothing (no new credentials, no
// offer, the Router's transports as they were). A restart asked for while one waits for its
// offer costs nothing.
TEST_F(MediaRoomTest, IceRestartsBeyondTheParticipantsBudgetAreRefusedAndChangeNothing) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  publish("carol", publishOffer(3));
  const auto burst = static_cast<int>(MediaRoom::kIceRestartBurst);
  // Half of the budget on Carol's subscribe connection (each restart a new offer, answered), the
  // other half on her publish connection (each offer with new credentials).
  for (int i = 0; i < burst / 2; ++i) {
    ASSERT_EQ(errorCode(room->restartSubscribe("carol")), "") << i;
    EXPECT_EQ(errorCode(room->restartSubscribe("carol")), "") << "joins the restart on its way, free";
    timer.elapse();
    ASSERT_EQ(answer("carol"), "") << i;
  }
  int publishRestarts = 0;
  for (; publishRestarts < burst - burst / 2; ++publishRestarts)
    ASSERT_EQ(publishError("carol", publishOfferAfterRestarts(3, publishRestarts + 1)), "") << publishRestarts;

  // Over the budget: refused, nothing changes.
  const RouterState before = routerState("carol");
  const size_t offersBefore = peer("carol").offers.size();
  EXPECT_EQ(errorCode(room->restartSubscribe("carol")), "rate-limited");
  EXPECT_EQ(publishError("carol", publishOfferAfterRestarts(3, publishRestarts + 1)), "rate-limited");
  timer.elapse();
  EXPECT_EQ(peer("carol").offers.size(), offersBefore);
  const RouterState after = routerState("carol");
  EXPECT_EQ(after.publishLocalUfrag, before.publishLocalUfrag);
  EXPECT_EQ(after.subscribeLocalUfrag, before.subscribeLocalUfrag);
  // A publish offer with the credentials in use is no restart: it goes through.
  EXPECT_EQ(publishError("carol", publishOfferAfterRestarts(3, publishRestarts)), "");
  // Alice has a budget of her own.
  EXPECT_EQ(publishError("alice", publishOfferAfterRestarts(1, 1)), "");

  // Time refills the budget: one restart per 6 s.
  clock.advance(std::chrono::seconds(6));
  EXPECT_EQ(errorCode(room->restartSubscribe("carol")), "");
  timer.elapse();
  EXPECT_EQ(peer("carol").offers.size(), offersBefore + 1);
  EXPECT_EQ(publishError("carol", publishOfferAfterRestarts(3, publishRestarts + 1)), "rate-limited");
}

// ---- m-section reuse (sdp::MidAllocator) -----------------------------------------------------

TEST_F(MediaRoomTest, ALeaversSectionsGoInactiveThenCarryTheNextTracksUnderTheSameMids) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(msidStreams(lastOffer("carol").sdp), (std::map<std::string, std::string>{{"0", "alice"}, {"1", "alice"}}));
  const auto aliceOffer = parsed(lastOffer("carol").sdp);

  room->removeParticipant("alice");
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  const std::string empty = lastOffer("carol").sdp;
  EXPECT_EQ(sectionsOf(empty),
            "0:audio:inactive 1:video:inactive");  // kept, not removed or stopped
  EXPECT_TRUE(msidStreams(empty).empty());
  EXPECT_TRUE(lastOffer("carol").tracks.empty());
  ASSERT_NE(parsed(empty).bundleGroup(), nullptr);
  EXPECT_EQ(parsed(empty).bundleGroup()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(routerState().consumers, 0u);

  join("bob");
  publish("bob", publishOffer(2));
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 3u);
  const std::string reused = lastOffer("carol").sdp;
  EXPECT_EQ(sectionsOf(reused), "0:audio:sendonly 1:video:sendonly");  // no new section
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=bob/microphone 1=bob/camera");
  EXPECT_EQ(msidStreams(reused), (std::map<std::string, std::string>{{"0", "bob"}, {"1", "bob"}}));
  // A new track for the browser (a fresh `track` event): a new msid track id in the old section.
  const auto bobOffer = parsed(reused);
  ASSERT_EQ(bobOffer.media.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_FALSE(bobOffer.media[i].msids.empty());
    ASSERT_FALSE(aliceOffer.media[i].msids.empty());
    EXPECT_NE(bobOffer.media[i].msids[0].track, aliceOffer.media[i].msids[0].track);
  }
  ASSERT_EQ(answer("carol"), "");
  EXPECT_EQ(routerState().consumers, 2u);  // carol's; bob had nothing to receive
}

TEST_F(MediaRoomTest, ASectionIsReusedOnlyByATrackOfItsKind) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1, Sends::AudioOnly));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  room->removeParticipant("alice");
  join("bob");
  publish("bob", publishOffer(2, Sends::VideoOnly));
  timer.elapse();
  EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:inactive 1:video:sendonly");
  EXPECT_EQ(tracksOf(lastOffer("carol")), "1=bob/camera");
  ASSERT_EQ(answer("carol"), "");
  join("dave");
  publish("dave", publishOffer(3, Sends::AudioOnly));
  timer.elapse();
  EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:sendonly 1:video:sendonly");
  EXPECT_EQ(tracksOf(lastOffer("carol")), "0=dave/microphone 1=bob/camera");
}

TEST_F(MediaRoomTest, PublishersComingAndGoingDoNotGrowTheSubscribeOffer) {
  join("carol");
  for (int i = 1; i <= 12; ++i) {
    const std::string id = "publisher" + std::to_string(i);
    join(id);
    publish(id, publishOffer(i));
    timer.elapse();
    ASSERT_EQ(answer("carol"), "") << id;
    EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:sendonly 1:video:sendonly") << id;
    EXPECT_EQ(tracksOf(lastOffer("carol")),
              std::string("0=").append(id).append("/microphone 1=").append(id).append("/camera"));
    room->removeParticipant(id);
    timer.elapse();
    ASSERT_EQ(answer("carol"), "") << id;
    EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:inactive 1:video:inactive") << id;
  }
  EXPECT_EQ(peer("carol").offers.size(), 24u);
  RouterState state = routerState();
  EXPECT_EQ(state.producers, 0u);
  EXPECT_EQ(state.consumers, 0u);
}

// ---- Budgets (issue 7) ---------------------------------------------------------------------

// Each subscriber has at most 64 m-sections (MidAllocator's default), however many tracks the
// room holds: what does not fit is not sent, and takes the first section a leaver frees.
TEST_F(MediaRoomTest, ASubscribeOfferNeverExceedsItsSectionLimit) {
  join("carol");
  for (int i = 1; i <= 34; ++i) {
    const std::string id = "publisher" + std::to_string(i);
    join(id);
    publish(id, publishOffer(i));
  }
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 1u);
  auto offer = parsed(lastOffer("carol").sdp);
  EXPECT_EQ(offer.media.size(), 64u);
  EXPECT_EQ(lastOffer("carol").tracks.size(), 64u);
  EXPECT_EQ(room->producerCount(), 68u);
  ASSERT_EQ(answer("carol"), "");

  room->removeParticipant("publisher1");
  timer.elapse();
  ASSERT_EQ(peer("carol").offers.size(), 2u);
  EXPECT_EQ(parsed(lastOffer("carol").sdp).media.size(), 64u);
  const std::string tracks = tracksOf(lastOffer("carol"));
  EXPECT_EQ(tracks.rfind("0=publisher33/microphone 1=publisher33/camera 2=publisher2/microphone", 0), 0u) << tracks;
  EXPECT_EQ(tracks.find("publisher34"), std::string::npos);
  ASSERT_EQ(answer("carol"), "");
}

TEST_F(MediaRoomTest, APublishWithTooManyTracksOfOneKindIsRefusedWithoutSideEffects) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  ASSERT_EQ(answer("carol"), "");
  // Two of a kind is the default budget; a third section of either kind is refused.
  EXPECT_EQ(publishError("alice", publishOfferWithExtra(1, MediaKind::Audio, 2)), "too-many-tracks");
  EXPECT_EQ(publishError("alice", publishOfferWithExtra(1, MediaKind::Video, 2)), "too-many-tracks");
  EXPECT_EQ(room->producerCount(), 2u);
  EXPECT_EQ(timer.pending(), 0u);
  RouterState state = routerState();
  EXPECT_EQ(state.producers, 2u);
  EXPECT_EQ(state.consumers, 2u);

  publish("alice", publishOfferWithExtra(1, MediaKind::Audio, 1));
  publish("alice", publishOfferWithExtra(1, MediaKind::Video, 1));
  EXPECT_EQ(room->producerCount(), 3u);  // microphone, camera and the second camera
  timer.elapse();
  EXPECT_EQ(sectionsOf(lastOffer("carol").sdp), "0:audio:sendonly 1:video:sendonly 2:video:sendonly");
}

TEST_F(MediaRoomTest, APublishThatWouldOverfillTheRoomIsRefused) {
  MediaSettings settings = loopbackSettings();
  settings.maxRoomTracks = 5;
  open(settings);
  join("alice");
  join("bob");
  join("carol");
  publish("alice", publishOffer(1));
  publish("bob", publishOffer(2));
  timer.elapse();
  EXPECT_EQ(publishError("carol", publishOffer(3)), "too-many-tracks");  // 4 + 2 > 5
  EXPECT_EQ(room->producerCount(), 4u);
  EXPECT_EQ(timer.pending(), 0u);
  EXPECT_EQ(routerState().producers, 4u);
  publish("carol", publishOffer(3, Sends::AudioOnly));  // 4 + 1
  // A publisher's own tracks are replaced, not added: alice may renegotiate the same two.
  publish("alice", publishOffer(1));
  join("dave");
  EXPECT_EQ(publishError("dave", publishOffer(4, Sends::AudioOnly)), "too-many-tracks");
  EXPECT_EQ(room->producerCount(), 5u);
  // Room freed by a leave: dave's track fits again.
  room->removeParticipant("bob");
  publish("dave", publishOffer(4, Sends::AudioOnly));
  EXPECT_EQ(room->producerCount(), 4u);
  EXPECT_EQ(routerState().producers, 4u);
}

TEST_F(MediaRoomTest, BadPublishOffersAreRefusedWithTheirCode) {
  EXPECT_EQ(publishError("nobody", publishOffer(1)), "invalid-state");
  join("alice");
  EXPECT_EQ(publishError("alice", "not an SDP"), "bad-sdp");
  EXPECT_EQ(publishError("alice", sdp::test::removeLines(publishOffer(1), "a=group:BUNDLE")), "negotiation-failed");
  EXPECT_EQ(publishError("alice", sdp::test::removeLines(publishOffer(1), "a=fingerprint")), "negotiation-failed");
  EXPECT_EQ(room->producerCount(), 0u);
  // An answer for a good offer: ICE-lite, passive, the server's own fingerprint.
  const std::string answerText = publish("alice", publishOffer(1));
  auto answer = parsed(answerText);
  EXPECT_TRUE(answer.iceLite);
  ASSERT_EQ(answer.media.size(), 3u);
  EXPECT_EQ(answer.media[0].setup, sdp::SetupRole::Passive);
  ASSERT_EQ(answer.media[0].fingerprints.size(), 1u);
  EXPECT_EQ(answer.media[0].fingerprints[0], plane->environment().fingerprint);
  EXPECT_EQ(room->producerCount(), 2u);
}

TEST_F(MediaRoomTest, EveryAnnouncedAddressIsAHostCandidateOnTheWorkersPort) {
  MediaSettings settings;
  settings.listen = "::";
  settings.announcedAddresses = {"2001:db8::7", "192.0.2.7"};
  open(settings);
  join("alice");
  const std::string answer = publish("alice", publishOffer(1));
  const std::string port = std::to_string(room->worker().port());
  // The first address is the default one (m= port, c= line) and the most preferred candidate;
  // each has its own foundation; both point at the one dual-stack port.
  EXPECT_NE(answer.find("c=IN IP6 2001:db8::7\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=candidate:1 1 udp 2130706431 2001:db8::7 " + port + " typ host\r\n"), std::string::npos)
      << answer;
  EXPECT_NE(answer.find("a=candidate:2 1 udp 2130706175 192.0.2.7 " + port + " typ host\r\n"), std::string::npos)
      << answer;
  EXPECT_EQ(answer.find("a=candidate:3 "), std::string::npos);
}

// ---- Mutes and policies (issue 10) ----------------------------------------------------------

TEST_F(MediaRoomTest, APublishOfASourceThePolicyForbidsIsRefusedAndChangesNothing) {
  join("carol");
  join("alice");
  const SourceSet noScreen{"screen", "screen-audio"};
  const std::vector<TrackSource> micAndScreen{{"0", "microphone"}, {"1", "screen"}};
  EXPECT_EQ(publishError("alice", publishOffer(1), micAndScreen, noScreen), "forbidden-by-policy");
  EXPECT_EQ(room->producerCount(), 0u);
  EXPECT_EQ(timer.pending(), 0u);
  EXPECT_EQ(routerState("alice").publishLocalUfrag, "");
  // The camera is not the screen; and a video section declared as a microphone is a camera.
  EXPECT_EQ(publishError("alice", publishOffer(1), kMicAndCamera, noScreen), "");
  const std::vector<TrackSource> disguised{{"0", "microphone"}, {"1", "microphone"}};
  EXPECT_EQ(publishError("alice", publishOffer(1), disguised, SourceSet{"camera"}), "forbidden-by-policy");
  // A section the browser stopped sending is no track: audio alone passes.
  EXPECT_EQ(publishError("alice", publishOffer(1, Sends::AudioOnly), micAndScreen, noScreen), "");
}

TEST_F(MediaRoomTest, PausedSourcesStayPausedAcrossRepublishingUntilReleased) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  EXPECT_EQ(routerState().pausedProducers, 0u);
  EXPECT_EQ(room->publishedSources("alice"), (SourceSet{"camera", "microphone"}));

  room->setPausedSources("alice", {"microphone"});
  EXPECT_EQ(routerState().pausedProducers, 1u);
  // A new microphone track (new SSRCs) starts paused; the subscribers' offer still has it.
  publish("alice", publishOffer(2));
  RouterState state = routerState();
  EXPECT_EQ(state.producers, 2u);
  EXPECT_EQ(state.pausedProducers, 1u);
  // Declaring the paused track as another source of its kind does not free it.
  const std::vector<TrackSource> relabelled{{"0", "screen-audio"}, {"1", "camera"}};
  publish("alice", publishOffer(2), relabelled);
  EXPECT_EQ(routerState().pausedProducers, 1u);
  EXPECT_EQ(room->publishedSources("alice"), (SourceSet{"camera", "microphone"}));
  room->setPausedSources("alice", {"microphone", "camera"});
  EXPECT_EQ(routerState().pausedProducers, 2u);
  room->setPausedSources("alice", {});
  EXPECT_EQ(routerState().pausedProducers, 0u);
  // Other participants are untouched; unknown participants are ignored.
  room->setPausedSources("nobody", {"camera"});
  EXPECT_EQ(routerState().producers, 2u);
}

// Issue 11: subscribers get video with an RTX stream of its own (ssrc-group FID) and every track
// with the transport-wide sequence number; the producers keep that number under the subscribers'
// id, where the router reads it for the publisher's feedback.
TEST_F(MediaRoomTest, SubscribeOffersCarryRtxAndTransportCcAndProducersKeepTheTransportSequenceNumber) {
  join("carol");
  join("alice");
  publish("alice", publishOffer(1));
  timer.elapse();
  auto offer = sdp::parseSessionDescription(lastOffer("carol").sdp);
  ASSERT_TRUE(offer.ok());
  ASSERT_EQ(offer->media.size(), 2u);
  for (const auto& m : offer->media) {
    ASSERT_NE(m.extension(sdp::uri::kTransportCc), nullptr) << m.mid;
    EXPECT_EQ(m.extension(sdp::uri::kTransportCc)->id, 3) << m.mid;
  }
  const auto& video = offer->media[1];
  ASSERT_EQ(video.kind, MediaKind::Video);
  ASSERT_EQ(video.ssrcGroups.size(), 1u);
  EXPECT_EQ(video.ssrcGroups[0].semantics, "FID");
  ASSERT_EQ(video.ssrcGroups[0].ssrcs.size(), 2u);
  EXPECT_NE(video.ssrcGroups[0].ssrcs[0], video.ssrcGroups[0].ssrcs[1]);
  EXPECT_EQ(answer("carol"), "");

  auto promise = std::make_shared<std::promise<std::vector<int>>>();
  auto future = promise->get_future();
  room->worker().post([promise](sfu::MediaWorker& worker) {
    std::vector<int> ids;
    if (const sfu::Router* router = worker.findRouter(kRoomId))
      for (uint64_t id = 1; id < 100; ++id)
        if (const sfu::Producer* p = router->producer(id)) ids.push_back(p->spec().transportCcId);
    promise->set_value(ids);
  });
  ASSERT_EQ(future.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(future.get(), (std::vector<int>{3, 3}));  // Chromium's offer has transport-cc on both
}

}  // namespace

}  // namespace conclave::conference

namespace conclave::conference {
namespace {

// ---- Simulcast (issue 11) ------------------------------------------------------------------

struct VideoConsumerState {
  int layers = 0;  // of its producer
  std::vector<std::string> rids;
  int maxLayer = -1;
  bool paused = false;
};

class SimulcastRoomTest : public MediaRoomTest {
 protected:
  // Every video consumer of the room (MediaRoom numbers them from 1 up), as the worker sees it.
  std::vector<VideoConsumerState> videoConsumers() {
    auto promise = std::make_shared<std::promise<std::vector<VideoConsumerState>>>();
    auto future = promise->get_future();
    room->worker().post([promise](sfu::MediaWorker& worker) {
      std::vector<VideoConsumerState> out;
      if (const sfu::Router* router = worker.findRouter(kRoomId)) {
        for (uint64_t id = 1; id < 1000; ++id) {
          const sfu::Consumer* c = router->consumer(id);
          if (!c || c->producer().kind() != sfu::MediaKind::Video) continue;
          VideoConsumerState state{c->producer().layerCount(), {}, c->maxLayer(), c->paused()};
          for (int l = 0; l < state.layers; ++l) state.rids.push_back(c->producer().layer(l).rid);
          out.push_back(state);
        }
      }
      promise->set_value(out);
    });
    EXPECT_EQ(future.wait_for(60s), std::future_status::ready) << "the media worker did not run the task";
    return future.valid() && future.wait_for(0s) == std::future_status::ready ? future.get()
                                                                              : std::vector<VideoConsumerState>{};
  }

  // The mid under which `subscriber` receives `publisher`'s camera.
  std::string cameraMid(const std::string& subscriber, const std::string& publisher) {
    for (const auto& t : lastOffer(subscriber).tracks)
      if (t.participantId == publisher && t.source == "camera") return t.mid;
    ADD_FAILURE() << subscriber << " receives no camera of " << publisher;
    return "";
  }
};

TEST_F(SimulcastRoomTest, ASimulcastCameraIsOneProducerWithItsLayersLowestFirst) {
  join("bob");
  join("alice");
  // Chromium's captured offer: rids h, m, l (high first) and no SSRCs for the video section.
  publish("alice", readData("chromium-offer-simulcast.sdp"));
  timer.elapse();
  ASSERT_EQ(answer("bob"), "");
  auto consumers = videoConsumers();
  ASSERT_EQ(consumers.size(), 1u);
  EXPECT_EQ(consumers[0].layers, 3);
  EXPECT_EQ(consumers[0].rids, (std::vector<std::string>{"l", "m", "h"}));
  EXPECT_EQ(consumers[0].maxLayer, 2);  // until the subscriber tells its tile size
  EXPECT_FALSE(consumers[0].paused);
}

TEST_F(SimulcastRoomTest, VideoPreferencesSetEachConsumersMaxLayerAndPauseHiddenOnes) {
  join("bob");
  join("alice");
  publish("alice", readData("chromium-offer-simulcast.sdp"));
  timer.elapse();
  ASSERT_EQ(answer("bob"), "");
  const std::string mid = cameraMid("bob", "alice");
  ASSERT_FALSE(mid.empty());
  auto check = [&](uint32_t width, uint32_t height, int layer, bool paused) {
    room->setVideoPreferences("bob", {{mid, width, height}});
    auto consumers = videoConsumers();
    ASSERT_EQ(consumers.size(), 1u);
    EXPECT_EQ(consumers[0].maxLayer, layer) << width << "x" << height;
    EXPECT_EQ(consumers[0].paused, paused) << width << "x" << height;
  };
  check(320, 180, 0, false);
  check(321, 180, 1, false);
  check(640, 360, 1, false);
  check(1280, 720, 2, false);
  check(0, 0, 2, true);  // hidden: paused, the layer stays
  check(200, 0, 2, true);
  check(160, 90, 0, false);
  // Unknown mids, audio mids and other participants change nothing.
  std::string audioMid;
  for (const auto& t : lastOffer("bob").tracks)
    if (t.kind == sdp::MediaKind::Audio) audioMid = t.mid;
  room->setVideoPreferences("bob", {{"99", 0, 0}, {audioMid, 0, 0}});
  room->setVideoPreferences("nobody", {{mid, 0, 0}});
  auto consumers = videoConsumers();
  ASSERT_EQ(consumers.size(), 1u);
  EXPECT_EQ(consumers[0].maxLayer, 0);
  EXPECT_FALSE(consumers[0].paused);
}

TEST(LayerForWidth, QuarterUpTo320HalfUpTo640FullAbove) {
  EXPECT_EQ(layerForWidth(1), 0);
  EXPECT_EQ(layerForWidth(320), 0);
  EXPECT_EQ(layerForWidth(321), 1);
  EXPECT_EQ(layerForWidth(640), 1);
  EXPECT_EQ(layerForWidth(641), 2);
  EXPECT_EQ(layerForWidth(16384), 2);
}

}  // namespace
}  // namespace conclave::conference
