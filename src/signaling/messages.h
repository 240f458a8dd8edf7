// Server → client messages: one builder per message type, and the only code in the server that
// writes a "type". Their shapes are the server schemas in protocol.cpp (tests check every builder
// against them) and docs/protocol.md; tests/contract/protocol holds examples of each.
//
// A reply takes the request it answers and copies the request's `id` into it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "conference/media_room.h"
#include "signaling/meeting_settings.h"
#include "signaling/protocol.h"
#include "signaling/security_log.h"
#include "signaling/turn_credentials.h"

namespace conclave::signaling {

// A participant as the others see it: its ID, its opaque profile and its role.
struct ParticipantInfo {
  std::string id;
  std::string profile;
  Role role = Role::Participant;
};

// What `joined` tells the one who joined about itself and the meeting.
struct JoinedInfo {
  Role role = Role::Participant;
  MeetingSettings settings;
  bool pinSet = false;
};

namespace messages {

// Replies.
nlohmann::json welcome(const nlohmann::json& request, size_t maxMessageBytes);
// `turn`: the TURN server and a credential for it, when the server has one configured.
// `request` is null when a waiting participant is admitted (not a reply).
nlohmann::json joined(const nlohmann::json& request, std::string_view roomId, std::string_view participantId,
                      const std::vector<ParticipantInfo>& others, const TurnCredential* turn = nullptr,
                      const JoinedInfo& info = {});
nlohmann::json profileUpdated(const nlohmann::json& request);
nlohmann::json left(const nlohmann::json& request);
nlohmann::json pong(const nlohmann::json& request);
nlohmann::json publishAnswer(const nlohmann::json& request, std::string_view sdp);
nlohmann::json subscribeOk(const nlohmann::json& request);
nlohmann::json relayed(const nlohmann::json& request);
nlohmann::json turnCredentials(const nlohmann::json& request, const TurnCredential& turn);
nlohmann::json fileUploadReady(const nlohmann::json& request, std::string_view fileId, std::string_view uploadToken);
// An error, as the reply to the request whose id is `requestId` (null: not a reply). A message
// longer than the protocol allows is cut (at a character boundary).
nlohmann::json error(ErrorCode code, std::string_view message, const nlohmann::json* requestId);
// `blocked`: the client may try again after `retryAfter`.
nlohmann::json blocked(std::string_view message, const nlohmann::json* requestId, common::Duration retryAfter);
nlohmann::json settingsUpdated(const nlohmann::json& request);
nlohmann::json admitted(const nlohmann::json& request);
nlohmann::json denied(const nlohmann::json& request);
nlohmann::json roleSet(const nlohmann::json& request);
// The reply to a join that must wait (reason "lobby" or "host-absent"); also sent again, without
// an id, when the reason changes.
nlohmann::json waiting(const nlohmann::json* requestId, std::string_view participantId, std::string_view reason);

// Events.
nlohmann::json participantJoined(const ParticipantInfo& participant);
nlohmann::json participantUpdated(const ParticipantInfo& participant);
nlohmann::json participantLeft(std::string_view participantId);
nlohmann::json subscribeOffer(std::string_view sdp, const std::vector<conference::OfferedTrack>& tracks);
nlohmann::json mediaFailed(sfu::TransportRole role);
// `kind`: "chat" or "control", as the server checked it against the chat policy.
nlohmann::json relay(std::string_view from, std::string_view payload, std::string_view kind = "control");
// The server is stopping (a signal: usually an upgrade or a restart, which it cannot tell from a
// final stop) and closes the connection (1001) right after. It says `server-restart` with the
// delay after which clients should try to come back, so calls resume by themselves.
nlohmann::json goodbye();
// The server closes this connection for a reason of the meeting's (denied, lobby-timeout, ...).
nlohmann::json goodbye(std::string_view reason);
// To hosts and moderators: everyone waiting in the lobby.
nlohmann::json lobby(const std::vector<ParticipantInfo>& waiting);
nlohmann::json settings(const MeetingSettings& settings, bool pinSet);
// `grant` (to the person whose role it is, only): the credential that gives the role back on a
// rejoin after a reconnect.
nlohmann::json role(std::string_view participantId, Role role, std::string_view grant = {});

// Host controls (replies).
nlohmann::json muted(const nlohmann::json& request);
nlohmann::json unmuteRequested(const nlohmann::json& request);
nlohmann::json unmuted(const nlohmann::json& request);
nlohmann::json removed(const nlohmann::json& request);
nlohmann::json ended(const nlohmann::json& request);
// The meeting's new room ID and its host and moderator tokens (the host who moved it hands them
// to the hosts and moderators who follow, over their end-to-end encrypted channels).
nlohmann::json meetingMoved(const nlohmann::json& request, std::string_view roomId, std::string_view hostToken,
                            std::string_view moderatorToken);
nlohmann::json securityLog(const nlohmann::json& request, const std::vector<SecurityEvent>& entries);
// Host controls (events, to the participant concerned). `by`: the host or moderator.
nlohmann::json mutedByHost(std::string_view source, std::string_view by);
nlohmann::json unmuteRequest(std::string_view source, std::string_view by);

// The reply to `privacy-receipt`: the signed receipt (signReceipt(), privacy_receipt.h), whose
// `receipt` and `signature` become fields of the message.
nlohmann::json privacyReceipt(const nlohmann::json& request, const nlohmann::json& signedReceipt);

}  // namespace messages
}  // namespace conclave::signaling
