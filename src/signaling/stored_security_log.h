// The security event log kept in the server's database (table security_log), so that entries
// survive a restart for their retention time (`security_log_retention_days`). Same contract as
// MemorySecurityLog: bounded per room and in all, newest first, purged by age.
#pragma once

#include "signaling/security_log.h"
#include "store/event_log_table.h"

namespace conclave::signaling {

class StoredSecurityLog final : public SecurityLog {
 public:
  StoredSecurityLog(const store::Database& db, store::EventLogTable::Limits limits) : mTable(db, limits) {}

  void append(const std::string& roomId, SecurityEvent event) override;
  std::vector<SecurityEvent> list(const std::string& roomId, std::optional<int64_t> before,
                                  size_t limit) const override;
  size_t purge(int64_t olderThan) override { return mTable.purge(olderThan); }
  size_t size() const { return mTable.size(); }

 private:
  store::EventLogTable mTable;
};

}  // namespace conclave::signaling
