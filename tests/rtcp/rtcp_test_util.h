// Shared helpers for the RTCP tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "rtcp/compound.h"

namespace conclave::rtcp::test {

// The n-th packet (0-based) of a compound packet.
inline RtcpPacket nth(std::span<const uint8_t> compound, size_t n) {
  CompoundReader reader(compound);
  for (size_t i = 0; i < n; ++i) reader.next();
  return *reader.next();
}

}  // namespace conclave::rtcp::test
