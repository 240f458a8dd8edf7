#include "bwe/delay_based.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "bwe/rate_control.h"

using namespace conclave::bwe;

namespace {

TEST(InterArrival, PacketsSentWithin5msAreOneGroupAndDeltasAreBetweenGroupEnds) {
  InterArrival ia;
  EXPECT_FALSE(ia.add(0, 100'000));
  EXPECT_FALSE(ia.add(1'000, 101'000));
  EXPECT_FALSE(ia.add(4'000, 104'500));   // still the first group
  EXPECT_FALSE(ia.add(10'000, 110'000));  // the second group starts: only one complete so far
  EXPECT_FALSE(ia.add(12'000, 113'000));
  const auto d = ia.add(20'000, 121'000);  // the third starts: the second is complete
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sendDeltaUs, 12'000 - 4'000);
  EXPECT_EQ(d->arrivalDeltaUs, 113'000 - 104'500);
  EXPECT_EQ(d->arrivalUs, 113'000);
}

TEST(InterArrival, APacketSentBeforeTheCurrentGroupIsIgnored) {
  InterArrival ia;
  ia.add(0, 100'000);
  ia.add(10'000, 110'000);
  EXPECT_FALSE(ia.add(3'000, 200'000));  // reported late; must not stretch the group
  const auto d = ia.add(20'000, 120'000);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->arrivalDeltaUs, 10'000);
}

TEST(InterArrival, AnArrivalJumpOfMoreThan3SecondsStartsOver) {
  InterArrival ia;
  ia.add(0, 100'000);
  ia.add(10'000, 110'000);
  EXPECT_TRUE(ia.add(20'000, 9'000'000'000));  // completes the second group: 10 ms, 10 ms
  EXPECT_EQ(ia.resets(), 0U);
  EXPECT_FALSE(ia.add(30'000, 9'000'010'000));
  EXPECT_EQ(ia.resets(), 1U);
  EXPECT_FALSE(ia.add(40'000, 9'000'020'000));
  EXPECT_TRUE(ia.add(50'000, 9'000'030'000));
}

// Feeds groups 10 ms apart whose arrival spacing is 10 ms + `growthUs`; returns the detector's
// last state.
BandwidthUsage feed(TrendlineEstimator& trend, OveruseDetector& detector, int groups, int64_t growthUs,
                    int64_t& arrivalUs, int64_t& nowUs) {
  BandwidthUsage usage = BandwidthUsage::kNormal;
  for (int i = 0; i < groups; ++i) {
    arrivalUs += 10'000 + growthUs;
    nowUs += 10'000;
    const double t = trend.update(InterArrival::Deltas{10'000, 10'000 + growthUs, arrivalUs});
    usage = detector.detect(t, 10'000, nowUs);
  }
  return usage;
}

TEST(OveruseDetector, AGrowingQueueIsOveruseADrainingOneUnderuseASteadyOneNormal) {
  TrendlineEstimator trend;
  OveruseDetector detector;
  int64_t arrival = 0;
  int64_t now = 0;
  EXPECT_EQ(feed(trend, detector, 60, 0, arrival, now), BandwidthUsage::kNormal);
  EXPECT_EQ(feed(trend, detector, 30, 1'000, arrival, now), BandwidthUsage::kOverusing);  // +1 ms per 10 ms
  EXPECT_EQ(feed(trend, detector, 30, -1'000, arrival, now), BandwidthUsage::kUnderusing);
  EXPECT_EQ(feed(trend, detector, 60, 0, arrival, now), BandwidthUsage::kNormal);
}

// Delay that jitters +-20 ms around a constant is no queue however the trend wobbles; delay that
// grows well past the jitter is one. (The base delay is the running minimum.)
TEST(TrendlineEstimator, AQueueStandsOutFromJitterOnlyOnceItExceedsIt) {
  TrendlineEstimator trend;
  int64_t arrival = 0;
  int64_t previousDelay = 0;
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto jitterUs = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<int64_t>(x % 40'001) - 20'000;
  };
  int stoodOut = 0;
  for (int i = 0; i < 2000; ++i) {
    const int64_t delay = jitterUs();
    arrival += 10'000 + delay - previousDelay;
    trend.update(InterArrival::Deltas{10'000, 10'000 + delay - previousDelay, arrival});
    previousDelay = delay;
    if (i > 100 && trend.queueStandsOut()) ++stoodOut;
  }
  EXPECT_GT(trend.noiseMs(), 5.0);
  EXPECT_LT(stoodOut, 40) << "jitter alone stood out " << stoodOut << " times in 1900 groups";
  // Now a queue: 1 ms more per 10 ms group, 100 ms in a second.
  int firstStandsOut = -1;
  for (int i = 0; i < 100 && firstStandsOut < 0; ++i) {
    const int64_t delay = jitterUs() + 1'000 * (i + 1);
    arrival += 10'000 + delay - previousDelay;
    trend.update(InterArrival::Deltas{10'000, 10'000 + delay - previousDelay, arrival});
    previousDelay = delay;
    if (trend.queueStandsOut()) firstStandsOut = i;
  }
  std::printf("jitter stood out %d times; the queue after %d groups; noise %.1f ms\n", stoodOut, firstStandsOut,
              trend.noiseMs());
  EXPECT_GE(firstStandsOut, 0) << "a queue of 100 ms did not stand out from 20 ms of jitter";
  EXPECT_LT(firstStandsOut, 60) << "a queue stood out only at " << firstStandsOut << " ms";
}

TEST(OveruseDetector, TheThresholdFollowsTheTrendWithinItsBounds) {
  OveruseDetector detector;
  EXPECT_EQ(detector.threshold(), OveruseDetector::kInitialThreshold);
  int64_t now = 0;
  for (int i = 0; i < 1000; ++i) detector.detect(0, 10'000, now += 10'000);
  EXPECT_EQ(detector.threshold(), OveruseDetector::kMinThreshold) << "a quiet path makes it sensitive";
  for (int i = 0; i < 5000; ++i) detector.detect(detector.threshold() + 10, 10'000, now += 10'000);
  EXPECT_GT(detector.threshold(), 100) << "a path whose delay always wobbles makes it tolerant";
  EXPECT_LE(detector.threshold(), OveruseDetector::kMaxThreshold);
  const double before = detector.threshold();
  detector.detect(before + 500, 10'000, now + 10'000);
  EXPECT_EQ(detector.threshold(), before) << "a single spike does not move it";
}

}  // namespace

namespace {

// An overuse takes the estimate to 0.85 x what arrived, unless the sender was sending far below
// the estimate: then what arrived says nothing about the link, and it backs off to 0.85 x twice what
// it sent.
TEST(AimdRateControl, AnOveruseWhileApplicationLimitedBacksOffToTwiceWhatWasSent) {
  AimdRateControl limited(1'000'000, 100'000, 10'000'000);
  EXPECT_EQ(limited.update(BandwidthUsage::kOverusing, 200'000, 50'000, 1'000'000, 210'000), 357'000U);
  AimdRateControl full(1'000'000, 100'000, 10'000'000);
  EXPECT_EQ(full.update(BandwidthUsage::kOverusing, 300'000, 50'000, 1'000'000, 950'000), 255'000U);
  AimdRateControl unknown(1'000'000, 100'000, 10'000'000);
  EXPECT_EQ(unknown.update(BandwidthUsage::kOverusing, 200'000, 50'000, 1'000'000), 170'000U);
}

}  // namespace
