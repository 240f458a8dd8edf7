// The retention job: the one place that runs every store's purge, at start and then every
// `interval` (hourly in main). Each purge reads the clock it was given (tests inject their own)
// and reports counts; the job logs one line per store with them, never an ID, name or address.
//
// What each store keeps and for how long is listed in docs/privacy.md:
//   files         past file_retention_seconds, reservations never uploaded, orphans on disk
//                 (FileStore::tick also expires them every second; purge adds the orphan scan)
//   meetings      settings of meetings last used more than meeting_retention_days ago
//   security log  entries older than security_log_retention_days
//   accounts      login sessions idle 12 h or older than 7 days, second-factor tickets after
//                 5 min, login-attempt counts after their decay; accounts themselves are kept
//                 until the operator deletes them (they are their holders' own)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/wall_clock.h"

namespace conclave::store {
class FileStore;
}
namespace conclave::signaling {
class StoredMeetingStore;
class SecurityLog;
}  // namespace conclave::signaling
namespace conclave::accounts {
class AccountService;
}

namespace conclave::app {

class RetentionJob {
 public:
  using Counts = std::vector<std::pair<std::string, uint64_t>>;  // (what, how many)
  using Purge = std::function<Counts()>;

  explicit RetentionJob(common::Duration interval) : mInterval(interval) {}

  void add(std::string store, Purge purge);
  // Runs every purge if due: at the first call, then `interval` after the previous run. True if
  // it ran.
  bool tick(common::TimePoint now);
  // Runs every purge now, in the order added. One that throws is logged and the others still
  // run; its counts are missing from the result.
  std::map<std::string, Counts> runAll();

 private:
  common::Duration mInterval;
  std::optional<common::TimePoint> mLastRun;
  std::vector<std::pair<std::string, Purge>> mPurges;
};

// Conclave's stores, each purged against its own clock.
RetentionJob::Purge filePurge(store::FileStore& files, const common::Clock& clock);
RetentionJob::Purge meetingPurge(signaling::StoredMeetingStore& meetings, const common::WallClock& clock,
                                 common::Duration retention);
RetentionJob::Purge securityLogPurge(signaling::SecurityLog& log, const common::WallClock& clock,
                                     common::Duration retention);
// The account service reads its own injected clock.
RetentionJob::Purge accountPurge(accounts::AccountService& accounts);

}  // namespace conclave::app
