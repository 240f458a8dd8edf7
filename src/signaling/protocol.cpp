#include "signaling/protocol.h"

#include <array>

namespace conclave::signaling {
namespace {

constexpr std::array kHelloFields = {
    FieldRule{"version", FieldKind::Integer, true, 0, 1000},
    FieldRule{"client", FieldKind::String, false, 0, 64},
};
constexpr std::array kJoinFields = {
    FieldRule{"roomId", FieldKind::String, true, kRoomIdLength, kRoomIdLength, true},
    FieldRule{"profile", FieldKind::String, true, 0, kMaxProfileBytes},
};
constexpr std::array kUpdateProfileFields = {
    FieldRule{"profile", FieldKind::String, true, 0, kMaxProfileBytes},
};

constexpr std::string_view kSources[] = {"microphone", "camera", "screen", "screen-audio"};
constexpr std::array kTrackFields = {
    FieldRule{"mid", FieldKind::String, true, 1, 32},
    FieldRule{"source", FieldKind::String, true, 0, 0, false, kSources},
};
constexpr std::array kPublishFields = {
    FieldRule{"sdp", FieldKind::String, true, 1, kMaxSdpBytes},
    FieldRule{"tracks", FieldKind::Array, true, 0, 16, false, {}, kTrackFields},
};
constexpr std::array kSubscribeAnswerFields = {
    FieldRule{"sdp", FieldKind::String, true, 1, kMaxSdpBytes},
};

constexpr std::array kRelayFields = {
    FieldRule{"to", FieldKind::String, false, 22, 22, true},
    FieldRule{"payload", FieldKind::String, true, 1, kMaxRelayPayloadBytes},
};
constexpr std::array kFileUploadFields = {
    FieldRule{"size", FieldKind::Integer, true, 1, (int64_t{1} << 53) - 1},
};

const std::array kClientSchemas = {
    MessageSchema{"hello", kHelloFields},
    MessageSchema{"join", kJoinFields},
    MessageSchema{"update-profile", kUpdateProfileFields},
    MessageSchema{"leave", {}},
    MessageSchema{"ping", {}},
    MessageSchema{"publish", kPublishFields},
    MessageSchema{"subscribe-answer", kSubscribeAnswerFields},
    MessageSchema{"subscribe-restart", {}},
    MessageSchema{"relay", kRelayFields},
    MessageSchema{"file-upload", kFileUploadFields},
};

}  // namespace

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadJson: return "bad-json";
    case ErrorCode::TooLarge: return "too-large";
    case ErrorCode::UnknownType: return "unknown-type";
    case ErrorCode::InvalidMessage: return "invalid-message";
    case ErrorCode::HelloRequired: return "hello-required";
    case ErrorCode::UnsupportedVersion: return "unsupported-version";
    case ErrorCode::AlreadyJoined: return "already-joined";
    case ErrorCode::NotJoined: return "not-joined";
    case ErrorCode::RoomNotFound: return "room-not-found";
    case ErrorCode::RoomFull: return "room-full";
    case ErrorCode::RateLimited: return "rate-limited";
    case ErrorCode::BadSdp: return "bad-sdp";
    case ErrorCode::NegotiationFailed: return "negotiation-failed";
    case ErrorCode::InvalidState: return "invalid-state";
    case ErrorCode::MediaUnavailable: return "media-unavailable";
    case ErrorCode::ParticipantNotFound: return "participant-not-found";
    case ErrorCode::FileTooLarge: return "file-too-large";
    case ErrorCode::QuotaExceeded: return "quota-exceeded";
    case ErrorCode::TooManyTracks: return "too-many-tracks";
    case ErrorCode::Internal: return "internal";
  }
  return "internal";
}

const MessageSchema* findClientSchema(std::string_view type) {
  for (const auto& s : kClientSchemas)
    if (s.type == type) return &s;
  return nullptr;
}

nlohmann::json errorMessage(ErrorCode code, std::string_view message, const nlohmann::json* requestId) {
  nlohmann::json out = {{"type", "error"}, {"code", errorCodeName(code)}, {"message", message}};
  if (requestId) out["id"] = *requestId;
  return out;
}

nlohmann::json reply(std::string_view type, const nlohmann::json& request) {
  nlohmann::json out = {{"type", type}};
  if (request.is_object() && request.contains("id")) out["id"] = request["id"];
  return out;
}

}  // namespace conclave::signaling
