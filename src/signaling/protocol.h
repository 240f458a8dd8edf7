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

// The control path's error codes (common/error_code.h); errorCodeName() gives their wire names.
using common::ErrorCode;

std::string_view errorCodeName(ErrorCode code);

// The schema of a client message type, or nullptr when the type is unknown.
const MessageSchema* findClientSchema(std::string_view type);

// Server → client messages.
nlohmann::json errorMessage(ErrorCode code, std::string_view message, const nlohmann::json* requestId);
// Copies the request's `id` (if any) into a reply.
nlohmann::json reply(std::string_view type, const nlohmann::json& request);

}  // namespace conclave::signaling
