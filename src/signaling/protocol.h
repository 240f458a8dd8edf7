// Signaling protocol v1 (docs/protocol.md): message types, their schemas, error codes.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/error_code.h"
#include "signaling/schema.h"

namespace conclave::signaling {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxProfileBytes = 8192;
inline constexpr size_t kRoomIdLength = 32;
inline constexpr size_t kMaxSdpBytes = 60000;
inline constexpr size_t kMaxRelayPayloadBytes = 49152;
inline constexpr size_t kParticipantIdLength = 22;
inline constexpr size_t kMaxPublishedTracks = 16;
// Limits of server messages that the client enforces (web/src/protocol/validate.ts).
inline constexpr size_t kMaxErrorMessageBytes = 1024;
inline constexpr size_t kMaxServerSdpBytes = size_t{1} << 20;
// `goodbye.retryAfterMs`: what the server suggests (clients add jitter), and the most it may say.
inline constexpr int64_t kGoodbyeRetryAfterMs = 500;
inline constexpr int64_t kMaxGoodbyeRetryAfterMs = 60000;
inline constexpr int64_t kMaxTurnUrls = 8;
inline constexpr int64_t kMaxTurnTtlSeconds = 7 * 86400;
// `error.retryAfterMs` (a `blocked` join): at most a day.
inline constexpr int64_t kMaxErrorRetryAfterMs = int64_t{86400} * 1000;
// Most people a meeting's lobby holds (and a `lobby` message lists).
inline constexpr int64_t kMaxLobbySize = 1000;
// `get-security-log.limit` and the entries of one `security-log`.
inline constexpr int64_t kMaxSecurityLogEntries = 200;
// `video-preferences`: most entries (one per received video), largest width or height in pixels.
inline constexpr int64_t kMaxVideoPreferences = 64;
inline constexpr int64_t kMaxVideoDimension = 16384;

// The control path's error codes (common/error_code.h); errorCodeName() gives their wire names.
using common::ErrorCode;

std::string_view errorCodeName(ErrorCode code);

// The schema of a client → server message type, or nullptr when the type is unknown.
const MessageSchema* findClientSchema(std::string_view type);
// The schema of a server → client message type (built in signaling/messages.h), or nullptr.
const MessageSchema* findServerSchema(std::string_view type);

// A whole message checked against the schema of its type: nullopt if it is valid, else the
// problem. What docs/protocol.md and the fixtures in tests/contract/protocol call accept/reject.
std::optional<std::string> validateClientMessage(const nlohmann::json& message);
// The initial settings of POST /api/rooms, as `set-settings` takes them: nullopt if valid.
std::optional<std::string> settingsChangeProblem(const nlohmann::json& body);
std::optional<std::string> validateServerMessage(const nlohmann::json& message,
                                                 UnknownFields unknown = UnknownFields::Ignore);

}  // namespace conclave::signaling
