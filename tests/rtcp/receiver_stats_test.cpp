#include "rtcp/receiver_stats.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

using namespace conclave::rtcp;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {
const TimePoint kT0 = TimePoint{} + 100s;
}

TEST(ReceiverStats, NoLoss) {
  ReceiverStats stats(0x1234, 90000);
  EXPECT_FALSE(stats.hasPackets());
  for (uint16_t i = 0; i < 100; ++i) stats.onPacket(1000 + i, 3000u * i, kT0 + i * 33ms);
  const ReportBlock b = stats.makeReportBlock(kT0 + 4s);
  EXPECT_EQ(b.ssrc, 0x1234u);
  EXPECT_EQ(b.highestSequence, 1099u);
  EXPECT_EQ(b.cumulativeLost, 0);
  EXPECT_EQ(b.fractionLost, 0);
  EXPECT_EQ(b.lastSr, 0u);
  EXPECT_EQ(b.delaySinceLastSr, 0u);
  EXPECT_EQ(stats.expected(), 100);
  EXPECT_EQ(stats.received(), 100u);
}

TEST(ReceiverStats, LossPerIntervalAndCumulative) {
  ReceiverStats stats(1, 48000);
  for (uint16_t i = 0; i < 100; ++i) {
    if (i % 10 == 3) continue;  // 10 of 100 lost
    stats.onPacket(i, 960u * i, kT0 + i * 20ms);
  }
  ReportBlock b = stats.makeReportBlock(kT0 + 2s);
  EXPECT_EQ(b.cumulativeLost, 10);
  EXPECT_EQ(b.fractionLost, (10 << 8) / 100);  // 25
  for (uint16_t i = 100; i < 200; ++i) stats.onPacket(i, 960u * i, kT0 + i * 20ms);
  b = stats.makeReportBlock(kT0 + 4s);
  EXPECT_EQ(b.fractionLost, 0);     // nothing lost in this interval
  EXPECT_EQ(b.cumulativeLost, 10);  // still 10 overall
  for (uint16_t i = 200; i < 204; ++i) {
    if (i != 201) stats.onPacket(i, 960u * i, kT0 + i * 20ms);
  }
  b = stats.makeReportBlock(kT0 + 5s);
  EXPECT_EQ(b.fractionLost, 64);  // 1 of 4
  EXPECT_EQ(b.cumulativeLost, 11);
}

TEST(ReceiverStats, DuplicatesMakeLossNegative) {
  ReceiverStats stats(1, 48000);
  for (uint16_t i = 0; i < 10; ++i) {
    stats.onPacket(i, 960u * i, kT0 + i * 20ms);
    stats.onPacket(i, 960u * i, kT0 + i * 20ms + 1ms);
  }
  const ReportBlock b = stats.makeReportBlock(kT0 + 1s);
  EXPECT_EQ(b.cumulativeLost, -10);
  EXPECT_EQ(b.fractionLost, 0);
}

TEST(ReceiverStats, CountsCyclesAcrossTheWrapAndToleratesReordering) {
  ReceiverStats stats(1, 90000);
  for (uint32_t i = 0; i < 100; ++i) {
    stats.onPacket(static_cast<uint16_t>(65500 + i), 0, kT0 + i * 10ms);
  }
  stats.onPacket(65530, 0, kT0 + 1s);  // late duplicate from before the wrap
  EXPECT_EQ(stats.extendedHighestSequence(), 65536u + 63);
  EXPECT_EQ(stats.expected(), 100);
  EXPECT_EQ(stats.lost(), -1);
}

TEST(ReceiverStats, ResyncsAfterASenderRestart) {
  ReceiverStats stats(1, 90000);
  for (uint16_t i = 0; i < 50; ++i) stats.onPacket(i, 0, kT0);
  stats.onPacket(30000, 0, kT0);  // a jump: not counted yet
  EXPECT_EQ(stats.received(), 50u);
  EXPECT_EQ(stats.extendedHighestSequence(), 49u);
  stats.onPacket(30001, 0, kT0);  // the next one follows it: the sender restarted
  EXPECT_EQ(stats.received(), 1u);
  EXPECT_EQ(stats.extendedHighestSequence(), 30001u);
  stats.onPacket(30002, 0, kT0);
  EXPECT_EQ(stats.expected(), 2);
  EXPECT_EQ(stats.lost(), 0);
}

TEST(ReceiverStats, JitterFollowsRfc3550A8) {
  // Audio at 48 kHz, 20 ms apart, arriving alternately on time and 5 ms late: every |D| is 5 ms
  // = 240 ticks, so J_n = 240 * (1 - (15/16)^(n-1)).
  ReceiverStats stats(1, 48000);
  double reference = 0;
  for (uint32_t i = 0; i < 200; ++i) {
    const auto late = (i % 2 == 1) ? 5ms : 0ms;
    stats.onPacket(static_cast<uint16_t>(i), 960 * i, kT0 + i * 20ms + late);
    if (i > 0) reference += (240.0 - reference) / 16.0;
    // A.8's integer form truncates (J is kept x16 and reported >> 4).
    EXPECT_NEAR(stats.jitter(), reference, 1.5) << i;
  }
  EXPECT_NEAR(stats.jitter(), 240, 1);
  EXPECT_EQ(stats.makeReportBlock(kT0 + 5s).jitter, stats.jitter());
  // Perfectly paced packets: the estimate decays towards 0.
  ReceiverStats steady(2, 90000);
  for (uint32_t i = 0; i < 100; ++i) {
    const auto arrival = kT0 + std::chrono::nanoseconds(int64_t{i} * 100'000'000 / 3);  // 30 fps
    steady.onPacket(static_cast<uint16_t>(i), 3000 * i, arrival);
  }
  EXPECT_LE(steady.jitter(), 1u);
}

TEST(ReceiverStats, LastSrAndDelaySinceIt) {
  ReceiverStats stats(1, 90000);
  stats.onPacket(1, 0, kT0);
  stats.onSenderReport(0xEEB3540753EC2480ull, kT0 + 1s);
  const ReportBlock b = stats.makeReportBlock(kT0 + 2500ms);
  EXPECT_EQ(b.lastSr, 0x540753ECu);
  EXPECT_EQ(b.delaySinceLastSr, 98304u);  // 1.5 s in 1/65536 s
}
