#include "app/retention.h"

#include <exception>

#include "accounts/account_service.h"
#include "common/log.h"
#include "signaling/security_log.h"
#include "signaling/stored_meeting_store.h"
#include "store/file_store.h"

namespace conclave::app {

void RetentionJob::add(std::string store, Purge purge) { mPurges.emplace_back(std::move(store), std::move(purge)); }

bool RetentionJob::tick(common::TimePoint now) {
  if (mLastRun && now - *mLastRun < mInterval) return false;
  mLastRun = now;
  runAll();
  return true;
}

std::map<std::string, RetentionJob::Counts> RetentionJob::runAll() {
  auto log = common::logger("purge");
  std::map<std::string, Counts> results;
  for (const auto& [store, purge] : mPurges) {
    try {
      Counts counts = purge();
      std::string text;
      for (const auto& [what, n] : counts) text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + what;
      log->info("{}: {}", store, text);
      results[store] = std::move(counts);
    } catch (const std::exception& e) {
      log->warn("{}: the purge failed ({}); it runs again at the next interval", store, e.what());
    }
  }
  return results;
}

RetentionJob::Purge filePurge(store::FileStore& files, const common::Clock& clock) {
  return [&files, &clock] {
    auto c = files.purge(clock.now());
    return RetentionJob::Counts{{"files past retention", c.expiredFiles},
                                {"unused reservations", c.expiredReservations},
                                {"orphans", c.orphans},
                                {"orphan bytes", c.orphanBytes},
                                {"files kept", files.fileCount()},
                                {"meeting keys kept", files.keyCount()}};
  };
}

RetentionJob::Purge meetingPurge(signaling::StoredMeetingStore& meetings, const common::WallClock& clock,
                                 common::Duration retention) {
  return [&meetings, &clock, retention] {
    auto cutoff = clock.now() - std::chrono::duration_cast<common::WallTime::duration>(retention);
    return RetentionJob::Counts{{"meetings unused past retention", meetings.purgeUnused(cutoff)}};
  };
}

RetentionJob::Purge securityLogPurge(signaling::SecurityLog& log, const common::WallClock& clock,
                                     common::Duration retention) {
  return [&log, &clock, retention] {
    const int64_t cutoff = common::unixMillis(clock.now()) - common::toMillis(retention);
    return RetentionJob::Counts{{"entries past retention", log.purge(cutoff)}};
  };
}

RetentionJob::Purge accountPurge(accounts::AccountService& accounts) {
  return [&accounts] {
    auto c = accounts.purgeExpired();
    return RetentionJob::Counts{
        {"expired sessions", c.sessions}, {"expired login tickets", c.tickets}, {"login-attempt counts", c.attempts}};
  };
}

}  // namespace conclave::app
