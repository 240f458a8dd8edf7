#include "signaling/meeting_store.h"

#include <algorithm>

namespace conclave::signaling {

std::optional<MeetingRecord> InMemoryMeetingStore::get(const std::string& roomId) {
  auto it = mRecords.find(roomId);
  if (it == mRecords.end()) return std::nullopt;
  return it->second.record;
}

bool InMemoryMeetingStore::put(const std::string& roomId, const MeetingRecord& record, WallTime now) {
  auto it = mRecords.find(roomId);
  if (it != mRecords.end()) {
    it->second = {record, now};
    return true;
  }
  // Full: meetings past their retention make room, nothing else does.
  if (mRecords.size() >= mMax) purge(now - mRetention);
  if (mRecords.size() >= mMax) return false;
  mRecords.emplace(roomId, Entry{record, now});
  return true;
}

void InMemoryMeetingStore::touch(const std::string& roomId, WallTime now) {
  auto it = mRecords.find(roomId);
  if (it != mRecords.end()) it->second.lastUsed = std::max(it->second.lastUsed, now);
}

void InMemoryMeetingStore::purge(WallTime cutoff) {
  std::erase_if(mRecords, [&](const auto& item) { return item.second.lastUsed < cutoff; });
}

}  // namespace conclave::signaling
