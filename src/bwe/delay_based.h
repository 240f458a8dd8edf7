// The delay-based half of Google Congestion Control (draft-ietf-rmcat-gcc-02 §5, with the
// trendline filter libwebrtc uses in place of the draft's Kalman filter):
//   InterArrival       packets sent within 5 ms of each other form one group; for each pair of
//                      consecutive groups it gives the send delta and the arrival delta;
//   TrendlineEstimator accumulates the delay variation (arrival delta - send delta), smooths it
//                      and fits a line through the last 20 points: a positive slope is a queue
//                      that grows;
//   OveruseDetector    compares that trend with an adaptive threshold (§5.4) and says overusing,
//                      underusing or normal.
// All fixed-size state, no allocation; times are microseconds (send: our clock, arrival: the
// receiver's clock, of which only differences mean anything).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "bwe/types.h"

namespace conclave::bwe {

class InterArrival {
 public:
  static constexpr int64_t kBurstUs = 5'000;
  // An arrival delta beyond this is a clock jump (the receiver restarted, 24-bit reference time
  // wrapped, or garbage): the groups start over.
  static constexpr int64_t kMaxArrivalJumpUs = 3'000'000;

  struct Deltas {
    int64_t sendDeltaUs;
    int64_t arrivalDeltaUs;
    int64_t arrivalUs;  // when the newer group completed
  };

  // Packets in send order (received ones only). Returns the deltas between the two groups before
  // this packet when the packet starts a new group. A packet sent before the current group
  // started (reported late) is ignored. A group arrives when its last packet does.
  std::optional<Deltas> add(int64_t sendUs, int64_t arrivalUs);
  void reset();
  // How many times a clock jump made the groups start over (the trend must start over too).
  uint64_t resets() const { return mResets; }

 private:
  struct Group {
    bool valid = false;
    int64_t firstSendUs = 0;
    int64_t lastSendUs = 0;
    int64_t lastArrivalUs = 0;
  };

  Group mCurrent;
  Group mPrevious;
  uint64_t mResets = 0;
};

class TrendlineEstimator {
 public:
  static constexpr size_t kWindow = 20;
  static constexpr double kSmoothing = 0.9;
  static constexpr double kThresholdGain = 4.0;
  static constexpr int kMaxDeltasForGain = 60;

  // Adds one pair of group deltas; returns the modified trend the detector compares with its
  // threshold (slope x min(deltas seen, 60) x gain, in ms), 0 until the window has filled.
  double update(const InterArrival::Deltas& deltas);
  int deltasSeen() const { return mDeltas; }
  void reset();

  // A queue is delay above the path's base, and on a path whose delay jitters a rising trend
  // may be the jitter alone: the smoothed delay over its recent minimum (which rises by
  // kBaseRiseMsPerS once above it, so a route change does not count as a queue forever).
  static constexpr double kBaseRiseMsPerS = 1.0;
  static constexpr double kNoiseSmoothing = 0.95;  // per group
  static constexpr double kQueueNoiseGain = 2.0;
  double queueMs() const { return mSmoothedMs - mBaseMs; }
  // How much the delay jitters: the average distance of each group's delay from the smoothed one.
  double noiseMs() const { return mNoiseMs; }
  // Whether the queue stands out from the jitter: an overuse the trend shows without it is noise
  // (10 % loss and 100 ms +- 20 ms per packet took a subscriber's estimate to its floor).
  bool queueStandsOut() const { return queueMs() > kQueueNoiseGain * mNoiseMs; }

 private:
  double slope() const;

  std::array<double, kWindow> mX{};  // ms since the first group
  std::array<double, kWindow> mY{};  // smoothed accumulated delay, ms
  size_t mHead = 0;
  size_t mCount = 0;
  int mDeltas = 0;
  bool mHaveFirst = false;
  int64_t mFirstArrivalUs = 0;
  double mAccumulatedMs = 0;
  double mSmoothedMs = 0;
  double mTrend = 0;
  double mBaseMs = 0;
  double mNoiseMs = 0;
  double mLastXMs = 0;
};

class OveruseDetector {
 public:
  static constexpr double kInitialThreshold = 12.5;
  static constexpr double kMinThreshold = 6;
  static constexpr double kMaxThreshold = 600;
  static constexpr double kUp = 0.0087;   // how fast the threshold follows a trend above it
  static constexpr double kDown = 0.039;  // ... and one below it
  static constexpr double kMaxJump = 15;  // a trend this far above the threshold does not move it
  static constexpr double kOverusingMs = 10;

  // `trend`: the modified trend; `sendDeltaUs`: the send delta of the group pair (how long the
  // trend has been above the threshold); `nowUs`: our clock (how far the threshold moves).
  BandwidthUsage detect(double trend, double sendDeltaUs, int64_t nowUs);
  BandwidthUsage state() const { return mState; }
  double threshold() const { return mThreshold; }
  void reset();

 private:
  void updateThreshold(double trend, int64_t nowUs);

  BandwidthUsage mState = BandwidthUsage::kNormal;
  double mThreshold = kInitialThreshold;
  double mTimeOverusingMs = -1;
  int mOveruseCount = 0;
  double mPreviousTrend = 0;
  bool mHaveLastUpdate = false;
  int64_t mLastUpdateUs = 0;
};

}  // namespace conclave::bwe
