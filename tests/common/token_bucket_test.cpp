// TokenBucket (a message rate) and DebtBucket (a byte budget that goes into debt), with the time
// passed in: nothing here sleeps or reads a clock.
#include "common/token_bucket.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace conclave::common;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = TimePoint{} + 1000s;

// How many take() calls succeed at `now`, up to `limit`.
int takeAll(TokenBucket& bucket, TimePoint now, int limit = 1000) {
  int n = 0;
  while (n < limit && bucket.take(now)) ++n;
  return n;
}

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST(TokenBucket, StartsFullSoABurstPassesAndTheNextIsRefused) {
  TokenBucket bucket(10, 5, t0);
  EXPECT_EQ(takeAll(bucket, t0), 5);
  EXPECT_FALSE(bucket.take(t0));
}

// Rates and steps below are powers of two, so the token counts are exact in floating point.
TEST(TokenBucket, RefillsAtItsRate) {
  TokenBucket bucket(8, 5, t0);  // one token every 125 ms
  takeAll(bucket, t0);
  EXPECT_FALSE(bucket.take(t0 + 62500us));
  EXPECT_TRUE(bucket.take(t0 + 125ms));  // the half token from 62.5 ms was kept
  EXPECT_FALSE(bucket.take(t0 + 125ms));
  EXPECT_EQ(takeAll(bucket, t0 + 500ms), 3);
}

TEST(TokenBucket, AnIdleBucketHoldsNoMoreThanItsBurst) {
  TokenBucket bucket(8, 5, t0);
  takeAll(bucket, t0);
  EXPECT_EQ(takeAll(bucket, t0 + 1h), 5);
}

TEST(TokenBucket, ASteadySenderAtTheRateIsNeverRefused) {
  TokenBucket bucket(64, 1, t0);  // one token every 15.625 ms
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.take(t0 + i * 15625us)) << i;
  EXPECT_FALSE(bucket.take(t0 + 999 * 15625us + 7812us));  // twice the rate is not
}

TEST(TokenBucket, ARefusedTakeCostsNothing) {
  TokenBucket bucket(8, 1, t0);
  ASSERT_TRUE(bucket.take(t0));
  for (int i = 1; i < 8; ++i) EXPECT_FALSE(bucket.take(t0 + i * 15625us));
  EXPECT_TRUE(bucket.take(t0 + 125ms));  // the refused attempts did not push the refill back
}

TEST(TokenBucket, TimeThatGoesBackwardsAddsNothing) {
  TokenBucket bucket(10, 5, t0);
  takeAll(bucket, t0);
  EXPECT_FALSE(bucket.take(t0 - 10s));
  // Nor does it move the reference: 100 ms after t0 is one token, not the 10 s back and forth.
  EXPECT_EQ(takeAll(bucket, t0 + 100ms), 1);
}

TEST(DebtBucket, WithinTheBurstThereIsNoWait) {
  DebtBucket bucket(1000, 500, t0);  // 1000 bytes a second, 500 at once
  bucket.charge(500, t0);
  EXPECT_EQ(bucket.wait(t0), Duration::zero());
}

TEST(DebtBucket, WhatWasSentIsAlwaysChargedAndTheDebtIsTheWait) {
  DebtBucket bucket(1000, 500, t0);
  bucket.charge(1500, t0);  // balance -1000: one second of rate
  EXPECT_NEAR(seconds(bucket.wait(t0)), 1.0, 1e-6);
  bucket.charge(1000, t0);  // deeper in debt, still charged
  EXPECT_NEAR(seconds(bucket.wait(t0)), 2.0, 1e-6);
  EXPECT_NEAR(seconds(bucket.wait(t0 + 500ms)), 1.5, 1e-6);
  EXPECT_EQ(bucket.wait(t0 + 2s), Duration::zero());
}

TEST(DebtBucket, AnIdleBucketHoldsNoMoreThanItsBurst) {
  DebtBucket bucket(1000, 500, t0);
  bucket.charge(501, t0 + 1h);
  EXPECT_NEAR(seconds(bucket.wait(t0 + 1h)), 0.001, 1e-6);
}

TEST(DebtBucket, TimeThatGoesBackwardsNeitherRefillsNorMovesTheReference) {
  DebtBucket bucket(1000, 0, t0);
  bucket.charge(1000, t0);
  EXPECT_NEAR(seconds(bucket.wait(t0 - 5s)), 1.0, 1e-6);
  EXPECT_NEAR(seconds(bucket.wait(t0 + 500ms)), 0.5, 1e-6);
}
