// The per-connection protocol logic, driven without a network.
#include "signaling/connection.h"

#include <gtest/gtest.h>

#include "common/clock.h"

using namespace conclave::signaling;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct FakePeer : Peer {
  std::vector<json> received;
  void send(const json& message) override {
    // Whatever the server sends is what the client accepts (no field the schema does not name).
    EXPECT_EQ(validateServerMessage(message, UnknownFields::Refuse), std::nullopt) << message.dump().substr(0, 200);
    received.push_back(message);
  }
  json last() const { return received.empty() ? json() : received.back(); }
  json take() {
    json out = last();
    received.clear();
    return out;
  }
};

class ConnectionTest : public ::testing::Test {
 protected:
  RoomIdIssuer issuer{std::vector<uint8_t>(32, 7)};
  RoomManager rooms{issuer, {3, 10s}};
  conclave::common::TimePoint t0{};

  std::unique_ptr<Connection> connect(FakePeer& peer, ConnectionLimits limits = {}) {
    auto c = std::make_unique<Connection>(rooms, peer, limits, t0);
    c->onText(R"({"type":"hello","version":1})", t0);
    EXPECT_EQ(peer.take()["type"], "welcome");
    return c;
  }
  void join(Connection& c, FakePeer& peer, const std::string& room, const std::string& profile) {
    c.onText(json({{"type", "join"}, {"roomId", room}, {"profile", profile}, {"id", 1}}).dump(), t0);
    ASSERT_EQ(peer.last()["type"], "joined") << peer.last();
  }
};

}  // namespace

TEST_F(ConnectionTest, HelloIsRequiredAndVersioned) {
  FakePeer peer;
  Connection c(rooms, peer, {}, t0);
  c.onText(R"({"type":"ping","id":3})", t0);
  EXPECT_EQ(peer.last()["code"], "hello-required");
  EXPECT_EQ(peer.last()["id"], 3);
  c.onText(R"({"type":"hello","version":2,"id":"a"})", t0);
  EXPECT_EQ(peer.last()["code"], "unsupported-version");
  EXPECT_EQ(peer.last()["id"], "a");
  c.onText(R"({"type":"hello","version":1,"id":"b"})", t0);
  EXPECT_EQ(peer.last()["type"], "welcome");
  EXPECT_EQ(peer.last()["id"], "b");
  EXPECT_EQ(peer.last()["version"], 1);
}

TEST_F(ConnectionTest, AnUnknownFieldWithALongNameGetsAnErrorTheClientAccepts) {
  FakePeer peer;
  auto c = connect(peer);
  // The schema error names the field; the client drops error messages over 1024 bytes.
  c->onText(json({{"type", "ping"}, {"id", 4}, {std::string(4000, 'k'), 1}}).dump(), t0);
  EXPECT_EQ(peer.last()["code"], "invalid-message");
  EXPECT_EQ(peer.last()["id"], 4);
  EXPECT_LE(peer.last()["message"].get<std::string>().size(), kMaxErrorMessageBytes);
}

TEST_F(ConnectionTest, BadInputGetsErrorsAndTheConnectionCarriesOn) {
  FakePeer peer;
  auto c = connect(peer);
  c->onText("{not json", t0);
  EXPECT_EQ(peer.take()["code"], "bad-json");
  c->onText("[1,2]", t0);
  EXPECT_EQ(peer.take()["code"], "bad-json");
  c->onText(R"({"type":"launch-missiles","id":5})", t0);
  auto unknown = peer.take();
  EXPECT_EQ(unknown["code"], "unknown-type");
  EXPECT_EQ(unknown["id"], 5);
  c->onText(R"({"id":5})", t0);
  EXPECT_EQ(peer.take()["code"], "unknown-type");
  c->onText(R"({"type":"join","roomId":5,"profile":""})", t0);
  EXPECT_EQ(peer.take()["code"], "invalid-message");
  c->onText(R"({"type":"ping","id":8,"extra":1})", t0);
  auto invalid = peer.take();
  EXPECT_EQ(invalid["code"], "invalid-message");
  EXPECT_EQ(invalid["id"], 8);
  c->onText(R"({"type":"ping","id":-1})", t0);
  auto badId = peer.take();
  EXPECT_EQ(badId["code"], "invalid-message");
  EXPECT_FALSE(badId.contains("id"));
  c->onText(std::string(70000, ' '), t0);
  EXPECT_EQ(peer.take()["code"], "too-large");
  c->onText(R"({"type":"ping","id":6})", t0);
  EXPECT_EQ(peer.take()["type"], "pong");
  EXPECT_FALSE(c->mustClose());
}

TEST_F(ConnectionTest, JoinRosterProfilesAndLeave) {
  auto room = rooms.createRoomId();
  FakePeer alicePeer, bobPeer;
  auto alice = connect(alicePeer);
  auto bob = connect(bobPeer);
  join(*alice, alicePeer, room, "alice-blob");
  auto aliceJoined = alicePeer.take();
  EXPECT_TRUE(aliceJoined["participants"].empty());
  std::string aliceId = aliceJoined["participantId"];
  EXPECT_EQ(aliceId.size(), 22u);

  join(*bob, bobPeer, room, "bob-blob");
  auto bobJoined = bobPeer.take();
  ASSERT_EQ(bobJoined["participants"].size(), 1u);
  EXPECT_EQ(bobJoined["participants"][0]["id"], aliceId);
  EXPECT_EQ(bobJoined["participants"][0]["profile"], "alice-blob");
  auto seen = alicePeer.take();
  EXPECT_EQ(seen["type"], "participant-joined");
  EXPECT_EQ(seen["participant"]["profile"], "bob-blob");
  std::string bobId = bobJoined["participantId"];

  bob->onText(R"({"type":"update-profile","profile":"bob-2"})", t0);
  EXPECT_EQ(bobPeer.take()["type"], "profile-updated");
  auto updated = alicePeer.take();
  EXPECT_EQ(updated["type"], "participant-updated");
  EXPECT_EQ(updated["participant"]["id"], bobId);
  EXPECT_EQ(updated["participant"]["profile"], "bob-2");

  bob->onText(R"({"type":"join","roomId":")" + room + R"(","profile":""})", t0);
  EXPECT_EQ(bobPeer.take()["code"], "already-joined");

  bob->onText(R"({"type":"leave"})", t0);
  EXPECT_EQ(bobPeer.take()["type"], "left");
  auto left = alicePeer.take();
  EXPECT_EQ(left["type"], "participant-left");
  EXPECT_EQ(left["participantId"], bobId);
  bob->onText(R"({"type":"leave"})", t0);
  EXPECT_EQ(bobPeer.take()["code"], "not-joined");
}

TEST_F(ConnectionTest, UnknownRoomsAndFullRoomsAreRefused) {
  FakePeer p;
  auto c = connect(p);
  c->onText(json({{"type", "join"}, {"roomId", std::string(32, 'A')}, {"profile", ""}}).dump(), t0);
  EXPECT_EQ(p.take()["code"], "room-not-found");

  auto room = rooms.createRoomId();
  std::vector<std::unique_ptr<FakePeer>> peers;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(std::make_unique<FakePeer>());
    conns.push_back(connect(*peers.back()));
    join(*conns.back(), *peers.back(), room, "p");
  }
  c->onText(json({{"type", "join"}, {"roomId", room}, {"profile", ""}}).dump(), t0);
  EXPECT_EQ(p.take()["code"], "room-full");
}

TEST_F(ConnectionTest, ClosingLeavesAndEmptyRoomsExpireAfterGrace) {
  auto room = rooms.createRoomId();
  FakePeer a, b;
  auto ca = connect(a);
  auto cb = connect(b);
  join(*ca, a, room, "a");
  join(*cb, b, room, "b");
  EXPECT_EQ(rooms.roomCount(), 1u);
  ca->onClosed(t0);
  EXPECT_EQ(b.last()["type"], "participant-left");
  cb->onClosed(t0);
  EXPECT_EQ(rooms.participantCount(room), 0u);
  rooms.tick(t0 + 5s);
  EXPECT_EQ(rooms.roomCount(), 1u);
  rooms.tick(t0 + 10s);
  EXPECT_EQ(rooms.roomCount(), 0u);
}

TEST_F(ConnectionTest, RateLimitDropsThenDisconnectsFlooders) {
  FakePeer p;
  ConnectionLimits limits;
  limits.rate = 10;
  limits.burst = 10;
  limits.maxDroppedBeforeClose = 5;
  auto c = connect(p, limits);  // hello used one token
  for (int i = 0; i < 9; ++i) c->onText(R"({"type":"ping"})", t0);
  EXPECT_EQ(p.take()["type"], "pong");
  c->onText(R"({"type":"ping"})", t0);
  EXPECT_EQ(p.take()["code"], "rate-limited");
  c->onText(R"({"type":"ping"})", t0 + 200ms);  // two tokens back
  EXPECT_EQ(p.take()["type"], "pong");
  for (int i = 0; i < 10 && !c->mustClose(); ++i) c->onText(R"({"type":"ping"})", t0 + 200ms);
  EXPECT_TRUE(c->mustClose());
}

// Issue 11: each video-preferences may reconfigure every consumer of its sender, so it has a
// budget of its own (5/s, burst 10) besides the connection's message rate.
TEST_F(ConnectionTest, VideoPreferencesHaveABudgetOfTheirOwn) {
  FakePeer p;
  auto c = connect(p);
  const std::string prefs = R"({"type":"video-preferences","preferences":[{"mid":"1","width":320,"height":180}]})";
  c->onText(prefs, t0);
  EXPECT_EQ(p.take()["code"], "not-joined");
  join(*c, p, rooms.createRoomId(), "blob");
  p.take();
  // No reply when accepted (this room manager has no media plane: media-unavailable instead).
  for (int i = 0; i < 9; ++i) c->onText(prefs, t0);
  EXPECT_EQ(p.take()["code"], "media-unavailable");
  c->onText(prefs, t0);
  EXPECT_EQ(p.take()["code"], "rate-limited");
  // Other messages are not held up by it...
  c->onText(R"({"type":"ping"})", t0);
  EXPECT_EQ(p.take()["type"], "pong");
  // ...and it refills at 5 per second.
  c->onText(prefs, t0 + 200ms);
  EXPECT_EQ(p.take()["code"], "media-unavailable");
  c->onText(prefs, t0 + 200ms);
  EXPECT_EQ(p.take()["code"], "rate-limited");
  // A second entry for the same mid is refused by the schema.
  c->onText(
      R"({"type":"video-preferences","preferences":[{"mid":"1","width":1,"height":1},{"mid":"1","width":0,"height":0}]})",
      t0 + 1s);
  EXPECT_EQ(p.take()["code"], "invalid-message");
}

namespace {

// Records the shared text of each message, as a WebSocket session would queue it.
struct QueueingPeer : FakePeer {
  std::vector<std::shared_ptr<const std::string>> texts;
  size_t queued = 0;
  void sendText(std::shared_ptr<const std::string> text) override {
    texts.push_back(text);
    received.push_back(json::parse(*text));
  }
  size_t queuedBytes() const override { return queued; }
};

}  // namespace

// Issue 7, finding 7: a broadcast was serialized once per recipient.
TEST_F(ConnectionTest, ABroadcastIsSerializedOnceForAllRecipients) {
  QueueingPeer a, b, c;
  auto ca = connect(a), cb = connect(b), cc = connect(c);
  auto room = rooms.createRoomId();
  join(*ca, a, room, "pa");
  join(*cb, b, room, "pb");
  join(*cc, c, room, "pc");
  b.texts.clear();
  c.texts.clear();
  ca->onText(R"({"type":"relay","payload":"hello all"})", t0);
  ASSERT_EQ(b.texts.size(), 1u);
  ASSERT_EQ(c.texts.size(), 1u);
  EXPECT_EQ(b.texts[0].get(), c.texts[0].get()) << "one serialized message shared by every recipient";
  EXPECT_EQ(json::parse(*b.texts[0])["payload"], "hello all");
}

// Finding 7: relays were multiplied by the room size without limit. The sender pays for what
// it causes (bytes out, per recipient) and is read again only when its budget allows.
TEST_F(ConnectionTest, RelayBytesOutAreChargedToTheSenderAsBackPressure) {
  QueueingPeer a, b, c;
  ConnectionLimits limits;
  limits.relayBytesPerSecond = 1000;
  limits.relayBurstBytes = 4000;
  auto ca = connect(a, limits), cb = connect(b), cc = connect(c);
  auto room = rooms.createRoomId();
  join(*ca, a, room, "pa");
  join(*cb, b, room, "pb");
  join(*cc, c, room, "pc");
  EXPECT_EQ(ca->readDelay(t0), 0ns);
  std::string payload(1500, 'x');
  ca->onText(json({{"type", "relay"}, {"payload", payload}}).dump(), t0);
  EXPECT_EQ(ca->readDelay(t0), 0ns) << "about 3 KB out is inside the 4 KB burst";
  ca->onText(json({{"type", "relay"}, {"payload", payload}}).dump(), t0);
  // About 6.1 KB out against 4 KB: about 2.1 s of debt at 1000 B/s.
  auto wait = ca->readDelay(t0);
  EXPECT_GT(wait, 2s);
  EXPECT_LT(wait, 3s);
  EXPECT_GT(ca->readDelay(t0 + 1s), 1s);
  EXPECT_EQ(ca->readDelay(t0 + 3s), 0ns);
  EXPECT_EQ(cb->readDelay(t0), 0ns) << "others are not charged for the sender's traffic";
}

TEST_F(ConnectionTest, TheRoomRelayBudgetBoundsAllSendersTogether) {
  RoomManager small{issuer, {3, 10s, 2000, 2000, 1024 * 1024}};
  QueueingPeer a, b;
  Connection ca(small, a, {}, t0), cb(small, b, {}, t0);
  ca.onText(R"({"type":"hello","version":1})", t0);
  cb.onText(R"({"type":"hello","version":1})", t0);
  auto room = small.createRoomId();
  ca.onText(json({{"type", "join"}, {"roomId", room}, {"profile", "p"}}).dump(), t0);
  cb.onText(json({{"type", "join"}, {"roomId", room}, {"profile", "p"}}).dump(), t0);
  ca.onText(json({{"type", "relay"}, {"payload", std::string(3000, 'x')}}).dump(), t0);
  EXPECT_GT(cb.readDelay(t0), 500ms) << "the room is in debt: every sender in it waits";
  EXPECT_EQ(cb.readDelay(t0 + 2s), 0ns);
}

TEST_F(ConnectionTest, SendersWaitForAMemberWhoseQueueIsFull) {
  QueueingPeer a, b;
  auto ca = connect(a), cb = connect(b);
  auto room = rooms.createRoomId();
  join(*ca, a, room, "pa");
  join(*cb, b, room, "pb");
  EXPECT_FALSE(ca->relayBlocked());
  b.queued = 2 * 1024 * 1024;
  EXPECT_TRUE(ca->relayBlocked());
  EXPECT_FALSE(cb->relayBlocked()) << "a member does not wait for itself";
  b.queued = 0;
  EXPECT_FALSE(ca->relayBlocked());
}

TEST_F(ConnectionTest, OnlyJoinedParticipantsGetTurnCredentials) {
  TurnIssuer turn({{"turn:10.0.0.1:3478?transport=tcp"}, "north", std::chrono::seconds(600)},
                  [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)); });
  rooms.setTurn(&turn);
  auto room = rooms.createRoomId();
  FakePeer alicePeer, bobPeer, evePeer;
  auto alice = connect(alicePeer);
  auto bob = connect(bobPeer);
  auto eve = connect(evePeer);

  // Not joined: no credential, whatever it asks.
  eve->onText(R"({"type":"turn-refresh","id":5})", t0);
  EXPECT_EQ(evePeer.last()["code"], "not-joined");
  EXPECT_EQ(evePeer.take()["id"], 5);
  eve->onText(R"({"type":"join","roomId":")" + std::string(32, 'A') + R"(","profile":""})", t0);
  EXPECT_EQ(evePeer.last()["code"], "room-not-found");
  EXPECT_FALSE(evePeer.take().contains("turn"));

  join(*alice, alicePeer, room, "alice-blob");
  json joined = alicePeer.take();
  ASSERT_TRUE(joined.contains("turn")) << joined;
  EXPECT_EQ(joined["turn"]["urls"], json::array({"turn:10.0.0.1:3478?transport=tcp"}));
  EXPECT_EQ(joined["turn"]["ttl"], 600);
  std::string username = joined["turn"]["username"];
  EXPECT_EQ(username.substr(0, 11), "1700000600:");
  EXPECT_EQ(joined["turn"]["credential"], turnPassword("north", username));
  // The others see the newcomer but never its credential.
  join(*bob, bobPeer, room, "bob-blob");
  json bobJoined = bobPeer.take();
  ASSERT_TRUE(bobJoined.contains("turn"));
  EXPECT_NE(bobJoined["turn"]["username"], username);
  for (const auto& m : alicePeer.received) EXPECT_FALSE(m.dump().find("1700000600:") != std::string::npos) << m;

  // A refresh is a new credential, with a new opaque username.
  alice->onText(R"({"type":"turn-refresh","id":6})", t0);
  json refreshed = alicePeer.take();
  ASSERT_EQ(refreshed["type"], "turn-credentials") << refreshed;
  EXPECT_EQ(refreshed["id"], 6);
  EXPECT_NE(refreshed["turn"]["username"], username);
  EXPECT_EQ(refreshed["turn"]["credential"], turnPassword("north", refreshed["turn"]["username"].get<std::string>()));

  // After leaving, no more.
  alice->onText(R"({"type":"leave"})", t0);
  EXPECT_EQ(alicePeer.take()["type"], "left");
  alice->onText(R"({"type":"turn-refresh"})", t0);
  EXPECT_EQ(alicePeer.take()["code"], "not-joined");
  rooms.setTurn(nullptr);
}

TEST_F(ConnectionTest, WithoutATurnServerJoinedHasNoCredentialsAndRefreshIsRefused) {
  auto room = rooms.createRoomId();
  FakePeer peer;
  auto c = connect(peer);
  join(*c, peer, room, "p");
  EXPECT_FALSE(peer.take().contains("turn"));
  c->onText(R"({"type":"turn-refresh","id":1})", t0);
  EXPECT_EQ(peer.take()["code"], "media-unavailable");
}
