#include "signaling/connection.h"

#include "common/log.h"
#include "store/file_store.h"

namespace conclave::signaling {
namespace {

const nlohmann::json* requestIdOf(const nlohmann::json& msg) {
  auto it = msg.find("id");
  return it == msg.end() ? nullptr : &*it;
}

std::string_view joinErrorMessage(ErrorCode error) {
  switch (error) {
    case ErrorCode::RoomFull:
      return "the meeting is full";
    case ErrorCode::Banned:
      return "you were removed from this meeting";
    case ErrorCode::MeetingEnded:
      return "the meeting has ended";
    case ErrorCode::MeetingMoved:
      return "the meeting has moved to a new link; ask its host for it";
    default:
      return "there is no such meeting";
  }
}

}  // namespace

const Connection::Route Connection::kRoutes[] = {
    {"hello", &Connection::handleHello},
    {"join", &Connection::handleJoin},
    {"update-profile", &Connection::handleUpdateProfile},
    {"leave", &Connection::handleLeave},
    {"ping", &Connection::handlePing},
    {"publish", &Connection::handlePublish},
    {"subscribe-answer", &Connection::handleSubscribeAnswer},
    {"subscribe-restart", &Connection::handleSubscribeRestart},
    {"relay", &Connection::handleRelay},
    {"file-upload", &Connection::handleFileUpload},
    {"turn-refresh", &Connection::handleTurnRefresh},
    {"set-role", &Connection::handleSetRole},
    {"mute", &Connection::handleMute},
    {"request-unmute", &Connection::handleRequestUnmute},
    {"unmute", &Connection::handleUnmute},
    {"remove", &Connection::handleRemove},
    {"end-meeting", &Connection::handleEndMeeting},
    {"move-meeting", &Connection::handleMoveMeeting},
    {"get-security-log", &Connection::handleGetSecurityLog},
};

Connection::Connection(RoomManager& rooms, Peer& peer, ConnectionLimits limits, common::TimePoint now,
                       const net::SourceKey& source)
    : mRooms(rooms),
      mPeer(peer),
      mLimits(limits),
      mBucket(limits.rate, limits.burst, now),
      mRelayBudget(limits.relayBytesPerSecond, limits.relayBurstBytes, now),
      mSource(source) {}

common::Duration Connection::readDelay(common::TimePoint now) {
  auto wait = mRelayBudget.wait(now);
  if (!mParticipantId.empty()) wait = std::max(wait, mRooms.relayWait(mRoomId, now));
  return wait;
}

bool Connection::relayBlocked() const { return !mParticipantId.empty() && mRooms.congested(mRoomId, mParticipantId); }

Connection::~Connection() = default;

void Connection::onText(std::string_view text, common::TimePoint now) {
  if (!mBucket.take(now)) {
    if (++mDropped > mLimits.maxDroppedBeforeClose) {
      mMustClose = true;
      return;
    }
    sendError(ErrorCode::RateLimited, "too many messages; this one was dropped", nullptr);
    return;
  }
  if (text.size() > mLimits.maxMessageBytes) {
    sendError(ErrorCode::TooLarge, "message is larger than " + std::to_string(mLimits.maxMessageBytes) + " bytes",
              nullptr);
    return;
  }
  nlohmann::json msg = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded() || !msg.is_object()) {
    sendError(ErrorCode::BadJson, "the message is not a JSON object", nullptr);
    return;
  }
  const nlohmann::json* requestId = requestIdOf(msg);
  auto typeIt = msg.find("type");
  if (typeIt == msg.end() || !typeIt->is_string()) {
    sendError(ErrorCode::UnknownType, "the message has no type", requestId);
    return;
  }
  const auto& type = typeIt->get_ref<const std::string&>();
  const MessageSchema* schema = findClientSchema(type);
  if (!schema) {
    sendError(ErrorCode::UnknownType, "unknown message type", requestId);
    return;
  }
  if (auto problem = validate(msg, *schema)) {
    // A malformed id is not echoed back.
    sendError(ErrorCode::InvalidMessage, *problem, requestId && isValidRequestId(*requestId) ? requestId : nullptr);
    return;
  }
  if (!mHelloDone && type != "hello") {
    sendError(ErrorCode::HelloRequired, "send hello first", requestId);
    return;
  }
  for (const auto& route : kRoutes) {
    if (route.type == type) {
      (this->*route.handler)(msg, now);
      return;
    }
  }
  sendError(ErrorCode::Internal, "no handler", requestId);
}

void Connection::onClosed(common::TimePoint now) {
  if (!mParticipantId.empty()) mRooms.leave(mRoomId, mParticipantId, now);
  mParticipantId.clear();
  mRoomId.clear();
}

void Connection::handleHello(const nlohmann::json& msg, common::TimePoint) {
  if (msg["version"].get<int64_t>() != kProtocolVersion) {
    sendError(ErrorCode::UnsupportedVersion, "this server speaks protocol version 1", requestIdOf(msg));
    return;
  }
  mHelloDone = true;
  mPeer.send(messages::welcome(msg, mLimits.maxMessageBytes));
}

void Connection::handleJoin(const nlohmann::json& msg, common::TimePoint) {
  const nlohmann::json* id = requestIdOf(msg);
  if (!mParticipantId.empty()) {
    sendError(ErrorCode::AlreadyJoined, "this connection is already in a room", id);
    return;
  }
  const auto& roomId = msg["roomId"].get_ref<const std::string&>();
  Role role = Role::Participant;
  if (auto token = msg.find("hostToken"); token != msg.end()) {
    // A credential that is not this meeting's is refused rather than ignored: its holder learns
    // at once that it is not a host here (instead of waiting in its own lobby).
    auto given = mRooms.hostTokens().roleOf(roomId, token->get_ref<const std::string&>());
    if (!given) {
      sendError(ErrorCode::NotAllowed, "the host credential is not valid for this meeting", id);
      return;
    }
    role = *given;
  }
  auto result = mRooms.join(roomId, mPeer, msg["profile"].get<std::string>(), role, mSource);
  if (!result) {
    ErrorCode error = result.error();
    sendError(error, joinErrorMessage(error), id);
    return;
  }
  const RoomManager::Joined& joined = result.value();
  mRoomId = roomId;
  mParticipantId = joined.participantId;
  // TURN credentials go to participants only: a client that has not joined gets none.
  std::optional<TurnCredential> turn;
  if (const TurnIssuer* issuer = mRooms.turn()) turn = issuer->issue();
  mPeer.send(messages::joined(msg, roomId, mParticipantId, joined.others, turn ? &*turn : nullptr, joined.info));
}

void Connection::handleUpdateProfile(const nlohmann::json& msg, common::TimePoint) {
  if (mParticipantId.empty()) {
    sendError(ErrorCode::NotJoined, "join a meeting first", requestIdOf(msg));
    return;
  }
  mRooms.updateProfile(mRoomId, mParticipantId, msg["profile"].get<std::string>());
  mPeer.send(messages::profileUpdated(msg));
}

void Connection::handleLeave(const nlohmann::json& msg, common::TimePoint now) {
  if (mParticipantId.empty()) {
    sendError(ErrorCode::NotJoined, "not in a meeting", requestIdOf(msg));
    return;
  }
  onClosed(now);
  mPeer.send(messages::left(msg));
}

void Connection::handlePing(const nlohmann::json& msg, common::TimePoint) { mPeer.send(messages::pong(msg)); }

conference::MediaRoom* Connection::mediaFor(const nlohmann::json& msg) {
  if (mParticipantId.empty()) {
    sendError(ErrorCode::NotJoined, "join a meeting first", requestIdOf(msg));
    return nullptr;
  }
  conference::MediaRoom* media = mRooms.media(mRoomId);
  if (!media) sendError(ErrorCode::MediaUnavailable, "this server has no media plane running", requestIdOf(msg));
  return media;
}

void Connection::handlePublish(const nlohmann::json& msg, common::TimePoint) {
  conference::MediaRoom* media = mediaFor(msg);
  if (!media) return;
  std::vector<conference::TrackSource> sources;
  for (const auto& t : msg["tracks"]) sources.push_back({t["mid"].get<std::string>(), t["source"].get<std::string>()});
  auto result = media->publish(mParticipantId, msg["sdp"].get_ref<const std::string&>(), sources,
                               mRooms.forbiddenSources(mRoomId, mParticipantId));
  if (!result) {
    common::logger("media")->info("publish refused: {}", result.error().message);
    sendError(result.error().code, result.error().message, requestIdOf(msg));
    return;
  }
  mPeer.send(messages::publishAnswer(msg, result.value()));
}

void Connection::handleSubscribeAnswer(const nlohmann::json& msg, common::TimePoint) {
  conference::MediaRoom* media = mediaFor(msg);
  if (!media) return;
  if (auto error = media->subscribeAnswer(mParticipantId, msg["sdp"].get_ref<const std::string&>())) {
    common::logger("media")->info("subscribe answer refused: {}", error->message);
    sendError(error->code, error->message, requestIdOf(msg));
    return;
  }
  mPeer.send(messages::subscribeOk(msg));
}

void Connection::handleSubscribeRestart(const nlohmann::json& msg, common::TimePoint) {
  conference::MediaRoom* media = mediaFor(msg);
  if (!media) return;
  media->restartSubscribe(mParticipantId);
  mPeer.send(messages::subscribeOk(msg));
}

bool Connection::requireJoined(const nlohmann::json& msg) {
  if (!mParticipantId.empty()) return true;
  sendError(ErrorCode::NotJoined, "join a meeting first", requestIdOf(msg));
  return false;
}

void Connection::handleRelay(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  std::string to = msg.contains("to") ? msg["to"].get<std::string>() : std::string();
  const std::string kind = msg.value("kind", std::string("control"));
  if (kind == "chat" && !mRooms.mayChat(mRoomId, mParticipantId)) {
    sendError(ErrorCode::ForbiddenByPolicy, "the meeting's policy does not allow you to chat", requestIdOf(msg));
    return;
  }
  auto sent = mRooms.relay(mRoomId, mParticipantId, to, msg["payload"].get<std::string>(), now, kind);
  // The sender pays for what its message costs the server to send: a broadcast once per
  // recipient, so a room does not amplify one client's traffic beyond its budget.
  if (sent) mRelayBudget.charge(static_cast<double>(*sent), now);
  if (!sent) {
    sendError(ErrorCode::ParticipantNotFound, "that participant is not in the meeting", requestIdOf(msg));
    return;
  }
  mPeer.send(messages::relayed(msg));
}

void Connection::handleFileUpload(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  if (!mRooms.mayShareFiles(mRoomId, mParticipantId)) {
    sendError(ErrorCode::ForbiddenByPolicy, "the meeting's policy does not allow you to share files",
              requestIdOf(msg));
    return;
  }
  store::FileStore* files = mRooms.files();
  if (!files) {
    sendError(ErrorCode::FileTooLarge, "file sharing is off on this server", requestIdOf(msg));
    return;
  }
  auto result = files->reserve(mRoomId, msg["size"].get<uint64_t>(), now, mSource);
  if (!result) {
    switch (result.error()) {
      case store::FileStore::Error::RoomQuota:
        return sendError(ErrorCode::QuotaExceeded, "this meeting has no room for more files", requestIdOf(msg));
      case store::FileStore::Error::SourceQuota:
        return sendError(ErrorCode::QuotaExceeded, "you have shared as much as this server allows", requestIdOf(msg));
      case store::FileStore::Error::TooManyPending:
        return sendError(ErrorCode::QuotaExceeded, "finish the uploads you started first", requestIdOf(msg));
      case store::FileStore::Error::StoreFull:
        return sendError(ErrorCode::QuotaExceeded, "the server has no room for more files now", requestIdOf(msg));
      default:
        return sendError(ErrorCode::FileTooLarge,
                         "files may have at most " + std::to_string(files->maxFileBytes()) + " bytes",
                         requestIdOf(msg));
    }
  }
  const auto& upload = result.value();
  mPeer.send(messages::fileUploadReady(msg, upload.fileId, upload.token));
}

// The client asks again before its credential expires (a long meeting); each answer is a new
// credential with a new opaque username. Issuing one costs one HMAC: the message rate limit is
// budget enough.
void Connection::handleTurnRefresh(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  const TurnIssuer* issuer = mRooms.turn();
  if (!issuer) {
    sendError(ErrorCode::MediaUnavailable, "this server has no TURN server configured", requestIdOf(msg));
    return;
  }
  mPeer.send(messages::turnCredentials(msg, issuer->issue()));
}

void Connection::handleSetRole(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  auto role = parseRole(msg["role"].get_ref<const std::string&>());
  if (auto error = mRooms.setRole(mRoomId, mParticipantId, msg["participantId"].get<std::string>(), *role)) {
    sendError(*error,
              *error == ErrorCode::NotAllowed ? "only a host may give roles" : "that participant is not in the meeting",
              requestIdOf(msg));
    return;
  }
  mPeer.send(messages::roleSet(msg));
}

// ---- Host controls ---------------------------------------------------------------------------

void Connection::replyControl(const nlohmann::json& msg, std::optional<ErrorCode> error, const nlohmann::json& ok) {
  if (!error) return mPeer.send(ok);
  switch (*error) {
    case ErrorCode::NotAllowed:
      return sendError(*error, "your role in this meeting does not allow this", requestIdOf(msg));
    case ErrorCode::ParticipantNotFound:
      return sendError(*error, "that participant is not in the meeting", requestIdOf(msg));
    case ErrorCode::ForbiddenByPolicy:
      return sendError(*error, "the meeting's policy does not allow this", requestIdOf(msg));
    case ErrorCode::MeetingMoved:
      return sendError(*error, "this meeting has already moved", requestIdOf(msg));
    default:
      return sendError(*error, "not in a meeting", requestIdOf(msg));
  }
}

void Connection::handleMute(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  auto error = mRooms.mute(mRoomId, mParticipantId, msg["participantId"].get<std::string>(),
                           msg["source"].get<std::string>());
  replyControl(msg, error, messages::muted(msg));
}

void Connection::handleRequestUnmute(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  auto error = mRooms.requestUnmute(mRoomId, mParticipantId, msg["participantId"].get<std::string>(),
                                    msg["source"].get<std::string>());
  replyControl(msg, error, messages::unmuteRequested(msg));
}

void Connection::handleUnmute(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  auto error = mRooms.unmute(mRoomId, mParticipantId, msg["source"].get<std::string>());
  replyControl(msg, error, messages::unmuted(msg));
}

void Connection::handleRemove(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  auto error = mRooms.remove(mRoomId, mParticipantId, msg["participantId"].get<std::string>(), now);
  replyControl(msg, error, messages::removed(msg));
}

void Connection::handleEndMeeting(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  // The host's connection is closed with the others': the reply goes out before the goodbye.
  if (mRooms.roleOf(mRoomId, mParticipantId) != Role::Host) return replyControl(msg, ErrorCode::NotAllowed, {});
  mPeer.send(messages::ended(msg));
  mRooms.endMeeting(mRoomId, mParticipantId, now);
}

void Connection::handleMoveMeeting(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  auto result = mRooms.moveMeeting(mRoomId, mParticipantId, now);
  if (!result) return replyControl(msg, result.error(), {});
  mPeer.send(messages::meetingMoved(msg, result.value().roomId, result.value().hostToken));
}

void Connection::handleGetSecurityLog(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  std::optional<int64_t> before;
  if (msg.contains("before")) before = msg["before"].get<int64_t>();
  auto result = mRooms.readSecurityLog(mRoomId, mParticipantId, before, msg["limit"].get<size_t>());
  if (!result) return replyControl(msg, result.error(), {});
  mPeer.send(messages::securityLog(msg, result.value()));
}

void Connection::sendError(ErrorCode code, std::string_view message, const nlohmann::json* request) {
  common::logger("ws")->debug("error reply {}", errorCodeName(code));
  mPeer.send(messages::error(code, message, request));
}

}  // namespace conclave::signaling
