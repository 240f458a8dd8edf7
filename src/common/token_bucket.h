// A token bucket: `rate` tokens per second up to `burst`; time is passed in.
#pragma once

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace conclave::common {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst, common::TimePoint now)
      : mRate(rate), mBurst(burst), mTokens(burst), mLast(now) {}

  bool take(common::TimePoint now) {
    double elapsed = std::chrono::duration<double>(now - mLast).count();
    // Time that went backwards neither refills nor moves the reference (else the same interval
    // would be counted again when the clock catches up).
    if (elapsed > 0) mLast = now;
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

}  // namespace conclave::common

namespace conclave::common {

// A byte budget that may go into debt: what a client already sent is always charged, and a
// negative balance is how long that client must wait before it is read again. This is
// back-pressure on the sender, so nothing is lost and nobody else is disconnected.
class DebtBucket {
 public:
  DebtBucket(double ratePerSecond, double burst, common::TimePoint now)
      : mRate(ratePerSecond), mBurst(burst), mBalance(burst), mLast(now) {}

  void charge(double amount, common::TimePoint now) {
    refill(now);
    mBalance -= amount;
  }
  // Zero while the balance is not negative.
  common::Duration wait(common::TimePoint now) {
    refill(now);
    if (mBalance >= 0) return common::Duration::zero();
    return std::chrono::duration_cast<common::Duration>(std::chrono::duration<double>(-mBalance / mRate));
  }

 private:
  void refill(common::TimePoint now) {
    double elapsed = std::chrono::duration<double>(now - mLast).count();
    if (elapsed > 0) mLast = now;
    mBalance = std::min(mBurst, mBalance + std::max(0.0, elapsed) * mRate);
  }

  double mRate;
  double mBurst;
  double mBalance;
  common::TimePoint mLast;
};

}  // namespace conclave::common
