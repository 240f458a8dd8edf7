// RoomManager, the part that decides who is let in and with which rights: roles, settings, and
// the lobby (rooms.cpp has joining, leaving and relaying).
//
// A waiting person is in no roster: it gets no participant events, no relay, no media and no
// settings, and nobody but hosts and moderators learns of it (through `lobby`, its sealed
// profile only). The whole list goes to hosts and moderators on every change, at most once per
// `lobbyUpdateInterval` (the rest on the next tick) and not to one whose queue is already long,
// so knocking cannot make the server send more than one list per interval per host.
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/random.h"
#include "signaling/rooms.h"

namespace conclave::signaling {

std::optional<ErrorCode> RoomManager::setRole(const std::string& roomId, const std::string& by,
                                              const std::string& target, Role role, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  auto byRole = roleOf(roomId, by);
  if (!byRole) return ErrorCode::NotJoined;
  if (*byRole != Role::Host) return ErrorCode::NotAllowed;
  auto m = std::find_if(room.members.begin(), room.members.end(), [&](const Member& x) { return x.info.id == target; });
  if (m == room.members.end()) return ErrorCode::ParticipantNotFound;
  bool wasPrivileged = isModeratorOrHost(m->info.role);
  m->info.role = role;
  // Whatever the person held before is revoked; a host or moderator role comes with a new grant.
  std::erase_if(room.grants, [&](const Room::Grant& g) { return g.participantId == target; });
  std::string grant;
  if (isModeratorOrHost(role)) {
    if (room.grants.size() >= kMaxRoleGrants) room.grants.erase(room.grants.begin());
    grant = common::randomToken(32);
    room.grants.push_back({grant, target, role});
  }
  broadcast(room, target, messages::role(target, role));
  m->peer->send(messages::role(target, role, grant));
  common::logger("room")->info("room {}: a role changed to {}", common::logId(roomId), roleName(role));
  countLogLine(roomId, "room", spdlog::level::info);
  if (!wasPrivileged && isModeratorOrHost(role)) sendLobby(roomId, target);
  if (role == Role::Host) reconsiderLobby(roomId, room, now);
  logEvent(roomId, SecurityEventType::RoleChanged, by, target, std::string(roleName(role)));
  // Someone who is no longer a host or moderator may no longer share what the policies keep for them.
  applyPolicies(roomId, by);
  return std::nullopt;
}

std::optional<Role> RoomManager::grantedRole(const std::string& roomId, std::string_view token) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end() || token.size() != kHostTokenLength) return std::nullopt;
  for (const Room::Grant& g : it->second.grants)
    if (CRYPTO_memcmp(g.token.data(), token.data(), kHostTokenLength) == 0) return g.role;
  return std::nullopt;
}

std::optional<ErrorCode> RoomManager::mayChangeSettings(const std::string& roomId, const std::string& by,
                                                        const SettingsChange& change) const {
  auto role = roleOf(roomId, by);
  if (!role) return ErrorCode::NotJoined;
  if (*role == Role::Participant) return ErrorCode::NotAllowed;
  // Moderators may lock and unlock, and switch the lobby; the rest is the host's.
  if (*role == Role::Moderator && change.needsHost()) return ErrorCode::NotAllowed;
  return std::nullopt;
}

std::optional<ErrorCode> RoomManager::changeSettings(const std::string& roomId, const std::string& by,
                                                     const SettingsChange& change, const std::string& pinHash,
                                                     common::TimePoint now) {
  if (auto error = mayChangeSettings(roomId, by, change)) return error;
  Room& room = mRooms.at(roomId);
  MeetingSettings before = room.settings;
  bool pinBefore = !room.pinHash.empty();
  change.applyTo(room.settings, defaultSettings().maxParticipants);
  if (change.pin) room.pinHash = change.pin->empty() ? std::string() : pinHash;
  storeSettings(roomId, room);
  if (room.settings != before || pinBefore != !room.pinHash.empty() || change.pin)
    broadcast(room, "", messages::settings(room.settings, !room.pinHash.empty()));
  logSettingsChange(roomId, by, before, room.settings, change);
  if (room.settings.policies != before.policies) applyPolicies(roomId, by);
  reconsiderLobby(roomId, room, now);
  return std::nullopt;
}

void RoomManager::logSettingsChange(const std::string& roomId, const std::string& by, const MeetingSettings& before,
                                    const MeetingSettings& after, const SettingsChange& change) {
  if (before.locked != after.locked)
    logEvent(roomId, after.locked ? SecurityEventType::Locked : SecurityEventType::Unlocked, by);
  if (before.lobby != after.lobby)
    logEvent(roomId, after.lobby ? SecurityEventType::LobbyOn : SecurityEventType::LobbyOff, by);
  if (change.pin) logEvent(roomId, change.pin->empty() ? SecurityEventType::PinCleared : SecurityEventType::PinSet, by);
  const auto policy = [&](std::string_view name, Allowed was, Allowed now) {
    if (was != now)
      logEvent(roomId, SecurityEventType::PolicyChanged, by, {},
               std::string(name) + (now == Allowed::Everyone ? "=everyone" : "=moderators"));
  };
  policy("unmute", before.policies.unmute, after.policies.unmute);
  policy("camera", before.policies.camera, after.policies.camera);
  policy("screen", before.policies.screen, after.policies.screen);
  policy("chat", before.policies.chat, after.policies.chat);
  policy("files", before.policies.files, after.policies.files);
}

void RoomManager::storeSettings(const std::string& roomId, const Room& room) {
  MeetingRecord record;
  if (auto old = mStore->get(roomId)) record = *old;
  record.settings = room.settings;
  record.pinHash = room.pinHash;
  if (!mStore->put(roomId, record, std::chrono::system_clock::now())) {
    common::logger("room")->warn("room {}: the meeting store is full; its settings last only while it is open",
                                 common::logId(roomId));
    countLogLine(roomId, "room", spdlog::level::warn);
  }
}

std::optional<ErrorCode> RoomManager::admit(const std::string& roomId, const std::string& by, const std::string& target,
                                            common::TimePoint now) {
  auto role = roleOf(roomId, by);
  if (!role) return ErrorCode::NotJoined;
  if (*role == Role::Participant) return ErrorCode::NotAllowed;
  Room& room = mRooms.at(roomId);
  if (target.empty()) {
    // Everyone, as long as there is room; who does not fit waits on.
    bool full = false;
    for (size_t i = 0; i < room.waiting.size();) {
      const std::string id = room.waiting[i].info.id;
      if (!admitWaiting(roomId, room, i, now)) {
        full = true;
        break;
      }
      logEvent(roomId, SecurityEventType::Admitted, by, id);
    }
    lobbyChanged(room, now);
    if (full) return ErrorCode::RoomFull;
    return std::nullopt;
  }
  for (size_t i = 0; i < room.waiting.size(); ++i) {
    if (room.waiting[i].info.id != target) continue;
    if (!admitWaiting(roomId, room, i, now)) return ErrorCode::RoomFull;
    lobbyChanged(room, now);
    logEvent(roomId, SecurityEventType::Admitted, by, target);
    return std::nullopt;
  }
  return ErrorCode::NotWaiting;
}

std::optional<ErrorCode> RoomManager::deny(const std::string& roomId, const std::string& by, const std::string& target,
                                           common::TimePoint now) {
  auto role = roleOf(roomId, by);
  if (!role) return ErrorCode::NotJoined;
  if (*role == Role::Participant) return ErrorCode::NotAllowed;
  Room& room = mRooms.at(roomId);
  for (size_t i = 0; i < room.waiting.size(); ++i) {
    if (room.waiting[i].info.id != target) continue;
    Peer* peer = room.waiting[i].peer;
    removeWaiting(room, i);
    peer->send(messages::goodbye("denied"));
    peer->close();
    lobbyChanged(room, now);
    logEvent(roomId, SecurityEventType::Denied, by, target);
    common::logger("room")->info("room {}: someone was turned away from the lobby", common::logId(roomId));
    countLogLine(roomId, "room", spdlog::level::info);
    return std::nullopt;
  }
  return ErrorCode::NotWaiting;
}

bool RoomManager::admitWaiting(const std::string& roomId, Room& room, size_t index, common::TimePoint) {
  if (room.members.size() >= capacity(room)) return false;
  Waiting waiting = std::move(room.waiting[index]);
  removeWaiting(room, index);
  std::vector<ParticipantInfo> others;
  for (const auto& m : room.members) others.push_back(m.info);
  Role role = waiting.info.role;
  std::string id = waiting.info.id;
  addMember(roomId, room, std::move(waiting.info), *waiting.peer, waiting.source);
  std::optional<TurnCredential> turn;
  if (mTurn) turn = mTurn->issue();
  JoinedInfo info{role, room.settings, !room.pinHash.empty()};
  waiting.peer->send(messages::joined(nullptr, roomId, id, others, turn ? &*turn : nullptr, info));
  if (isModeratorOrHost(role)) sendLobby(roomId, id);
  return true;
}

void RoomManager::removeWaiting(Room& room, size_t index) {
  room.waitingBytes -= room.waiting[index].info.profile.size();
  room.waiting.erase(room.waiting.begin() + static_cast<std::ptrdiff_t>(index));
}

void RoomManager::reconsiderLobby(const std::string& roomId, Room& room, common::TimePoint now) {
  bool changed = false;
  for (size_t i = 0; i < room.waiting.size();) {
    auto reason = waitReason(room, room.waiting[i].info.role);
    if (reason.empty()) {
      if (!admitWaiting(roomId, room, i, now)) break;  // full: the rest wait on
      changed = true;
      continue;
    }
    if (reason != room.waiting[i].reason) {
      room.waiting[i].reason = reason;
      room.waiting[i].peer->send(messages::waiting(nullptr, room.waiting[i].info.id, reason));
    }
    ++i;
  }
  if (changed) lobbyChanged(room, now);
}

void RoomManager::sendLobby(const std::string& roomId, const std::string& participantId) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  std::vector<ParticipantInfo> list;
  for (const auto& w : it->second.waiting) list.push_back(w.info);
  for (const auto& m : it->second.members)
    if (m.info.id == participantId && isModeratorOrHost(m.info.role)) m.peer->send(messages::lobby(list));
}

void RoomManager::lobbyChanged(Room& room, common::TimePoint now) {
  room.lobbyDirty = true;
  flushLobby(room, now, false);
}

void RoomManager::flushLobby(Room& room, common::TimePoint now, bool force) {
  if (!room.lobbyDirty) return;
  if (!force && room.lobbySentAt && now - *room.lobbySentAt < mSettings.lobbyUpdateInterval) return;
  std::vector<ParticipantInfo> list;
  list.reserve(room.waiting.size());
  for (const auto& w : room.waiting) list.push_back(w.info);
  auto text = std::make_shared<const std::string>(
      messages::lobby(list).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  bool skipped = false;
  for (const auto& m : room.members) {
    if (!isModeratorOrHost(m.info.role)) continue;
    // One that does not read gets the list when it has caught up (the next tick after).
    if (m.peer->queuedBytes() > mSettings.congestedQueueBytes) {
      skipped = true;
      continue;
    }
    m.peer->sendText(text);
  }
  room.lobbyDirty = skipped;
  room.lobbySentAt = now;
}

}  // namespace conclave::signaling
