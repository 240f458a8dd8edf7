// Writing RTP packets into caller buffers: a packet from parts, and RTX (RFC 4588) wrapping and
// unwrapping. Nothing allocates; a result of 0 / nullopt means "does not fit" or "invalid".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtp/packet.h"

namespace conclave::rtp {

struct RtpHeader {
  bool marker = false;
  uint8_t payloadType = 0;
  uint16_t sequenceNumber = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::span<const uint32_t> csrcs;  // at most 15
};

struct ExtensionValue {
  uint8_t id = 0;
  std::span<const uint8_t> value;
};

// The smallest form that carries all of `extensions`: one-byte when every id is 1..14 and every
// value 1..16 bytes, else two-byte (ids 1..255, values 0..255 bytes).
ExtensionProfile chooseExtensionProfile(std::span<const ExtensionValue> extensions);

// Writes header, extensions (none: no X bit), payload and `paddingSize` bytes of padding (0 or
// 1..255). Returns the packet size, or 0 if it does not fit `out` or an argument is invalid.
size_t writeRtpPacket(std::span<uint8_t> out, const RtpHeader& header, std::span<const ExtensionValue> extensions,
                      std::span<const uint8_t> payload, uint8_t paddingSize = 0);

// The RTX form of `original` (same CSRCs and extension block, padding dropped): payload type,
// SSRC and sequence number of the RTX stream, payload = original sequence number + payload.
size_t writeRtx(std::span<uint8_t> out, const RtpPacket& original, uint8_t rtxPayloadType, uint32_t rtxSsrc,
                uint16_t rtxSequenceNumber);

// Turns an RTX packet back into the original in place (the payload moves 2 bytes forward):
// returns the view of the shorter packet, or nullopt if the RTX payload has no OSN.
std::optional<RtpPacket> unwrapRtx(RtpPacket rtx, uint8_t payloadType, uint32_t ssrc);

}  // namespace conclave::rtp
