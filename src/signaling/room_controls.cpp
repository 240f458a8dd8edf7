// RoomManager: what hosts and moderators do to others (mute, ask to unmute, remove, end, move),
// the meeting's policies where the server enforces them, and the security event log. Every
// rule is checked here, whatever a client's UI shows.
#include <algorithm>

#include "common/log.h"
#include "conference/media_plane.h"
#include "signaling/rooms.h"

namespace conclave::signaling {
namespace {

// The sources one `mute` or `unmute` of `source` covers: a screen share has its audio.
conference::SourceSet sourcesOf(const std::string& source) {
  if (source == "screen") return {"screen", "screen-audio"};
  return {source};
}

// What the policies forbid a member of `role` to share.
conference::SourceSet forbiddenBy(const Policies& policies, Role role) {
  conference::SourceSet out;
  if (!mayUnder(policies.camera, role)) out.insert("camera");
  if (!mayUnder(policies.screen, role)) out.insert({"screen", "screen-audio"});
  return out;
}

}  // namespace

RoomManager::Member* RoomManager::findMember(Room& room, const std::string& participantId) {
  auto m = std::find_if(room.members.begin(), room.members.end(),
                        [&](const Member& x) { return x.info.id == participantId; });
  return m == room.members.end() ? nullptr : &*m;
}

const RoomManager::Member* RoomManager::findMember(const Room& room, const std::string& participantId) const {
  auto m = std::find_if(room.members.begin(), room.members.end(),
                        [&](const Member& x) { return x.info.id == participantId; });
  return m == room.members.end() ? nullptr : &*m;
}

RoomManager::Member* RoomManager::moderator(Room& room, const std::string& by, const Member* target) {
  Member* actor = findMember(room, by);
  if (!actor || !isModeratorOrHost(actor->info.role)) return nullptr;
  // A moderator does not act on a host (a host may act on anyone).
  if (target && actor->info.role != Role::Host && target->info.role == Role::Host) return nullptr;
  return actor;
}

void RoomManager::updatePausedSources(Room& room, const Member& member) {
  if (!room.media) return;
  conference::SourceSet paused = forbiddenBy(room.settings.policies, member.info.role);
  paused.insert(member.muted.begin(), member.muted.end());
  room.media->setPausedSources(member.info.id, std::move(paused));
}

std::optional<ErrorCode> RoomManager::mute(const std::string& roomId, const std::string& by, const std::string& target,
                                           const std::string& source) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  Member* subject = findMember(room, target);
  if (!moderator(room, by, subject)) return ErrorCode::NotAllowed;
  if (!subject) return ErrorCode::ParticipantNotFound;
  for (const auto& s : sourcesOf(source)) {
    subject->muted.insert(s);
    // Only a request made after this mute lets a participant unmute.
    subject->unmuteRequested.erase(s);
  }
  updatePausedSources(room, *subject);
  subject->peer->send(messages::mutedByHost(source, by));
  common::logger("room")->info("room {}: a participant's {} was muted", common::logId(roomId), source);
  countLogLine(roomId, "room", spdlog::level::info);
  return std::nullopt;
}

std::optional<ErrorCode> RoomManager::requestUnmute(const std::string& roomId, const std::string& by,
                                                    const std::string& target, const std::string& source) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  Member* subject = findMember(room, target);
  if (!moderator(room, by, subject)) return ErrorCode::NotAllowed;
  if (!subject) return ErrorCode::ParticipantNotFound;
  subject->unmuteRequested.insert(source);
  subject->peer->send(messages::unmuteRequest(source, by));
  return std::nullopt;
}

std::optional<ErrorCode> RoomManager::unmute(const std::string& roomId, const std::string& participantId,
                                             const std::string& source) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  Member* self = findMember(room, participantId);
  if (!self) return ErrorCode::NotJoined;
  const Role role = self->info.role;
  const Policies& policies = room.settings.policies;
  if (forbiddenBy(policies, role).count(source)) return ErrorCode::ForbiddenByPolicy;
  const bool muted = self->muted.count(source) > 0;
  if (muted && !mayUnder(policies.unmute, role) && !self->unmuteRequested.count(source))
    return ErrorCode::ForbiddenByPolicy;
  for (const auto& s : sourcesOf(source)) {
    self->muted.erase(s);
    self->unmuteRequested.erase(s);
  }
  updatePausedSources(room, *self);
  return std::nullopt;
}

conference::SourceSet RoomManager::forbiddenSources(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return {};
  const Member* m = findMember(it->second, participantId);
  return m ? forbiddenBy(it->second.settings.policies, m->info.role) : conference::SourceSet{};
}

bool RoomManager::mayChat(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return false;
  const Member* m = findMember(it->second, participantId);
  return m && mayUnder(it->second.settings.policies.chat, m->info.role);
}

bool RoomManager::mayShareFiles(const std::string& roomId, const std::string& participantId) const {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return false;
  const Member* m = findMember(it->second, participantId);
  return m && mayUnder(it->second.settings.policies.files, m->info.role);
}

void RoomManager::applyPolicies(const std::string& roomId, const std::string& by) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return;
  Room& room = it->second;
  for (const auto& m : room.members) {
    if (room.media) {
      const conference::SourceSet published = room.media->publishedSources(m.info.id);
      // Tell each one whose sharing stops; "screen" stands for the share with its audio.
      for (const auto& source : forbiddenBy(room.settings.policies, m.info.role)) {
        if (!published.count(source) || m.muted.count(source) || source == "screen-audio") continue;
        m.peer->send(messages::mutedByHost(source, by));
      }
    }
    updatePausedSources(room, m);
  }
}

std::optional<ErrorCode> RoomManager::remove(const std::string& roomId, const std::string& by,
                                             const std::string& target, common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  Room& room = it->second;
  Member* subject = findMember(room, target);
  if (!moderator(room, by, subject) || target == by) return ErrorCode::NotAllowed;
  // Someone waiting in the lobby (an unverified knock) is removed the same way.
  Peer* peer = subject ? subject->peer : nullptr;
  net::SourceKey source = subject ? subject->source : net::SourceKey{};
  for (const auto& w : room.waiting) {
    if (w.info.id != target) continue;
    peer = w.peer;
    source = w.source;
  }
  if (!peer) return ErrorCode::ParticipantNotFound;
  logEvent(roomId, SecurityEventType::Removed, by, target);
  mGuard.ban(roomId, source, now);
  peer->send(messages::goodbye("removed"));
  leave(roomId, target, now);  // a member or someone waiting
  peer->close();
  common::logger("room")->info("room {}: a participant was removed", common::logId(roomId));
  countLogLine(roomId, "room", spdlog::level::info);
  return std::nullopt;
}

void RoomManager::dismissAll(Room& room, std::string_view reason) {
  auto members = std::exchange(room.members, {});
  auto waiting = std::exchange(room.waiting, {});
  room.waitingBytes = 0;
  for (const auto& m : members) {
    if (room.media) room.media->removeParticipant(m.info.id);
    m.peer->send(messages::goodbye(reason));
    m.peer->close();
  }
  for (const auto& w : waiting) {
    w.peer->send(messages::goodbye(reason));
    w.peer->close();
  }
}

void RoomManager::markClosed(const std::string& roomId, const Room& room, bool ended) {
  MeetingRecord record;
  if (auto old = mStore->get(roomId)) record = *old;
  // A persistent room's stable link stays usable for the next meeting held in it.
  if (ended && record.persistent) return;
  record.settings = room.settings;
  record.pinHash = room.pinHash;
  (ended ? record.ended : record.moved) = true;
  if (!mStore->put(roomId, record, std::chrono::system_clock::now())) {
    common::logger("room")->warn("room {}: the meeting store is full; the meeting is not marked closed",
                                 common::logId(roomId));
    countLogLine(roomId, "room", spdlog::level::warn);
  }
}

std::optional<ErrorCode> RoomManager::endMeeting(const std::string& roomId, const std::string& by, common::TimePoint) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  const Member* actor = findMember(it->second, by);
  if (!actor || actor->info.role != Role::Host) return ErrorCode::NotAllowed;
  logEvent(roomId, SecurityEventType::MeetingEnded, by);
  markClosed(roomId, it->second, true);
  dismissAll(it->second, "meeting-ended");
  common::logger("room")->info("room {} ended by a host", common::logId(roomId));
  if (auto again = mRooms.find(roomId); again != mRooms.end()) closeRoom(again);
  return std::nullopt;
}

common::Result<RoomManager::Moved, ErrorCode> RoomManager::moveMeeting(const std::string& roomId, const std::string& by,
                                                                       common::TimePoint now) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  const Member* actor = findMember(it->second, by);
  if (!actor || actor->info.role != Role::Host) return ErrorCode::NotAllowed;
  if (it->second.closeMovedAt) return ErrorCode::MeetingMoved;
  const Room& room = it->second;
  Moved moved{createRoomId(), {}, {}};
  moved.hostToken = mHostTokens.hostToken(moved.roomId);
  moved.moderatorToken = mHostTokens.moderatorToken(moved.roomId);
  // The new room opens with the old one's settings and PIN (from the store) and its bans.
  MeetingRecord record;
  record.settings = room.settings;
  record.pinHash = room.pinHash;
  if (!mStore->put(moved.roomId, record, std::chrono::system_clock::now())) return ErrorCode::Internal;
  mGuard.copyBans(roomId, moved.roomId, now);
  logEvent(roomId, SecurityEventType::MeetingMoved, by);
  logEvent(moved.roomId, SecurityEventType::MeetingMoved, by);
  markClosed(roomId, room, false);
  // The members still need the old room for a while: the hosts tell them the new secret over it.
  mRooms.at(roomId).closeMovedAt = now + mSettings.moveGrace;
  common::logger("room")->info("room {} moved by a host", common::logId(roomId));
  countLogLine(roomId, "room", spdlog::level::info);
  return moved;
}

std::optional<ErrorCode> RoomManager::closedMeeting(const std::string& roomId) const {
  auto record = mStore->get(roomId);
  if (!record) return std::nullopt;
  if (record->ended) return ErrorCode::MeetingEnded;
  if (record->moved) return ErrorCode::MeetingMoved;
  return std::nullopt;
}

void RoomManager::setSecurityLog(SecurityLog* log) { mLog = log ? log : &mOwnLog; }

void RoomManager::logEvent(const std::string& roomId, SecurityEventType type, std::string actor, std::string subject,
                           std::string detail) {
  mLog->append(roomId, SecurityEvent{mWallClock(), type, std::move(actor), std::move(subject), std::move(detail)});
}

common::Result<std::vector<SecurityEvent>, ErrorCode> RoomManager::readSecurityLog(const std::string& roomId,
                                                                                   const std::string& by,
                                                                                   std::optional<int64_t> before,
                                                                                   size_t limit) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return ErrorCode::NotJoined;
  if (!moderator(it->second, by)) return ErrorCode::NotAllowed;
  return mLog->list(roomId, before, std::min(limit, SecurityLog::kMaxListed));
}

void RoomManager::tickControls(common::TimePoint now) {
  // Moved meetings: whoever is still in the old room did not follow (removed, or a straggler).
  for (auto it = mRooms.begin(); it != mRooms.end();) {
    auto next = std::next(it);
    if (it->second.closeMovedAt && now >= *it->second.closeMovedAt) {
      dismissAll(it->second, "meeting-moved");
      closeRoom(it);
    }
    it = next;
  }
}

}  // namespace conclave::signaling
