// What one subscriber's downlink carries, and what the SFU may send on it: the bwe decisions
// (bwe::SendSideEstimator, bwe::Allocator, bwe::ProbeController) with their plumbing on the
// subscribe transport.
//
//   - Every packet sent (media, RTX, probe padding) is charged to a send budget and, when it carries
//     a transport-wide sequence number, recorded for the estimator (onPacketSent); the
//     subscriber's transport-cc feedback updates the estimate (onFeedback).
//   - The budget is a token bucket filling at kPacingFactor x the estimate (holding at most
//     kBurst of it). Audio and video media are always charged and sent while the bucket is not
//     deep in debt; video stops when it is (kMaxDebt: a layer far above the estimate that has not
//     switched down yet). Retransmissions come out of the same bucket only while it has the bytes,
//     and out of a second one that fills at kRetransmitShare of the estimate: under congestion,
//     repair goes first, media second, audio never.
//   - Every kAllocationInterval, allocate() turns the estimate and the consumers' demands into a
//     layer per video consumer (bwe::Allocator: audio first, fair, hysteresis) and asks the
//     ProbeController whether to probe before a switch up. A probe cluster is everything sent to
//     the subscriber during its duration (media included, as libwebrtc's pacer does: the path is
//     shared), topped up to the cluster's rate with padding-only RTX packets at each chance (a
//     packet forwarded to this subscriber, or the router's tick).
//
// Fixed-size state: nothing here allocates per packet. Time comes in as `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "bwe/allocator.h"
#include "bwe/probe_controller.h"
#include "bwe/send_side_estimator.h"
#include "common/clock.h"
#include "rtp/send_history.h"

namespace conclave::sfu {

class SubscriberBandwidth {
 public:
  static constexpr common::Duration kAllocationInterval = std::chrono::milliseconds(200);
  // A consumer is paused only when the estimate has not carried its lowest layer for this long: a
  // dip (GCC's decrease to 0.85 x the acknowledged rate after an overuse, a probe's queue) passes,
  // while a paused consumer sends too little for the estimate to recover without probes. Meanwhile
  // the send budget bounds what goes out.
  static constexpr common::Duration kPauseAfter = std::chrono::seconds(2);
  static constexpr double kPacingFactor = 1.25;
  static constexpr common::Duration kBurst = std::chrono::milliseconds(250);
  static constexpr common::Duration kMaxDebt = std::chrono::milliseconds(1000);
  static constexpr double kRetransmitShare = 0.15;
  static constexpr common::Duration kRetransmitBurst = std::chrono::milliseconds(200);
  // Probe packets: padding only, at most 255 bytes of padding each (RFC 3550 §5.1).
  static constexpr uint32_t kProbePacketBytes = 255;
  static constexpr int kMaxProbePacketsAtOnce = 32;
  static constexpr uint32_t kMinBps = 100'000;
  static constexpr uint32_t kInitialBps = 1'000'000;
  static constexpr uint32_t kMaxBps = 10'000'000;

  struct ProbePacket {
    int clusterId;
    uint8_t paddingBytes;
  };

  explicit SubscriberBandwidth(common::TimePoint now);

  // ---- packet path ----
  // A packet of `bytes` went out; `transportSeq`: its transport-wide sequence number, if stamped.
  void onPacketSent(std::optional<uint16_t> transportSeq, uint32_t bytes, rtp::SentKind kind, int probeClusterId,
                    common::TimePoint now);
  void onFeedback(std::span<const bwe::PacketResult> results, common::TimePoint now);
  // A video media packet may go out (false: the bucket is deep in debt; it is dropped).
  bool allowVideo(common::TimePoint now);
  // A retransmission of `bytes` may go out (false: refused for the estimate's sake).
  bool allowRetransmission(uint32_t bytes, common::TimePoint now);
  // The next probe packet due now, if any (the caller sends it and reports it with onPacketSent).
  std::optional<ProbePacket> nextProbePacket(common::TimePoint now);

  // ---- timer ----
  bool allocationDue(common::TimePoint now) const { return now >= mNextAllocation; }
  // Writes each video demand's layer to `layers` (-1: paused) and may start a probe cluster.
  bwe::Allocator::Result allocate(uint32_t audioBps, std::span<const bwe::VideoDemand> video, std::span<int> layers,
                                  common::TimePoint now);

  uint32_t estimateBps() const { return mEstimator.estimateBps(); }
  const bwe::SendSideEstimator& estimator() const { return mEstimator; }
  uint64_t probeClustersStarted() const { return mProbeClusters; }
  uint64_t probePacketsSent() const { return mProbePackets; }

 private:
  void refill(common::TimePoint now);

  bwe::SendSideEstimator mEstimator;
  bwe::Allocator mAllocator;
  bwe::ProbeController mProbes;
  common::TimePoint mNextAllocation;
  common::TimePoint mLastRefill;
  double mTokens;            // bytes; negative: debt
  double mRetransmitTokens;  // bytes
  std::optional<bwe::ProbeCluster> mCluster;
  common::TimePoint mClusterStart{};
  int mClusterSent = 0;      // padding packets
  double mClusterBytes = 0;  // everything sent since the cluster started
  uint64_t mProbeClusters = 0;
  uint64_t mProbePackets = 0;
};

}  // namespace conclave::sfu
