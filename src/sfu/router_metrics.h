// The Router statistics that /metrics shows, summed per media worker (MediaWorker::Counters
// publishes them on its tick, app/ renders them): adding one is one line in this table.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sfu/router.h"

namespace conclave::sfu {

struct RouterStatMetric {
  std::string_view name;  // a Prometheus counter name (conclave_..._total)
  std::string_view help;
  uint64_t Router::Stats::*field;
};

inline constexpr std::array kRouterStatMetrics{
    RouterStatMetric{"conclave_rtp_forwarded_packets_total", "RTP packets forwarded to subscribers.",
                     &Router::Stats::rtpForwarded},
    RouterStatMetric{"conclave_rtp_dropped_packets_total", "RTP packets dropped (unknown SSRC and the like).",
                     &Router::Stats::rtpDropped},
    RouterStatMetric{"conclave_rtp_paused_packets_total", "RTP packets of paused producers, not forwarded.",
                     &Router::Stats::rtpPaused},
    RouterStatMetric{"conclave_retransmitted_packets_total", "Packets retransmitted to subscribers on NACK.",
                     &Router::Stats::retransmitted},
    RouterStatMetric{"conclave_retransmissions_refused_total",
                     "Retransmissions refused (over a consumer's limits or byte budget).",
                     &Router::Stats::retransmitsRefused},
    RouterStatMetric{"conclave_keyframe_requests_total", "Keyframe requests sent to publishers.",
                     &Router::Stats::keyframeRequests},
};

}  // namespace conclave::sfu
