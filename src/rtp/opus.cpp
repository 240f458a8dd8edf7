#include "rtp/opus.h"

namespace conclave::rtp {

OpusToc::Mode OpusToc::mode() const {
  if (config < 12) return Mode::Silk;
  if (config < 16) return Mode::Hybrid;
  return Mode::Celt;
}

OpusToc::Bandwidth OpusToc::bandwidth() const {
  if (config < 12) return static_cast<Bandwidth>(config / 4);  // NB, MB, WB
  if (config < 16) return config < 14 ? Bandwidth::SuperWide : Bandwidth::Full;
  switch ((config - 16) / 4) {
    case 0:
      return Bandwidth::Narrow;
    case 1:
      return Bandwidth::Wide;
    case 2:
      return Bandwidth::SuperWide;
    default:
      return Bandwidth::Full;
  }
}

uint32_t OpusToc::frameDurationUs() const {
  static constexpr uint32_t kSilk[] = {10000, 20000, 40000, 60000};
  static constexpr uint32_t kHybrid[] = {10000, 20000};
  static constexpr uint32_t kCelt[] = {2500, 5000, 10000, 20000};
  if (config < 12) return kSilk[config % 4];
  if (config < 16) return kHybrid[config % 2];
  return kCelt[config % 4];
}

std::optional<OpusToc> OpusToc::parse(std::span<const uint8_t> payload) {
  if (payload.empty()) return std::nullopt;
  OpusToc toc;
  toc.config = static_cast<uint8_t>(payload[0] >> 3);
  toc.stereo = (payload[0] & 0x04) != 0;
  toc.frameCountCode = payload[0] & 0x03;
  return toc;
}

std::optional<uint32_t> opusFrameCount(std::span<const uint8_t> payload) {
  const auto toc = OpusToc::parse(payload);
  if (!toc) return std::nullopt;
  switch (toc->frameCountCode) {
    case 0:
      return 1;
    case 1:
      return 2;
    case 2:
      return payload.size() >= 2 ? std::optional<uint32_t>(2) : std::nullopt;
    default: {
      if (payload.size() < 2) return std::nullopt;
      const uint32_t count = payload[1] & 0x3F;
      if (count == 0) return std::nullopt;
      return count;
    }
  }
}

std::optional<uint32_t> opusPacketSamples(std::span<const uint8_t> payload) {
  const auto toc = OpusToc::parse(payload);
  const auto frames = opusFrameCount(payload);
  if (!toc || !frames) return std::nullopt;
  const uint64_t us = uint64_t{*frames} * toc->frameDurationUs();
  if (us > 120000) return std::nullopt;
  return static_cast<uint32_t>(us * 48 / 1000);
}

}  // namespace conclave::rtp
