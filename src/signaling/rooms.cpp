#include "signaling/rooms.h"

#include <algorithm>

#include "common/log.h"
#include "common/random.h"
#include "conference/media_plane.h"
#include "store/file_store.h"

namespace conclave::signaling {
namespace {

std::vector<uint8_t> randomKey() {
  std::vector<uint8_t> key(32);
  common::randomBytes(key);
  return key;
}

}  // namespace

void Peer::subscribeOffer(const std::string& sdp, const std::vector<conference::OfferedTrack>& tracks) {
  send(messages::subscribeOffer(sdp, tracks));
}

void Peer::mediaFailed(sfu::TransportRole role) { send(messages::mediaFailed(role)); }

RoomManager::RoomManager(const RoomIdIssuer& issuer, Settings settings, conference::MediaPlane* media,
                         store::FileStore* files)
    : mIssuer(issuer),
      mSettings(settings),
      mMedia(media),
      mFiles(files),
      mHostTokens(randomKey()),
      mGuard(settings.guard),
      mOwnReceiptKey(randomKey()) {
  if (mMedia) {
    mMedia->transportFailedHandler = [this](const std::string& pid, sfu::TransportRole role) {
      onTransportFailed(pid, role);
    };
    mMedia->transportSecuredHandler = [this](const std::string& pid, sfu::TransportRole role,
                                             const std::string& profile) { onTransportSecured(pid, role, profile); };
  }
}

RoomManager::~RoomManager() {
  while (!mRooms.empty()) closeRoom(mRooms.begin());
  if (mMedia) {
    mMedia->transportFailedHandler = nullptr;
    mMedia->transportSecuredHandler = nullptr;
  }
}

conference::MediaRoom* RoomManager::media(const std::string& roomId) {
  auto it = mRooms.find(roomId);
  return it == mRooms.end() ? nullptr : it->second.media.get();
}

MeetingSettings RoomManager::defaultSettings() const {
  MeetingSettings settings;
  settings.maxParticipants = static_cast<int>(std::min<size_t>(mSettings.maxParticipants, kMaxMeetingParticipants));
  return settings;
}

RoomManager::RoomIt RoomManager::findOrOpen(const std::string& roomId) {
  auto it = mRooms.find(roomId);
  if (it != mRooms.end()) return it;
  auto record = mStore->get(roomId);
  if (!record && !mIssuer.verify(roomId)) return mRooms.end();
  it = mRooms.emplace(roomId, Room{}).first;
  Room& room = it->second;
  room.settings = defaultSettings();
  if (record) {
    room.settings = record->settings;
    room.settings.maxParticipants = std::min(room.settings.maxParticipants, defaultSettings().maxParticipants);
    room.pinHash = record->pinHash;
  }
  if (mMedia) room.media = mMedia->createRoom(roomId);
  room.openedAt = mWallClock();
  common::logger("room")->info("room {} opened", common::logId(roomId));
  countLogLine(roomId, "room", spdlog::level::info);
  return it;
}

void RoomManager::closeRoom(RoomIt it) {
  if (it->second.media && mMedia) mMedia->roomClosed(it->second.media->worker().index());
  // The meeting has ended: its files and its bans go with it.
  if (mFiles) mFiles->deleteRoom(it->first);
  mGuard.forgetMeeting(it->first);
  mRooms.erase(it);
}

void RoomManager::onTransportSecured(const std::string& participantId, sfu::TransportRole role,
                                     const std::string& profile) {
  for (auto& [id, room] : mRooms) {
    for (auto& m : room.members) {
      if (m.info.id != participantId) continue;
      (role == sfu::TransportRole::Publish ? m.publishSrtp : m.subscribeSrtp) = profile;
      return;
    }
  }
}

void RoomManager::onTransportFailed(const std::string& participantId, sfu::TransportRole role) {
  for (auto& [id, room] : mRooms) {
    for (const auto& m : room.members) {
      if (m.info.id == participantId && room.media) {
        room.media->onTransportFailed(participantId, role);
        return;
      }
    }
  }
}

common::Result<RoomManager::Joined, ErrorCode> RoomManager::fail(const std::string& roomId,
                                                                 const net::SourceKey& source, ErrorCode code,
                                                                 common::TimePoint now) {
  mGuard.recordFailure(roomId, source, now);
  return code;
}

bool RoomManager::hostPresent(const Room& room) {
  return std::any_of(room.members.begin(), room.members.end(),
                     [](const Member& m) { return m.info.role == Role::Host; });
}

std::string RoomManager::waitReason(const Room& room, Role role) {
  if (role == Role::Host) return {};
  if (room.settings.hostMustBePresent && !hostPresent(room)) return "host-absent";
  if (room.settings.lobby && role == Role::Participant) return "lobby";
  return {};
}

size_t RoomManager::capacity(const Room& room) const {
  return std::min<size_t>(mSettings.maxParticipants, static_cast<size_t>(room.settings.maxParticipants));
}

common::Result<RoomManager::Joined, ErrorCode> RoomManager::join(const std::string& roomId, Peer& peer,
                                                                 JoinRequest request, common::TimePoint now) {
  if (auto closed = closedMeeting(roomId)) return fail(roomId, request.source, *closed, now);
  auto it = findOrOpen(roomId);
  if (it == mRooms.end()) return fail(roomId, request.source, ErrorCode::RoomNotFound, now);
  Room& room = it->second;
  // A room opened by a failed attempt closes after its grace period like any empty room.
  updateEmpty(room, now);
  if (request.role == Role::Participant) {
    if (room.settings.locked) return fail(roomId, request.source, ErrorCode::MeetingLocked, now);
  }
  if (request.role != Role::Host && mGuard.isBanned(roomId, request.source, now))
    return fail(roomId, request.source, ErrorCode::Banned, now);
  if (request.role == Role::Participant && !room.pinHash.empty() && !request.pinChecked) {
    if (!request.pinGiven) return fail(roomId, request.source, ErrorCode::PinRequired, now);
    Joined check;
    check.state = JoinState::CheckPin;
    check.pinHash = room.pinHash;
    return check;
  }

  Joined joined;
  joined.participantId = common::randomToken(16);
  for (Room::Grant& g : room.grants)
    if (g.token == request.credential) g.participantId = joined.participantId;
  common::logger("tap")->trace("profile {} bytes: {}", request.profile.size(),
                               std::string_view(request.profile).substr(0, 64));
  countLogLine(roomId, "tap", spdlog::level::trace);
  if (auto reason = waitReason(room, request.role); !reason.empty()) {
    if (room.waiting.size() >= mSettings.maxLobby ||
        room.waitingBytes + request.profile.size() > mSettings.maxLobbyProfileBytes)
      return ErrorCode::RoomFull;
    room.waitingBytes += request.profile.size();
    room.waiting.push_back(
        Waiting{{joined.participantId, std::move(request.profile), request.role}, &peer, request.source, now, reason});
    room.emptySince.reset();
    lobbyChanged(room, now);
    common::logger("room")->info("room {}: someone waits ({}), {} waiting", common::logId(roomId), reason,
                                 room.waiting.size());
    countLogLine(roomId, "room", spdlog::level::info);
    joined.state = JoinState::Waiting;
    joined.reason = reason;
    logEvent(roomId, SecurityEventType::Knocked, {}, joined.participantId);
    return joined;
  }
  if (room.members.size() >= capacity(room)) return ErrorCode::RoomFull;
  for (const auto& m : room.members) joined.others.push_back(m.info);
  joined.info = {request.role, room.settings, !room.pinHash.empty()};
  addMember(roomId, room, {joined.participantId, std::move(request.profile), request.role}, peer, request.source);
  if (request.role == Role::Host) reconsiderLobby(roomId, room, now);
  return joined;
}

RoomManager::Member& RoomManager::addMember(const std::string& roomId, Room& room, ParticipantInfo info, Peer& peer,
                                            const net::SourceKey& source) {
  broadcast(room, "", messages::participantJoined(info));
  std::string id = info.id;
  room.members.push_back(Member{std::move(info), &peer, source});
  room.members.back().joinedAt = mWallClock();
  room.emptySince.reset();
  if (room.media) room.media->addParticipant(id, peer);
  mStore->touch(roomId, std::chrono::system_clock::now());
  logEvent(roomId, SecurityEventType::Joined, {}, id);
  common::logger("room")->info("room {}: participant joined, {} present", common::logId(roomId), room.members.size());
  countLogLine(roomId, "room", spdlog::level::info);
  return room.members.back();
}

std::optional<Role> RoomManager::roleOf(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return std::nullopt;
  for (const auto& m : it->second.members)
    if (m.info.id == participantId) return m.info.role;
  return std::nullopt;
}

bool RoomManager::isWaiting(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return false;
  return std::any_of(it->second.waiting.begin(), it->second.waiting.end(),
                     [&](const Waiting& w) { return w.info.id == participantId; });
}

void RoomManager::updateProfile(const std::string& roomId, const std::string& participantId, std::string profile) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  for (auto& m : it->second.members) {
    if (m.info.id != participantId) continue;
    m.info.profile = std::move(profile);
    broadcast(it->second, participantId, messages::participantUpdated(m.info));
    return;
  }
}

void RoomManager::updateEmpty(Room& room, common::TimePoint now) {
  if (room.members.empty() && room.waiting.empty()) {
    if (!room.emptySince) room.emptySince = now;
  } else {
    room.emptySince.reset();
  }
}

void RoomManager::leave(const std::string& roomId, const std::string& participantId, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  Room& room = it->second;
  for (size_t i = 0; i < room.waiting.size(); ++i) {
    if (room.waiting[i].info.id != participantId) continue;
    removeWaiting(room, i);
    lobbyChanged(room, now);
    updateEmpty(room, now);
    return;
  }
  auto before = room.members.size();
  std::erase_if(room.members, [&](const Member& m) { return m.info.id == participantId; });
  if (room.members.size() == before) return;
  if (room.media) room.media->removeParticipant(participantId);
  broadcast(room, participantId, messages::participantLeft(participantId));
  logEvent(roomId, SecurityEventType::Left, {}, participantId);
  updateEmpty(room, now);
  common::logger("room")->info("room {}: participant left, {} present", common::logId(roomId), room.members.size());
  countLogLine(roomId, "room", spdlog::level::info);
}
std::optional<size_t> RoomManager::relay(const std::string& roomId, const std::string& from, const std::string& to,
                                         const std::string& payload, common::TimePoint now, std::string_view kind) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return std::nullopt;
  Room& room = it->second;
  if (std::none_of(room.members.begin(), room.members.end(), [&](const Member& m) { return m.info.id == from; }))
    return std::nullopt;
  // At trace level the head of what is relayed is logged: tests check that it is ciphertext.
  common::logger("tap")->trace("relay {} bytes: {}", payload.size(), std::string_view(payload).substr(0, 64));
  countLogLine(roomId, "tap", spdlog::level::trace);
  nlohmann::json message = messages::relay(from, payload, kind);
  size_t sent = 0;
  if (to.empty()) {
    sent = broadcast(room, from, message);
  } else {
    auto m = std::find_if(room.members.begin(), room.members.end(),
                          [&](const Member& x) { return x.info.id == to && to != from; });
    if (m == room.members.end()) return std::nullopt;
    auto text =
        std::make_shared<const std::string>(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    m->peer->sendText(text);
    sent = text->size();
  }
  if (!room.relayBudget) room.relayBudget.emplace(mSettings.relayBytesPerSecond, mSettings.relayBurstBytes, now);
  room.relayBudget->charge(static_cast<double>(sent), now);
  return sent;
}

common::Duration RoomManager::relayWait(const std::string& roomId, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end() || !it->second.relayBudget) return common::Duration::zero();
  return it->second.relayBudget->wait(now);
}

bool RoomManager::congested(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return false;
  for (const auto& m : it->second.members)
    if (m.info.id != participantId && m.peer->queuedBytes() > mSettings.congestedQueueBytes) return true;
  return false;
}

void RoomManager::tick(common::TimePoint now) {
  if (mFiles) mFiles->tick(now);
  tickControls(now);
  for (auto it = mRooms.begin(); it != mRooms.end();) {
    Room& room = it->second;
    // Nobody waits forever: the lobby is a budget like any other.
    bool changed = false;
    for (size_t i = 0; i < room.waiting.size();) {
      if (now - room.waiting[i].since < mSettings.lobbyTimeout) {
        ++i;
        continue;
      }
      Peer* peer = room.waiting[i].peer;
      removeWaiting(room, i);
      peer->send(messages::goodbye("lobby-timeout"));
      peer->close();
      changed = true;
    }
    if (changed) {
      lobbyChanged(room, now);
      updateEmpty(room, now);
    }
    flushLobby(room, now, false);
    if (room.members.empty() && room.waiting.empty() && room.emptySince && now - *room.emptySince >= mSettings.grace) {
      common::logger("room")->info("room {} closed", common::logId(it->first));
      auto next = std::next(it);
      closeRoom(it);
      it = next;
    } else {
      ++it;
    }
  }
}

size_t RoomManager::participantCount(const std::string& roomId) const {
  auto it = mRooms.find(roomId);
  return it == mRooms.end() ? 0 : it->second.members.size();
}

size_t RoomManager::participantTotal() const {
  size_t total = 0;
  for (const auto& [id, room] : mRooms) total += room.members.size();
  return total;
}

size_t RoomManager::waitingCount(const std::string& roomId) const {
  auto it = mRooms.find(roomId);
  return it == mRooms.end() ? 0 : it->second.waiting.size();
}

size_t RoomManager::broadcast(const Room& room, const std::string& except, const nlohmann::json& message) {
  auto text =
      std::make_shared<const std::string>(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  size_t sent = 0;
  for (const auto& m : room.members) {
    if (m.info.id == except) continue;
    m.peer->sendText(text);
    sent += text->size();
  }
  return sent;
}

}  // namespace conclave::signaling
