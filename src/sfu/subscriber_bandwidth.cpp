#include "sfu/subscriber_bandwidth.h"

#include <algorithm>

namespace conclave::sfu {
namespace {

// An RTP header with the one-byte transport-cc extension: 12 + 4 + 4 bytes.
constexpr uint32_t kProbeHeaderBytes = 20;
constexpr int kMinProbePackets = 5;
constexpr common::Duration kProbeStep = std::chrono::milliseconds(5);

bwe::ProbeController::Config probeConfig() {
  bwe::ProbeController::Config c;
  c.clusterDuration = std::chrono::milliseconds(60);  // spans a few send chances (ticks are 50 ms)
  c.minPackets = 8;
  c.minPacketBytes = kProbeHeaderBytes + 1;
  c.maxPacketBytes = kProbeHeaderBytes + SubscriberBandwidth::kProbePacketBytes;
  c.maxBps = SubscriberBandwidth::kMaxBps;
  return c;
}

double seconds(common::Duration d) { return std::chrono::duration<double>(d).count(); }

int64_t toMicros(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

SubscriberBandwidth::SubscriberBandwidth(common::TimePoint now)
    : mEstimator(bwe::SendSideEstimator::Config{kInitialBps, kMinBps, kMaxBps}),
      mAllocator(bwe::Allocator::Config{}),
      mProbes(probeConfig()),
      mNextAllocation(now),
      mLastRefill(now),
      mTokens(kInitialBps * kPacingFactor / 8 * seconds(kBurst)),
      mRetransmitTokens(kInitialBps * kRetransmitShare / 8 * seconds(kRetransmitBurst)) {}

void SubscriberBandwidth::refill(common::TimePoint now) {
  if (now <= mLastRefill) return;
  const double elapsed = std::min(seconds(now - mLastRefill), 1.0);
  mLastRefill = now;
  const double bytesPerSecond = estimateBps() / 8.0;
  mTokens =
      std::min(mTokens + bytesPerSecond * kPacingFactor * elapsed, bytesPerSecond * kPacingFactor * seconds(kBurst));
  mRetransmitTokens = std::min(mRetransmitTokens + bytesPerSecond * kRetransmitShare * elapsed,
                               bytesPerSecond * kRetransmitShare * seconds(kRetransmitBurst));
}

void SubscriberBandwidth::onPacketSent(std::optional<uint16_t> transportSeq, uint32_t bytes, rtp::SentKind kind,
                                       int probeClusterId, common::TimePoint now) {
  refill(now);
  mTokens -= bytes;
  // A floor on the debt, so one burst cannot silence video for long.
  mTokens = std::max(mTokens, -(estimateBps() / 8.0) * seconds(kMaxDebt) * 2);
  if (mCluster) {
    probeClusterId = mCluster->id;
    mClusterBytes += bytes;
  }
  if (!transportSeq) return;
  mEstimator.onPacketSent(bwe::SentPacket{*transportSeq, bytes, toMicros(now), probeClusterId >= 0,
                                          kind == rtp::SentKind::Retransmission, probeClusterId});
}

void SubscriberBandwidth::onFeedback(std::span<const bwe::PacketResult> results, common::TimePoint now) {
  mEstimator.onFeedback(results, now);
}

bool SubscriberBandwidth::allowVideo(common::TimePoint now) {
  refill(now);
  return mTokens > -(estimateBps() / 8.0) * seconds(kMaxDebt);
}

bool SubscriberBandwidth::allowRetransmission(uint32_t bytes, common::TimePoint now) {
  refill(now);
  if (mTokens < bytes || mRetransmitTokens < bytes) return false;
  mRetransmitTokens -= bytes;
  return true;
}

std::optional<SubscriberBandwidth::ProbePacket> SubscriberBandwidth::nextProbePacket(common::TimePoint now) {
  if (!mCluster) return std::nullopt;
  const bwe::ProbeCluster& c = *mCluster;
  const common::Duration elapsed = now - mClusterStart;
  // Done: its duration is over and enough of its own packets went out to be measured (or twice
  // what it planned, whatever the schedule says).
  if ((elapsed >= c.duration && mClusterSent >= kMinProbePackets) || mClusterSent >= 2 * c.packets) {
    mCluster.reset();
    return std::nullopt;
  }
  // Due: what the cluster's rate allows by the end of the next step of the worker's loop.
  const double allowed = c.targetBps / 8.0 * seconds(std::min(elapsed + kProbeStep, c.duration));
  if (mClusterBytes >= allowed && mClusterSent >= 1) return std::nullopt;
  ++mClusterSent;
  ++mProbePackets;
  return ProbePacket{
      c.id, static_cast<uint8_t>(std::clamp<uint32_t>(c.bytesPerPacket - kProbeHeaderBytes, 1, kProbePacketBytes))};
}

bwe::Allocator::Result SubscriberBandwidth::allocate(uint32_t audioBps, std::span<const bwe::VideoDemand> video,
                                                     std::span<int> layers, common::TimePoint now) {
  mNextAllocation = now + kAllocationInterval;
  mEstimator.onTimer(now);
  const uint32_t estimate = estimateBps();
  const auto result = mAllocator.allocate(estimate, audioBps, video, layers, now);
  // One cluster at a time; a new one only once the last was sent.
  if (!mCluster) {
    if (auto cluster = mProbes.process(estimate, result.wantedBps, now)) {
      mCluster = cluster;
      mClusterStart = now;
      mClusterSent = 0;
      mClusterBytes = 0;
      ++mProbeClusters;
    }
  }
  return result;
}

}  // namespace conclave::sfu
