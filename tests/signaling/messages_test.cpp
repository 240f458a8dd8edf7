// Every server → client message the server builds matches its schema, with no field the schema
// does not name (so a misspelt field fails here, not in a browser).
#include "signaling/messages.h"

#include <gtest/gtest.h>

using namespace conclave::signaling;
using nlohmann::json;

namespace {

constexpr const char* kRoom = "Zx4-8kQ2_pW7mN0aB3cD5eF6gH9iJ1kL";
constexpr const char* kAlice = "Pq7_Rs2-Tu4vWx6yZa8bCd";
constexpr const char* kBob = "Ef0gHi1jKl3mNo5pQr7sTu";

const TurnCredential kTurn{{"turn:10.0.0.1:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"},
                           "1700003600:Ab3dE6gH9jK2",
                           "rdRes6D4AdS5DA7lyYxp56skEtQ=",
                           std::chrono::seconds(3600)};

void expectValid(const json& message) {
  EXPECT_EQ(validateServerMessage(message, UnknownFields::Refuse), std::nullopt) << message.dump();
}

}  // namespace

TEST(Messages, EveryReplyMatchesItsSchemaAndEchoesTheRequestId) {
  for (const json& request : {json{{"type", "x"}}, json{{"type", "x"}, {"id", 12}}, json{{"type", "x"}, {"id", "r"}}}) {
    std::vector<json> replies = {
        messages::welcome(request, 65536),
        messages::joined(request, kRoom, kAlice, {}),
        messages::joined(request, kRoom, kAlice, {{kBob, "{\"v\":2}"}, {"Vw9xYz1aBc2dEf3gHi4jKl", ""}}),
        messages::joined(request, kRoom, kAlice, {}, &kTurn),
        messages::turnCredentials(request, kTurn),
        messages::profileUpdated(request),
        messages::left(request),
        messages::pong(request),
        messages::publishAnswer(request, "v=0\r\n"),
        messages::subscribeOk(request),
        messages::relayed(request),
        messages::fileUploadReady(request, "Mn3oPq5rSt7uVw9xYz1aBc", "Uq2wEr4tYu6iOp8aSd0fGh"),
        messages::error(ErrorCode::RoomFull, "the meeting is full", request.contains("id") ? &request["id"] : nullptr),
        messages::muted(request),
        messages::unmuteRequested(request),
        messages::unmuted(request),
        messages::removed(request),
        messages::ended(request),
        messages::meetingMoved(request, kRoom, std::string(43, 'h'), std::string(43, 'm')),
        messages::securityLog(request, {}),
        messages::securityLog(request, {{1764748800000, SecurityEventType::RoleChanged, kAlice, kBob, "moderator"},
                                        {1764748700000, SecurityEventType::Locked, kAlice, "", ""},
                                        {1764748600000, SecurityEventType::Joined, "", kBob, ""}}),
    };
    for (const auto& reply : replies) {
      expectValid(reply);
      EXPECT_EQ(reply.contains("id"), request.contains("id")) << reply;
      if (request.contains("id")) {
        EXPECT_EQ(reply["id"], request["id"]);
      }
    }
  }
}

TEST(Messages, EveryEventMatchesItsSchema) {
  conclave::conference::OfferedTrack audio{"0", conclave::sdp::MediaKind::Audio, kBob, "microphone"};
  conclave::conference::OfferedTrack video{"1", conclave::sdp::MediaKind::Video, kBob, "screen"};
  for (const auto& event : {
           messages::participantJoined({kBob, "{\"v\":2}"}),
           messages::participantUpdated({kBob, std::string(8192, 'p')}),
           messages::participantLeft(kBob),
           messages::subscribeOffer("v=0\r\n", {}),
           messages::subscribeOffer("v=0\r\n", {audio, video}),
           messages::mediaFailed(conclave::sfu::TransportRole::Publish),
           messages::mediaFailed(conclave::sfu::TransportRole::Subscribe),
           messages::relay(kAlice, "{\"v\":2,\"t\":\"key\"}"),
           messages::goodbye(),
           messages::relay(kAlice, "x", "chat"),
           messages::mutedByHost("screen", kAlice),
           messages::unmuteRequest("microphone", kAlice),
       }) {
    expectValid(event);
    EXPECT_FALSE(event.contains("id")) << event;
  }
}

TEST(Messages, GoodbyeSaysTheServerRestartsAndWhenToComeBack) {
  json goodbye = messages::goodbye();
  EXPECT_EQ(goodbye["reason"], "server-restart");
  ASSERT_TRUE(goodbye["retryAfterMs"].is_number_integer());
  EXPECT_GE(goodbye["retryAfterMs"].get<int64_t>(), 0);
  EXPECT_LE(goodbye["retryAfterMs"].get<int64_t>(), 1000) << "clients should be back within about a second";
}

TEST(Messages, EveryErrorCodeHasAWireName) {
  for (int code = 0; code <= static_cast<int>(ErrorCode::Internal); ++code) {
    auto message = messages::error(static_cast<ErrorCode>(code), "why", nullptr);
    expectValid(message);
    EXPECT_NE(message["code"], "") << code;
  }
  EXPECT_EQ(messages::error(ErrorCode::TooManyTracks, "", nullptr)["code"], "too-many-tracks");
}

TEST(Messages, AnErrorMessageIsCutToWhatTheClientAcceptsAtACharacterBoundary) {
  // A schema problem names the offending field, and a client chooses the field's name.
  std::string longText = "field '" + std::string(1016, 'x') + "\xC3\xA9" + std::string(3000, 'y') + "'";
  auto message = messages::error(ErrorCode::InvalidMessage, longText, nullptr);
  expectValid(message);
  const auto& text = message["message"].get_ref<const std::string&>();
  EXPECT_EQ(text.size(), 1023u);  // 7 + 1016 bytes; the two-byte character at 1023..1024 is not split
  EXPECT_EQ(text, longText.substr(0, text.size()));
}
