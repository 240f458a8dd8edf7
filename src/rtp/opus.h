// The Opus TOC byte and frame count (RFC 6716 §3.1, §3.2.5): packet duration without decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace conclave::rtp {

struct OpusToc {
  enum class Mode : uint8_t { Silk, Hybrid, Celt };
  enum class Bandwidth : uint8_t { Narrow, Medium, Wide, SuperWide, Full };

  uint8_t config = 0;          // 0..31
  bool stereo = false;         // s
  uint8_t frameCountCode = 0;  // c: 0 one frame, 1 two equal, 2 two different, 3 arbitrary

  Mode mode() const;
  Bandwidth bandwidth() const;
  uint32_t frameDurationUs() const;  // 2500, 5000, 10000, 20000, 40000 or 60000

  static std::optional<OpusToc> parse(std::span<const uint8_t> payload);
};

// Frames in the packet (code 3 reads the count byte); nullopt if malformed.
std::optional<uint32_t> opusFrameCount(std::span<const uint8_t> payload);
// Packet duration in 48 kHz samples; nullopt if malformed or longer than 120 ms (§3.4 R5).
std::optional<uint32_t> opusPacketSamples(std::span<const uint8_t> payload);

}  // namespace conclave::rtp
