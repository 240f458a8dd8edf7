#include "rtp/header_extensions.h"

#include <array>

#include "common/bytes.h"

namespace conclave::rtp {

std::optional<AudioLevel> parseAudioLevel(std::span<const uint8_t> value) {
  if (value.empty()) return std::nullopt;
  return AudioLevel{(value[0] & 0x80) != 0, static_cast<uint8_t>(value[0] & 0x7F)};
}

std::optional<uint32_t> parseAbsSendTime(std::span<const uint8_t> value) {
  if (value.size() != 3) return std::nullopt;
  return common::loadU24(value.data());
}

uint32_t toAbsSendTime(common::Duration sinceEpoch) {
  const auto ns = static_cast<uint64_t>(sinceEpoch.count());
  // seconds << 18 plus the fraction, without overflowing for any realistic uptime.
  const uint64_t seconds = ns / 1'000'000'000u;
  const uint64_t fraction = ((ns % 1'000'000'000u) << 18) / 1'000'000'000u;
  return static_cast<uint32_t>(((seconds << 18) | fraction) & 0xFFFFFF);
}

bool setAbsSendTime(RtpPacket& packet, uint8_t id, uint32_t value) {
  std::array<uint8_t, 3> bytes{};
  common::storeU24(bytes.data(), value & 0xFFFFFF);
  return packet.setExtensionValue(id, bytes);
}

std::optional<uint16_t> parseTransportSequenceNumber(std::span<const uint8_t> value) {
  if (value.size() != 2) return std::nullopt;
  return common::loadU16(value.data());
}

bool setTransportSequenceNumber(RtpPacket& packet, uint8_t id, uint16_t seq) {
  std::array<uint8_t, 2> bytes{};
  common::storeU16(bytes.data(), seq);
  return packet.setExtensionValue(id, bytes);
}

}  // namespace conclave::rtp
