#include "bwe/probe_controller.h"

#include <algorithm>
#include <climits>

namespace conclave::bwe {

ProbeController::ProbeController(Config config) : mConfig(config) {
  mConfig.minPackets = std::max(mConfig.minPackets, 1);
  mConfig.maxPacketBytes = std::max<uint32_t>(mConfig.maxPacketBytes, 100);
  mConfig.minPacketBytes = std::clamp<uint32_t>(mConfig.minPacketBytes, 1, mConfig.maxPacketBytes);
  mConfig.maxFactor = std::max(mConfig.maxFactor, mConfig.minFactor);
}

std::optional<ProbeCluster> ProbeController::process(uint32_t estimateBps, uint32_t wantedBps, common::TimePoint now) {
  if (mInFlight) {
    // A usable cluster raises the estimate with the feedback that carries it.
    if (estimateBps >= mEstimateAtProbe + mEstimateAtProbe / 10) {
      mInFlight = false;
      mFailures = 0;
      mNotBefore = now;
    } else if (now - mSentAt >= mConfig.resultTimeout) {
      mInFlight = false;
      ++mFailures;
      auto backoff = mConfig.minBackoff;
      for (int i = 1; i < mFailures && backoff < mConfig.maxBackoff; ++i) backoff *= 2;
      mNotBefore = now + std::min(backoff, mConfig.maxBackoff);
    } else {
      return std::nullopt;
    }
  }
  if (wantedBps <= estimateBps || estimateBps >= mConfig.maxBps) {
    // Nothing to find out; a later wish starts without the backoff of an old one.
    mFailures = 0;
    mNotBefore = now;
    return std::nullopt;
  }
  if (now < mNotBefore) return std::nullopt;
  ProbeCluster cluster = makeCluster(estimateBps, wantedBps);
  mInFlight = true;
  mSentAt = now;
  mEstimateAtProbe = estimateBps;
  return cluster;
}

ProbeCluster ProbeController::makeCluster(uint32_t estimateBps, uint32_t wantedBps) {
  const double lo = mConfig.minFactor * estimateBps;
  const double hi = mConfig.maxFactor * estimateBps;
  const double target = std::min<double>(std::clamp<double>(wantedBps, lo, hi), mConfig.maxBps);
  const double seconds = std::chrono::duration<double>(mConfig.clusterDuration).count();
  const double bytes = target * seconds / 8;
  int packets = std::max(mConfig.minPackets, static_cast<int>(bytes / mConfig.maxPacketBytes + 0.999));
  auto perPacket = static_cast<uint32_t>(bytes / packets + 0.999);
  perPacket = std::clamp(perPacket, mConfig.minPacketBytes, mConfig.maxPacketBytes);
  packets = std::max(packets, mConfig.minPackets);
  const double durationS = static_cast<double>(packets) * perPacket * 8 / target;
  const int id = mNextId;
  mNextId = mNextId == INT_MAX ? 0 : mNextId + 1;
  return ProbeCluster{id, static_cast<uint32_t>(target), packets, perPacket,
                      std::chrono::duration_cast<common::Duration>(std::chrono::duration<double>(durationS))};
}

}  // namespace conclave::bwe
