#include "signaling/protocol.h"

#include <array>

#include "signaling/host_token.h"
#include "signaling/meeting_settings.h"
#include "signaling/turn_credentials.h"

namespace conclave::signaling {
namespace {

constexpr std::array kHelloFields = {
    FieldRule{"version", FieldKind::Integer, true, 0, 1000},
    FieldRule{"client", FieldKind::String, false, 0, 64},
};
constexpr std::array kJoinFields = {
    FieldRule{"roomId", FieldKind::String, true, kRoomIdLength, kRoomIdLength, true},
    FieldRule{"profile", FieldKind::String, true, 0, kMaxProfileBytes},
    FieldRule{"hostToken", FieldKind::String, false, kHostTokenLength, kHostTokenLength, true},
    FieldRule{.name = "pin",
              .kind = FieldKind::String,
              .required = false,
              .min = kMinPinLength,
              .max = kMaxPinLength,
              .digits = true},
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
    FieldRule{"tracks", FieldKind::Array, true, 0, kMaxPublishedTracks, false, {}, kTrackFields},
};
constexpr std::array kSubscribeAnswerFields = {
    FieldRule{"sdp", FieldKind::String, true, 1, kMaxSdpBytes},
};

// What a relay carries, as far as the server must know to apply the chat policy: "chat" (a chat
// message) or "control" (keys, profiles, moves: the default).
constexpr std::string_view kRelayKinds[] = {"chat", "control"};
constexpr std::array kRelayFields = {
    FieldRule{"to", FieldKind::String, false, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"payload", FieldKind::String, true, 1, kMaxRelayPayloadBytes},
    FieldRule{"kind", FieldKind::String, false, 0, 0, false, kRelayKinds},
};
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;
constexpr std::array kFileUploadFields = {
    FieldRule{"size", FieldKind::Integer, true, 1, kMaxSafeInteger},
};

constexpr std::string_view kAllowed[] = {"everyone", "moderators"};
constexpr std::array kPolicyChangeFields = {
    FieldRule{"unmute", FieldKind::String, false, 0, 0, false, kAllowed},
    FieldRule{"camera", FieldKind::String, false, 0, 0, false, kAllowed},
    FieldRule{"screen", FieldKind::String, false, 0, 0, false, kAllowed},
    FieldRule{"chat", FieldKind::String, false, 0, 0, false, kAllowed},
    FieldRule{"files", FieldKind::String, false, 0, 0, false, kAllowed},
};
// `set-settings`, and the body of POST /api/rooms (settingsChangeProblem()).
constexpr std::array kSetSettingsFields = {
    FieldRule{"locked", FieldKind::Boolean, false},
    FieldRule{"lobby", FieldKind::Boolean, false},
    FieldRule{"hostMustBePresent", FieldKind::Boolean, false},
    FieldRule{"maxParticipants", FieldKind::Integer, false, 1, kMaxMeetingParticipants},
    FieldRule{.name = "policies", .kind = FieldKind::Object, .required = false, .items = kPolicyChangeFields},
    FieldRule{.name = "pin",
              .kind = FieldKind::String,
              .required = false,
              .min = kMinPinLength,
              .max = kMaxPinLength,
              .nullable = true,
              .digits = true},
};
constexpr std::array kAdmitFields = {
    FieldRule{"participantId", FieldKind::String, false, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"all", FieldKind::Boolean, false},
};
// admit: one participant, or `all: true`; not both, not neither.
std::optional<std::string> checkAdmit(const nlohmann::json& message) {
  bool one = message.contains("participantId");
  auto all = message.find("all");
  if (all != message.end() && !all->get<bool>()) return "field 'all' may only be true";
  if (one == (all != message.end())) return "give either 'participantId' or 'all'";
  return std::nullopt;
}
constexpr std::array kParticipantIdFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
};
constexpr std::string_view kRoles[] = {"host", "moderator", "participant"};
constexpr std::array kSetRoleFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"role", FieldKind::String, true, 0, 0, false, kRoles},
};
// Host controls (issue 10).
constexpr std::string_view kMutableSources[] = {"microphone", "camera", "screen"};
constexpr std::string_view kRequestableSources[] = {"microphone", "camera"};
constexpr std::array kMuteFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"source", FieldKind::String, true, 0, 0, false, kMutableSources},
};
constexpr std::array kRequestUnmuteFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"source", FieldKind::String, true, 0, 0, false, kRequestableSources},
};
constexpr std::array kUnmuteFields = {
    FieldRule{"source", FieldKind::String, true, 0, 0, false, kMutableSources},
};
constexpr std::array kRemoveFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
};
constexpr std::array kGetSecurityLogFields = {
    FieldRule{"before", FieldKind::Integer, false, 0, kMaxSafeInteger},
    FieldRule{"limit", FieldKind::Integer, true, 1, kMaxSecurityLogEntries},
};
// Simulcast (issue 11): the rendered size of each received video, in device pixels.
constexpr std::array kVideoPreferenceFields = {
    FieldRule{"mid", FieldKind::String, true, 1, 32},
    FieldRule{"width", FieldKind::Integer, true, 0, kMaxVideoDimension},
    FieldRule{"height", FieldKind::Integer, true, 0, kMaxVideoDimension},
};
constexpr std::array kVideoPreferencesFields = {
    FieldRule{.name = "preferences",
              .kind = FieldKind::Array,
              .max = kMaxVideoPreferences,
              .items = kVideoPreferenceFields,
              .uniqueKey = "mid"},
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
    MessageSchema{"turn-refresh", {}},
    MessageSchema{"set-settings", kSetSettingsFields},
    MessageSchema{"admit", kAdmitFields, UnknownFields::Refuse, checkAdmit},
    MessageSchema{"deny", kParticipantIdFields},
    MessageSchema{"set-role", kSetRoleFields},
    MessageSchema{"mute", kMuteFields},
    MessageSchema{"request-unmute", kRequestUnmuteFields},
    MessageSchema{"unmute", kUnmuteFields},
    MessageSchema{"remove", kRemoveFields},
    MessageSchema{"end-meeting", {}},
    MessageSchema{"move-meeting", {}},
    MessageSchema{"get-security-log", kGetSecurityLogFields},
    MessageSchema{"video-preferences", kVideoPreferencesFields},
    MessageSchema{"privacy-receipt", {}},
};

// Server → client. Unknown fields are ignored, as the client does (a later server may add
// fields); the limits are the client's (web/src/protocol/validate.ts), which are at least what
// this server sends. Far above any real meeting: a roster and a subscribe offer.
constexpr int64_t kMaxRosterSize = 10000;
constexpr int64_t kMaxSubscribedTracks = 4096;

constexpr std::array kWelcomeFields = {
    FieldRule{"version", FieldKind::Integer, true, kProtocolVersion, kProtocolVersion},
    FieldRule{"server", FieldKind::String, true, 0, 256},
    FieldRule{"maxMessageBytes", FieldKind::Integer, true, 1024, kMaxSafeInteger},
};
constexpr std::array kParticipantFields = {
    FieldRule{"id", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"profile", FieldKind::String, true, 0, kMaxProfileBytes},
    // Always sent by this server; a client takes a participant without one as "participant".
    FieldRule{"role", FieldKind::String, false, 0, 0, false, kRoles},
};
constexpr std::array kPolicyFields = {
    FieldRule{"unmute", FieldKind::String, true, 0, 0, false, kAllowed},
    FieldRule{"camera", FieldKind::String, true, 0, 0, false, kAllowed},
    FieldRule{"screen", FieldKind::String, true, 0, 0, false, kAllowed},
    FieldRule{"chat", FieldKind::String, true, 0, 0, false, kAllowed},
    FieldRule{"files", FieldKind::String, true, 0, 0, false, kAllowed},
};
constexpr std::array kSettingsFields = {
    FieldRule{"locked", FieldKind::Boolean},
    FieldRule{"lobby", FieldKind::Boolean},
    FieldRule{"hostMustBePresent", FieldKind::Boolean},
    FieldRule{"pinSet", FieldKind::Boolean},
    FieldRule{"maxParticipants", FieldKind::Integer, true, 1, kMaxMeetingParticipants},
    FieldRule{.name = "policies", .kind = FieldKind::Object, .items = kPolicyFields},
};
constexpr std::array kTurnFields = {
    FieldRule{.name = "urls", .kind = FieldKind::Array, .max = kMaxTurnUrls, .itemMaxBytes = 256},
    FieldRule{"username", FieldKind::String, true, 1, 128},
    FieldRule{"credential", FieldKind::String, true, 1, 128},
    FieldRule{"ttl", FieldKind::Integer, true, 1, kMaxTurnTtlSeconds},
};
constexpr std::array kJoinedFields = {
    FieldRule{"roomId", FieldKind::String, true, kRoomIdLength, kRoomIdLength, true},
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{.name = "participants",
              .kind = FieldKind::Array,
              .max = kMaxRosterSize,
              .items = kParticipantFields,
              .uniqueKey = "id"},
    FieldRule{.name = "turn", .kind = FieldKind::Object, .required = false, .items = kTurnFields},
    // Always sent by this server (older servers sent neither).
    FieldRule{"role", FieldKind::String, false, 0, 0, false, kRoles},
    FieldRule{.name = "settings", .kind = FieldKind::Object, .required = false, .items = kSettingsFields},
};
constexpr std::array kTurnCredentialsFields = {
    FieldRule{.name = "turn", .kind = FieldKind::Object, .items = kTurnFields},
};
constexpr std::array kParticipantChangeFields = {
    FieldRule{.name = "participant", .kind = FieldKind::Object, .items = kParticipantFields},
};
constexpr std::array kParticipantLeftFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
};
constexpr std::array kGoodbyeFields = {
    FieldRule{"reason", FieldKind::String, true, 0, 64},
    FieldRule{"retryAfterMs", FieldKind::Integer, false, 0, kMaxGoodbyeRetryAfterMs},
};
constexpr std::array kErrorFields = {
    FieldRule{"code", FieldKind::String, true, 0, 64},
    FieldRule{"message", FieldKind::String, true, 0, kMaxErrorMessageBytes},
    FieldRule{"retryAfterMs", FieldKind::Integer, false, 0, kMaxErrorRetryAfterMs},
};
constexpr std::array kPublishAnswerFields = {
    FieldRule{"sdp", FieldKind::String, true, 0, kMaxServerSdpBytes},
};
constexpr std::string_view kKinds[] = {"audio", "video"};
constexpr std::array kOfferedTrackFields = {
    FieldRule{.name = "mid", .kind = FieldKind::String, .min = 1, .max = 32, .token = true},
    FieldRule{"kind", FieldKind::String, true, 0, 0, false, kKinds},
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    // A source this client version does not know is still a track (a later server may add some).
    FieldRule{"source", FieldKind::String, true, 0, 64},
};
constexpr std::array kSubscribeOfferFields = {
    FieldRule{"sdp", FieldKind::String, true, 0, kMaxServerSdpBytes},
    FieldRule{.name = "tracks",
              .kind = FieldKind::Array,
              .max = kMaxSubscribedTracks,
              .items = kOfferedTrackFields,
              .uniqueKey = "mid"},
};
constexpr std::string_view kConnections[] = {"publish", "subscribe"};
constexpr std::array kMediaFailedFields = {
    FieldRule{"connection", FieldKind::String, true, 0, 0, false, kConnections},
};
constexpr std::array kRelayedFields = {
    FieldRule{"from", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"payload", FieldKind::String, true, 0, kMaxRelayPayloadBytes},
    // Stamped by the server (absent from older servers: "control"); a client takes a chat
    // message only from a relay stamped "chat", and keys only from one stamped "control".
    FieldRule{"kind", FieldKind::String, false, 0, 0, false, kRelayKinds},
};
constexpr std::array kFileUploadReadyFields = {
    FieldRule{"fileId", FieldKind::String, true, 1, 128, true},
    FieldRule{"uploadToken", FieldKind::String, true, 1, 256, true},
    FieldRule{"url", FieldKind::String, true, 0, 256},
};

std::optional<std::string> checkFileUrl(const nlohmann::json& message) {
  if (message["url"] != "/api/files/" + message["fileId"].get<std::string>())
    return "field 'url' must be the file's /api/files/ path";
  return std::nullopt;
}

// A browser is pointed only at TURN servers: at least one URL, each turn: or turns:.
std::optional<std::string> checkTurnUrls(const nlohmann::json& message) {
  auto turn = message.find("turn");
  if (turn == message.end()) return std::nullopt;
  const auto& urls = (*turn)["urls"];
  if (urls.empty()) return "field 'urls' must have at least 1 item";
  for (const auto& url : urls)
    if (!isTurnUrl(url.get_ref<const std::string&>())) return "field 'urls' must hold turn: or turns: URLs";
  return std::nullopt;
}

constexpr std::array kWaitingFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    // "lobby" or "host-absent"; a reason a later server adds is still waiting.
    FieldRule{"reason", FieldKind::String, true, 1, 64},
};
constexpr std::array kLobbyEntryFields = {
    FieldRule{"id", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"profile", FieldKind::String, true, 0, kMaxProfileBytes},
};
constexpr std::array kLobbyFields = {
    FieldRule{.name = "waiting",
              .kind = FieldKind::Array,
              .max = kMaxLobbySize,
              .items = kLobbyEntryFields,
              .uniqueKey = "id"},
};
constexpr std::array kSettingsMessageFields = {
    FieldRule{.name = "settings", .kind = FieldKind::Object, .items = kSettingsFields},
};
constexpr std::array kRoleFields = {
    FieldRule{"participantId", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"role", FieldKind::String, true, 0, 0, false, kRoles},
    FieldRule{"grant", FieldKind::String, false, kHostTokenLength, kHostTokenLength, true},
};
constexpr std::array kMeetingMovedFields = {
    FieldRule{"roomId", FieldKind::String, true, kRoomIdLength, kRoomIdLength, true},
    FieldRule{"hostToken", FieldKind::String, true, kHostTokenLength, kHostTokenLength, true},
    FieldRule{"moderatorToken", FieldKind::String, true, kHostTokenLength, kHostTokenLength, true},
};
constexpr std::array kSecurityEventFields = {
    FieldRule{"at", FieldKind::Integer, true, 0, kMaxSafeInteger},
    // A type a later server adds is still an entry.
    FieldRule{"type", FieldKind::String, true, 1, 32},
    FieldRule{"actor", FieldKind::String, false, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"subject", FieldKind::String, false, kParticipantIdLength, kParticipantIdLength, true},
    FieldRule{"detail", FieldKind::String, false, 0, 64},
};
constexpr std::array kSecurityLogFields = {
    FieldRule{
        .name = "entries", .kind = FieldKind::Array, .max = kMaxSecurityLogEntries, .items = kSecurityEventFields},
};
// muted-by-host and unmute-request: a source a later server adds is still a source.
constexpr std::array kHostRequestFields = {
    FieldRule{"source", FieldKind::String, true, 1, 64},
    FieldRule{"by", FieldKind::String, true, kParticipantIdLength, kParticipantIdLength, true},
};
// privacy-receipt: the receipt's content is the server's to extend (privacy_receipt.h), so its
// object has no field table; checkReceipt() wants its format and time. The client keeps it whole
// (the signature covers every field).
std::optional<std::string> checkReceipt(const nlohmann::json& message) {
  const auto& receipt = message["receipt"];
  auto format = receipt.find("format");
  if (format == receipt.end() || !format->is_string() || format->get_ref<const std::string&>().empty() ||
      format->get_ref<const std::string&>().size() > 64)
    return "field 'receipt.format' must be a string of 1 to 64 bytes";
  auto at = receipt.find("generatedAt");
  if (at == receipt.end() || !at->is_number_integer() || at->get<int64_t>() < 0 || at->get<int64_t>() > kMaxSafeInteger)
    return "field 'receipt.generatedAt' must be an integer from 0 to 2^53-1";
  return std::nullopt;
}
constexpr std::array kReceiptSignatureFields = {
    FieldRule{"algorithm", FieldKind::String, true, 1, 32},
    FieldRule{"publicKey", FieldKind::String, true, 64, 64},
    FieldRule{"fingerprint", FieldKind::String, true, 64, 64},
    FieldRule{"value", FieldKind::String, true, 128, 128},
};
constexpr std::array kPrivacyReceiptFields = {
    FieldRule{.name = "receipt", .kind = FieldKind::Object},
    FieldRule{.name = "signature", .kind = FieldKind::Object, .items = kReceiptSignatureFields},
};

constexpr auto kIgnore = UnknownFields::Ignore;
const std::array kServerSchemas = {
    MessageSchema{"welcome", kWelcomeFields, kIgnore},
    MessageSchema{"joined", kJoinedFields, kIgnore, checkTurnUrls},
    MessageSchema{"participant-joined", kParticipantChangeFields, kIgnore},
    MessageSchema{"participant-updated", kParticipantChangeFields, kIgnore},
    MessageSchema{"participant-left", kParticipantLeftFields, kIgnore},
    MessageSchema{"profile-updated", {}, kIgnore},
    MessageSchema{"left", {}, kIgnore},
    MessageSchema{"pong", {}, kIgnore},
    MessageSchema{"goodbye", kGoodbyeFields, kIgnore},
    MessageSchema{"error", kErrorFields, kIgnore},
    MessageSchema{"publish-answer", kPublishAnswerFields, kIgnore},
    MessageSchema{"subscribe-ok", {}, kIgnore},
    MessageSchema{"subscribe-offer", kSubscribeOfferFields, kIgnore},
    MessageSchema{"media-failed", kMediaFailedFields, kIgnore},
    MessageSchema{"relayed", {}, kIgnore},
    MessageSchema{"relay", kRelayedFields, kIgnore},
    MessageSchema{"file-upload-ready", kFileUploadReadyFields, kIgnore, checkFileUrl},
    MessageSchema{"turn-credentials", kTurnCredentialsFields, kIgnore, checkTurnUrls},
    MessageSchema{"waiting", kWaitingFields, kIgnore},
    MessageSchema{"lobby", kLobbyFields, kIgnore},
    MessageSchema{"settings", kSettingsMessageFields, kIgnore},
    MessageSchema{"role", kRoleFields, kIgnore},
    MessageSchema{"settings-updated", {}, kIgnore},
    MessageSchema{"admitted", {}, kIgnore},
    MessageSchema{"denied", {}, kIgnore},
    MessageSchema{"role-set", {}, kIgnore},
    MessageSchema{"muted", {}, kIgnore},
    MessageSchema{"unmute-requested", {}, kIgnore},
    MessageSchema{"unmuted", {}, kIgnore},
    MessageSchema{"removed", {}, kIgnore},
    MessageSchema{"ended", {}, kIgnore},
    MessageSchema{"meeting-moved", kMeetingMovedFields, kIgnore},
    MessageSchema{"security-log", kSecurityLogFields, kIgnore},
    MessageSchema{"muted-by-host", kHostRequestFields, kIgnore},
    MessageSchema{"unmute-request", kHostRequestFields, kIgnore},
    MessageSchema{"privacy-receipt", kPrivacyReceiptFields, kIgnore, checkReceipt},
};

const MessageSchema* findSchema(std::span<const MessageSchema> schemas, const nlohmann::json& message,
                                std::string* problem) {
  if (!message.is_object()) {
    *problem = "the message must be a JSON object";
    return nullptr;
  }
  auto type = message.find("type");
  if (type == message.end() || !type->is_string()) {
    *problem = "the message has no type";
    return nullptr;
  }
  for (const auto& s : schemas)
    if (s.type == type->get_ref<const std::string&>()) return &s;
  *problem = "unknown message type";
  return nullptr;
}

}  // namespace

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadJson:
      return "bad-json";
    case ErrorCode::TooLarge:
      return "too-large";
    case ErrorCode::UnknownType:
      return "unknown-type";
    case ErrorCode::InvalidMessage:
      return "invalid-message";
    case ErrorCode::HelloRequired:
      return "hello-required";
    case ErrorCode::UnsupportedVersion:
      return "unsupported-version";
    case ErrorCode::AlreadyJoined:
      return "already-joined";
    case ErrorCode::NotJoined:
      return "not-joined";
    case ErrorCode::RoomNotFound:
      return "room-not-found";
    case ErrorCode::RoomFull:
      return "room-full";
    case ErrorCode::RateLimited:
      return "rate-limited";
    case ErrorCode::BadSdp:
      return "bad-sdp";
    case ErrorCode::NegotiationFailed:
      return "negotiation-failed";
    case ErrorCode::InvalidState:
      return "invalid-state";
    case ErrorCode::MediaUnavailable:
      return "media-unavailable";
    case ErrorCode::ParticipantNotFound:
      return "participant-not-found";
    case ErrorCode::FileTooLarge:
      return "file-too-large";
    case ErrorCode::QuotaExceeded:
      return "quota-exceeded";
    case ErrorCode::TooManyTracks:
      return "too-many-tracks";
    case ErrorCode::PinRequired:
      return "pin-required";
    case ErrorCode::WrongPin:
      return "wrong-pin";
    case ErrorCode::MeetingLocked:
      return "meeting-locked";
    case ErrorCode::Banned:
      return "banned";
    case ErrorCode::NotAllowed:
      return "not-allowed";
    case ErrorCode::Blocked:
      return "blocked";
    case ErrorCode::NotWaiting:
      return "not-waiting";
    case ErrorCode::ForbiddenByPolicy:
      return "forbidden-by-policy";
    case ErrorCode::MeetingEnded:
      return "meeting-ended";
    case ErrorCode::MeetingMoved:
      return "meeting-moved";
    case ErrorCode::Internal:
      return "internal";
  }
  return "internal";
}

const MessageSchema* findClientSchema(std::string_view type) {
  for (const auto& s : kClientSchemas)
    if (s.type == type) return &s;
  return nullptr;
}

const MessageSchema* findServerSchema(std::string_view type) {
  for (const auto& s : kServerSchemas)
    if (s.type == type) return &s;
  return nullptr;
}

std::optional<std::string> validateClientMessage(const nlohmann::json& message) {
  std::string problem;
  const MessageSchema* schema = findSchema(kClientSchemas, message, &problem);
  if (!schema) return problem;
  return validate(message, *schema);
}

std::optional<std::string> settingsChangeProblem(const nlohmann::json& body) {
  static const MessageSchema schema{"settings", kSetSettingsFields};
  if (!body.is_object()) return "the settings must be a JSON object";
  if (body.contains("type") || body.contains("id")) return "the settings have fields that are not allowed";
  return validate(body, schema);
}

std::optional<std::string> validateServerMessage(const nlohmann::json& message, UnknownFields unknown) {
  std::string problem;
  const MessageSchema* schema = findSchema(kServerSchemas, message, &problem);
  if (!schema) return problem;
  return validate(message, *schema, unknown);
}

}  // namespace conclave::signaling
