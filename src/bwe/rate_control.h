// The rate controllers of Google Congestion Control (draft-ietf-rmcat-gcc-02 §5.5 and §6):
//   AckedBitrate      what the receiver actually got: received bytes over their arrival times,
//                     in a 500 ms window of 20 ms bins;
//   AimdRateControl   the delay-based rate: hold / increase / decrease driven by the overuse
//                     detector; decrease to 0.85 x the acknowledged rate, increase by at most
//                     8 %/s (multiplicatively far from the last known capacity, additively near
//                     it), never above 1.5 x the acknowledged rate + 10 kbit/s;
//   LossBasedControl  the loss over the last two windows of at least 100 packets (or 1 s):
//                     above 10 % decrease by half the loss, 2-10 % hold, below 2 % increase (again
//                     at most 8 %/s).
// Rates are bits per second; times microseconds. Fixed-size state, no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "bwe/types.h"

namespace conclave::bwe {

class AckedBitrate {
 public:
  static constexpr int64_t kBinUs = 20'000;
  static constexpr int kBins = 25;                  // 500 ms
  static constexpr int64_t kMinSpanUs = 150'000;    // less than this says nothing yet
  static constexpr int64_t kMaxJumpUs = 5'000'000;  // a receiver clock jump starts over

  void add(int64_t arrivalUs, uint32_t bytes);
  std::optional<uint32_t> bps() const;
  void reset();

 private:
  static int64_t binOf(int64_t arrivalUs);

  std::array<int64_t, kBins> mBinIndex{};
  std::array<uint64_t, kBins> mBinBytes{};
  bool mHaveAny = false;
  int64_t mFirstUs = 0;
  int64_t mLatestUs = 0;
};

// The most an estimate may grow per second without a probe.
inline constexpr double kMaxIncreasePerSecond = 0.08;

class AimdRateControl {
 public:
  static constexpr double kBeta = 0.85;
  // Sending under this share of the estimate, the sender is application-limited: what arrives
  // measures what was sent, not the link.
  static constexpr double kAppLimitedShare = 0.5;

  AimdRateControl(uint32_t initialBps, uint32_t minBps, uint32_t maxBps);

  // One detector verdict with the acknowledged rate at that time; `rttUs` sets the additive step.
  // An overuse takes the estimate to kBeta x the acknowledged rate, or, when the sender was
  // application-limited (`sentBps` under kAppLimitedShare of the estimate: an SFU forwarding a
  // paused or small layer), to kBeta x twice what it sent: one delay spike on a jittery path took
  // a subscriber sending 200 kbit/s of a 1 Mbit/s estimate to the floor, and its video with it;
  // while a paused subscriber's estimate still comes down to what it can use.
  uint32_t update(BandwidthUsage usage, std::optional<uint32_t> ackedBps, int64_t rttUs, int64_t nowUs,
                  std::optional<uint32_t> sentBps = std::nullopt);
  // A probe or the loss controller knows better: start from here.
  void setEstimate(uint32_t bps, int64_t nowUs);
  uint32_t bps() const { return mBps; }
  bool hasCapacityEstimate() const { return mCapacityKbps.has_value(); }

 private:
  enum class State { kHold, kIncrease, kDecrease };

  void updateCapacity(double ackedKbps);
  bool nearCapacity() const;
  double additiveIncrease(int64_t elapsedUs, int64_t rttUs) const;

  uint32_t mBps;
  uint32_t mMinBps;
  uint32_t mMaxBps;
  State mState = State::kIncrease;
  bool mHaveLastChange = false;
  int64_t mLastChangeUs = 0;
  // The acknowledged rate at past overuses: the link's capacity, and how much it varies.
  std::optional<double> mCapacityKbps;
  double mCapacityVariance = 0.4;
};

class LossBasedControl {
 public:
  static constexpr double kLowLoss = 0.02;
  static constexpr double kHighLoss = 0.10;
  // Above kHighLoss the estimate decreases only when the loss comes with congestion (the delay
  // detector saw overuse lately) and stands out from the path's usual loss (kUsualLossGain x its
  // slow average), or is this high: a radio link's steady random loss is not a full queue, and
  // cutting for it starved video on a link with room to spare. Between kLowLoss and kHighLoss it
  // holds the estimate only when the loss comes with congestion or stands out: holding for the
  // path's usual loss was a ratchet (one false overuse from jitter, and the estimate never came
  // back while the loss lasted).
  static constexpr double kSevereLoss = 0.20;
  static constexpr double kUsualLossGain = 1.5;
  static constexpr double kUsualLossSmoothing = 0.95;  // per window (~1 s): about 20 s
  // A loss fraction over fewer packets says little: at 5 % loss, windows of 20 packets see 0 %
  // or 15 % as often as not.
  static constexpr int kMinPackets = 100;
  static constexpr int64_t kMaxIntervalUs = 1'000'000;
  static constexpr int64_t kDecreaseIntervalUs = 300'000;  // plus one RTT

  explicit LossBasedControl(uint32_t maxBps) : mMaxBps(maxBps) {}

  // Counts the statuses of one feedback: `recovered` were reported lost before and arrived after
  // all (reordered beyond the feedback interval), so they are one loss fewer each. Once a window
  // holds enough packets, its loss fraction moves the cap; `currentBps` is the estimate now,
  // `congested` whether the delay-based detector saw overuse lately.
  void onPackets(int received, int lost, int recovered, uint32_t currentBps, int64_t rttUs, int64_t nowUs,
                 bool congested = true);
  // A probe result: the cap grows from there.
  void setEstimate(uint32_t bps, int64_t nowUs);
  // The most the loss-based controller allows at `nowUs`: fixed after a decrease or a hold,
  // growing 8 %/s from the estimate of the last window after one with little loss.
  uint32_t capBps(int64_t nowUs) const;
  double lossFraction() const { return mLossFraction; }

 private:
  enum class Mode { kNone, kFixed, kGrowing };

  uint32_t mMaxBps;
  Mode mMode = Mode::kNone;
  uint32_t mBaseBps = 0;
  int64_t mBaseUs = 0;
  double mLossFraction = 0;
  double mUsualLoss = 0;
  bool mHaveUsualLoss = false;
  int mReceived = 0;
  int mLost = 0;
  int mPreviousReceived = 0;
  int mPreviousLost = 0;
  bool mHaveWindowStart = false;
  int64_t mWindowStartUs = 0;
  bool mHaveDecrease = false;
  int64_t mLastDecreaseUs = 0;
};

}  // namespace conclave::bwe
