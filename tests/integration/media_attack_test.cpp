// Attacks on the media plane through the real binary (issue 7, finding 3): one publish message
// with 63 video sections used to make the server allocate a 1.5 MB retransmission cache per
// section at once (about 93 MiB per message), and the memory stayed after the connections closed.
// The server's resident memory is read from /proc/<pid>/status.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "server_process.h"

using namespace conclave::testing;
using nlohmann::json;
namespace http = boost::beast::http;

namespace {

// VmRSS of `pid` in KiB.
long rssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// A publish offer as a browser would send it for `video` cameras (and one microphone), each
// section with its own SSRC, all in one BUNDLE group. Small sections, so that 63 of them fit in
// one signaling message.
std::string offerWith(int video, int audio = 1, uint32_t ssrcBase = 1000) {
  const std::string transport =
      "c=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:Sb8F\r\n"
      "a=ice-pwd:01HpAFeWgQw1a8QGJP6Hi3AL\r\n"
      "a=fingerprint:sha-256 A3:36:6D:C2:52:52:7E:1E:E4:5C:EC:E3:29:34:20:19:62:61:87:5B:CF:2C:36:53:8D:96:F9:"
      "F2:6D:E3:39:A0\r\n"
      "a=setup:actpass\r\n"
      "a=sendonly\r\n"
      "a=rtcp-mux\r\n";
  std::string bundle = "a=group:BUNDLE";
  std::string sections;
  int mid = 0;
  for (int i = 0; i < audio; ++i, ++mid) {
    bundle += " " + std::to_string(mid);
    sections += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + transport + "a=mid:" + std::to_string(mid) +
                "\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:" + std::to_string(ssrcBase + mid) + " cname:c\r\n";
  }
  for (int i = 0; i < video; ++i, ++mid) {
    bundle += " " + std::to_string(mid);
    sections += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + transport + "a=mid:" + std::to_string(mid) +
                "\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=ssrc:" + std::to_string(ssrcBase + mid) +
                " cname:c\r\n";
  }
  return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + bundle + "\r\n" + sections;
}

std::string createRoom(uint16_t port) {
  auto r = httpsRequest(port, http::verb::post, "/api/rooms");
  EXPECT_EQ(r.status, 201u);
  return json::parse(r.body)["roomId"];
}

// Joins `roomId` and returns the client.
std::unique_ptr<WsClient> join(uint16_t port, const std::string& roomId) {
  auto client = std::make_unique<WsClient>(port);
  client->hello();
  client->sendJson({{"type", "join"}, {"roomId", roomId}, {"profile", "p"}});
  client->readType("joined");
  return client;
}

}  // namespace

TEST(MediaAttack, APublishWithSixtyThreeVideoSectionsIsRefusedAndCostsNoMemory) {
  ServerProcess server;
  const auto roomId = createRoom(server.port());
  auto attacker = join(server.port(), roomId);
  auto watcher = join(server.port(), roomId);
  // Warm up: one ordinary publish (a camera and a microphone), answered.
  attacker->sendJson({{"type", "publish"}, {"id", 1}, {"sdp", offerWith(1)}, {"tracks", json::array()}});
  ASSERT_EQ(attacker->readType("publish-answer")["id"], 1);
  const long before = rssKib(server.pid());
  ASSERT_GT(before, 0);

  for (int i = 0; i < 10; ++i) {
    // New SSRCs every time, so that each message would make 63 new producers.
    const auto big = offerWith(63, 1, 100000 + 1000 * static_cast<uint32_t>(i));
    ASSERT_LT(big.size(), 60000u);
    attacker->sendJson({{"type", "publish"}, {"id", 100 + i}, {"sdp", big}, {"tracks", json::array()}});
    auto reply = attacker->read();
    while (reply && (*reply)["type"] != "error" && (*reply)["type"] != "publish-answer") reply = attacker->read();
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "error") << reply->dump().substr(0, 200);
    EXPECT_EQ((*reply)["code"], "too-many-tracks");
    EXPECT_EQ((*reply)["id"], 100 + i);
  }
  // The connection and the room carry on: a ping is answered, and the allowed publish still works.
  attacker->sendJson({{"type", "ping"}, {"id", 7}});
  EXPECT_EQ(attacker->readType("pong")["id"], 7);
  attacker->sendJson({{"type", "publish"}, {"id", 8}, {"sdp", offerWith(2, 2)}, {"tracks", json::array()}});
  EXPECT_EQ(attacker->readType("publish-answer")["id"], 8);
  const long after = rssKib(server.pid());
  std::printf("server RSS: %ld KiB before, %ld KiB after 10 publishes of 63 video sections\n", before, after);
  EXPECT_LT(after - before, 16 * 1024) << "the refused offers cost memory";
  // Everyone leaves: the room's media goes, and so does its memory.
  attacker.reset();
  watcher.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  long closed = rssKib(server.pid());
  while (closed - before > 16 * 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    closed = rssKib(server.pid());
  }
  std::printf("server RSS: %ld KiB after the connections closed\n", closed);
  EXPECT_LT(closed - before, 16 * 1024);
}

TEST(MediaAttack, TheRoomTrackLimitIsEnforcedAcrossParticipants) {
  ServerProcess server({"--max-room-tracks", "5"});
  const auto roomId = createRoom(server.port());
  auto a = join(server.port(), roomId);
  auto b = join(server.port(), roomId);
  a->sendJson({{"type", "publish"}, {"id", 1}, {"sdp", offerWith(2, 2)}, {"tracks", json::array()}});
  EXPECT_EQ(a->readType("publish-answer")["id"], 1);
  b->sendJson({{"type", "publish"}, {"id", 2}, {"sdp", offerWith(2)}, {"tracks", json::array()}});
  auto refused = b->readType("error");
  EXPECT_EQ(refused["code"], "too-many-tracks");
  EXPECT_EQ(refused["id"], 2);
  b->sendJson({{"type", "publish"}, {"id", 3}, {"sdp", offerWith(0)}, {"tracks", json::array()}});
  EXPECT_EQ(b->readType("publish-answer")["id"], 3);
  // A participant replacing its own tracks is counted once, not twice.
  a->sendJson({{"type", "publish"}, {"id", 4}, {"sdp", offerWith(2, 2)}, {"tracks", json::array()}});
  EXPECT_EQ(a->readType("publish-answer")["id"], 4);
}
