// Header extensions the SFU reads or rewrites: URIs as negotiated in SDP (a=extmap) and the
// value formats of each. The element framing itself (RFC 8285) lives in RtpPacket.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/clock.h"
#include "rtp/packet.h"

namespace conclave::rtp {

// Which id carries which extension is negotiated in SDP: the URIs live in sdp/capabilities.h.

// RFC 6464 client-to-mixer audio level: V flag and level in -dBov (0 loudest .. 127 silence).
struct AudioLevel {
  bool voiceActivity = false;
  uint8_t level = 127;
};
std::optional<AudioLevel> parseAudioLevel(std::span<const uint8_t> value);

// abs-send-time: 24 bits, 6.18 fixed-point seconds (wraps every 64 s).
std::optional<uint32_t> parseAbsSendTime(std::span<const uint8_t> value);
uint32_t toAbsSendTime(common::Duration sinceEpoch);
bool setAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t value);

// transport-wide-cc-01: the 16-bit transport-wide sequence number.
std::optional<uint16_t> parseTransportSequenceNumber(std::span<const uint8_t> value);
bool setTransportSequenceNumber(RtpPacket& packet, uint8_t id, uint16_t seq);

}  // namespace conclave::rtp
