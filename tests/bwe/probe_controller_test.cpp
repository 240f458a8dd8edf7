#include "bwe/probe_controller.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace conclave::bwe;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {

const TimePoint kStart = TimePoint(100s);

TEST(ProbeController, DoesNotProbeWhenNothingMoreIsWanted) {
  ProbeController probes({});
  EXPECT_FALSE(probes.process(1'000'000, 0, kStart));
  EXPECT_FALSE(probes.process(1'000'000, 900'000, kStart));
  EXPECT_FALSE(probes.process(1'000'000, 1'000'000, kStart));
}

TEST(ProbeController, AClusterIsAtLeastFivePacketsOver15msAt1_5To2TimesTheEstimate) {
  ProbeController probes({});
  const auto c = probes.process(1'000'000, 3'000'000, kStart);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->targetBps, 2'000'000U) << "no more than twice the estimate at once";
  EXPECT_GE(c->packets, 5);
  EXPECT_LE(c->bytesPerPacket, 1200U);
  const double bits = 8.0 * c->packets * c->bytesPerPacket;
  const double seconds = std::chrono::duration<double>(c->duration).count();
  EXPECT_NEAR(bits / seconds, 2'000'000, 20'000) << "the duration paces it at the target";
  EXPECT_NEAR(seconds, 0.015, 0.002);

  ProbeController small({});
  const auto d = small.process(1'000'000, 1'100'000, kStart);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->targetBps, 1'500'000U) << "at least 1.5 x, or the result cannot tell much";
}

TEST(ProbeController, ALowEstimateStillGetsFivePacketsOfAUsefulSize) {
  ProbeController probes({});
  const auto c = probes.process(60'000, 200'000, kStart);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->targetBps, 120'000U);
  EXPECT_EQ(c->packets, 5);
  EXPECT_EQ(c->bytesPerPacket, 100U);
  EXPECT_NEAR(std::chrono::duration<double>(c->duration).count(), 5 * 100 * 8 / 120'000.0, 0.001);
}

TEST(ProbeController, OneClusterAtATimeAndEachHasItsOwnId) {
  ProbeController probes({});
  const auto first = probes.process(1'000'000, 3'000'000, kStart);
  ASSERT_TRUE(first);
  EXPECT_TRUE(probes.inFlight());
  EXPECT_FALSE(probes.process(1'000'000, 3'000'000, kStart + 100ms));
  // The feedback carried it: the estimate rose, and the next step may be probed at once.
  const auto second = probes.process(2'000'000, 3'000'000, kStart + 200ms);
  ASSERT_TRUE(second);
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(second->targetBps, 3'000'000U);
  EXPECT_EQ(probes.failures(), 0);
}

TEST(ProbeController, AFailedProbeBacksOffDoublingUpTo10Seconds) {
  ProbeController probes({});
  TimePoint now = kStart;
  ASSERT_TRUE(probes.process(300'000, 800'000, now));
  const std::chrono::seconds expected[] = {2s, 4s, 8s, 10s, 10s};
  for (const auto backoff : expected) {
    now += 1s;  // the result timeout: the estimate did not move
    EXPECT_FALSE(probes.process(300'000, 800'000, now));
    EXPECT_FALSE(probes.process(300'000, 800'000, now + backoff - 1ms));
    now += backoff;
    ASSERT_TRUE(probes.process(300'000, 800'000, now)) << backoff.count();
  }
  EXPECT_EQ(probes.failures(), 5);
}

TEST(ProbeController, AWishThatGoesAwayForgetsTheBackoff) {
  ProbeController probes({});
  ASSERT_TRUE(probes.process(300'000, 800'000, kStart));
  EXPECT_FALSE(probes.process(300'000, 800'000, kStart + 1s));  // failed: 2 s backoff
  EXPECT_FALSE(probes.process(300'000, 0, kStart + 1100ms));    // the tile went away
  EXPECT_TRUE(probes.process(300'000, 800'000, kStart + 1200ms));
}

TEST(ProbeController, NeverAboveTheConfiguredMaximum) {
  ProbeController probes({.maxBps = 2'500'000});
  const auto c = probes.process(2'000'000, 9'000'000, kStart);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->targetBps, 2'500'000U);
  ProbeController atMax({.maxBps = 2'500'000});
  EXPECT_FALSE(atMax.process(2'500'000, 9'000'000, kStart));
}

}  // namespace
