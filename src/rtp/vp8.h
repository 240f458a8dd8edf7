// The VP8 RTP payload descriptor (RFC 7741 §4.2) and the start of the VP8 payload header
// (§4.3): what an SFU needs to pick simulcast and temporal layers and to detect keyframes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace conclave::rtp {

struct Vp8Descriptor {
  bool nonReference = false;          // N
  bool startOfPartition = false;      // S
  uint8_t partitionId = 0;            // PID
  std::optional<uint16_t> pictureId;  // 7 or 15 bits
  bool longPictureId = false;         // M: the picture id takes 15 bits
  std::optional<uint8_t> tl0PicIdx;
  std::optional<uint8_t> temporalId;  // TID, present with T
  bool layerSync = false;             // Y
  std::optional<uint8_t> keyIdx;      // present with K
  size_t size = 0;                    // descriptor bytes before the VP8 payload
  bool keyframe = false;              // first packet of a key frame (S=1, PID=0, P=0)
  uint16_t width = 0;                 // key frame size, when the first packet carries it
  uint16_t height = 0;

  bool startOfFrame() const { return startOfPartition && partitionId == 0; }

  // nullopt if the descriptor is truncated or no payload byte follows it.
  static std::optional<Vp8Descriptor> parse(std::span<const uint8_t> payload);
};

// In-place rewriting of fields the descriptor already carries (same width; a 7-bit picture id
// keeps 7 bits). False if the field is absent or the payload is not a valid descriptor.
bool setVp8PictureId(std::span<uint8_t> payload, uint16_t pictureId);
bool setVp8Tl0PicIdx(std::span<uint8_t> payload, uint8_t tl0PicIdx);

}  // namespace conclave::rtp
