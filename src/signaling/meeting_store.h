// Where a meeting's settings outlive its room: what the host chose at creation (POST /api/rooms)
// or later, the PIN's hash, whether the meeting ended or moved, and when it was last used.
//
// A small interface so that the accounts store (SQLite, table `meetings`) can take over from the
// in-memory implementation here without the room logic changing. All calls happen on the I/O
// thread; implementations need no locking for the room logic's sake.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "signaling/meeting_settings.h"

namespace conclave::signaling {

struct MeetingRecord {
  MeetingSettings settings;
  // Argon2id hash (libsodium crypto_pwhash_str format) of the PIN; empty: no PIN.
  std::string pinHash;
  bool ended = false;
  bool moved = false;
  // A persistent room of an account (its stable link outlives each meeting held in it): ending
  // the meeting dismisses everyone but does not close the room. Not stored; the store knows.
  bool persistent = false;
};

class MeetingStore {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  virtual ~MeetingStore() = default;

  // The meeting's record, or nullopt when the store has none (a meeting with default settings).
  virtual std::optional<MeetingRecord> get(const std::string& roomId) = 0;
  // Creates or replaces the record; `now` counts as a use. False when the store has no room for
  // another meeting (the caller refuses what needed it; nothing is evicted to make room, since
  // evicting a meeting would drop its PIN).
  virtual bool put(const std::string& roomId, const MeetingRecord& record, WallTime now) = 0;
  // The meeting was used (someone joined); keeps it from being purged.
  virtual void touch(const std::string& roomId, WallTime now) = 0;
  // Drops the records of meetings last used before `cutoff`.
  virtual void purge(WallTime cutoff) = 0;
};

// Records in memory, at most `maxMeetings`; lost on restart (ordinary meetings then fall back to
// default settings, so a PIN set on a meeting does not survive a restart until the SQLite store).
class InMemoryMeetingStore final : public MeetingStore {
 public:
  explicit InMemoryMeetingStore(size_t maxMeetings = 100000, std::chrono::hours retention = std::chrono::hours(24 * 30))
      : mMax(maxMeetings), mRetention(retention) {}

  std::optional<MeetingRecord> get(const std::string& roomId) override;
  bool put(const std::string& roomId, const MeetingRecord& record, WallTime now) override;
  void touch(const std::string& roomId, WallTime now) override;
  void purge(WallTime cutoff) override;
  size_t size() const { return mRecords.size(); }

 private:
  struct Entry {
    MeetingRecord record;
    WallTime lastUsed;
  };
  size_t mMax;
  std::chrono::hours mRetention;
  std::unordered_map<std::string, Entry> mRecords;
};

}  // namespace conclave::signaling
