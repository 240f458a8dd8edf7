// CreationLimiter: how many meetings one source may start, with the time passed in.
#include "http/creation_limiter.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace conclave;
using namespace std::chrono_literals;

namespace {

const common::TimePoint t0 = common::TimePoint{} + 1000s;

net::SourceKey source(uint8_t n) {
  net::SourceKey key{};
  key[15] = n;
  return key;
}

}  // namespace

TEST(CreationLimiter, ABurstPassesThenOneSourceWaitsWhileAnotherStartsMeetings) {
  http::CreationLimiter limiter({.perSecond = 0.5, .burst = 20, .maxSources = 100});
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(source(1), t0);
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(limiter.allow(source(2), t0));
  // Two seconds later one more.
  EXPECT_TRUE(limiter.allow(source(1), t0 + 2s));
  EXPECT_FALSE(limiter.allow(source(1), t0 + 2s));
}

TEST(CreationLimiter, ManySourcesStayBoundedAndTheIdlestIsForgotten) {
  http::CreationLimiter limiter({.perSecond = 0.5, .burst = 1, .maxSources = 3});
  EXPECT_TRUE(limiter.allow(source(1), t0));
  EXPECT_TRUE(limiter.allow(source(2), t0 + 1ms));
  EXPECT_TRUE(limiter.allow(source(3), t0 + 2ms));
  EXPECT_FALSE(limiter.allow(source(2), t0 + 3ms));  // used its burst, and is now the freshest
  EXPECT_TRUE(limiter.allow(source(4), t0 + 4ms));   // source 1 was idle the longest: forgotten
  EXPECT_EQ(limiter.sourceCount(), 3u);
  EXPECT_FALSE(limiter.allow(source(2), t0 + 5ms));  // still remembered, still waiting
}
