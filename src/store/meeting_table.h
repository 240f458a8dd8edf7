// The meetings table (schema version 3): what outlives an ordinary meeting's room in memory (its
// settings as JSON text, the PIN's Argon2id hash, whether it ended or moved) until
// `meeting_retention_days` after its last use. Persistent rooms keep their settings in `rooms`
// (AccountStore) instead. The SQL only; the meaning is signaling's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.h"

namespace conclave::store {

struct MeetingRow {
  std::string settings;  // JSON object text
  std::string pinHash;   // empty: no PIN
  bool ended = false;
  bool moved = false;
};

class MeetingTable {
 public:
  MeetingTable(const Database& db, size_t maxMeetings) : mDb(db), mMax(maxMeetings) {}

  std::optional<MeetingRow> get(std::string_view roomId) const;
  // Inserts or replaces; false (nothing written) if it is new and the table is full.
  bool put(std::string_view roomId, const MeetingRow& row, int64_t now);
  void touch(std::string_view roomId, int64_t now);
  // Rows last used before `cutoff`; returns how many went.
  size_t purge(int64_t cutoff);
  size_t size() const;

  // A persistent room's settings (rooms.settings), or nullopt if `roomId` is no persistent room.
  std::optional<std::string> persistentSettings(std::string_view roomId) const;
  void setPersistentSettings(std::string_view roomId, std::string_view settings);

 private:
  const Database& mDb;
  size_t mMax;
};

}  // namespace conclave::store
