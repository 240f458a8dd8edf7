#include "rtp/packet_writer.h"

#include <cstring>

#include "common/bytes.h"

namespace conclave::rtp {

ExtensionProfile chooseExtensionProfile(std::span<const ExtensionValue> extensions) {
  if (extensions.empty()) return ExtensionProfile::None;
  for (const auto& ext : extensions) {
    if (ext.id < 1 || ext.id > 14 || ext.value.empty() || ext.value.size() > 16) {
      return ExtensionProfile::TwoByte;
    }
  }
  return ExtensionProfile::OneByte;
}

namespace {

// Bytes of the element list (before padding to 4), or 0 if an element cannot be written.
size_t elementsSize(ExtensionProfile profile, std::span<const ExtensionValue> extensions) {
  size_t size = 0;
  for (const auto& ext : extensions) {
    if (ext.id == 0 || ext.value.size() > 255) return 0;
    size += (profile == ExtensionProfile::OneByte ? 1 : 2) + ext.value.size();
  }
  return size;
}

void writeElements(common::ByteWriter& w, ExtensionProfile profile, std::span<const ExtensionValue> extensions,
                   size_t paddedSize) {
  const bool oneByte = profile == ExtensionProfile::OneByte;
  w.u16(oneByte ? RtpPacket::kOneByteProfile : RtpPacket::kTwoByteProfile);
  w.u16(static_cast<uint16_t>(paddedSize / 4));
  const size_t start = w.size();
  for (const auto& ext : extensions) {
    if (oneByte) {
      w.u8(static_cast<uint8_t>((ext.id << 4) | (ext.value.size() - 1)));
    } else {
      w.u8(ext.id);
      w.u8(static_cast<uint8_t>(ext.value.size()));
    }
    w.bytes(ext.value);
  }
  w.zeros(paddedSize - (w.size() - start));
}

}  // namespace

size_t writeRtpPacket(std::span<uint8_t> out, const RtpHeader& header, std::span<const ExtensionValue> extensions,
                      std::span<const uint8_t> payload, uint8_t paddingSize) {
  if (header.csrcs.size() > 15 || header.payloadType > 127) return 0;
  const ExtensionProfile profile = chooseExtensionProfile(extensions);
  size_t paddedExtSize = 0;
  if (profile != ExtensionProfile::None) {
    const size_t size = elementsSize(profile, extensions);
    if (size == 0) return 0;
    paddedExtSize = (size + 3) / 4 * 4;
    if (paddedExtSize / 4 > 0xFFFF) return 0;
  }
  common::ByteWriter w(out);
  w.u8(static_cast<uint8_t>(0x80 | (paddingSize > 0 ? 0x20 : 0) | (profile != ExtensionProfile::None ? 0x10 : 0) |
                            header.csrcs.size()));
  w.u8(static_cast<uint8_t>((header.marker ? 0x80 : 0) | header.payloadType));
  w.u16(header.sequenceNumber);
  w.u32(header.timestamp);
  w.u32(header.ssrc);
  for (const uint32_t csrc : header.csrcs) w.u32(csrc);
  if (profile != ExtensionProfile::None) writeElements(w, profile, extensions, paddedExtSize);
  w.bytes(payload);
  if (paddingSize > 0) {
    w.zeros(paddingSize - 1u);
    w.u8(paddingSize);
  }
  return w.ok() ? w.size() : 0;
}

size_t writeRtx(std::span<uint8_t> out, const RtpPacket& original, uint8_t rtxPayloadType, uint32_t rtxSsrc,
                uint16_t rtxSequenceNumber) {
  const size_t header = original.headerSize();
  const auto payload = original.payload();
  const size_t total = header + 2 + payload.size();
  if (out.size() < total || rtxPayloadType > 127) return 0;
  // Safe when `out` is the original's own buffer (with 2 spare bytes): read first, move the
  // payload up before anything overwrites it.
  const uint16_t originalSeq = original.sequenceNumber();
  if (!payload.empty()) std::memmove(&out[header + 2], payload.data(), payload.size());
  std::memmove(out.data(), original.data().data(), header);
  out[0] = static_cast<uint8_t>(out[0] & ~0x20);  // no padding
  out[1] = static_cast<uint8_t>((out[1] & 0x80) | rtxPayloadType);
  common::storeU16(&out[2], rtxSequenceNumber);
  common::storeU32(&out[8], rtxSsrc);
  common::storeU16(&out[header], originalSeq);
  return total;
}

std::optional<RtpPacket> unwrapRtx(RtpPacket rtx, uint8_t payloadType, uint32_t ssrc) {
  const auto payload = rtx.payload();
  if (payload.size() < 2 || payloadType > 127) return std::nullopt;
  const uint16_t originalSeq = common::loadU16(payload.data());
  rtx.removePadding();
  const size_t header = rtx.headerSize();
  const auto data = rtx.data();
  std::memmove(&data[header], &data[header + 2], payload.size() - 2);
  rtx.setPayloadType(payloadType);
  rtx.setSsrc(ssrc);
  rtx.setSequenceNumber(originalSeq);
  return RtpPacket::parse(data.first(data.size() - 2));
}

}  // namespace conclave::rtp
