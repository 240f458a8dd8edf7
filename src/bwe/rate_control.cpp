#include "bwe/rate_control.h"

#include <algorithm>
#include <cmath>

namespace conclave::bwe {

namespace {

// Floor division, so that bins are the same width on both sides of zero (the receiver's clock
// can be anywhere).
int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

uint32_t clampBps(double bps, uint32_t minBps, uint32_t maxBps) {
  if (!(bps >= minBps)) return minBps;  // NaN too
  if (bps >= maxBps) return maxBps;
  return static_cast<uint32_t>(bps);
}

double growth(int64_t elapsedUs) {
  const double seconds = std::clamp(static_cast<double>(elapsedUs) / 1e6, 0.0, 1.0);
  return std::pow(1.0 + kMaxIncreasePerSecond, seconds);
}

}  // namespace

int64_t AckedBitrate::binOf(int64_t arrivalUs) { return floorDiv(arrivalUs, kBinUs); }

void AckedBitrate::add(int64_t arrivalUs, uint32_t bytes) {
  if (!mHaveAny || arrivalUs > mLatestUs + kMaxJumpUs || arrivalUs < mLatestUs - kMaxJumpUs) {
    reset();
    mHaveAny = true;
    mFirstUs = arrivalUs;
    mLatestUs = arrivalUs;
  }
  const int64_t bin = binOf(arrivalUs);
  const int64_t latestBin = binOf(std::max(mLatestUs, arrivalUs));
  if (bin <= latestBin - kBins) return;  // older than the window: too late to count
  mLatestUs = std::max(mLatestUs, arrivalUs);
  mFirstUs = std::min(mFirstUs, arrivalUs);
  const auto slot = static_cast<size_t>(((bin % kBins) + kBins) % kBins);
  if (mBinIndex[slot] != bin) {
    mBinIndex[slot] = bin;
    mBinBytes[slot] = 0;
  }
  mBinBytes[slot] += bytes;
}

std::optional<uint32_t> AckedBitrate::bps() const {
  if (!mHaveAny) return std::nullopt;
  const int64_t latestBin = binOf(mLatestUs);
  const int64_t windowStartUs = std::max(mFirstUs, (latestBin - kBins + 1) * kBinUs);
  const int64_t spanUs = mLatestUs - windowStartUs;
  if (spanUs < kMinSpanUs) return std::nullopt;
  uint64_t bytes = 0;
  for (size_t i = 0; i < kBins; ++i) {
    if (mBinIndex[i] > latestBin - kBins && mBinIndex[i] <= latestBin) bytes += mBinBytes[i];
  }
  const double bps = static_cast<double>(bytes) * 8.0 * 1e6 / static_cast<double>(spanUs);
  return static_cast<uint32_t>(std::min(bps, 4e9));
}

void AckedBitrate::reset() { *this = AckedBitrate{}; }

AimdRateControl::AimdRateControl(uint32_t initialBps, uint32_t minBps, uint32_t maxBps)
    : mBps(initialBps), mMinBps(minBps), mMaxBps(maxBps) {}

void AimdRateControl::setEstimate(uint32_t bps, int64_t nowUs) {
  mBps = clampBps(bps, mMinBps, mMaxBps);
  mHaveLastChange = true;
  mLastChangeUs = nowUs;
}

uint32_t AimdRateControl::update(BandwidthUsage usage, std::optional<uint32_t> ackedBps, int64_t rttUs, int64_t nowUs,
                                 std::optional<uint32_t> sentBps) {
  if (!mHaveLastChange) {
    mHaveLastChange = true;
    mLastChangeUs = nowUs;
  }
  switch (usage) {
    case BandwidthUsage::kNormal:
      if (mState == State::kHold) {
        mState = State::kIncrease;
        mLastChangeUs = nowUs;  // the time spent holding is not time to grow
      }
      break;
    case BandwidthUsage::kOverusing:
      if (mState != State::kDecrease) mState = State::kDecrease;
      break;
    case BandwidthUsage::kUnderusing:
      mState = State::kHold;  // the queue drains: wait until it is empty
      break;
  }

  double next = mBps;
  const int64_t elapsedUs = std::max<int64_t>(0, nowUs - mLastChangeUs);
  if (mState == State::kIncrease) {
    if (ackedBps && mCapacityKbps &&
        *ackedBps / 1000.0 > *mCapacityKbps + 3 * std::sqrt(mCapacityVariance * *mCapacityKbps)) {
      mCapacityKbps.reset();  // the link got faster: search again
    }
    const double multiplicative = mBps * (growth(elapsedUs) - 1.0);
    const double step = mCapacityKbps ? std::min(additiveIncrease(elapsedUs, rttUs), multiplicative) : multiplicative;
    next = mBps + step;
    if (ackedBps) {
      // Not far above what the receiver got: an application-limited sender proves nothing.
      const double cap = 1.5 * *ackedBps + 10'000;
      if (next > cap) next = std::max<double>(cap, mBps);
    }
    mLastChangeUs = nowUs;
  } else if (mState == State::kDecrease) {
    double target = kBeta * mBps;
    if (sentBps && *sentBps < kAppLimitedShare * mBps) {
      target = kBeta * std::min<double>(mBps, 2.0 * *sentBps);
    } else if (ackedBps) {
      target = kBeta * *ackedBps;
      updateCapacity(*ackedBps / 1000.0);
    }
    next = std::min<double>(mBps, target);
    mState = State::kHold;
    mLastChangeUs = nowUs;
  }
  mBps = clampBps(next, mMinBps, mMaxBps);
  return mBps;
}

void AimdRateControl::updateCapacity(double ackedKbps) {
  constexpr double kAlpha = 0.05;
  if (!mCapacityKbps) {
    mCapacityKbps = ackedKbps;
    return;
  }
  const double previous = *mCapacityKbps;
  mCapacityKbps = (1 - kAlpha) * previous + kAlpha * ackedKbps;
  const double norm = std::max(*mCapacityKbps, 1.0);
  const double error = *mCapacityKbps - ackedKbps;
  mCapacityVariance = std::clamp((1 - kAlpha) * mCapacityVariance + kAlpha * error * error / norm, 0.4, 2.5);
}

double AimdRateControl::additiveIncrease(int64_t elapsedUs, int64_t rttUs) const {
  // About one packet per response time (§5.5), with packets as big as a 30 fps frame allows.
  constexpr double kFps = 30;
  constexpr double kMtuBits = 1200 * 8;
  const double responseS = static_cast<double>(std::clamp<int64_t>(rttUs, 0, 2'000'000) + 100'000) / 1e6;
  const double bitsPerFrame = mBps / kFps;
  const double packetsPerFrame = std::ceil(bitsPerFrame / kMtuBits);
  const double packetBits = bitsPerFrame / std::max(packetsPerFrame, 1.0);
  const double bpsPerSecond = std::max(4000.0, packetBits / responseS);
  return bpsPerSecond * std::clamp(static_cast<double>(elapsedUs) / 1e6, 0.0, 1.0);
}

void LossBasedControl::onPackets(int received, int lost, int recovered, uint32_t currentBps, int64_t rttUs,
                                 int64_t nowUs, bool congested) {
  if (!mHaveWindowStart) {
    mHaveWindowStart = true;
    mWindowStartUs = nowUs;
  }
  mReceived += received + recovered;
  mLost = std::max(0, mLost + lost - recovered);
  const int total = mReceived + mLost;
  if (total < kMinPackets && nowUs - mWindowStartUs < kMaxIntervalUs) return;
  mWindowStartUs = nowUs;
  if (total == 0) return;
  // Over this window and the one before: one window of 100 packets at 5 % loss sees under 2 %
  // about one time in eight, two windows one time in a hundred.
  mLossFraction = static_cast<double>(mLost + mPreviousLost) / (total + mPreviousReceived + mPreviousLost);
  mPreviousReceived = mReceived;
  mPreviousLost = mLost;
  mReceived = 0;
  mLost = 0;
  // A path lossy from its first window (a radio link) has that loss as its usual loss; a path
  // that starts clean learns it over ~20 windows.
  if (!mHaveUsualLoss) {
    mHaveUsualLoss = true;
    mUsualLoss = mLossFraction;
  }
  const bool unusual = mLossFraction > kUsualLossGain * mUsualLoss;
  mUsualLoss = kUsualLossSmoothing * mUsualLoss + (1 - kUsualLossSmoothing) * mLossFraction;
  if (mLossFraction > kHighLoss && ((congested && unusual) || mLossFraction > kSevereLoss)) {
    const int64_t interval = kDecreaseIntervalUs + std::clamp<int64_t>(rttUs, 0, 2'000'000);
    if (!mHaveDecrease || nowUs - mLastDecreaseUs >= interval) {
      mBaseBps = static_cast<uint32_t>(currentBps * (1.0 - 0.5 * mLossFraction));
      mHaveDecrease = true;
      mLastDecreaseUs = nowUs;
    } else {
      mBaseBps = std::min(capBps(nowUs), currentBps);
    }
    mMode = Mode::kFixed;
  } else if (mLossFraction >= kLowLoss && (congested || unusual)) {
    // Loss that came with a growing queue, or that grew with the rate (a policer drops what is
    // over its rate and queues nothing): hold.
    mBaseBps = currentBps;
    mMode = Mode::kFixed;
  } else {
    mBaseBps = currentBps;
    mMode = Mode::kGrowing;
  }
  mBaseUs = nowUs;
}

void LossBasedControl::setEstimate(uint32_t bps, int64_t nowUs) {
  if (mMode == Mode::kNone) return;
  mBaseBps = std::max(bps, capBps(nowUs));
  mBaseUs = nowUs;
  mMode = Mode::kGrowing;
}

uint32_t LossBasedControl::capBps(int64_t nowUs) const {
  switch (mMode) {
    case Mode::kNone:
      return UINT32_MAX;
    case Mode::kFixed:
      return mBaseBps;
    case Mode::kGrowing:
      break;
  }
  const double seconds = std::clamp(static_cast<double>(nowUs - mBaseUs) / 1e6, 0.0, 60.0);
  return static_cast<uint32_t>(std::min<double>(mMaxBps, mBaseBps * std::pow(1.0 + kMaxIncreasePerSecond, seconds)));
}

}  // namespace conclave::bwe
