// Host controls and policies (issue 10), driven through Connection and RoomManager as a client
// would, with a real media plane (one MediaWorker on 127.0.0.1) where the test needs tracks:
// mute is enforced in the media plane, roles are checked by the server, removal bans the
// source, ending and moving a meeting close it, and the security log keeps what happened.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conference/media_plane.h"
#include "signaling/connection.h"

using namespace conclave;
using namespace conclave::signaling;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct RecordingPeer : Peer {
  std::vector<json> received;
  bool closed = false;
  void send(const json& message) override {
    EXPECT_EQ(validateServerMessage(message, UnknownFields::Refuse), std::nullopt) << message.dump().substr(0, 200);
    received.push_back(message);
  }
  void close() override { closed = true; }
  // The messages of `type` received so far.
  std::vector<json> all(const std::string& type) const {
    std::vector<json> out;
    for (const auto& m : received)
      if (m["type"] == type) out.push_back(m);
    return out;
  }
  json last() const { return received.empty() ? json() : received.back(); }
};

// One browser: its connection, what it received, its participant ID once joined.
struct Client {
  RecordingPeer peer;
  std::unique_ptr<Connection> connection;
  std::string id;

  // Sends `message` (with an id, unless it has one) and gives the reply to it.
  json request(json message, common::TimePoint now = {}) {
    if (!message.contains("id")) message["id"] = "r";
    peer.received.clear();
    connection->onText(message.dump(), now);
    for (const auto& m : peer.received)
      if (m.contains("id") && m["id"] == message["id"]) {
        json reply = m;
        if (message["id"] == "r") reply.erase("id");
        return reply;
      }
    return json();
  }
  std::string errorOf(const json& message) {
    json reply = request(message);
    return reply["type"] == "error" ? reply["code"].get<std::string>() : "";
  }
};

// A publish offer for a microphone (mid 0) and a video section (mid 1), with the ICE and DTLS
// attributes the server needs; `ssrcBase` keeps publishers apart.
std::string offer(uint32_t ssrcBase) {
  const std::string transport =
      "c=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:Sb8F\r\n"
      "a=ice-pwd:01HpAFeWgQw1a8QGJP6Hi3AL\r\n"
      "a=fingerprint:sha-256 A3:36:6D:C2:52:52:7E:1E:E4:5C:EC:E3:29:34:20:19:62:61:87:5B:CF:2C:36:53:8D:96:F9:"
      "F2:6D:E3:39:A0\r\n"
      "a=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\n";
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
         transport + "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:" + std::to_string(ssrcBase) +
         " cname:c\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
         transport + "a=mid:1\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=ssrc:" + std::to_string(ssrcBase + 1) +
         " cname:c\r\n";
}

json publish(uint32_t ssrcBase, const std::string& videoSource) {
  return {{"type", "publish"},
          {"sdp", offer(ssrcBase)},
          {"tracks", {{{"mid", "0"}, {"source", "microphone"}}, {{"mid", "1"}, {"source", videoSource}}}}};
}

net::SourceKey sourceKey(uint8_t last) {
  net::SourceKey key{};
  key[15] = last;
  return key;
}

class HostControlsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    clients.clear();
    rooms.reset();
    plane.reset();
  }

  // A media plane for tests that publish (tasks scheduled by it run when the test says).
  void withMedia() {
    conference::MediaSettings settings;
    settings.listen = "127.0.0.1";
    settings.port = 0;
    plane = std::make_unique<conference::MediaPlane>(
        settings, [](const std::function<void()>&) {},
        [this](common::Duration, std::function<void()> task) { scheduled.push_back(std::move(task)); });
    plane->start();
    rooms = std::make_unique<RoomManager>(issuer, RoomManager::Settings{}, plane.get());
    rooms->setWallClock([this] { return wallMs; });
  }

  Client& connect(uint8_t source = 1) {
    auto& c = clients.emplace_back(std::make_unique<Client>());
    c->connection = std::make_unique<Connection>(*rooms, c->peer, ConnectionLimits{}, now, sourceKey(source));
    c->request({{"type", "hello"}, {"version", 1}});
    return *c;
  }
  // Joins `room` as a host, moderator or participant; the reply is `joined` (or the error).
  json tryJoin(Client& c, const std::string& room, Role role = Role::Participant) {
    json message = {{"type", "join"}, {"roomId", room}, {"profile", "p"}};
    if (role == Role::Host) message["hostToken"] = rooms->hostTokens().hostToken(room);
    if (role == Role::Moderator) message["hostToken"] = rooms->hostTokens().moderatorToken(room);
    json reply = c.request(message, now);
    if (reply["type"] == "joined") c.id = reply["participantId"];
    return reply;
  }
  Client& join(const std::string& room, Role role = Role::Participant, uint8_t source = 1) {
    Client& c = connect(source);
    json reply = tryJoin(c, room, role);
    EXPECT_EQ(reply["type"], "joined") << reply;
    return c;
  }
  std::string setPolicy(Client& host, const std::string& policy, const std::string& who) {
    json reply = host.request({{"type", "set-settings"}, {"policies", {{policy, who}}}});
    return reply["type"] == "error" ? reply["code"].get<std::string>() : "";
  }

  // How many of the room's producers the media worker has paused, once everything posted ran.
  size_t pausedProducers(const std::string& room) {
    auto promise = std::make_shared<std::promise<size_t>>();
    auto future = promise->get_future();
    rooms->media(room)->worker().post([promise, room](sfu::MediaWorker& worker) {
      size_t paused = 0;
      if (const sfu::Router* router = worker.findRouter(room))
        for (uint64_t id = 1; id < 100; ++id)
          if (const sfu::Producer* p = router->producer(id); p && p->paused()) ++paused;
      promise->set_value(paused);
    });
    EXPECT_EQ(future.wait_for(60s), std::future_status::ready) << "the media worker did not run the task";
    return future.wait_for(0s) == std::future_status::ready ? future.get() : 0;
  }

  RoomIdIssuer issuer{std::vector<uint8_t>(32, 7)};
  std::unique_ptr<conference::MediaPlane> plane;
  std::vector<std::function<void()>> scheduled;
  std::unique_ptr<RoomManager> rooms = std::make_unique<RoomManager>(issuer, RoomManager::Settings{});
  std::vector<std::unique_ptr<Client>> clients;
  common::TimePoint now{};
  int64_t wallMs = 1764748800000;  // 2025-12-03

  void SetUp() override {
    rooms->setWallClock([this] { return wallMs; });
  }
};

}  // namespace

TEST_F(HostControlsTest, AParticipantMayNotMuteRemoveEndOrMoveTheMeeting) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  Client& bob = join(room);
  bob.peer.received.clear();
  EXPECT_EQ(alice.errorOf({{"type", "mute"}, {"participantId", bob.id}, {"source", "microphone"}}), "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "request-unmute"}, {"participantId", bob.id}, {"source", "camera"}}),
            "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "remove"}, {"participantId", bob.id}}), "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "remove"}, {"participantId", host.id}}), "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "end-meeting"}}), "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "move-meeting"}}), "not-allowed");
  EXPECT_EQ(alice.errorOf({{"type", "get-security-log"}, {"limit", 10}}), "not-allowed");
  EXPECT_TRUE(bob.peer.received.empty()) << bob.peer.last();
  EXPECT_FALSE(bob.peer.closed);
  EXPECT_EQ(rooms->participantCount(room), 3u);
  EXPECT_EQ(rooms->closedMeeting(room), std::nullopt);

  // A moderator may mute and remove participants but not a host, and may not end the meeting.
  Client& moderator = join(room, Role::Moderator);
  EXPECT_EQ(moderator.errorOf({{"type", "mute"}, {"participantId", host.id}, {"source", "microphone"}}), "not-allowed");
  EXPECT_EQ(moderator.errorOf({{"type", "remove"}, {"participantId", host.id}}), "not-allowed");
  EXPECT_EQ(moderator.errorOf({{"type", "end-meeting"}}), "not-allowed");
  EXPECT_EQ(moderator.errorOf({{"type", "move-meeting"}}), "not-allowed");
  EXPECT_EQ(moderator.request({{"type", "mute"}, {"participantId", bob.id}, {"source", "microphone"}})["type"],
            "muted");
  EXPECT_EQ(moderator.errorOf({{"type", "mute"}, {"participantId", std::string(22, 'A')}, {"source", "camera"}}),
            "participant-not-found");
}

TEST_F(HostControlsTest, AMuteIsEnforcedInTheMediaPlaneAndLiftedOnlyAsThePolicyAllows) {
  withMedia();
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  ASSERT_EQ(alice.request(publish(1000, "camera"))["type"], "publish-answer");
  EXPECT_EQ(pausedProducers(room), 0u);

  EXPECT_EQ(host.request({{"type", "mute"}, {"participantId", alice.id}, {"source", "microphone"}, {"id", 4}}),
            json({{"type", "muted"}, {"id", 4}}));
  EXPECT_EQ(alice.peer.last(), json({{"type", "muted-by-host"}, {"source", "microphone"}, {"by", host.id}}));
  EXPECT_EQ(pausedProducers(room), 1u);
  // Publishing again (new SSRCs) does not bring the microphone back.
  ASSERT_EQ(alice.request(publish(2000, "camera"))["type"], "publish-answer");
  EXPECT_EQ(pausedProducers(room), 1u);

  // With the unmute policy at "moderators", Alice may unmute only after a host asked.
  EXPECT_EQ(setPolicy(host, "unmute", "moderators"), "");
  EXPECT_EQ(alice.errorOf({{"type", "unmute"}, {"source", "microphone"}}), "forbidden-by-policy");
  EXPECT_EQ(pausedProducers(room), 1u);
  EXPECT_EQ(host.request({{"type", "request-unmute"}, {"participantId", alice.id}, {"source", "microphone"}})["type"],
            "unmute-requested");
  EXPECT_EQ(alice.peer.last(), json({{"type", "unmute-request"}, {"source", "microphone"}, {"by", host.id}}));
  EXPECT_EQ(alice.request({{"type", "unmute"}, {"source", "microphone"}})["type"], "unmuted");
  EXPECT_EQ(pausedProducers(room), 0u);
  // A request counts once: after the next mute, the old request does not let her unmute.
  host.request({{"type", "mute"}, {"participantId", alice.id}, {"source", "microphone"}});
  EXPECT_EQ(alice.errorOf({{"type", "unmute"}, {"source", "microphone"}}), "forbidden-by-policy");
  // With the policy at "everyone" she may.
  EXPECT_EQ(setPolicy(host, "unmute", "everyone"), "");
  EXPECT_EQ(alice.request({{"type", "unmute"}, {"source", "microphone"}})["type"], "unmuted");
  EXPECT_EQ(pausedProducers(room), 0u);
}

TEST_F(HostControlsTest, AForbiddenScreenShareIsRefusedAndATightenedPolicyStopsTracks) {
  withMedia();
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  EXPECT_EQ(setPolicy(host, "screen", "moderators"), "");
  EXPECT_EQ(alice.errorOf(publish(1000, "screen")), "forbidden-by-policy");
  EXPECT_EQ(rooms->media(room)->producerCount(), 0u);
  // A host may; Alice's camera is not a screen.
  EXPECT_EQ(host.request(publish(3000, "screen"))["type"], "publish-answer");
  EXPECT_EQ(alice.request(publish(1000, "camera"))["type"], "publish-answer");
  EXPECT_EQ(rooms->media(room)->producerCount(), 4u);
  EXPECT_EQ(pausedProducers(room), 0u);

  // The camera policy tightens: Alice's camera stops, like a mute, and she is told.
  alice.peer.received.clear();
  EXPECT_EQ(setPolicy(host, "camera", "moderators"), "");
  EXPECT_EQ(alice.peer.all("muted-by-host"),
            std::vector<json>({{{"type", "muted-by-host"}, {"source", "camera"}, {"by", host.id}}}));
  EXPECT_EQ(pausedProducers(room), 1u);
  EXPECT_EQ(alice.errorOf({{"type", "unmute"}, {"source", "camera"}}), "forbidden-by-policy");
  // Loosened again, the camera is forwarded again.
  EXPECT_EQ(setPolicy(host, "camera", "everyone"), "");
  EXPECT_EQ(pausedProducers(room), 0u);
}

TEST_F(HostControlsTest, ChatRelaysFollowThePolicyControlRelaysAlwaysPass) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  EXPECT_EQ(setPolicy(host, "chat", "moderators"), "");
  host.peer.received.clear();
  EXPECT_EQ(alice.errorOf({{"type", "relay"}, {"kind", "chat"}, {"payload", "hello"}}), "forbidden-by-policy");
  EXPECT_TRUE(host.peer.all("relay").empty());
  EXPECT_EQ(alice.request({{"type", "relay"}, {"payload", "key"}})["type"], "relayed");
  EXPECT_EQ(host.peer.last(), json({{"type", "relay"}, {"from", alice.id}, {"payload", "key"}, {"kind", "control"}}));
  EXPECT_EQ(host.request({{"type", "relay"}, {"kind", "chat"}, {"payload", "hi"}})["type"], "relayed");
  EXPECT_EQ(alice.peer.last(), json({{"type", "relay"}, {"from", host.id}, {"payload", "hi"}, {"kind", "chat"}}));
  // Files follow their own policy.
  EXPECT_EQ(setPolicy(host, "files", "moderators"), "");
  EXPECT_EQ(alice.errorOf({{"type", "file-upload"}, {"size", 10}}), "forbidden-by-policy");
}

TEST_F(HostControlsTest, ARemovedParticipantCannotRejoinFromItsSourceButOthersCan) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host, 1);
  Client& mallory = join(room, Role::Participant, 66);
  Client& bob = join(room, Role::Participant, 2);
  bob.peer.received.clear();
  EXPECT_EQ(host.request({{"type", "remove"}, {"participantId", mallory.id}})["type"], "removed");
  EXPECT_EQ(mallory.peer.last(), json({{"type", "goodbye"}, {"reason", "removed"}}));
  EXPECT_TRUE(mallory.peer.closed);
  EXPECT_EQ(bob.peer.last(), json({{"type", "participant-left"}, {"participantId", mallory.id}}));
  EXPECT_EQ(rooms->participantCount(room), 2u);
  // What the removed connection still sends reaches no one.
  bob.peer.received.clear();
  mallory.request({{"type", "relay"}, {"payload", "still here"}});
  EXPECT_TRUE(bob.peer.received.empty());

  Client& again = connect(66);
  EXPECT_EQ(tryJoin(again, room)["code"], "banned");
  EXPECT_EQ(tryJoin(again, room, Role::Moderator)["code"], "banned");
  Client& carol = connect(3);
  EXPECT_EQ(tryJoin(carol, room)["type"], "joined");
}

TEST_F(HostControlsTest, EndingTheMeetingClosesEveryoneAndLaterJoinsAreRefused) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  host.peer.received.clear();
  host.connection->onText(json({{"type", "end-meeting"}, {"id", 9}}).dump(), now);
  ASSERT_EQ(host.peer.received.size(), 2u);
  EXPECT_EQ(host.peer.received[0], json({{"type", "ended"}, {"id", 9}}));
  EXPECT_EQ(host.peer.received[1], json({{"type", "goodbye"}, {"reason", "meeting-ended"}}));
  EXPECT_EQ(alice.peer.last(), json({{"type", "goodbye"}, {"reason", "meeting-ended"}}));
  EXPECT_TRUE(host.peer.closed);
  EXPECT_TRUE(alice.peer.closed);
  EXPECT_EQ(rooms->roomCount(), 0u);
  Client& late = connect(9);
  EXPECT_EQ(tryJoin(late, room, Role::Host)["code"], "meeting-ended");
  EXPECT_EQ(tryJoin(late, room)["code"], "meeting-ended");
  // Still after a day; the end is forgotten only after the meetings' retention.
  wallMs += int64_t{24} * 3600 * 1000;
  rooms->tick(now + 24h);
  EXPECT_EQ(tryJoin(late, room)["code"], "meeting-ended");
}

TEST_F(HostControlsTest, EndingAMeetingInAPersistentRoomLeavesTheRoomOpenForTheNextOne) {
  const std::string room = rooms->createRoomId();
  MeetingRecord record;
  record.persistent = true;
  ASSERT_TRUE(rooms->meetingStore().put(room, record, std::chrono::system_clock::now()));
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  EXPECT_EQ(host.request({{"type", "end-meeting"}})["type"], "ended");
  EXPECT_EQ(alice.peer.last(), json({{"type", "goodbye"}, {"reason", "meeting-ended"}}));
  EXPECT_EQ(rooms->roomCount(), 0u);
  Client& next = connect(9);
  EXPECT_EQ(tryJoin(next, room)["type"], "joined");
}

TEST_F(HostControlsTest, MovingTheMeetingGivesANewRoomAndClosesTheOldOneLater) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  Client& mallory = join(room, Role::Participant, 66);
  EXPECT_EQ(host.request({{"type", "set-settings"}, {"lobby", true}, {"policies", {{"chat", "moderators"}}}})["type"],
            "settings-updated");
  host.request({{"type", "remove"}, {"participantId", mallory.id}});

  json moved = host.request({{"type", "move-meeting"}, {"id", 3}}, now);
  ASSERT_EQ(moved["type"], "meeting-moved") << moved;
  EXPECT_EQ(moved["id"], 3);
  const std::string newRoom = moved["roomId"];
  EXPECT_NE(newRoom, room);
  EXPECT_EQ(rooms->hostTokens().roleOf(newRoom, moved["hostToken"].get<std::string>()), Role::Host);
  EXPECT_EQ(rooms->hostTokens().roleOf(newRoom, moved["moderatorToken"].get<std::string>()), Role::Moderator);
  EXPECT_EQ(host.errorOf({{"type", "move-meeting"}}), "meeting-moved");

  // The old room: no one new gets in, but its members stay (they move over by themselves).
  Client& late = connect(9);
  EXPECT_EQ(tryJoin(late, room)["code"], "meeting-moved");
  EXPECT_EQ(host.request({{"type", "relay"}, {"payload", "move"}})["type"], "relayed");
  rooms->tick(now + 29s);
  EXPECT_FALSE(alice.peer.closed);

  // The new room has the settings and the bans of the old one.
  Client& hostAgain = join(newRoom, Role::Host);
  EXPECT_EQ(hostAgain.peer.all("joined").at(0)["settings"]["lobby"], true);
  EXPECT_EQ(hostAgain.peer.all("joined").at(0)["settings"]["policies"]["chat"], "moderators");
  Client& malloryAgain = connect(66);
  EXPECT_EQ(tryJoin(malloryAgain, newRoom)["code"], "banned");

  // Whoever is still in the old room after 30 s is closed.
  rooms->tick(now + 30s);
  EXPECT_EQ(alice.peer.last(), json({{"type", "goodbye"}, {"reason", "meeting-moved"}}));
  EXPECT_TRUE(alice.peer.closed);
  EXPECT_TRUE(host.peer.closed);
  EXPECT_FALSE(hostAgain.peer.closed);
  EXPECT_EQ(tryJoin(late, room)["code"], "meeting-moved");
}

TEST_F(HostControlsTest, TheSecurityLogNamesParticipantsByIdOnlyAndIsPurgedAfterItsRetention) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  wallMs += 1000;
  Client& alice = join(room);
  wallMs += 1000;
  host.request({{"type", "remove"}, {"participantId", alice.id}});
  json log = host.request({{"type", "get-security-log"}, {"limit", 10}, {"id", 1}});
  ASSERT_EQ(log["type"], "security-log") << log;
  // Newest first; Alice's leaving is part of her removal.
  std::vector<std::string> types;
  for (const auto& e : log["entries"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"left", "removed", "joined", "joined"}));
  EXPECT_EQ(log["entries"][1], json({{"at", wallMs}, {"type", "removed"}, {"actor", host.id}, {"subject", alice.id}}));
  EXPECT_EQ(log["entries"][3], json({{"at", wallMs - 2000}, {"type", "joined"}, {"subject", host.id}}));
  // Paging: older than the second entry, one at a time.
  json older = host.request({{"type", "get-security-log"}, {"limit", 1}, {"before", wallMs - 1000}});
  ASSERT_EQ(older["entries"].size(), 1u);
  EXPECT_EQ(older["entries"][0]["subject"], host.id);

  // The retention job (app/retention.h) purges what is older than seven days: seven days after
  // the first entry, only that one; an hour later every entry.
  const int64_t kWeekMs = int64_t{7} * 24 * 3600 * 1000;
  EXPECT_EQ(rooms->securityLog().purge(wallMs - kWeekMs), 0u);
  wallMs += int64_t{7} * 24 * 3600 * 1000 - 1000;
  EXPECT_EQ(rooms->securityLog().purge(wallMs - kWeekMs), 1u);
  EXPECT_EQ(host.request({{"type", "get-security-log"}, {"limit", 10}})["entries"].size(), 3u);
  wallMs += 3600 * 1000;
  EXPECT_EQ(rooms->securityLog().purge(wallMs - kWeekMs), 3u);
  EXPECT_EQ(host.request({{"type", "get-security-log"}, {"limit", 10}})["entries"].size(), 0u);
}

TEST_F(HostControlsTest, SomeoneWaitingInTheLobbyCanBeRemovedAndIsBanned) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host, 1);
  EXPECT_EQ(host.request({{"type", "set-settings"}, {"lobby", true}})["type"], "settings-updated");
  Client& knocker = connect(66);
  json waiting = tryJoin(knocker, room);
  ASSERT_EQ(waiting["type"], "waiting") << waiting;
  const std::string knockerId = waiting["participantId"];
  EXPECT_EQ(host.request({{"type", "remove"}, {"participantId", knockerId}})["type"], "removed");
  EXPECT_EQ(knocker.peer.last(), json({{"type", "goodbye"}, {"reason", "removed"}}));
  EXPECT_TRUE(knocker.peer.closed);
  EXPECT_EQ(rooms->waitingCount(room), 0u);
  Client& again = connect(66);
  EXPECT_EQ(tryJoin(again, room)["code"], "banned");
}

TEST_F(HostControlsTest, WhatTheHostsChangeIsLoggedWithoutNamesOrAddresses) {
  const std::string room = rooms->createRoomId();
  Client& host = join(room, Role::Host);
  Client& alice = join(room);
  host.request({{"type", "set-settings"}, {"locked", true}, {"lobby", true}, {"policies", {{"screen", "moderators"}}}});
  host.request({{"type", "set-role"}, {"participantId", alice.id}, {"role", "moderator"}});
  host.request({{"type", "set-settings"}, {"locked", false}});
  json log = host.request({{"type", "get-security-log"}, {"limit", 200}});
  std::vector<std::string> entries;
  for (const auto& e : log["entries"])
    entries.push_back(e["type"].get<std::string>() +
                      (e.contains("detail") ? ":" + e["detail"].get<std::string>() : ""));
  EXPECT_EQ(entries, (std::vector<std::string>{"unlocked", "role-changed:moderator", "policy-changed:screen=moderators",
                                               "lobby-on", "locked", "joined", "joined"}));
  // A moderator reads it too; the entries hold nothing but these fields.
  json seen = alice.request({{"type", "get-security-log"}, {"limit", 1}});
  ASSERT_EQ(seen["entries"].size(), 1u);
  EXPECT_EQ(seen["entries"][0], json({{"at", wallMs}, {"type", "unlocked"}, {"actor", host.id}}));
}
