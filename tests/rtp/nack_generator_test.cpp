#include "rtp/nack_generator.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <vector>

using namespace conclave::rtp;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {

std::vector<uint16_t> collect(NackGenerator& g, TimePoint now) {
  std::array<uint16_t, 64> out{};
  const size_t n = g.collect(now, out);
  return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace

TEST(NackGenerator, AGapIsNackedOnceThenRetriedAfterTheRetryInterval) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(100, t);
  g.onPacket(101, t);
  g.onPacket(104, t);
  EXPECT_EQ(g.missingCount(), 2u);
  EXPECT_EQ(collect(g, t), (std::vector<uint16_t>{102, 103}));
  // Not again before an answer had time to come.
  EXPECT_TRUE(collect(g, t + 50ms).empty());
  EXPECT_EQ(collect(g, t + 100ms), (std::vector<uint16_t>{102, 103}));
  // 103 arrives (retransmitted): only 102 is left.
  EXPECT_TRUE(g.onPacket(103, t + 120ms));
  EXPECT_FALSE(g.onPacket(103, t + 121ms));  // a duplicate repairs nothing
  EXPECT_EQ(collect(g, t + 200ms), (std::vector<uint16_t>{102}));
  EXPECT_EQ(g.counters().missing, 2u);
  EXPECT_EQ(g.counters().recovered, 1u);
  EXPECT_FALSE(g.takeKeyframeNeeded());
}

TEST(NackGenerator, GivesUpAfterTheRetryLimitAndAsksForAKeyframe) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(10, t);
  g.onPacket(12, t);
  for (uint8_t i = 0; i < NackGenerator::kMaxRetries; ++i)
    EXPECT_EQ(collect(g, t + i * 100ms), (std::vector<uint16_t>{11})) << int{i};
  EXPECT_FALSE(g.takeKeyframeNeeded());
  EXPECT_TRUE(collect(g, t + NackGenerator::kMaxRetries * 100ms).empty());
  EXPECT_EQ(g.missingCount(), 0u);
  EXPECT_EQ(g.counters().givenUp, 1u);
  EXPECT_TRUE(g.takeKeyframeNeeded());
  EXPECT_FALSE(g.takeKeyframeNeeded());  // once
  EXPECT_EQ(g.counters().requests, NackGenerator::kMaxRetries);
}

TEST(NackGenerator, GivesUpOnPacketsOlderThanTheMaximumAge) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(10, t);
  g.onPacket(12, t);
  EXPECT_EQ(collect(g, t), (std::vector<uint16_t>{11}));
  // A long retry interval (a slow link): the age bound still ends it.
  std::array<uint16_t, 8> out{};
  EXPECT_EQ(g.collect(t + NackGenerator::kMaxAge + 1ms, out, 2s), 0u);
  EXPECT_TRUE(g.takeKeyframeNeeded());
}

TEST(NackGenerator, AGapTooLargeToRepairNeedsAKeyframeAndNacksNothing) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(1000, t);
  g.onPacket(1002, t);
  g.onPacket(static_cast<uint16_t>(1002 + NackGenerator::kMaxGap + 1), t);
  EXPECT_TRUE(g.keyframeNeeded());
  EXPECT_EQ(g.missingCount(), 0u);
  EXPECT_TRUE(collect(g, t).empty());
  EXPECT_TRUE(g.takeKeyframeNeeded());
}

TEST(NackGenerator, WorksAcrossTheSequenceNumberWrap) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(65533, t);
  g.onPacket(2, t);
  EXPECT_EQ(collect(g, t), (std::vector<uint16_t>{65534, 65535, 0, 1}));
  EXPECT_TRUE(g.onPacket(0, t));
  EXPECT_EQ(collect(g, t + 100ms), (std::vector<uint16_t>{65534, 65535, 1}));
}

TEST(NackGenerator, ReorderedAndVeryOldPacketsChangeNothing) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(500, t);
  EXPECT_FALSE(g.onPacket(499, t));    // older than anything tracked
  EXPECT_FALSE(g.onPacket(40500, t));  // more than half the space ahead: older, ignored
  EXPECT_EQ(g.missingCount(), 0u);
  EXPECT_FALSE(g.keyframeNeeded());
}

TEST(NackGenerator, AtMostTheOutputSizeIsReturnedTheRestWaits) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(0, t);
  g.onPacket(201, t);  // 200 missing
  std::array<uint16_t, 64> out{};
  EXPECT_EQ(g.collect(t, out), 64u);
  EXPECT_EQ(out[0], 1u);
  EXPECT_EQ(g.collect(t, out), 64u);
  EXPECT_EQ(out[0], 65u);
  EXPECT_EQ(g.counters().requests, 128u);
}

TEST(NackGenerator, StateStaysBoundedUnderSteadyLossAndJumps) {
  NackGenerator g;
  TimePoint t{};
  uint16_t seq = 0;
  std::array<uint16_t, 64> out{};
  for (int i = 0; i < 200000; ++i) {
    seq = static_cast<uint16_t>(seq + 1 + (i % 7 == 0 ? 3 : 0) + (i % 5000 == 0 ? 300 : 0));
    g.onPacket(seq, t);
    if (i % 10 == 0) g.collect(t, out);
    t += 1ms;
    ASSERT_LE(g.missingCount(), NackGenerator::kWindow);
  }
  EXPECT_GT(g.counters().givenUp, 0u);
  EXPECT_GT(g.counters().keyframesNeeded, 0u);
}

TEST(NackGenerator, ClearBeforeForgetsWhatAKeyframeMadeUnnecessary) {
  NackGenerator g;
  TimePoint t{};
  g.onPacket(1, t);
  g.onPacket(5, t);
  g.onPacket(9, t);
  g.clearBefore(5);
  EXPECT_EQ(collect(g, t), (std::vector<uint16_t>{6, 7, 8}));
}
