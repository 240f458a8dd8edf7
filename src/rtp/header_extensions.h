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

namespace uri {
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRid =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kVideoOrientation = "urn:3gpp:video-orientation";
}  // namespace uri

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
