// A send-side bandwidth estimate of one subscriber's downlink, from its transport-cc feedback,
// in the spirit of Google Congestion Control (draft-ietf-rmcat-gcc-02):
//   - every packet sent to the subscriber is recorded (onPacketSent) in a fixed ring indexed by
//     its transport-wide sequence number, so feedback finds its send time and size;
//   - feedback (onFeedback) feeds the delay-based detector (bwe/delay_based.h) and the AIMD
//     controller on the acknowledged rate, the loss-based controller, the RTT, and the results
//     of probe clusters (bwe/rate_control.h);
//   - the estimate is the smaller of the delay-based and loss-based rates, within the Config
//     bounds; it grows by at most ~8 %/s on its own; a probe result above it raises it at once;
//   - feedback that stops while packets go out (the subscriber went quiet, or its feedback is
//     blocked) does not leave a stale estimate: onTimer() halves it every kFeedbackTimeoutUs
//     without feedback, down to Config::minBps.
// Garbage feedback (unknown or repeated sequence numbers, arrival times anywhere) is counted and
// ignored; nothing grows with the input: all state is fixed-size, nothing is allocated after
// construction. No I/O and no clock: time comes in as the packets' send times and `now`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bwe/delay_based.h"
#include "bwe/rate_control.h"
#include "bwe/types.h"
#include "common/clock.h"

namespace conclave::bwe {

class SendSideEstimator {
 public:
  struct Config {
    uint32_t initialBps = 1'000'000;
    uint32_t minBps = 50'000;
    uint32_t maxBps = 10'000'000;
  };
  struct ProbeResult {
    int clusterId;
    uint32_t bps;  // what the cluster showed the path carries
  };
  struct Stats {
    uint64_t feedbacks = 0;
    uint64_t results = 0;
    uint64_t unknownResults = 0;   // a sequence number not sent, or no longer remembered (or > 10 s old)
    uint64_t repeatedResults = 0;  // reported received before
    uint64_t invalidTimes = 0;     // a send or arrival time outside any sane range
    uint64_t probeResults = 0;
    uint64_t failedProbes = 0;  // clusters that came back unusable
    uint64_t overuses = 0;
    uint64_t feedbackTimeouts = 0;  // halvings for want of feedback
  };

  // Packets remembered for feedback: at 10 Mbit/s of 1200-byte packets about two seconds.
  static constexpr size_t kHistorySize = 2048;
  static constexpr size_t kMaxClusters = 8;
  static constexpr int kMinProbePackets = 5;
  // Times beyond +-2^50 us (35 years) are garbage; it keeps every difference far from overflow.
  static constexpr int64_t kMaxTimeUs = int64_t{1} << 50;
  // Packets went out and no feedback came for this long: the estimate halves (and again after as
  // long again). Browsers send feedback every 50-100 ms.
  static constexpr int64_t kFeedbackTimeoutUs = 2'000'000;
  // Loss within this long after an overuse counts as congestion (LossBasedControl::kSevereLoss).
  static constexpr int64_t kCongestionMemoryUs = 2'000'000;

  explicit SendSideEstimator(Config config);

  void onPacketSent(const SentPacket& packet);                                    // every packet to this subscriber
  void onFeedback(std::span<const PacketResult> results, common::TimePoint now);  // in feedback order
  // The owner's timer (a few times a second): the decay without feedback.
  void onTimer(common::TimePoint now);
  uint32_t estimateBps() const { return mEstimateBps; }  // what may be sent now (media + retransmissions + probes)
  double lossFraction() const;                           // recent
  std::optional<common::Duration> rtt() const;

  BandwidthUsage delayState() const { return mDetector.state(); }
  std::optional<uint32_t> ackedBps() const { return mAcked.bps(); }
  // The newest probe cluster that came back usable (whether or not it raised the estimate).
  std::optional<ProbeResult> lastProbeResult() const { return mLastProbe; }
  const Stats& stats() const { return mStats; }

 private:
  enum class SlotState : uint8_t { kEmpty, kSent, kLost, kReceived };
  struct Slot {
    int64_t sendTimeUs = 0;
    uint32_t bytes = 0;
    int32_t probeClusterId = -1;
    uint16_t sequenceNumber = 0;
    SlotState state = SlotState::kEmpty;
  };
  struct Cluster {
    int id = -1;
    bool done = false;
    int sent = 0;
    int64_t firstSendUs = 0;
    int64_t lastSendUs = 0;
    uint64_t sentBytes = 0;
    uint32_t lastSentBytes = 0;
    int received = 0;
    int64_t firstArrivalUs = 0;
    int64_t lastArrivalUs = 0;
    uint64_t receivedBytes = 0;
    uint32_t firstArrivalBytes = 0;
  };

  void onProbeSent(const SentPacket& packet);
  void onProbeReceived(const Slot& slot, int64_t arrivalUs);
  void evaluateProbes(int64_t nowUs);
  std::optional<uint32_t> probeRate(const Cluster& c) const;
  void updateRtt(int64_t sampleUs);
  uint32_t combined(int64_t nowUs) const;
  int64_t rttUs() const { return mRttUs.value_or(0); }

  Config mConfig;
  std::array<Slot, kHistorySize> mHistory{};
  std::array<Cluster, kMaxClusters> mClusters{};
  InterArrival mInterArrival;
  TrendlineEstimator mTrendline;
  OveruseDetector mDetector;
  AckedBitrate mAcked;
  AckedBitrate mSentRate;  // the same meter over the send times of the packets reported
  AimdRateControl mAimd;
  LossBasedControl mLoss;
  uint32_t mEstimateBps;
  std::optional<int64_t> mNewestSendUs;
  std::optional<int64_t> mLastDecreaseUs;  // our clock
  std::optional<int64_t> mLastOveruseUs;   // the delay detector's last overuse (our clock)
  std::optional<int64_t> mRttUs;
  // Since when feedback is awaited: the first packet sent after the last feedback or decay.
  std::optional<int64_t> mQuietSinceUs;
  bool mSentSinceQuiet = false;
  std::optional<ProbeResult> mLastProbe;
  Stats mStats;
};

}  // namespace conclave::bwe
