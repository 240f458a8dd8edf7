// libFuzzer target for the signaling path: WebSocket text messages through schema validation
// and dispatch (signaling::Connection), with a RoomManager and no media plane or file store.
//
// Each input runs against a fresh room: participant B has said hello and joined it, A has said
// hello only. The input is split at 0x1E bytes (a byte JSON never holds raw) into up to eight
// text messages from A, so that sequences such as join, relay, leave, join are reachable. In
// each message "$ROOM" becomes the room's ID and "$PEER" B's participant ID (both are random).
// Besides crashes it aborts when
//   - a message sent to A or B is not a JSON object with a string "type", or does not survive
//     dump() and parse() unchanged (nlohmann throws on invalid UTF-8 in dump());
//   - a message from A gets more than one direct reply;
//   - after both connections close, the room still lists a participant, or the room outlives
//     its grace period.
// Seed corpus: every client message type of docs/protocol.md, valid and invalid.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "signaling/connection.h"
#include "signaling/rooms.h"

namespace {

using namespace conclave::signaling;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr size_t kMaxMessages = 8;
constexpr char kSeparator = '\x1e';

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_signaling: %s: %s\n", what, detail.c_str());
  std::abort();
}

struct RecordingPeer : Peer {
  size_t count = 0;
  void send(const json& message) override {
    ++count;
    if (!message.is_object()) fail("a message that is not an object", message.dump());
    auto type = message.find("type");
    if (type == message.end() || !type->is_string()) fail("a message without a type", message.dump());
    std::string text;
    try {
      text = message.dump();
    } catch (const json::exception& e) {
      fail("a message that is not valid JSON", e.what());
    }
    json back = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (back.is_discarded() || back != message) fail("a message that does not parse back", text);
  }
};

void replaceAll(std::string& text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

const RoomIdIssuer& issuer() {
  static const RoomIdIssuer instance(std::vector<uint8_t>(32, 0x42));
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  conclave::common::initLogging({.level = "off"});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const RoomManager::Settings settings{3, 10s};
  RoomManager rooms(issuer(), settings);
  const std::string roomId = rooms.createRoomId();
  conclave::common::TimePoint now{};

  RecordingPeer peerA, peerB;
  Connection a(rooms, peerA, {}, now);
  Connection b(rooms, peerB, {}, now);
  a.onText(R"({"type":"hello","version":1})", now);
  b.onText(R"({"type":"hello","version":1})", now);
  b.onText(json({{"type", "join"}, {"roomId", roomId}, {"profile", "b"}}).dump(), now);
  if (b.participantId().empty()) fail("setup", "B did not join");

  size_t messages = 0;
  while (messages < kMaxMessages) {
    size_t end = input.find(kSeparator);
    std::string text(input.substr(0, end));
    replaceAll(text, "$ROOM", roomId);
    replaceAll(text, "$PEER", b.participantId());
    now += 1ms;
    size_t before = peerA.count;
    a.onText(text, now);
    if (peerA.count > before + 1) fail("more than one reply to a message", text);
    ++messages;
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }

  a.onClosed(now);
  b.onClosed(now);
  if (rooms.participantCount(roomId) != 0)
    fail("participants left behind", std::to_string(rooms.participantCount(roomId)));
  rooms.tick(now + settings.grace + 1s);
  if (rooms.roomCount() != 0) fail("rooms left behind", std::to_string(rooms.roomCount()));
  return 0;
}
