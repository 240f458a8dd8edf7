// The security event log in the database: the contract of MemorySecurityLog, and entries that
// survive a restart until their retention time.
#include "signaling/stored_security_log.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace conclave;
using namespace conclave::signaling;

namespace {

class StoredSecurityLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("conclave-seclog-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

SecurityEvent event(int64_t at, SecurityEventType type = SecurityEventType::Joined, std::string subject = "") {
  return SecurityEvent{at, type, "", std::move(subject), ""};
}

std::vector<int64_t> times(const std::vector<SecurityEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.at);
  return out;
}

}  // namespace

TEST_F(StoredSecurityLogTest, ListsAMeetingsEntriesNewestFirstInPagesWithEveryField) {
  store::Database db(dir.string());
  StoredSecurityLog log(db, {});
  for (int64_t at = 1; at <= 5; ++at) log.append("room-a", event(at * 1000));
  log.append("room-b", SecurityEvent{2500, SecurityEventType::RoleChanged, "p1", "p2", "moderator"});
  EXPECT_EQ(times(log.list("room-a", std::nullopt, 2)), (std::vector<int64_t>{5000, 4000}));
  EXPECT_EQ(times(log.list("room-a", 4000, 2)), (std::vector<int64_t>{3000, 2000}));
  EXPECT_EQ(times(log.list("room-a", 2000, 10)), (std::vector<int64_t>{1000}));
  auto b = log.list("room-b", std::nullopt, 10);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].type, SecurityEventType::RoleChanged);
  EXPECT_EQ(b[0].actor, "p1");
  EXPECT_EQ(b[0].subject, "p2");
  EXPECT_EQ(b[0].detail, "moderator");
  EXPECT_TRUE(log.list("room-c", std::nullopt, 10).empty());
}

TEST_F(StoredSecurityLogTest, EveryEventTypeComesBackAsItWent) {
  store::Database db(dir.string());
  StoredSecurityLog log(db, {});
  const int last = static_cast<int>(SecurityEventType::MeetingMoved);
  for (int t = 0; t <= last; ++t) log.append("room", event(t, static_cast<SecurityEventType>(t)));
  auto listed = log.list("room", std::nullopt, 100);
  ASSERT_EQ(listed.size(), static_cast<size_t>(last + 1));
  for (const auto& e : listed) EXPECT_EQ(static_cast<int>(e.type), e.at);
}

TEST_F(StoredSecurityLogTest, EachMeetingKeepsItsNewestEntriesAndTheTotalIsBounded) {
  store::Database db(dir.string());
  StoredSecurityLog perRoom(db, {.perRoom = 3, .total = 100000});
  for (int64_t at = 1; at <= 10; ++at) perRoom.append("room-a", event(at));
  EXPECT_EQ(times(perRoom.list("room-a", std::nullopt, 10)), (std::vector<int64_t>{10, 9, 8}));
  EXPECT_EQ(perRoom.size(), 3u);

  StoredSecurityLog total(db, {.perRoom = 1000, .total = 150});
  for (int64_t at = 100; at < 400; ++at) total.append("room-" + std::to_string(at % 7), event(at));
  EXPECT_LE(total.size(), 250u) << "checked every 100 appends: at most 100 over";
  EXPECT_GE(total.size(), 150u);
  EXPECT_TRUE(total.list("room-a", std::nullopt, 10).empty()) << "the oldest rows went first";
}

TEST_F(StoredSecurityLogTest, EntriesSurviveARestartUntilTheyArePurged) {
  const int64_t day = 24LL * 3600 * 1000;
  {
    store::Database db(dir.string());
    StoredSecurityLog log(db, {});
    log.append("room", event(1 * day, SecurityEventType::Knocked, "p9"));
    log.append("room", event(5 * day, SecurityEventType::Admitted, "p9"));
  }
  store::Database db(dir.string());
  StoredSecurityLog log(db, {});
  EXPECT_EQ(times(log.list("room", std::nullopt, 10)), (std::vector<int64_t>{5 * day, 1 * day}));
  // Retention 7 days, "now" = day 9: the entry of day 1 goes, the one of day 5 stays.
  EXPECT_EQ(log.purge(9 * day - 7 * day), 1u);
  EXPECT_EQ(times(log.list("room", std::nullopt, 10)), (std::vector<int64_t>{5 * day}));
}
