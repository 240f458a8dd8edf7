// A token bucket: `rate` tokens per second up to `burst`; time is passed in.
#pragma once

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace conclave::signaling {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst, common::TimePoint now) : mRate(rate), mBurst(burst), mTokens(burst), mLast(now) {}

  bool take(common::TimePoint now) {
    double elapsed = std::chrono::duration<double>(now - mLast).count();
    mLast = now;
    mTokens = std::min(mBurst, mTokens + std::max(0.0, elapsed) * mRate);
    if (mTokens < 1.0) return false;
    mTokens -= 1.0;
    return true;
  }

 private:
  double mRate;
  double mBurst;
  double mTokens;
  common::TimePoint mLast;
};

}  // namespace conclave::signaling
