// When to probe a subscriber's downlink, and how: before a consumer may switch up, the allocator
// says how much it would need (`wantedBps`); if that is above the estimate, a cluster of at least
// 5 packets (padding or RTX of recent packets) spread over ~15 ms at 1.5-2x the estimate shows
// whether the path carries it (SendSideEstimator measures the cluster from the feedback and
// raises its estimate at once). A probe that did not raise the estimate is not repeated at once:
// the next one waits 2 s, doubling up to 10 s (a capped link that opens up is found within
// about 10 s), until no probe is wanted any more.
// No I/O, no allocation; the caller sends the cluster and stamps each packet with the cluster's id.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.h"

namespace conclave::bwe {

struct ProbeCluster {
  int id;                     // SentPacket::probeClusterId of every packet of it (probe = true)
  uint32_t targetBps;         // the rate to send it at
  int packets;                // how many packets
  uint32_t bytesPerPacket;    // the size of each, headers included
  common::Duration duration;  // spread evenly over this long: packets x bytes x 8 / targetBps
};

class ProbeController {
 public:
  struct Config {
    double minFactor = 1.5;  // a cluster probes at least this much above the estimate
    double maxFactor = 2.0;  // ... and at most this much
    common::Duration clusterDuration = std::chrono::milliseconds(15);
    int minPackets = 5;
    uint32_t minPacketBytes = 100;
    uint32_t maxPacketBytes = 1200;
    uint32_t maxBps = 10'000'000;
    common::Duration resultTimeout = std::chrono::seconds(1);  // no raise by then: it failed
    common::Duration minBackoff = std::chrono::seconds(2);
    common::Duration maxBackoff = std::chrono::seconds(10);
  };

  explicit ProbeController(Config config);

  // Called whenever the allocator ran. `estimateBps`: the estimator's now; `wantedBps`: what the
  // next switch up would need (0 or not above the estimate: nothing to probe for). Returns the
  // cluster to send now, if any.
  std::optional<ProbeCluster> process(uint32_t estimateBps, uint32_t wantedBps, common::TimePoint now);

  bool inFlight() const { return mInFlight; }
  int failures() const { return mFailures; }

 private:
  ProbeCluster makeCluster(uint32_t estimateBps, uint32_t wantedBps);

  Config mConfig;
  int mNextId = 0;
  bool mInFlight = false;
  common::TimePoint mSentAt{};
  uint32_t mEstimateAtProbe = 0;
  int mFailures = 0;
  common::TimePoint mNotBefore{};
};

}  // namespace conclave::bwe
