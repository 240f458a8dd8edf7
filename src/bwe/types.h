// What the bandwidth estimator is told about packets: the shared types of the bwe layer.
#pragma once

#include <cstdint>

namespace conclave::bwe {

// One transport-wide sequence number of a feedback message, in feedback order.
struct PacketResult {
  uint16_t sequenceNumber;
  bool received;
  int64_t arrivalTimeUs;  // remote clock, 0 if lost
};

}  // namespace conclave::bwe
