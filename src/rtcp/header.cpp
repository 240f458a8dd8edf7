#include "rtcp/header.h"

namespace conclave::rtcp {

std::optional<RtcpHeader> RtcpHeader::parse(std::span<const uint8_t> data) {
  common::ByteReader r(data);
  const uint8_t first = r.u8();
  RtcpHeader h;
  h.packetType = r.u8();
  h.length = r.u16();
  if (!r.ok() || (first >> 6) != 2) return std::nullopt;
  h.padding = (first & 0x20) != 0;
  h.count = first & 0x1F;
  return h;
}

std::optional<RtcpPacket> RtcpPacket::parse(std::span<const uint8_t> data) {
  const auto header = RtcpHeader::parse(data);
  if (!header || header->packetSize() > data.size()) return std::nullopt;
  RtcpPacket packet;
  packet.header = *header;
  packet.bytes = data.first(header->packetSize());
  packet.body = packet.bytes.subspan(RtcpHeader::kSize);
  if (header->padding) {
    // RFC 3550 §6.4.1: the last octet counts the padding octets, itself included.
    if (packet.body.empty()) return std::nullopt;
    const uint8_t padding = packet.body.back();
    if (padding == 0 || padding > packet.body.size()) return std::nullopt;
    packet.body = packet.body.first(packet.body.size() - padding);
  }
  return packet;
}

bool writeHeader(common::ByteWriter& w, uint8_t count, uint8_t packetType, size_t bodySize) {
  if (bodySize % 4 != 0 || bodySize / 4 > 0xFFFF || count > 31) return false;
  w.u8(static_cast<uint8_t>(0x80 | count));
  w.u8(packetType);
  w.u16(static_cast<uint16_t>(bodySize / 4));
  return w.ok();
}

}  // namespace conclave::rtcp
