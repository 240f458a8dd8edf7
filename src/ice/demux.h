// Demultiplexing of one UDP 5-tuple that carries STUN, DTLS and SRTP/SRTCP (RFC 7983 §7, which
// updates RFC 5764 §5.1.2), by the first byte of the datagram:
//
//   0..3      STUN                 20..63    DTLS
//   16..19    ZRTP                 64..79    TURN channel (RFC 9443 also puts QUIC at 64..127)
//   128..191  RTP / RTCP           anything else: drop
//
// Conclave speaks neither ZRTP nor TURN nor QUIC, so those ranges classify as Other.
#pragma once

#include <cstdint>
#include <span>

namespace conclave::ice {

enum class PacketKind : uint8_t { Stun, Dtls, RtpRtcp, Other };

constexpr PacketKind classifyPacket(std::span<const uint8_t> datagram) {
  if (datagram.empty()) return PacketKind::Other;
  const uint8_t b = datagram[0];
  if (b <= 3) return PacketKind::Stun;
  if (b >= 20 && b <= 63) return PacketKind::Dtls;
  if (b >= 128 && b <= 191) return PacketKind::RtpRtcp;
  return PacketKind::Other;
}

// First-byte test only (RFC 7983); StunMessage::parse() does the full validation.
constexpr bool isStun(std::span<const uint8_t> datagram) { return classifyPacket(datagram) == PacketKind::Stun; }

// Within RtpRtcp, RTCP is told from RTP by the second byte (RFC 5761 §4): RTCP packet types
// 192..223 (the range 64..95 once the RTP marker bit is masked) never collide with the RTP payload
// types WebRTC uses. Needs at least 2 bytes; false otherwise.
constexpr bool isRtcp(std::span<const uint8_t> datagram) {
  return datagram.size() >= 2 && classifyPacket(datagram) == PacketKind::RtpRtcp && datagram[1] >= 192 &&
         datagram[1] <= 223;
}

}  // namespace conclave::ice
