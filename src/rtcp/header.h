// The RTCP common header (RFC 3550 §6.4) and the pieces every packet type shares: packet type
// numbers, the generic packet view a compound iterator yields, and header writing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"

namespace conclave::rtcp {

namespace type {
inline constexpr uint8_t kSenderReport = 200;
inline constexpr uint8_t kReceiverReport = 201;
inline constexpr uint8_t kSdes = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kApp = 204;
inline constexpr uint8_t kRtpFeedback = 205;      // RFC 4585 transport layer feedback
inline constexpr uint8_t kPayloadFeedback = 206;  // RFC 4585 payload-specific feedback
inline constexpr uint8_t kExtendedReport = 207;   // RFC 3611
}  // namespace type

namespace fmt {
inline constexpr uint8_t kNack = 1;          // RTPFB generic NACK, RFC 4585 §6.2.1
inline constexpr uint8_t kTransportCc = 15;  // RTPFB transport-wide-cc-01
inline constexpr uint8_t kPli = 1;           // PSFB, RFC 4585 §6.3.1
inline constexpr uint8_t kFir = 4;           // PSFB, RFC 5104 §4.3.1
inline constexpr uint8_t kAfb = 15;          // PSFB application layer feedback (REMB)
}  // namespace fmt

struct RtcpHeader {
  static constexpr size_t kSize = 4;

  bool padding = false;
  uint8_t count = 0;  // report count, source count, or FMT for feedback
  uint8_t packetType = 0;
  uint16_t length = 0;  // in 32-bit words minus one

  size_t packetSize() const { return (size_t{length} + 1) * 4; }
  // nullopt unless version is 2 (the length is not checked against the buffer).
  static std::optional<RtcpHeader> parse(std::span<const uint8_t> data);
};

// One packet of a compound packet: the whole packet and its body (after the 4-byte header, with
// any padding removed).
struct RtcpPacket {
  RtcpHeader header;
  std::span<const uint8_t> bytes;
  std::span<const uint8_t> body;

  // nullopt unless `data` starts with one complete, well-framed packet (version 2, length
  // within `data`, a padding count that fits the body).
  static std::optional<RtcpPacket> parse(std::span<const uint8_t> data);
};

// Writes a header for a packet whose body (after the header) is `bodySize` bytes, a multiple
// of 4. False if the size is not representable.
bool writeHeader(common::ByteWriter& w, uint8_t count, uint8_t packetType, size_t bodySize);

}  // namespace conclave::rtcp
