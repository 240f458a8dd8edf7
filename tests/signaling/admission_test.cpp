// Who gets into a meeting and with which rights: host tokens, roles, settings, PIN, lock, lobby,
// "host must be present", and the anti-hijacking limits. Driven through Connection and
// RoomManager without a network; time is a parameter.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "signaling/connection.h"

using namespace conclave::signaling;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct FakePeer : Peer {
  std::vector<json> received;
  bool closed = false;
  void send(const json& message) override {
    EXPECT_EQ(validateServerMessage(message, UnknownFields::Refuse), std::nullopt) << message.dump().substr(0, 200);
    received.push_back(message);
  }
  void close() override { closed = true; }
  json last() const { return received.empty() ? json() : received.back(); }
  // The messages of `type` received so far.
  std::vector<json> ofType(const std::string& type) const {
    std::vector<json> out;
    for (const auto& m : received)
      if (m["type"] == type) out.push_back(m);
    return out;
  }
  void clear() { received.clear(); }
};

class AdmissionTest : public ::testing::Test {
 protected:
  static RoomManager::Settings settings() {
    RoomManager::Settings s;
    s.maxParticipants = 10;
    s.grace = 10s;
    s.lobbyUpdateInterval = 0s;
    return s;
  }
  RoomIdIssuer issuer{std::vector<uint8_t>(32, 7)};
  RoomManager rooms{issuer, settings()};
  // libsodium's minimum limits: the same Argon2id, fast enough for many tests.
  InlinePinHasher hasher{true};
  conclave::common::TimePoint now{};
  std::string room = rooms.createRoomId();

  void SetUp() override { rooms.setPinHasher(&hasher); }
  // The meeting starts with these settings, as POST /api/rooms would store them.
  void create(const std::string& roomId, MeetingSettings s, const std::string& pin = {}) {
    MeetingRecord record{s, pin.empty() ? std::string() : hashPin(pin, true)};
    ASSERT_TRUE(rooms.meetingStore().put(roomId, record, std::chrono::system_clock::now()));
  }
  MeetingSettings lobbyOn() const {
    auto s = rooms.defaultSettings();
    s.lobby = true;
    return s;
  }

  struct Client {
    FakePeer peer;
    std::unique_ptr<Connection> connection;
    void send(const json& message, conclave::common::TimePoint at) { connection->onText(message.dump(), at); }
    std::string id() const { return connection->participantId(); }
  };

  std::unique_ptr<Client> connect(uint8_t source = 1) {
    auto c = std::make_unique<Client>();
    conclave::net::SourceKey key{};
    key[0] = source;
    ConnectionLimits limits;
    limits.rate = 1000;
    limits.burst = 1000;
    c->connection = std::make_unique<Connection>(rooms, c->peer, limits, now, key);
    c->send({{"type", "hello"}, {"version", 1}}, now);
    EXPECT_EQ(c->peer.last()["type"], "welcome");
    c->peer.clear();
    return c;
  }
  json joinMessage(const std::string& profile, const std::string& roomId) const {
    return {{"type", "join"}, {"id", 1}, {"roomId", roomId}, {"profile", profile}};
  }
  // Joins and returns the reply (the last message with the join's id).
  json join(Client& c, const std::string& profile, const json& extra = json::object(), const std::string& roomId = {}) {
    json msg = joinMessage(profile, roomId.empty() ? room : roomId);
    msg.update(extra);
    c.send(msg, now);
    return replyTo(c, 1);
  }
  static json replyTo(const Client& c, int id) {
    for (auto it = c.peer.received.rbegin(); it != c.peer.received.rend(); ++it)
      if (it->contains("id") && (*it)["id"] == id) return *it;
    return json();
  }
  std::unique_ptr<Client> host(uint8_t source = 1) {
    return privileged(source, rooms.hostTokens().hostToken(room), "host");
  }
  std::unique_ptr<Client> moderator(uint8_t source = 1) {
    return privileged(source, rooms.hostTokens().moderatorToken(room), "moderator");
  }
  std::unique_ptr<Client> privileged(uint8_t source, const std::string& token, const std::string& role) {
    auto c = connect(source);
    auto reply = join(*c, role, {{"hostToken", token}});
    EXPECT_EQ(reply["type"], "joined") << reply;
    EXPECT_EQ(reply["role"], role);
    c->peer.clear();
    return c;
  }
};

}  // namespace

TEST_F(AdmissionTest, TheHostTokenMakesAHostAndEveryoneSeesTheRole) {
  auto h = host();
  auto p = connect(2);
  auto joined = join(*p, "guest");
  ASSERT_EQ(joined["type"], "joined");
  EXPECT_EQ(joined["role"], "participant");
  ASSERT_EQ(joined["participants"].size(), 1u);
  EXPECT_EQ(joined["participants"][0]["role"], "host");
  EXPECT_EQ(joined["settings"]["lobby"], false);
  EXPECT_EQ(joined["settings"]["pinSet"], false);
  EXPECT_EQ(h->peer.last()["participant"]["role"], "participant");
}

TEST_F(AdmissionTest, AMadeUpHostTokenIsRefusedAndJoinsNothing) {
  auto c = connect();
  // Another room's token is as wrong as a made-up one.
  auto reply = join(*c, "x", {{"hostToken", rooms.hostTokens().hostToken(rooms.createRoomId())}});
  EXPECT_EQ(reply["code"], "not-allowed");
  reply = join(*c, "x", {{"hostToken", std::string(43, 'A')}});
  EXPECT_EQ(reply["code"], "not-allowed");
  EXPECT_EQ(rooms.participantCount(room), 0u);
}

TEST_F(AdmissionTest, TheModeratorTokenMakesAModerator) {
  auto c = connect();
  auto reply = join(*c, "m", {{"hostToken", rooms.hostTokens().moderatorToken(room)}});
  EXPECT_EQ(reply["role"], "moderator");
}

TEST_F(AdmissionTest, OnlyAHostMaySetRolesAndEveryoneIsTold) {
  auto h = host();
  auto a = connect(2);
  auto b = connect(3);
  join(*a, "a");
  join(*b, "b");
  a->peer.clear();
  b->peer.clear();
  h->peer.clear();
  // A participant may not.
  a->send({{"type", "set-role"}, {"id", 5}, {"participantId", a->id()}, {"role", "host"}}, now);
  EXPECT_EQ(a->peer.last()["code"], "not-allowed");
  h->send({{"type", "set-role"}, {"id", 6}, {"participantId", a->id()}, {"role", "moderator"}}, now);
  EXPECT_EQ(h->peer.last()["type"], "role-set");
  for (auto* c : {a.get(), b.get()}) {
    auto roles = c->peer.ofType("role");
    ASSERT_EQ(roles.size(), 1u);
    EXPECT_EQ(roles[0]["participantId"], a->id());
    EXPECT_EQ(roles[0]["role"], "moderator");
  }
  // A moderator may not either.
  a->send({{"type", "set-role"}, {"id", 7}, {"participantId", b->id()}, {"role", "moderator"}}, now);
  EXPECT_EQ(a->peer.last()["code"], "not-allowed");
  EXPECT_EQ(rooms.roleOf(room, b->id()), Role::Participant);
  // Someone not in the meeting.
  h->send({{"type", "set-role"}, {"id", 8}, {"participantId", std::string(22, 'Z')}, {"role", "host"}}, now);
  EXPECT_EQ(h->peer.last()["code"], "participant-not-found");
}

TEST_F(AdmissionTest, AHandedOutRoleComesBackAfterAReconnectUntilTheHostChangesIt) {
  auto h = host();
  auto a = connect(2);
  join(*a, "a");
  a->peer.clear();
  h->send({{"type", "set-role"}, {"id", 6}, {"participantId", a->id()}, {"role", "moderator"}}, now);
  // Only the person whose role it is gets the grant.
  auto mine = a->peer.ofType("role");
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_TRUE(mine[0].contains("grant"));
  const std::string grant = mine[0]["grant"];
  for (const auto& m : h->peer.ofType("role")) EXPECT_FALSE(m.contains("grant"));
  EXPECT_NE(grant, rooms.hostTokens().moderatorToken(room));

  // The connection drops; the same browser joins again with the grant, through a lock.
  a->connection->onClosed(now);
  h->send({{"type", "set-settings"}, {"id", 7}, {"locked", true}}, now);
  ASSERT_EQ(replyTo(*h, 7)["type"], "settings-updated");
  auto again = connect(2);
  auto reply = join(*again, "a", {{"hostToken", grant}});
  ASSERT_EQ(reply["type"], "joined") << reply;
  EXPECT_EQ(reply["role"], "moderator");
  // The grant is worth nothing in another meeting.
  auto elsewhere = connect(3);
  EXPECT_EQ(join(*elsewhere, "x", {{"hostToken", grant}}, rooms.createRoomId())["code"], "not-allowed");

  // A demotion of the rejoined person revokes the grant it came back with.
  h->send({{"type", "set-role"}, {"id", 8}, {"participantId", again->id()}, {"role", "participant"}}, now);
  EXPECT_FALSE(again->peer.ofType("role").back().contains("grant"));
  again->connection->onClosed(now);
  auto third = connect(2);
  EXPECT_EQ(join(*third, "a", {{"hostToken", grant}})["code"], "not-allowed");
}

TEST_F(AdmissionTest, WithTheLobbyOnWhoArrivesBeforeTheHostWaitsUntilAdmitted) {
  create(room, lobbyOn());
  auto guest = connect(2);
  auto reply = join(*guest, "sealed-name");
  ASSERT_EQ(reply["type"], "waiting") << reply;
  EXPECT_EQ(reply["reason"], "lobby");
  EXPECT_EQ(rooms.participantCount(room), 0u);
  EXPECT_EQ(rooms.waitingCount(room), 1u);

  auto h = connect(1);
  join(*h, "host", {{"hostToken", rooms.hostTokens().hostToken(room)}});
  // The host is told who waits, with the sealed profile only.
  auto lobby = h->peer.ofType("lobby");
  ASSERT_EQ(lobby.size(), 1u);
  ASSERT_EQ(lobby[0]["waiting"].size(), 1u);
  EXPECT_EQ(lobby[0]["waiting"][0]["id"], guest->id());
  EXPECT_EQ(lobby[0]["waiting"][0]["profile"], "sealed-name");
  // The host's arrival does not let the guest in: the lobby is on.
  EXPECT_TRUE(guest->peer.ofType("joined").empty());

  h->peer.clear();
  h->send({{"type", "admit"}, {"id", 4}, {"participantId", guest->id()}}, now);
  EXPECT_EQ(replyTo(*h, 4)["type"], "admitted");
  auto joined = guest->peer.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_FALSE(joined[0].contains("id"));  // an event, not a reply
  EXPECT_EQ(joined[0]["participantId"], guest->id());
  EXPECT_EQ(joined[0]["participants"].size(), 1u);
  EXPECT_EQ(joined[0]["settings"]["lobby"], true);
  EXPECT_EQ(h->peer.ofType("participant-joined").size(), 1u);
  EXPECT_EQ(h->peer.ofType("lobby").back()["waiting"].size(), 0u);
  EXPECT_EQ(rooms.participantCount(room), 2u);
  // Admitting someone who is not waiting.
  h->send({{"type", "admit"}, {"id", 5}, {"participantId", guest->id()}}, now);
  EXPECT_EQ(replyTo(*h, 5)["code"], "not-waiting");
}

TEST_F(AdmissionTest, HostMustBePresentHoldsEveryoneElseUntilAHostIsIn) {
  auto s = rooms.defaultSettings();
  s.hostMustBePresent = true;
  create(room, s);
  auto a = connect(2);
  auto m = connect(3);
  EXPECT_EQ(join(*a, "a")["reason"], "host-absent");
  // Moderators wait for a host too.
  EXPECT_EQ(join(*m, "m", {{"hostToken", rooms.hostTokens().moderatorToken(room)}})["reason"], "host-absent");
  EXPECT_EQ(rooms.participantCount(room), 0u);
  auto h = connect(1);
  join(*h, "host", {{"hostToken", rooms.hostTokens().hostToken(room)}});
  // The lobby is off: they are let in when the host arrives.
  EXPECT_EQ(a->peer.ofType("joined").size(), 1u);
  EXPECT_EQ(m->peer.ofType("joined").size(), 1u);
  EXPECT_EQ(m->peer.ofType("joined")[0]["role"], "moderator");
  EXPECT_EQ(rooms.participantCount(room), 3u);
}

TEST_F(AdmissionTest, HostMustBePresentWithTheLobbyOnWaitsForAdmissionAfterTheHostCame) {
  auto s = lobbyOn();
  s.hostMustBePresent = true;
  create(room, s);
  auto a = connect(2);
  EXPECT_EQ(join(*a, "a")["reason"], "host-absent");
  auto h = host();
  // Still waiting, now for the host's decision.
  EXPECT_TRUE(a->peer.ofType("joined").empty());
  auto waiting = a->peer.ofType("waiting");
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[1]["reason"], "lobby");
  // Switching the lobby off lets everyone in.
  h->send({{"type", "set-settings"}, {"id", 3}, {"lobby", false}}, now);
  EXPECT_EQ(replyTo(*h, 3)["type"], "settings-updated");
  EXPECT_EQ(a->peer.ofType("joined").size(), 1u);
}

TEST_F(AdmissionTest, AWaitingPersonGetsNoRosterNoRelayNoChatAndCannotSend) {
  create(room, lobbyOn());
  auto h = host();
  auto member = connect(2);
  join(*member, "member");
  h->send({{"type", "admit"}, {"all", true}}, now);
  auto waiting = connect(3);
  ASSERT_EQ(join(*waiting, "w")["type"], "waiting");
  waiting->peer.clear();

  // Chat and keys go by relay: to everyone, and addressed to the waiting one.
  member->send({{"type", "relay"}, {"payload", "{\"t\":\"chat\"}"}}, now);
  member->send({{"type", "relay"}, {"id", 9}, {"to", waiting->id()}, {"payload", "key"}}, now);
  EXPECT_EQ(replyTo(*member, 9)["code"], "participant-not-found");
  // Roster events: someone joins, changes its profile, leaves; settings change; roles change.
  auto other = connect(4);
  ASSERT_EQ(join(*other, "other")["type"], "waiting");
  h->send({{"type", "admit"}, {"participantId", other->id()}}, now);
  auto joined = other->peer.ofType("joined");
  ASSERT_EQ(joined.size(), 1u);
  // The roster the others see has no waiting person in it.
  for (const auto& p : joined[0]["participants"]) EXPECT_NE(p["id"], waiting->id());
  h->send({{"type", "set-settings"}, {"locked", true}}, now);
  other->send({{"type", "update-profile"}, {"profile", "x"}}, now);
  h->send({{"type", "set-role"}, {"participantId", other->id()}, {"role", "moderator"}}, now);
  other->send({{"type", "leave"}}, now);
  EXPECT_TRUE(waiting->peer.received.empty()) << waiting->peer.received.front();

  // Whatever it sends that needs membership is refused.
  for (const json& msg :
       {json{{"type", "relay"}, {"id", 20}, {"payload", "x"}},
        json{{"type", "publish"}, {"id", 20}, {"sdp", "v=0"}, {"tracks", json::array()}},
        json{{"type", "update-profile"}, {"id", 20}, {"profile", "y"}}, json{{"type", "turn-refresh"}, {"id", 20}},
        json{{"type", "file-upload"}, {"id", 20}, {"size", 10}}, json{{"type", "admit"}, {"id", 20}, {"all", true}},
        json{{"type", "set-settings"}, {"id", 20}, {"lobby", false}}}) {
    waiting->peer.clear();
    waiting->send(msg, now);
    EXPECT_EQ(replyTo(*waiting, 20)["code"], "not-joined") << msg;
  }
  EXPECT_EQ(rooms.waitingCount(room), 1u);
  EXPECT_EQ(member->peer.ofType("participant-joined").size(), 1u);  // only `other`
}

TEST_F(AdmissionTest, DenySendsTheKnockerAwayAndLeavingTheLobbyTellsTheHosts) {
  create(room, lobbyOn());
  auto h = host();
  auto a = connect(2);
  auto b = connect(3);
  join(*a, "a");
  join(*b, "b");
  EXPECT_EQ(h->peer.ofType("lobby").back()["waiting"].size(), 2u);
  h->send({{"type", "deny"}, {"id", 6}, {"participantId", a->id()}}, now);
  EXPECT_EQ(replyTo(*h, 6)["type"], "denied");
  EXPECT_EQ(a->peer.last()["type"], "goodbye");
  EXPECT_EQ(a->peer.last()["reason"], "denied");
  EXPECT_TRUE(a->peer.closed);
  EXPECT_EQ(h->peer.ofType("lobby").back()["waiting"].size(), 1u);
  b->send({{"type", "leave"}, {"id", 2}}, now);
  EXPECT_EQ(replyTo(*b, 2)["type"], "left");
  EXPECT_EQ(h->peer.ofType("lobby").back()["waiting"].size(), 0u);
  // A participant may not admit or deny.
  auto p = connect(4);
  h->send({{"type", "set-settings"}, {"lobby", false}}, now);
  join(*p, "p");
  p->send({{"type", "deny"}, {"id", 7}, {"participantId", a->id()}}, now);
  EXPECT_EQ(replyTo(*p, 7)["code"], "not-allowed");
}

TEST_F(AdmissionTest, ALockKeepsNewPeopleOutAndTheLobbyToo) {
  auto h = host();
  auto in = connect(2);
  join(*in, "in");
  h->send({{"type", "set-settings"}, {"id", 3}, {"locked", true}}, now);
  EXPECT_EQ(replyTo(*h, 3)["type"], "settings-updated");
  EXPECT_EQ(in->peer.ofType("settings").back()["settings"]["locked"], true);
  auto late = connect(3);
  EXPECT_EQ(join(*late, "late")["code"], "meeting-locked");
  h->send({{"type", "set-settings"}, {"lobby", true}}, now);
  EXPECT_EQ(join(*late, "late")["code"], "meeting-locked");
  EXPECT_EQ(rooms.waitingCount(room), 0u);
  EXPECT_EQ(rooms.participantCount(room), 2u);
  // A host (with the token) still gets in: the lock is not a trap for the meeting's own hosts.
  auto h2 = connect(4);
  EXPECT_EQ(join(*h2, "h2", {{"hostToken", rooms.hostTokens().hostToken(room)}})["type"], "joined");
}

TEST_F(AdmissionTest, AModeratorMayLockAndSwitchTheLobbyButNotTheRest) {
  auto h = host();
  auto m = moderator(2);
  auto p = connect(3);
  join(*p, "p");
  m->send({{"type", "set-settings"}, {"id", 1}, {"locked", true}, {"lobby", true}}, now);
  EXPECT_EQ(replyTo(*m, 1)["type"], "settings-updated");
  int id = 10;
  for (const json& change : {json{{"pin", "123456"}}, json{{"pin", nullptr}}, json{{"hostMustBePresent", true}},
                             json{{"policies", {{"chat", "moderators"}}}}, json{{"maxParticipants", 5}},
                             json{{"lobby", false}, {"pin", "123456"}}}) {
    json msg = {{"type", "set-settings"}, {"id", ++id}};
    msg.update(change);
    m->send(msg, now);
    EXPECT_EQ(replyTo(*m, id)["code"], "not-allowed") << change;
  }
  m->send({{"type", "set-role"}, {"id", 30}, {"participantId", p->id()}, {"role", "moderator"}}, now);
  EXPECT_EQ(replyTo(*m, 30)["code"], "not-allowed");
  // A participant may change nothing.
  p->send({{"type", "set-settings"}, {"id", 31}, {"locked", false}}, now);
  EXPECT_EQ(replyTo(*p, 31)["code"], "not-allowed");
  auto s = p->peer.ofType("settings").back()["settings"];
  EXPECT_EQ(s["locked"], true);
  EXPECT_EQ(s["pinSet"], false);
  EXPECT_EQ(s["hostMustBePresent"], false);
}

TEST_F(AdmissionTest, APinIsCheckedBeforeJoiningOrKnockingAndHostsNeedNone) {
  auto h = host();
  h->send({{"type", "set-settings"}, {"id", 2}, {"pin", "12345678"}, {"lobby", true}}, now);
  EXPECT_EQ(replyTo(*h, 2)["type"], "settings-updated");
  EXPECT_EQ(h->peer.ofType("settings").back()["settings"]["pinSet"], true);
  auto g = connect(2);
  EXPECT_EQ(join(*g, "g")["code"], "pin-required");
  EXPECT_EQ(join(*g, "g", {{"pin", "87654321"}})["code"], "wrong-pin");
  EXPECT_EQ(rooms.waitingCount(room), 0u);
  // The right PIN leads into the lobby (it is on), not past it.
  EXPECT_EQ(join(*g, "g", {{"pin", "12345678"}})["type"], "waiting");
  // Leaving the lobby and knocking again on the same connection checks the PIN again.
  g->send({{"type", "leave"}}, now);
  g->peer.clear();
  EXPECT_EQ(join(*g, "g", {{"pin", "12345678"}})["type"], "waiting");
  auto h2 = connect(3);
  EXPECT_EQ(join(*h2, "h2", {{"hostToken", rooms.hostTokens().hostToken(room)}})["type"], "joined");
  // Clearing it.
  h->send({{"type", "set-settings"}, {"id", 3}, {"pin", nullptr}, {"lobby", false}}, now);
  EXPECT_EQ(h->peer.ofType("settings").back()["settings"]["pinSet"], false);
  auto g2 = connect(4);
  EXPECT_EQ(join(*g2, "g2")["type"], "joined");
}

TEST_F(AdmissionTest, TwentyWrongPinsAreBlockedWithBackoffWhileAnotherMeetingIsUnaffected) {
  create(room, rooms.defaultSettings(), "24681357");
  auto other = rooms.createRoomId();
  auto attacker = connect(9);
  std::vector<int64_t> waits;
  int wrong = 0;
  int blocked = 0;
  for (int i = 0; i < 20; ++i) {
    auto reply = join(*attacker, "x", {{"pin", "00000" + std::to_string(100 + i)}});
    if (reply["code"] == "wrong-pin") {
      ++wrong;
      continue;
    }
    ASSERT_EQ(reply["code"], "blocked") << reply;
    ++blocked;
    waits.push_back(reply["retryAfterMs"].get<int64_t>());
    // Try again once the block is over: every further failure doubles it.
    now += std::chrono::milliseconds(reply["retryAfterMs"].get<int64_t>());
  }
  EXPECT_EQ(wrong, 5 + 7);  // 5 free, then one attempt after each of 7 blocks
  ASSERT_GE(waits.size(), 4u);
  EXPECT_EQ(waits[0], 1000);
  EXPECT_EQ(waits[1], 2000);
  EXPECT_EQ(waits[2], 4000);
  // While blocked, even the right PIN is refused: the attacker cannot keep guessing.
  json reply;
  do {
    reply = join(*attacker, "x", {{"pin", "11111111"}});
  } while (reply["code"] == "wrong-pin");
  EXPECT_EQ(reply["code"], "blocked");
  EXPECT_EQ(join(*attacker, "x", {{"pin", "24681357"}})["code"], "blocked");
  // Someone else, elsewhere, joins another meeting and this one.
  auto guest = connect(10);
  EXPECT_EQ(join(*guest, "g", json::object(), other)["type"], "joined");
  auto friendly = connect(11);
  EXPECT_EQ(join(*friendly, "f", {{"pin", "24681357"}})["type"], "joined");
}

TEST_F(AdmissionTest, FailuresFromManySourcesBlockOnlyThatMeetingAndNotItsHosts) {
  create(room, rooms.defaultSettings(), "24681357");
  for (int i = 0; i < 51; ++i) {
    auto c = connect(static_cast<uint8_t>(20 + i));
    EXPECT_EQ(join(*c, "x")["code"], "pin-required");
  }
  auto fresh = connect(200);
  auto reply = join(*fresh, "f", {{"pin", "24681357"}});
  EXPECT_EQ(reply["code"], "blocked");
  EXPECT_GT(reply["retryAfterMs"].get<int64_t>(), 0);
  EXPECT_LE(reply["retryAfterMs"].get<int64_t>(), 60000);
  EXPECT_EQ(join(*fresh, "f", json::object(), rooms.createRoomId())["type"], "joined");
  auto h = connect(201);
  EXPECT_EQ(join(*h, "h", {{"hostToken", rooms.hostTokens().hostToken(room)}})["type"], "joined");
  // A minute later the meeting is open again.
  now += 61s;
  auto later = connect(202);
  EXPECT_EQ(join(*later, "l", {{"pin", "24681357"}})["type"], "joined");
}

TEST_F(AdmissionTest, MadeUpHostTokensCountAsFailures) {
  auto c = connect(5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(join(*c, "x", {{"hostToken", std::string(43, 'B')}})["code"], "not-allowed");
  EXPECT_EQ(join(*c, "x", {{"hostToken", std::string(43, 'B')}})["code"], "blocked");
}

TEST_F(AdmissionTest, NobodyWaitsForeverAndTheLobbyIsBounded) {
  RoomManager::Settings s = settings();
  s.maxLobby = 2;
  s.lobbyTimeout = 15min;
  RoomManager small{issuer, s};
  small.setPinHasher(&hasher);
  MeetingRecord record{lobbyOn(), {}};
  ASSERT_TRUE(small.meetingStore().put(room, record, std::chrono::system_clock::now()));
  std::vector<std::unique_ptr<FakePeer>> peers;
  std::vector<std::unique_ptr<Connection>> conns;
  auto knock = [&](uint8_t source) {
    peers.push_back(std::make_unique<FakePeer>());
    conclave::net::SourceKey key{};
    key[0] = source;
    conns.push_back(std::make_unique<Connection>(small, *peers.back(), ConnectionLimits{}, now, key));
    conns.back()->onText(json({{"type", "hello"}, {"version", 1}}).dump(), now);
    conns.back()->onText(joinMessage("p", room).dump(), now);
    return peers.back()->last();
  };
  EXPECT_EQ(knock(1)["type"], "waiting");
  EXPECT_EQ(knock(2)["type"], "waiting");
  EXPECT_EQ(knock(3)["code"], "room-full");
  small.tick(now + 14min);
  EXPECT_EQ(small.waitingCount(room), 2u);
  small.tick(now + 15min);
  EXPECT_EQ(small.waitingCount(room), 0u);
  EXPECT_EQ(peers[0]->last()["reason"], "lobby-timeout");
  EXPECT_TRUE(peers[0]->closed);
  for (auto& c : conns) c->onClosed(now + 15min);
}

TEST_F(AdmissionTest, KnockingFastSendsHostsAtMostOneListPerInterval) {
  RoomManager::Settings s = settings();
  s.lobbyUpdateInterval = 1s;
  RoomManager slow{issuer, s};
  MeetingRecord record{lobbyOn(), {}};
  ASSERT_TRUE(slow.meetingStore().put(room, record, std::chrono::system_clock::now()));
  FakePeer hostPeer;
  Connection h(slow, hostPeer, ConnectionLimits{}, now, {});
  h.onText(json({{"type", "hello"}, {"version", 1}}).dump(), now);
  json j = joinMessage("h", room);
  j["hostToken"] = slow.hostTokens().hostToken(room);
  h.onText(j.dump(), now);
  hostPeer.clear();
  std::vector<std::unique_ptr<FakePeer>> peers;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < 50; ++i) {
    peers.push_back(std::make_unique<FakePeer>());
    conns.push_back(
        std::make_unique<Connection>(slow, *peers.back(), ConnectionLimits{}, now, conclave::net::SourceKey{}));
    conns.back()->onText(json({{"type", "hello"}, {"version", 1}}).dump(), now);
    conns.back()->onText(joinMessage("p", room).dump(), now);
    conns.back()->onText(json({{"type", "leave"}}).dump(), now);
  }
  EXPECT_EQ(hostPeer.ofType("lobby").size(), 1u);
  slow.tick(now + 1s);
  auto lists = hostPeer.ofType("lobby");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1]["waiting"].size(), 0u);
  for (auto& c : conns) c->onClosed(now);
  h.onClosed(now);
}
