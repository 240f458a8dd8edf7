// The in-memory security event log: newest first, paging with `before`, bounded per meeting and
// in all, purged by age.
#include "signaling/security_log.h"

#include <gtest/gtest.h>

using namespace conclave::signaling;

namespace {

SecurityEvent event(int64_t at, SecurityEventType type = SecurityEventType::Joined, std::string subject = "") {
  return SecurityEvent{at, type, "", std::move(subject), ""};
}

std::vector<int64_t> times(const std::vector<SecurityEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.at);
  return out;
}

}  // namespace

TEST(SecurityLog, ListsAMeetingsEntriesNewestFirstInPages) {
  MemorySecurityLog log;
  for (int64_t at = 1; at <= 5; ++at) log.append("room-a", event(at * 1000));
  log.append("room-b", event(2500));
  EXPECT_EQ(times(log.list("room-a", std::nullopt, 2)), (std::vector<int64_t>{5000, 4000}));
  EXPECT_EQ(times(log.list("room-a", 4000, 2)), (std::vector<int64_t>{3000, 2000}));
  EXPECT_EQ(times(log.list("room-a", 2000, 10)), (std::vector<int64_t>{1000}));
  EXPECT_EQ(times(log.list("room-b", std::nullopt, 10)), (std::vector<int64_t>{2500}));
  EXPECT_TRUE(log.list("room-c", std::nullopt, 10).empty());
}

TEST(SecurityLog, EachMeetingKeepsItsNewestEntriesWithinItsBound) {
  MemorySecurityLog log({.perRoom = 3, .total = 100});
  for (int64_t at = 1; at <= 10; ++at) log.append("room-a", event(at));
  EXPECT_EQ(times(log.list("room-a", std::nullopt, 10)), (std::vector<int64_t>{10, 9, 8}));
  EXPECT_EQ(log.size(), 3u);
}

TEST(SecurityLog, PastTheTotalBoundTheMeetingWrittenToLeastRecentlyGoes) {
  MemorySecurityLog log({.perRoom = 10, .total = 5});
  log.append("old", event(1));
  log.append("old", event(2));
  log.append("busy", event(3));
  log.append("quiet", event(4));
  log.append("busy", event(5));
  log.append("busy", event(6));  // 6 > 5: "old" goes
  EXPECT_TRUE(log.list("old", std::nullopt, 10).empty());
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(log.list("quiet", std::nullopt, 10).size(), 1u);
}

TEST(SecurityLog, PurgeDropsEntriesOlderThanTheCutOffOnly) {
  MemorySecurityLog log;
  log.append("room-a", event(100));
  log.append("room-a", event(200));
  log.append("room-b", event(150));
  EXPECT_EQ(log.purge(200), 2u);
  EXPECT_EQ(times(log.list("room-a", std::nullopt, 10)), (std::vector<int64_t>{200}));
  EXPECT_TRUE(log.list("room-b", std::nullopt, 10).empty());
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.purge(200), 0u);
}

TEST(SecurityLog, EveryEventTypeHasItsWireName) {
  EXPECT_EQ(securityEventName(SecurityEventType::LobbyOn), "lobby-on");
  EXPECT_EQ(securityEventName(SecurityEventType::PinFailed), "pin-failed");
  EXPECT_EQ(securityEventName(SecurityEventType::MeetingMoved), "meeting-moved");
  for (int t = 0; t <= static_cast<int>(SecurityEventType::MeetingMoved); ++t)
    EXPECT_NE(securityEventName(static_cast<SecurityEventType>(t)), "unknown");
}
