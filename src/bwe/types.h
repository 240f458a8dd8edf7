// What the media plane tells the bandwidth estimator: each packet sent to a subscriber (stamped
// with a transport-wide sequence number, draft-holmer-rmcat-transport-wide-cc-extensions-01) and,
// from that subscriber's transport-cc feedback, whether and when each one arrived.
#pragma once

#include <cstdint>

namespace conclave::bwe {

// One RTP packet sent on a subscriber's transport (media, RTX, padding or probe).
// `sendTimeUs` is microseconds on the same steady clock as the `now` given to onFeedback
// (common::TimePoint::time_since_epoch()).
struct SentPacket {
  uint16_t sequenceNumber;  // transport-wide sequence number
  uint32_t bytes;           // size on the wire (RTP header, payload and padding)
  int64_t sendTimeUs;
  bool probe = false;
  bool retransmission = false;
  int probeClusterId = -1;
};

// One status of a transport-cc feedback message.
struct PacketResult {
  uint16_t sequenceNumber;
  bool received;
  int64_t arrivalTimeUs;  // remote clock, 0 if lost
};

// What the delay-based detector concludes from the trend of the queuing delay.
enum class BandwidthUsage { kNormal, kUnderusing, kOverusing };

}  // namespace conclave::bwe
