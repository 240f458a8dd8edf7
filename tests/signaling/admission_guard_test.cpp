// The anti-hijacking counters and the ban table on their own: backoff, decay, salt rotation,
// memory bounds. Time is driven by hand.
#include "signaling/admission_guard.h"

#include <gtest/gtest.h>

using namespace conclave::signaling;
using namespace std::chrono_literals;
using conclave::common::TimePoint;

namespace {

conclave::net::SourceKey source(uint32_t n) {
  conclave::net::SourceKey key{};
  key[0] = static_cast<uint8_t>(n);
  key[1] = static_cast<uint8_t>(n >> 8);
  key[2] = static_cast<uint8_t>(n >> 16);
  return key;
}

}  // namespace

TEST(AdmissionGuard, BackoffDoublesUpToTheCapAndDecaysAfterAnHourWithoutFailures) {
  AdmissionGuard guard({});
  TimePoint now{};
  for (int i = 0; i < 4; ++i) guard.recordFailure("r", source(1), now);
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 0s);
  guard.recordFailure("r", source(1), now);
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 1s);
  guard.recordFailure("r", source(1), now);
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 2s);
  for (int i = 0; i < 30; ++i) guard.recordFailure("r", source(1), now);
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 15min);
  EXPECT_EQ(guard.blockedFor("r", source(2), now), 0s);
  now += 15min + 1h;
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 0s);
  guard.recordFailure("r", source(1), now);
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 0s);  // counting starts over
}

TEST(AdmissionGuard, MemoryIsBoundedWhateverTheNumberOfSources) {
  AdmissionGuard::Limits limits;
  limits.maxSources = 100;
  limits.maxMeetings = 10;
  limits.maxBansPerMeeting = 5;
  AdmissionGuard guard(limits);
  TimePoint now{};
  for (uint32_t i = 0; i < 5000; ++i) guard.recordFailure("room" + std::to_string(i % 50), source(i), now);
  EXPECT_LE(guard.sourceCount(), 100u);
  EXPECT_LE(guard.meetingCount(), 10u);
  for (uint32_t i = 0; i < 50; ++i) guard.ban("r", source(i), now);
  int banned = 0;
  for (uint32_t i = 0; i < 50; ++i) banned += guard.isBanned("r", source(i), now) ? 1 : 0;
  EXPECT_EQ(banned, 5);
}

TEST(AdmissionGuard, BansLastAtLeastADayAcrossTheSaltRotationAndEndWithTheMeeting) {
  AdmissionGuard guard({});
  TimePoint now{};
  guard.ban("r", source(7), now);
  EXPECT_TRUE(guard.isBanned("r", source(7), now));
  EXPECT_FALSE(guard.isBanned("r", source(8), now));
  EXPECT_FALSE(guard.isBanned("other", source(7), now));
  now += 25h;  // one rotation: checked under the previous salt
  EXPECT_TRUE(guard.isBanned("r", source(7), now));
  now += 24h;  // two: gone
  EXPECT_FALSE(guard.isBanned("r", source(7), now));
  guard.ban("r", source(7), now);
  guard.forgetMeeting("r");
  EXPECT_FALSE(guard.isBanned("r", source(7), now));
}

TEST(AdmissionGuard, TheDailySaltRotationDropsTheCounters) {
  AdmissionGuard guard({});
  TimePoint now{};
  for (int i = 0; i < 10; ++i) guard.recordFailure("r", source(1), now);
  EXPECT_GT(guard.blockedFor("r", source(1), now), 0s);
  now += 24h;
  EXPECT_EQ(guard.blockedFor("r", source(1), now), 0s);
  EXPECT_EQ(guard.sourceCount(), 0u);
}
