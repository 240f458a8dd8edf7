#include "signaling/messages.h"

#include <algorithm>

#include "common/version.h"

namespace conclave::signaling::messages {
namespace {

nlohmann::json reply(std::string_view type, const nlohmann::json& request) {
  nlohmann::json out = {{"type", type}};
  if (request.is_object() && request.contains("id")) out["id"] = request["id"];
  return out;
}

nlohmann::json participantJson(const ParticipantInfo& p) {
  return {{"id", p.id}, {"profile", p.profile}, {"role", roleName(p.role)}};
}

nlohmann::json turnJson(const TurnCredential& t) {
  return {{"urls", t.urls}, {"username", t.username}, {"credential", t.credential}, {"ttl", t.ttl.count()}};
}

// The longest prefix of `text` of at most `max` bytes that does not split a UTF-8 character.
std::string_view cut(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

nlohmann::json welcome(const nlohmann::json& request, size_t maxMessageBytes) {
  auto out = reply("welcome", request);
  out["version"] = kProtocolVersion;
  out["server"] = std::string("conclave/") + kVersion;
  out["maxMessageBytes"] = maxMessageBytes;
  return out;
}

nlohmann::json joined(const nlohmann::json& request, std::string_view roomId, std::string_view participantId,
                      const std::vector<ParticipantInfo>& others, const TurnCredential* turn, const JoinedInfo& info) {
  auto out = reply("joined", request);
  out["roomId"] = roomId;
  out["participantId"] = participantId;
  out["participants"] = nlohmann::json::array();
  for (const auto& p : others) out["participants"].push_back(participantJson(p));
  if (turn) out["turn"] = turnJson(*turn);
  out["role"] = roleName(info.role);
  out["settings"] = settingsJson(info.settings, info.pinSet);
  return out;
}

nlohmann::json turnCredentials(const nlohmann::json& request, const TurnCredential& turn) {
  auto out = reply("turn-credentials", request);
  out["turn"] = turnJson(turn);
  return out;
}

nlohmann::json profileUpdated(const nlohmann::json& request) { return reply("profile-updated", request); }

nlohmann::json left(const nlohmann::json& request) { return reply("left", request); }

nlohmann::json pong(const nlohmann::json& request) { return reply("pong", request); }

nlohmann::json publishAnswer(const nlohmann::json& request, std::string_view sdp) {
  auto out = reply("publish-answer", request);
  out["sdp"] = sdp;
  return out;
}

nlohmann::json subscribeOk(const nlohmann::json& request) { return reply("subscribe-ok", request); }

nlohmann::json relayed(const nlohmann::json& request) { return reply("relayed", request); }

nlohmann::json fileUploadReady(const nlohmann::json& request, std::string_view fileId, std::string_view uploadToken) {
  auto out = reply("file-upload-ready", request);
  out["fileId"] = fileId;
  out["uploadToken"] = uploadToken;
  out["url"] = "/api/files/" + std::string(fileId);
  return out;
}

nlohmann::json error(ErrorCode code, std::string_view message, const nlohmann::json* requestId) {
  nlohmann::json out = {
      {"type", "error"}, {"code", errorCodeName(code)}, {"message", cut(message, kMaxErrorMessageBytes)}};
  if (requestId) out["id"] = *requestId;
  return out;
}

nlohmann::json blocked(std::string_view message, const nlohmann::json* requestId, common::Duration retryAfter) {
  auto out = error(ErrorCode::Blocked, message, requestId);
  out["retryAfterMs"] = std::clamp<int64_t>(common::toMillis(retryAfter), 1, kMaxErrorRetryAfterMs);
  return out;
}

nlohmann::json settingsUpdated(const nlohmann::json& request) { return reply("settings-updated", request); }

nlohmann::json admitted(const nlohmann::json& request) { return reply("admitted", request); }

nlohmann::json denied(const nlohmann::json& request) { return reply("denied", request); }

nlohmann::json roleSet(const nlohmann::json& request) { return reply("role-set", request); }

nlohmann::json waiting(const nlohmann::json* requestId, std::string_view participantId, std::string_view reason) {
  nlohmann::json out = {{"type", "waiting"}, {"participantId", participantId}, {"reason", reason}};
  if (requestId) out["id"] = *requestId;
  return out;
}

nlohmann::json participantJoined(const ParticipantInfo& participant) {
  return {{"type", "participant-joined"}, {"participant", participantJson(participant)}};
}

nlohmann::json participantUpdated(const ParticipantInfo& participant) {
  return {{"type", "participant-updated"}, {"participant", participantJson(participant)}};
}

nlohmann::json participantLeft(std::string_view participantId) {
  return {{"type", "participant-left"}, {"participantId", participantId}};
}

nlohmann::json subscribeOffer(std::string_view sdp, const std::vector<conference::OfferedTrack>& tracks) {
  auto info = nlohmann::json::array();
  for (const auto& t : tracks) {
    info.push_back(
        {{"mid", t.mid}, {"kind", sdp::toString(t.kind)}, {"participantId", t.participantId}, {"source", t.source}});
  }
  return {{"type", "subscribe-offer"}, {"sdp", sdp}, {"tracks", info}};
}

nlohmann::json mediaFailed(sfu::TransportRole role) {
  return {{"type", "media-failed"}, {"connection", role == sfu::TransportRole::Publish ? "publish" : "subscribe"}};
}

nlohmann::json relay(std::string_view from, std::string_view payload, std::string_view kind) {
  return {{"type", "relay"}, {"from", from}, {"payload", payload}, {"kind", kind}};
}

nlohmann::json goodbye(std::string_view reason) { return {{"type", "goodbye"}, {"reason", reason}}; }

nlohmann::json lobby(const std::vector<ParticipantInfo>& waiting) {
  auto list = nlohmann::json::array();
  for (const auto& p : waiting) list.push_back({{"id", p.id}, {"profile", p.profile}});
  return {{"type", "lobby"}, {"waiting", std::move(list)}};
}

nlohmann::json settings(const MeetingSettings& settings, bool pinSet) {
  return {{"type", "settings"}, {"settings", settingsJson(settings, pinSet)}};
}

nlohmann::json role(std::string_view participantId, Role role, std::string_view grant) {
  nlohmann::json out = {{"type", "role"}, {"participantId", participantId}, {"role", roleName(role)}};
  if (!grant.empty()) out["grant"] = grant;
  return out;
}

nlohmann::json goodbye() {
  return {{"type", "goodbye"}, {"reason", "server-restart"}, {"retryAfterMs", kGoodbyeRetryAfterMs}};
}

nlohmann::json muted(const nlohmann::json& request) { return reply("muted", request); }

nlohmann::json unmuteRequested(const nlohmann::json& request) { return reply("unmute-requested", request); }

nlohmann::json unmuted(const nlohmann::json& request) { return reply("unmuted", request); }

nlohmann::json removed(const nlohmann::json& request) { return reply("removed", request); }

nlohmann::json ended(const nlohmann::json& request) { return reply("ended", request); }

nlohmann::json meetingMoved(const nlohmann::json& request, std::string_view roomId, std::string_view hostToken,
                            std::string_view moderatorToken) {
  auto out = reply("meeting-moved", request);
  out["roomId"] = roomId;
  out["hostToken"] = hostToken;
  out["moderatorToken"] = moderatorToken;
  return out;
}

nlohmann::json securityLog(const nlohmann::json& request, const std::vector<SecurityEvent>& entries) {
  auto out = reply("security-log", request);
  out["entries"] = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json entry = {{"at", e.at}, {"type", securityEventName(e.type)}};
    if (!e.actor.empty()) entry["actor"] = e.actor;
    if (!e.subject.empty()) entry["subject"] = e.subject;
    if (!e.detail.empty()) entry["detail"] = e.detail;
    out["entries"].push_back(std::move(entry));
  }
  return out;
}

nlohmann::json mutedByHost(std::string_view source, std::string_view by) {
  return {{"type", "muted-by-host"}, {"source", source}, {"by", by}};
}

nlohmann::json unmuteRequest(std::string_view source, std::string_view by) {
  return {{"type", "unmute-request"}, {"source", source}, {"by", by}};
}

nlohmann::json privacyReceipt(const nlohmann::json& request, const nlohmann::json& signedReceipt) {
  auto out = reply("privacy-receipt", request);
  out["receipt"] = signedReceipt.at("receipt");
  out["signature"] = signedReceipt.at("signature");
  return out;
}

}  // namespace conclave::signaling::messages
