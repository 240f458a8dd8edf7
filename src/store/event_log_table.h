// The security_log table (schema version 3): the rows of meetings' security event logs, as text.
// signaling::StoredSecurityLog gives them their meaning; this is the SQL and the bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace conclave::store {

struct EventLogRow {
  int64_t at = 0;  // Unix milliseconds
  std::string type;
  std::string actor;
  std::string subject;
  std::string detail;
};

class EventLogTable {
 public:
  struct Limits {
    size_t perRoom = 1000;  // a room's oldest rows give way to new ones
    size_t total = 100000;  // past it, the oldest rows of all go
  };
  EventLogTable(const Database& db, Limits limits) : mDb(db), mLimits(limits) {}

  void append(std::string_view roomId, const EventLogRow& row);
  // The room's rows older than `before` (all when nullopt), newest first, at most `limit`.
  std::vector<EventLogRow> list(std::string_view roomId, std::optional<int64_t> before, size_t limit) const;
  // Deletes rows older than `olderThan`; returns how many.
  size_t purge(int64_t olderThan);
  size_t size() const;

 private:
  const Database& mDb;
  Limits mLimits;
  uint64_t mAppends = 0;
};

}  // namespace conclave::store
