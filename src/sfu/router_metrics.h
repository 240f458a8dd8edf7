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
    RouterStatMetric{"conclave_nacks_sent_total", "Sequence numbers NACKed toward publishers, retries included.",
                     &Router::Stats::nacksSent},
    RouterStatMetric{"conclave_rtx_repaired_packets_total", "Publishers' RTX packets that filled a hole.",
                     &Router::Stats::rtxRepaired},
    RouterStatMetric{"conclave_transport_feedback_sent_total", "transport-cc feedback messages sent to publishers.",
                     &Router::Stats::transportFeedbackSent},
    RouterStatMetric{"conclave_transport_feedback_received_total", "transport-cc feedback messages from subscribers.",
                     &Router::Stats::transportFeedbackReceived},
    RouterStatMetric{"conclave_transport_packets_lost_total",
                     "Packets to subscribers that their transport-cc feedback reported lost.",
                     &Router::Stats::transportPacketsLost},
};

}  // namespace conclave::sfu
