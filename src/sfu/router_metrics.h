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
    RouterStatMetric{"conclave_layer_switches_up_total", "Consumers moved to a higher simulcast layer.",
                     &Router::Stats::layerSwitchesUp},
    RouterStatMetric{"conclave_layer_switches_down_total", "Consumers moved to a lower simulcast layer.",
                     &Router::Stats::layerSwitchesDown},
    RouterStatMetric{"conclave_bwe_probe_clusters_total", "Probe clusters started toward subscribers.",
                     &Router::Stats::probeClusters},
    RouterStatMetric{"conclave_bwe_probe_packets_total", "Padding packets of probe clusters sent to subscribers.",
                     &Router::Stats::probePackets},
    RouterStatMetric{"conclave_bwe_retransmissions_dropped_total",
                     "Retransmissions dropped because the subscriber's estimate had no room for them.",
                     &Router::Stats::retransmitsOverEstimate},
    RouterStatMetric{"conclave_bwe_video_dropped_packets_total",
                     "Video packets dropped because a subscriber was far over its estimate.",
                     &Router::Stats::videoOverEstimate},
    RouterStatMetric{"conclave_bwe_consumers_paused_total",
                     "Video consumers paused because the subscriber's estimate does not carry the lowest layer.",
                     &Router::Stats::consumersPausedForBandwidth},
    RouterStatMetric{"conclave_bwe_estimates_total",
                     "Subscriber bandwidth estimates sampled (one per subscriber per allocation, 5 per second).",
                     &Router::Stats::estimates},
    RouterStatMetric{"conclave_bwe_estimate_kbps_sum_total", "Sum of the sampled estimates, kbit/s.",
                     &Router::Stats::estimateKbpsSum},
    RouterStatMetric{"conclave_bwe_estimates_under_300kbps_total", "Sampled estimates below 300 kbit/s.",
                     &Router::Stats::estimatesUnder300k},
    RouterStatMetric{"conclave_bwe_estimates_under_1mbps_total", "Sampled estimates below 1 Mbit/s.",
                     &Router::Stats::estimatesUnder1M},
    RouterStatMetric{"conclave_bwe_estimates_under_3mbps_total", "Sampled estimates below 3 Mbit/s.",
                     &Router::Stats::estimatesUnder3M},
};

}  // namespace conclave::sfu
