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
  RoomIdIssuer issuer{std::vector<uint8_t>(32, 7)};
  RoomManager rooms{issuer, {10, 10s}};
  conclave::common::TimePoint now{};
  std::string room = rooms.createRoomId();

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
    c->connection = std::make_unique<Connection>(rooms, c->peer, ConnectionLimits{}, now, key);
    c->send({{"type", "hello"}, {"version", 1}}, now);
    EXPECT_EQ(c->peer.last()["type"], "welcome");
    c->peer.clear();
    return c;
  }
  json joinMessage(const std::string& profile, const std::string& roomId) const {
    return {{"type", "join"}, {"id", 1}, {"roomId", roomId}, {"profile", profile}};
  }
  // Joins and returns the reply.
  json join(Client& c, const std::string& profile, json extra = json::object(), const std::string& roomId = {}) {
    json msg = joinMessage(profile, roomId.empty() ? room : roomId);
    msg.update(extra);
    c.send(msg, now);
    return c.peer.last();
  }
  std::unique_ptr<Client> host(uint8_t source = 1) {
    auto c = connect(source);
    auto reply = join(*c, "host", {{"hostToken", rooms.hostTokens().hostToken(room)}});
    EXPECT_EQ(reply["type"], "joined") << reply;
    EXPECT_EQ(reply["role"], "host");
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
