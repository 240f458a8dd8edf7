#include "accounts/attempt_limiter.h"

#include <gtest/gtest.h>

using conclave::accounts::AttemptLimiter;
using conclave::accounts::SourceHasher;

TEST(AttemptLimiter, FiveFailuresBlockForASecondDoublingUpToFifteenMinutes) {
  AttemptLimiter limiter;
  int64_t now = 1000;
  for (int i = 0; i < 4; ++i) limiter.failure("u:alice", now);
  EXPECT_EQ(limiter.retryAfterMs("u:alice", now), 0);
  limiter.failure("u:alice", now);
  EXPECT_EQ(limiter.retryAfterMs("u:alice", now), 1000);
  limiter.failure("u:alice", now);
  EXPECT_EQ(limiter.retryAfterMs("u:alice", now), 2000);
  for (int i = 0; i < 40; ++i) limiter.failure("u:alice", now);
  EXPECT_EQ(limiter.retryAfterMs("u:alice", now), 15 * 60 * 1000);
  EXPECT_EQ(limiter.retryAfterMs("u:bob", now), 0);
  limiter.success("u:alice");
  EXPECT_EQ(limiter.retryAfterMs("u:alice", now), 0);
}

TEST(AttemptLimiter, CountsDecayAfterAnHourWithoutFailures) {
  AttemptLimiter limiter;
  for (int i = 0; i < 4; ++i) limiter.failure("k", 0);
  limiter.failure("k", 3600 * 1000);  // the old four are forgotten: this is the first
  EXPECT_EQ(limiter.retryAfterMs("k", 3600 * 1000), 0);
}

TEST(AttemptLimiter, HoldsAtMostMaxKeys) {
  AttemptLimiter::Settings settings;
  settings.maxKeys = 100;
  AttemptLimiter limiter(settings);
  for (int i = 0; i < 1000; ++i) limiter.failure("k" + std::to_string(i), i);
  EXPECT_LE(limiter.size(), 100u);
}

TEST(SourceHasher, KeysDifferPerSourceAndChangeWithTheDailySalt) {
  SourceHasher hasher;
  hasher.rotateIfDue(0);
  conclave::net::SourceKey a{1}, b{2};
  auto keyA = hasher.keyOf(a);
  EXPECT_EQ(keyA.size(), 16u);
  EXPECT_NE(keyA, hasher.keyOf(b));
  EXPECT_FALSE(hasher.rotateIfDue(23LL * 3600 * 1000));
  EXPECT_EQ(hasher.keyOf(a), keyA);
  EXPECT_TRUE(hasher.rotateIfDue(24LL * 3600 * 1000));
  EXPECT_NE(hasher.keyOf(a), keyA);
}
