// A reception report block (RFC 3550 §6.4.1), shared by sender and receiver reports.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace conclave::rtcp {

struct ReportBlock {
  static constexpr size_t kSize = 24;

  uint32_t ssrc = 0;
  uint8_t fractionLost = 0;       // 8-bit fixed point, lost / expected * 256
  int32_t cumulativeLost = 0;     // signed 24 bits on the wire (duplicates can make it negative)
  uint32_t highestSequence = 0;   // extended: cycles << 16 | highest seq
  uint32_t jitter = 0;            // RTP timestamp units
  uint32_t lastSr = 0;            // LSR: middle 32 bits of the last SR's NTP time
  uint32_t delaySinceLastSr = 0;  // DLSR: 1/65536 s

  static ReportBlock read(common::ByteReader& r);
  void write(common::ByteWriter& w) const;  // clamps cumulativeLost to 24 bits
  bool operator==(const ReportBlock&) const = default;
};

}  // namespace conclave::rtcp
