#include "bwe/delay_based.h"

#include <algorithm>
#include <cmath>

namespace conclave::bwe {

std::optional<InterArrival::Deltas> InterArrival::add(int64_t sendUs, int64_t arrivalUs) {
  if (!mCurrent.valid) {
    mCurrent = Group{true, sendUs, sendUs, arrivalUs};
    return std::nullopt;
  }
  if (sendUs < mCurrent.firstSendUs) return std::nullopt;
  if (sendUs - mCurrent.firstSendUs <= kBurstUs) {
    mCurrent.lastSendUs = std::max(mCurrent.lastSendUs, sendUs);
    mCurrent.lastArrivalUs = std::max(mCurrent.lastArrivalUs, arrivalUs);
    return std::nullopt;
  }
  std::optional<Deltas> out;
  if (mPrevious.valid) {
    const int64_t sendDelta = mCurrent.lastSendUs - mPrevious.lastSendUs;
    const int64_t arrivalDelta = mCurrent.lastArrivalUs - mPrevious.lastArrivalUs;
    if (arrivalDelta > kMaxArrivalJumpUs || arrivalDelta < -kMaxArrivalJumpUs) {
      reset();
      ++mResets;
      mCurrent = Group{true, sendUs, sendUs, arrivalUs};
      return std::nullopt;
    }
    // A negative delta (this group overtook the one before) is kept: dropping it would leave the
    // positive delta of the late group alone and turn reordering into a growing queue.
    out = Deltas{sendDelta, arrivalDelta, mCurrent.lastArrivalUs};
  }
  mPrevious = mCurrent;
  mCurrent = Group{true, sendUs, sendUs, arrivalUs};
  return out;
}

void InterArrival::reset() {
  mCurrent = Group{};
  mPrevious = Group{};
}

double TrendlineEstimator::update(const InterArrival::Deltas& deltas) {
  const double delayMs = static_cast<double>(deltas.arrivalDeltaUs - deltas.sendDeltaUs) / 1000.0;
  if (!mHaveFirst) {
    mHaveFirst = true;
    mFirstArrivalUs = deltas.arrivalUs;
  }
  mDeltas = std::min(mDeltas + 1, 1000);
  mAccumulatedMs += delayMs;
  mSmoothedMs = kSmoothing * mSmoothedMs + (1 - kSmoothing) * mAccumulatedMs;
  const double xMs = static_cast<double>(deltas.arrivalUs - mFirstArrivalUs) / 1000.0;
  if (mDeltas == 1) {
    mBaseMs = mSmoothedMs;
  } else {
    const double elapsedS = std::clamp((xMs - mLastXMs) / 1000.0, 0.0, 1.0);
    mBaseMs = std::min(mSmoothedMs, mBaseMs + kBaseRiseMsPerS * elapsedS);
  }
  mLastXMs = xMs;
  mNoiseMs = kNoiseSmoothing * mNoiseMs + (1 - kNoiseSmoothing) * std::fabs(mAccumulatedMs - mSmoothedMs);
  mX[mHead] = xMs;
  mY[mHead] = mSmoothedMs;
  mHead = (mHead + 1) % kWindow;
  mCount = std::min(mCount + 1, kWindow);
  if (mCount == kWindow) mTrend = slope();
  return mTrend * std::min(mDeltas, kMaxDeltasForGain) * kThresholdGain;
}

double TrendlineEstimator::slope() const {
  double meanX = 0;
  double meanY = 0;
  for (size_t i = 0; i < mCount; ++i) {
    meanX += mX[i];
    meanY += mY[i];
  }
  meanX /= static_cast<double>(mCount);
  meanY /= static_cast<double>(mCount);
  double num = 0;
  double den = 0;
  for (size_t i = 0; i < mCount; ++i) {
    num += (mX[i] - meanX) * (mY[i] - meanY);
    den += (mX[i] - meanX) * (mX[i] - meanX);
  }
  // All points at one arrival time (a burst the receiver stamped at once): keep the last slope.
  if (den <= 0 || !std::isfinite(num / den)) return mTrend;
  return num / den;
}

void TrendlineEstimator::reset() { *this = TrendlineEstimator{}; }

BandwidthUsage OveruseDetector::detect(double trend, double sendDeltaUs, int64_t nowUs) {
  const double sendDeltaMs = sendDeltaUs / 1000.0;
  if (trend > mThreshold) {
    mTimeOverusingMs = mTimeOverusingMs < 0 ? sendDeltaMs / 2 : mTimeOverusingMs + sendDeltaMs;
    ++mOveruseCount;
    // Overuse only when it lasted and the trend did not start to fall (the queue drains).
    if (mTimeOverusingMs > kOverusingMs && mOveruseCount > 1 && trend >= mPreviousTrend) {
      mTimeOverusingMs = 0;
      mOveruseCount = 0;
      mState = BandwidthUsage::kOverusing;
    }
  } else if (trend < -mThreshold) {
    mTimeOverusingMs = -1;
    mOveruseCount = 0;
    mState = BandwidthUsage::kUnderusing;
  } else {
    mTimeOverusingMs = -1;
    mOveruseCount = 0;
    mState = BandwidthUsage::kNormal;
  }
  mPreviousTrend = trend;
  updateThreshold(trend, nowUs);
  return mState;
}

void OveruseDetector::updateThreshold(double trend, int64_t nowUs) {
  if (!mHaveLastUpdate) {
    mHaveLastUpdate = true;
    mLastUpdateUs = nowUs;
  }
  const double magnitude = std::fabs(trend);
  if (magnitude > mThreshold + kMaxJump) {
    // A spike (a route change, a burst of cross traffic) must not drag the threshold up.
    mLastUpdateUs = nowUs;
    return;
  }
  const double k = magnitude < mThreshold ? kDown : kUp;
  const double elapsedMs = std::clamp(static_cast<double>(nowUs - mLastUpdateUs) / 1000.0, 0.0, 100.0);
  mThreshold = std::clamp(mThreshold + k * (magnitude - mThreshold) * elapsedMs, kMinThreshold, kMaxThreshold);
  mLastUpdateUs = nowUs;
}

void OveruseDetector::reset() { *this = OveruseDetector{}; }

}  // namespace conclave::bwe
