#include "rtp/vp8.h"

#include "common/bytes.h"

namespace conclave::rtp {

namespace {

struct Offsets {
  size_t pictureId = 0;  // 0: absent
  size_t tl0PicIdx = 0;
};

// Reads the descriptor; `offsets` receives where the rewritable fields sit.
std::optional<Vp8Descriptor> parseDescriptor(std::span<const uint8_t> payload, Offsets& offsets) {
  common::ByteReader r(payload);
  Vp8Descriptor d;
  const uint8_t first = r.u8();
  d.nonReference = (first & 0x20) != 0;
  d.startOfPartition = (first & 0x10) != 0;
  d.partitionId = first & 0x0F;
  if ((first & 0x80) != 0) {  // X
    const uint8_t ext = r.u8();
    if ((ext & 0x80) != 0) {  // I
      offsets.pictureId = r.offset();
      const uint8_t high = r.u8();
      d.longPictureId = (high & 0x80) != 0;
      d.pictureId =
          d.longPictureId ? static_cast<uint16_t>(((high & 0x7F) << 8) | r.u8()) : static_cast<uint16_t>(high & 0x7F);
    }
    if ((ext & 0x40) != 0) {  // L
      offsets.tl0PicIdx = r.offset();
      d.tl0PicIdx = r.u8();
    }
    if ((ext & 0x30) != 0) {  // T or K share one byte
      const uint8_t tk = r.u8();
      if ((ext & 0x20) != 0) {
        d.temporalId = static_cast<uint8_t>(tk >> 6);
        d.layerSync = (tk & 0x20) != 0;
      }
      if ((ext & 0x10) != 0) d.keyIdx = static_cast<uint8_t>(tk & 0x1F);
    }
  }
  if (!r.ok() || r.remaining() == 0) return std::nullopt;
  d.size = r.offset();
  const auto vp8 = r.rest();
  // RFC 7741 §4.3: P (bit 0 of the first payload header byte) is 0 for key frames; it is only
  // meaningful at the start of partition 0.
  if (d.startOfFrame() && (vp8[0] & 0x01) == 0) {
    d.keyframe = true;
    // RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (vp8.size() >= 10 && vp8[3] == 0x9d && vp8[4] == 0x01 && vp8[5] == 0x2a) {
      d.width = static_cast<uint16_t>((vp8[7] << 8 | vp8[6]) & 0x3FFF);
      d.height = static_cast<uint16_t>((vp8[9] << 8 | vp8[8]) & 0x3FFF);
    }
  }
  return d;
}

}  // namespace

std::optional<Vp8Descriptor> Vp8Descriptor::parse(std::span<const uint8_t> payload) {
  Offsets offsets;
  return parseDescriptor(payload, offsets);
}

bool setVp8PictureId(std::span<uint8_t> payload, uint16_t pictureId) {
  Offsets offsets;
  const auto d = parseDescriptor(payload, offsets);
  if (!d || !d->pictureId) return false;
  if (d->longPictureId) {
    payload[offsets.pictureId] = static_cast<uint8_t>(0x80 | ((pictureId >> 8) & 0x7F));
    payload[offsets.pictureId + 1] = static_cast<uint8_t>(pictureId);
  } else {
    payload[offsets.pictureId] = static_cast<uint8_t>(pictureId & 0x7F);
  }
  return true;
}

bool setVp8Tl0PicIdx(std::span<uint8_t> payload, uint8_t tl0PicIdx) {
  Offsets offsets;
  const auto d = parseDescriptor(payload, offsets);
  if (!d || !d->tl0PicIdx) return false;
  payload[offsets.tl0PicIdx] = tl0PicIdx;
  return true;
}

}  // namespace conclave::rtp
