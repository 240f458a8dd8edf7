#include "signaling/security_log.h"

#include <algorithm>
#include <chrono>

namespace conclave::signaling {

std::string_view securityEventName(SecurityEventType type) {
  switch (type) {
    case SecurityEventType::Joined:
      return "joined";
    case SecurityEventType::Left:
      return "left";
    case SecurityEventType::Knocked:
      return "knocked";
    case SecurityEventType::Admitted:
      return "admitted";
    case SecurityEventType::Denied:
      return "denied";
    case SecurityEventType::Removed:
      return "removed";
    case SecurityEventType::Locked:
      return "locked";
    case SecurityEventType::Unlocked:
      return "unlocked";
    case SecurityEventType::LobbyOn:
      return "lobby-on";
    case SecurityEventType::LobbyOff:
      return "lobby-off";
    case SecurityEventType::PinFailed:
      return "pin-failed";
    case SecurityEventType::PinSet:
      return "pin-set";
    case SecurityEventType::PinCleared:
      return "pin-cleared";
    case SecurityEventType::RoleChanged:
      return "role-changed";
    case SecurityEventType::PolicyChanged:
      return "policy-changed";
    case SecurityEventType::MeetingEnded:
      return "meeting-ended";
    case SecurityEventType::MeetingMoved:
      return "meeting-moved";
  }
  return "unknown";
}

int64_t systemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void MemorySecurityLog::append(const std::string& roomId, SecurityEvent event) {
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) it = mRooms.emplace(roomId, RoomLog{}).first;
  RoomLog& log = it->second;
  log.entries.push_back(std::move(event));
  log.lastWrite = ++mWrites;
  ++mTotal;
  if (log.entries.size() > mLimits.perRoom) {
    log.entries.pop_front();
    --mTotal;
  }
  while (mTotal > mLimits.total && mRooms.size() > 1) evictLeastRecentRoom(roomId);
}

void MemorySecurityLog::evictLeastRecentRoom(const std::string& except) {
  auto victim = mRooms.end();
  for (auto it = mRooms.begin(); it != mRooms.end(); ++it)
    if (it->first != except && (victim == mRooms.end() || it->second.lastWrite < victim->second.lastWrite))
      victim = it;
  if (victim == mRooms.end()) return;
  mTotal -= victim->second.entries.size();
  mRooms.erase(victim);
}

std::vector<SecurityEvent> MemorySecurityLog::list(const std::string& roomId, std::optional<int64_t> before,
                                                   size_t limit) const {
  std::vector<SecurityEvent> out;
  auto it = mRooms.find(roomId);
  if (it == mRooms.end()) return out;
  const auto& entries = it->second.entries;
  for (auto e = entries.rbegin(); e != entries.rend() && out.size() < limit; ++e)
    if (!before || e->at < *before) out.push_back(*e);
  return out;
}

size_t MemorySecurityLog::purge(int64_t olderThan) {
  size_t purged = 0;
  for (auto it = mRooms.begin(); it != mRooms.end();) {
    auto& entries = it->second.entries;
    while (!entries.empty() && entries.front().at < olderThan) {
      entries.pop_front();
      ++purged;
    }
    it = entries.empty() ? mRooms.erase(it) : std::next(it);
  }
  mTotal -= purged;
  return purged;
}

}  // namespace conclave::signaling
