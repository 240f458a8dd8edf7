#include "rtcp/extended_report.h"

namespace conclave::rtcp {

std::optional<ExtendedReport> ExtendedReport::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kExtendedReport || packet.body.size() < 4) {
    return std::nullopt;
  }
  if (!walk(packet.body, [](const XrBlock&) {})) return std::nullopt;
  return ExtendedReport(packet.body);
}

std::optional<ExtendedReport> ExtendedReport::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

std::optional<uint64_t> ExtendedReport::receiverReferenceTime() const {
  std::optional<uint64_t> ntp;
  forEachBlock([&](const XrBlock& block) {
    if (!ntp && block.blockType == kReceiverReferenceTime && block.content.size() >= 8) {
      ntp = common::loadU64(block.content.data());
    }
  });
  return ntp;
}

}  // namespace conclave::rtcp
