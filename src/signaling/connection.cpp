#include "signaling/connection.h"

#include "common/log.h"
#include "store/file_store.h"

namespace conclave::signaling {
namespace {

const nlohmann::json* requestIdOf(const nlohmann::json& msg) {
  auto it = msg.find("id");
  return it == msg.end() ? nullptr : &*it;
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
    {"set-settings", &Connection::handleSetSettings},
    {"admit", &Connection::handleAdmit},
    {"deny", &Connection::handleDeny},
    {"mute", &Connection::handleMute},
    {"request-unmute", &Connection::handleRequestUnmute},
    {"unmute", &Connection::handleUnmute},
    {"remove", &Connection::handleRemove},
    {"end-meeting", &Connection::handleEndMeeting},
    {"move-meeting", &Connection::handleMoveMeeting},
    {"get-security-log", &Connection::handleGetSecurityLog},
    {"video-preferences", &Connection::handleVideoPreferences},
    {"privacy-receipt", &Connection::handlePrivacyReceipt},
};

Connection::Connection(RoomManager& rooms, Peer& peer, ConnectionLimits limits, common::TimePoint now,
                       const net::SourceKey& source)
    : mRooms(rooms),
      mPeer(peer),
      mLimits(limits),
      mBucket(limits.rate, limits.burst, now),
      mRelayBudget(limits.relayBytesPerSecond, limits.relayBurstBytes, now),
      mVideoPreferencesBucket(limits.videoPreferencesRate, limits.videoPreferencesBurst, now),
      mReceiptBucket(limits.receiptRate, limits.receiptBurst, now),
      mSource(source) {}

common::Duration Connection::readDelay(common::TimePoint now) {
  auto wait = mRelayBudget.wait(now);
  if (!mParticipantId.empty()) wait = std::max(wait, mRooms.relayWait(mRoomId, now));
  return wait;
}

bool Connection::relayBlocked() const { return !mParticipantId.empty() && mRooms.congested(mRoomId, mParticipantId); }

Connection::~Connection() = default;

void Connection::onText(std::string_view text, common::TimePoint now) {
  mLastNow = now;
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
  mClosed = true;
  leaveRoom(now);
}

void Connection::leaveRoom(common::TimePoint now) {
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

void Connection::handleJoin(const nlohmann::json& msg, common::TimePoint now) {
  const nlohmann::json* id = requestIdOf(msg);
  if (!mParticipantId.empty() || mPending) {
    sendError(ErrorCode::AlreadyJoined, "this connection is already in a room", id);
    return;
  }
  const auto& roomId = msg["roomId"].get_ref<const std::string&>();
  AdmissionGuard& guard = mRooms.admission();
  std::optional<Role> tokenRole;
  if (auto token = msg.find("hostToken"); token != msg.end()) {
    const auto& credential = token->get_ref<const std::string&>();
    tokenRole = mRooms.hostTokens().roleOf(roomId, credential);
    // A role a host handed out in this meeting, presented again after a reconnect.
    if (!tokenRole) tokenRole = mRooms.grantedRole(roomId, credential);
  }
  // Holders of a valid token are never blocked: a flood of failures cannot keep the host out.
  if (!tokenRole) {
    if (auto wait = guard.blockedFor(roomId, mSource, now); wait > common::Duration::zero()) {
      auto seconds = std::to_string((common::toMillis(wait) + 999) / 1000);
      mPeer.send(messages::blocked("too many failed attempts; try again in " + seconds + " s", id, wait));
      return;
    }
  }
  if (msg.contains("hostToken") && !tokenRole) {
    // A credential that is not this meeting's is refused rather than ignored: its holder learns
    // at once that it is not a host here (instead of waiting in its own lobby). It counts as a
    // failed attempt, as a wrong PIN does.
    guard.recordFailure(roomId, mSource, now);
    sendError(ErrorCode::NotAllowed, "the host credential is not valid for this meeting", id);
    return;
  }
  tryJoin(msg, tokenRole.value_or(Role::Participant), false, now);
}

void Connection::tryJoin(const nlohmann::json& msg, Role role, bool pinChecked, common::TimePoint now) {
  const nlohmann::json* id = requestIdOf(msg);
  const auto& roomId = msg["roomId"].get_ref<const std::string&>();
  RoomManager::JoinRequest request{msg["profile"].get<std::string>(), role, mSource, msg.contains("pin"), pinChecked};
  if (auto token = msg.find("hostToken"); token != msg.end()) request.credential = token->get<std::string>();
  auto result = mRooms.join(roomId, mPeer, std::move(request), now);
  if (!result) return refuse(result.error(), msg);
  RoomManager::Joined& joined = result.value();
  if (joined.state == RoomManager::JoinState::CheckPin) return checkPin(msg, role, joined.pinHash);
  mRoomId = roomId;
  mParticipantId = joined.participantId;
  if (joined.state == RoomManager::JoinState::Waiting) {
    mPeer.send(messages::waiting(id, mParticipantId, joined.reason));
    return;
  }
  // TURN credentials go to participants only: a client that has not joined gets none.
  std::optional<TurnCredential> turn;
  if (const TurnIssuer* issuer = mRooms.turn()) turn = issuer->issue();
  mPeer.send(messages::joined(msg, roomId, mParticipantId, joined.others, turn ? &*turn : nullptr, joined.info));
  if (isModeratorOrHost(role)) mRooms.sendLobby(mRoomId, mParticipantId);
}

void Connection::checkPin(const nlohmann::json& msg, Role role, const std::string& pinHash) {
  mPending = true;
  std::weak_ptr<bool> alive = mAlive;
  mRooms.pinHasher().verify(pinHash, msg["pin"].get<std::string>(), [this, alive, msg, role](PinCheck check) {
    if (alive.expired() || mClosed) return;
    mPending = false;
    if (check == PinCheck::Busy) {
      sendError(ErrorCode::RateLimited, "the server is busy; try again in a moment", requestIdOf(msg));
      return;
    }
    if (check == PinCheck::Mismatch) {
      mRooms.admission().recordFailure(msg["roomId"].get<std::string>(), mSource, mLastNow);
      mRooms.logEvent(msg["roomId"].get<std::string>(), SecurityEventType::PinFailed);
      sendError(ErrorCode::WrongPin, "that PIN is not this meeting's", requestIdOf(msg));
      return;
    }
    tryJoin(msg, role, true, mLastNow);
  });
}

void Connection::refuse(ErrorCode code, const nlohmann::json& msg) {
  const char* text = "there is no such meeting";
  switch (code) {
    case ErrorCode::RoomFull:
      text = "the meeting (or its lobby) is full";
      break;
    case ErrorCode::MeetingLocked:
      text = "the meeting is locked";
      break;
    case ErrorCode::Banned:
      text = "you may not come back into this meeting";
      break;
    case ErrorCode::PinRequired:
      text = "this meeting needs a PIN";
      break;
    case ErrorCode::NotAllowed:
      text = "your role may not do that";
      break;
    case ErrorCode::NotWaiting:
      text = "that person is not waiting in the lobby";
      break;
    case ErrorCode::MeetingEnded:
      text = "the meeting has ended";
      break;
    case ErrorCode::MeetingMoved:
      text = "the meeting has moved to a new link; ask its host for it";
      break;
    case ErrorCode::NotJoined:
      text = "join a meeting first";
      break;
    case ErrorCode::ParticipantNotFound:
      text = "that participant is not in the meeting";
      break;
    default:
      break;
  }
  sendError(code, text, requestIdOf(msg));
}

void Connection::handleUpdateProfile(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  mRooms.updateProfile(mRoomId, mParticipantId, msg["profile"].get<std::string>());
  mPeer.send(messages::profileUpdated(msg));
}

void Connection::handleLeave(const nlohmann::json& msg, common::TimePoint now) {
  if (mParticipantId.empty()) {
    sendError(ErrorCode::NotJoined, "not in a meeting", requestIdOf(msg));
    return;
  }
  leaveRoom(now);
  mPeer.send(messages::left(msg));
}

void Connection::handlePing(const nlohmann::json& msg, common::TimePoint) { mPeer.send(messages::pong(msg)); }

conference::MediaRoom* Connection::mediaFor(const nlohmann::json& msg) {
  if (!requireJoined(msg)) return nullptr;
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
  if (auto error = media->restartSubscribe(mParticipantId)) {
    common::logger("media")->info("subscribe restart refused: {}", error->message);
    sendError(error->code, error->message, requestIdOf(msg));
    return;
  }
  mPeer.send(messages::subscribeOk(msg));
}

// A waiting client is not joined: it may only leave (or be let in).
bool Connection::requireJoined(const nlohmann::json& msg) {
  if (!mParticipantId.empty() && mRooms.roleOf(mRoomId, mParticipantId)) return true;
  if (!mParticipantId.empty() && mRooms.isWaiting(mRoomId, mParticipantId)) {
    sendError(ErrorCode::NotJoined, "you are waiting to be let in", requestIdOf(msg));
    return false;
  }
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
    sendError(ErrorCode::ForbiddenByPolicy, "the meeting's policy does not allow you to share files", requestIdOf(msg));
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

void Connection::handleSetRole(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  auto role = parseRole(msg["role"].get_ref<const std::string&>());
  if (auto error = mRooms.setRole(mRoomId, mParticipantId, msg["participantId"].get<std::string>(), *role, now))
    return refuse(*error == ErrorCode::NotAllowed ? ErrorCode::NotAllowed : *error, msg);
  mPeer.send(messages::roleSet(msg));
}

void Connection::handleSetSettings(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  if (mPending) {
    sendError(ErrorCode::InvalidState, "the last change is still being made", requestIdOf(msg));
    return;
  }
  auto change = SettingsChange::fromJson(msg);
  if (auto error = mRooms.mayChangeSettings(mRoomId, mParticipantId, change)) return refuse(*error, msg);
  if (!change.pin || change.pin->empty()) {
    if (auto error = mRooms.changeSettings(mRoomId, mParticipantId, change, {}, now)) return refuse(*error, msg);
    mPeer.send(messages::settingsUpdated(msg));
    return;
  }
  // A new PIN is hashed off the I/O thread first.
  mPending = true;
  std::weak_ptr<bool> alive = mAlive;
  mRooms.pinHasher().hash(*change.pin, [this, alive, msg, change](const std::string& hash) {
    if (alive.expired() || mClosed) return;
    mPending = false;
    if (hash.empty()) {
      sendError(ErrorCode::RateLimited, "the server is busy; try again in a moment", requestIdOf(msg));
      return;
    }
    if (auto error = mRooms.changeSettings(mRoomId, mParticipantId, change, hash, mLastNow)) return refuse(*error, msg);
    mPeer.send(messages::settingsUpdated(msg));
  });
}

void Connection::handleAdmit(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  std::string target = msg.contains("participantId") ? msg["participantId"].get<std::string>() : std::string();
  if (auto error = mRooms.admit(mRoomId, mParticipantId, target, now)) return refuse(*error, msg);
  mPeer.send(messages::admitted(msg));
}

void Connection::handleDeny(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  if (auto error = mRooms.deny(mRoomId, mParticipantId, msg["participantId"].get<std::string>(), now))
    return refuse(*error, msg);
  mPeer.send(messages::denied(msg));
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
  auto error =
      mRooms.mute(mRoomId, mParticipantId, msg["participantId"].get<std::string>(), msg["source"].get<std::string>());
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
  const auto& moved = result.value();
  mPeer.send(messages::meetingMoved(msg, moved.roomId, moved.hostToken, moved.moderatorToken));
}

void Connection::handleGetSecurityLog(const nlohmann::json& msg, common::TimePoint) {
  if (!requireJoined(msg)) return;
  std::optional<int64_t> before;
  if (msg.contains("before")) before = msg["before"].get<int64_t>();
  auto result = mRooms.readSecurityLog(mRoomId, mParticipantId, before, msg["limit"].get<size_t>());
  if (!result) return replyControl(msg, result.error(), {});
  mPeer.send(messages::securityLog(msg, result.value()));
}

// Tile sizes: applied to this subscriber's consumers; no reply (sent often, nothing to confirm).
void Connection::handleVideoPreferences(const nlohmann::json& msg, common::TimePoint now) {
  if (!mVideoPreferencesBucket.take(now)) {
    sendError(ErrorCode::RateLimited, "too many video-preferences; this one was dropped", requestIdOf(msg));
    return;
  }
  conference::MediaRoom* media = mediaFor(msg);
  if (!media) return;
  std::vector<conference::VideoPreference> preferences;
  for (const auto& item : msg["preferences"])
    preferences.push_back(
        {item["mid"].get<std::string>(), item["width"].get<uint32_t>(), item["height"].get<uint32_t>()});
  media->setVideoPreferences(mParticipantId, preferences);
}

// Any member may ask (not someone waiting in the lobby). Rate-limited per connection: building
// one reads the room's files and security log and signs the result.
void Connection::handlePrivacyReceipt(const nlohmann::json& msg, common::TimePoint now) {
  if (!requireJoined(msg)) return;
  if (!mReceiptBucket.take(now)) {
    sendError(ErrorCode::RateLimited, "a privacy receipt was made a moment ago; try again in a few seconds",
              requestIdOf(msg));
    return;
  }
  auto result = mRooms.privacyReceipt(mRoomId, mParticipantId, now);
  if (!result) return refuse(result.error(), msg);
  mPeer.send(messages::privacyReceipt(msg, result.value()));
}

void Connection::sendError(ErrorCode code, std::string_view message, const nlohmann::json* request) {
  common::logger("ws")->debug("error reply {}", errorCodeName(code));
  mPeer.send(messages::error(code, message, request));
}

}  // namespace conclave::signaling
