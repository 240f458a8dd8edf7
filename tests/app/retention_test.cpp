// The retention job over every store at once, with injected clocks: each purge takes exactly what
// is past its retention and nothing else, and the job runs at start and then when due.
#include "app/retention.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "accounts/account_service.h"
#include "signaling/stored_meeting_store.h"
#include "signaling/stored_security_log.h"
#include "store/account_store.h"
#include "store/database.h"
#include "store/file_store.h"

using namespace conclave;
using namespace conclave::app;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr auto kDay = std::chrono::hours(24);

class RetentionTest : public ::testing::Test {
 protected:
  static fs::path freshDir() {
    auto dir = fs::temp_directory_path() / ("conclave-retention-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    return dir;
  }
  static store::FileStore::Settings fileSettings(const fs::path& dir) {
    store::FileStore::Settings s;
    s.directory = dir / "files";
    s.minFreeDiskBytes = 0;
    s.retention = 1h;
    return s;
  }
  static accounts::AccountSettings quick() {
    accounts::AccountSettings s;
    s.hashOpsLimit = 1;
    s.hashMemLimit = 8192;
    return s;
  }
  int64_t nowMs() const { return common::unixMillis(wall.now()); }
  void logJoin(const std::string& room, const std::string& participant) {
    securityLog.append(room, signaling::SecurityEvent{nowMs(), signaling::SecurityEventType::Joined, "", participant});
  }
  void login(const std::string& user, const std::string& password, uint8_t from) {
    accounts.login(user, password, net::SourceKey{from}, [](const accounts::Outcome<accounts::LoginResult>&) {});
  }
  std::string storeFile(const std::string& room, common::TimePoint at) {
    auto up = files.reserve(room, 5, at).value();
    auto writer = files.openUpload(up.fileId, up.token, 5);
    EXPECT_TRUE(writer.ok());
    EXPECT_TRUE(writer->write({reinterpret_cast<const uint8_t*>("bytes"), 5}).ok());
    EXPECT_TRUE(files.completeUpload(up.fileId, 5));
    return up.fileId;
  }
  static uint64_t count(const RetentionJob::Counts& counts, const std::string& what) {
    for (const auto& [name, n] : counts)
      if (name == what) return n;
    ADD_FAILURE() << "no count " << what;
    return 0;
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path dir = freshDir();
  common::ManualClock clock;
  common::ManualWallClock wall{common::WallTime(std::chrono::milliseconds(1'700'000'000'000))};
  store::Database db{dir.string()};
  store::FileStore files{fileSettings(dir)};
  signaling::StoredMeetingStore meetings{db, 1000, 100};
  signaling::StoredSecurityLog securityLog{db, {}};
  store::AccountStore accountStore{db};
  accounts::AccountService accounts{accountStore,
                                    std::vector<uint8_t>(32, 1),
                                    std::vector<uint8_t>(32, 2),
                                    [] { return std::string("room"); },
                                    quick(),
                                    [](const std::function<void()>& work, const std::function<void()>& then) {
                                      work();
                                      then();
                                    },
                                    [this] { return nowMs(); }};
};

}  // namespace

TEST_F(RetentionTest, EveryStoreLosesExactlyWhatIsPastItsRetentionAtStartAndThenWhenDue) {
  ASSERT_TRUE(accounts.addUser("alice", "correct horse").ok());
  const auto start = wall.now();
  auto at = [&](common::Duration since) {
    return start + std::chrono::duration_cast<common::WallTime::duration>(since);
  };

  // Meetings (30 days after their last use): one used at the start, one two days later.
  signaling::MeetingRecord record;
  ASSERT_TRUE(meetings.put("meeting-old", record, at(0s)));
  ASSERT_TRUE(meetings.put("meeting-young", record, at(2 * kDay)));
  // Security log (7 days): an entry at day 23, one at day 24.
  wall.advance(23 * kDay);
  logJoin("meeting-young", "p1");
  wall.advance(kDay);
  logJoin("meeting-young", "p2");
  // Sessions (12 h idle): one 13 h before the purge, one just before it. Login-attempt counts
  // (1 h decay): failures 2 h before and just before it (each counts a name and a source).
  wall.advance(6 * kDay - 13h);
  login("alice", "correct horse", 1);
  wall.advance(11h);
  login("nobody", "wrong horse", 2);
  wall.advance(2h);
  login("alice", "correct horse", 1);
  login("nobody2", "wrong horse", 3);
  // Files (1 h, steady clock): one at the start, one half an hour later; and an orphan.
  auto oldFile = storeFile("meeting-young", clock.now());
  clock.advance(30min);
  auto youngFile = storeFile("meeting-young", clock.now());
  clock.advance(30min);
  { std::ofstream(dir / "files" / "orphan") << "left"; }
  wall.advance(1s);  // now: day 30 + 1 s

  RetentionJob job(1h);
  job.add("files", filePurge(files, clock));
  job.add("meetings", meetingPurge(meetings, wall, 30 * kDay));
  job.add("security log", securityLogPurge(securityLog, wall, 7 * kDay));
  job.add("accounts", accountPurge(accounts));
  ASSERT_TRUE(job.tick(clock.now())) << "runs at start";

  // What ran is what the stores hold now; each lost only what was past its retention.
  EXPECT_FALSE(meetings.get("meeting-old"));
  EXPECT_TRUE(meetings.get("meeting-young"));
  auto entries = securityLog.list("meeting-young", std::nullopt, 10);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].subject, "p2");
  auto user = accountStore.findUser("alice");
  ASSERT_TRUE(user) << "accounts are kept: they are their holders' own";
  auto sessions = db.prepare("SELECT count(*) FROM sessions");
  ASSERT_TRUE(sessions.step());
  EXPECT_EQ(sessions.columnInt(0), 1);
  EXPECT_FALSE(files.download(oldFile));
  EXPECT_TRUE(files.download(youngFile));
  EXPECT_FALSE(fs::exists(dir / "files" / "orphan"));

  // A second run right away is not due; an interval later it runs and finds nothing more.
  EXPECT_FALSE(job.tick(clock.now() + 59min));
  clock.advance(1h);
  auto again = job.runAll();
  EXPECT_EQ(count(again["files"], "files past retention"), 1u) << "the young file's hour is up";
  EXPECT_EQ(count(again["meetings"], "meetings unused past retention"), 0u);
  EXPECT_EQ(count(again["security log"], "entries past retention"), 0u);
  EXPECT_EQ(count(again["accounts"], "expired sessions"), 0u);
  EXPECT_EQ(count(again["accounts"], "login-attempt counts"), 0u);
  EXPECT_FALSE(files.hasKey("meeting-young")) << "its last file went: so did its key";
}

TEST_F(RetentionTest, TheCountsOfTheFirstRunAreWhatWentAndAFailingPurgeStopsNoOther) {
  ASSERT_TRUE(accounts.addUser("alice", "correct horse").ok());
  signaling::MeetingRecord record;
  ASSERT_TRUE(meetings.put("m", record, wall.now()));
  logJoin("m", "p1");
  login("alice", "correct horse", 1);
  login("nobody", "wrong", 2);
  storeFile("m", clock.now());
  auto unused = files.reserve("m", 5, clock.now());
  ASSERT_TRUE(unused.ok());
  clock.advance(2h);
  wall.advance(31 * kDay);

  RetentionJob job(1h);
  job.add("broken", []() -> RetentionJob::Counts { throw std::runtime_error("disk I/O error"); });
  job.add("files", filePurge(files, clock));
  job.add("meetings", meetingPurge(meetings, wall, 30 * kDay));
  job.add("security log", securityLogPurge(securityLog, wall, 7 * kDay));
  job.add("accounts", accountPurge(accounts));
  auto result = job.runAll();
  EXPECT_EQ(result.count("broken"), 0u);
  EXPECT_EQ(count(result["files"], "files past retention"), 1u);
  EXPECT_EQ(count(result["files"], "unused reservations"), 1u);
  EXPECT_EQ(count(result["files"], "meeting keys kept"), 0u);
  EXPECT_EQ(count(result["meetings"], "meetings unused past retention"), 1u);
  EXPECT_EQ(count(result["security log"], "entries past retention"), 1u);
  EXPECT_EQ(count(result["accounts"], "expired sessions"), 1u);
  EXPECT_EQ(count(result["accounts"], "login-attempt counts"), 2u);
}
