#include "rtp/packet.h"

#include <cstring>

#include "common/bytes.h"

namespace conclave::rtp {

namespace {

ExtensionProfile profileOf(uint16_t value) {
  if (value == RtpPacket::kOneByteProfile) return ExtensionProfile::OneByte;
  if ((value & 0xFFF0) == RtpPacket::kTwoByteProfile) return ExtensionProfile::TwoByte;
  return ExtensionProfile::Other;
}

bool validId(ExtensionProfile profile, unsigned id) {
  if (profile == ExtensionProfile::OneByte) return id >= 1 && id <= 14;
  if (profile == ExtensionProfile::TwoByte) return id >= 1 && id <= 255;
  return false;
}

// RFC 8285: id 0 is padding. A one-byte-form byte whose id nibble is 0 counts as one padding
// byte whatever its length nibble (as libwebrtc reads it).
bool isPadding(uint8_t head, bool oneByte) { return oneByte ? (head >> 4) == 0 : head == 0; }

}  // namespace

std::optional<RtpPacket> RtpPacket::parse(std::span<uint8_t> buffer) {
  common::ByteReader r(buffer);
  const uint8_t first = r.u8();
  r.skip(kFixedHeaderSize - 1);
  if (!r.ok() || (first >> 6) != 2) return std::nullopt;
  RtpPacket packet(buffer);
  r.skip(4u * (first & 0x0F));  // CSRCs
  if ((first & 0x10) != 0) {
    const uint16_t profile = r.u16();
    const size_t words = r.u16();
    const size_t blockOffset = r.offset();
    const auto block = r.bytes(words * 4);
    if (!r.ok()) return std::nullopt;
    packet.mProfile = profileOf(profile);
    packet.mExtOffset = static_cast<uint32_t>(blockOffset);
    packet.mExtSize = static_cast<uint32_t>(block.size());
    if (!packet.parseExtensionBlock(block)) return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  packet.mHeaderSize = static_cast<uint32_t>(r.offset());
  if ((first & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    const size_t available = buffer.size() - packet.mHeaderSize;
    const uint8_t padding = buffer.back();
    if (available == 0 || padding == 0 || padding > available) return std::nullopt;
    packet.mPaddingSize = padding;
  }
  return packet;
}

bool RtpPacket::parseExtensionBlock(std::span<const uint8_t> block) {
  if (mProfile == ExtensionProfile::Other) return true;
  const bool oneByte = mProfile == ExtensionProfile::OneByte;
  size_t pos = 0;
  while (pos < block.size()) {
    const uint8_t head = block[pos];
    if (isPadding(head, oneByte)) {
      ++pos;
      continue;
    }
    size_t valueSize = 0;
    size_t headSize = 1;
    if (oneByte) {
      if ((head >> 4) == 15) {  // RFC 8285 §4.2: id 15 ends processing of the block
        mExtSize = static_cast<uint32_t>(pos);
        return true;
      }
      valueSize = (head & 0x0F) + 1u;
    } else {
      if (pos + 2 > block.size()) return false;
      valueSize = block[pos + 1];
      headSize = 2;
    }
    if (block.size() - pos - headSize < valueSize) return false;
    pos += headSize + valueSize;
  }
  return true;
}

bool RtpPacket::nextExtension(size_t& pos, HeaderExtension& out) const {
  if (mProfile != ExtensionProfile::OneByte && mProfile != ExtensionProfile::TwoByte) {
    return false;
  }
  const bool oneByte = mProfile == ExtensionProfile::OneByte;
  const auto block = mData.subspan(mExtOffset, mExtSize);
  while (pos < block.size() && isPadding(block[pos], oneByte)) ++pos;
  if (pos >= block.size()) return false;
  const size_t headSize = oneByte ? 1 : 2;
  if (block.size() - pos < headSize) return false;
  const size_t valueSize = oneByte ? (block[pos] & 0x0F) + 1u : block[pos + 1];
  if (block.size() - pos - headSize < valueSize) return false;
  out.id = oneByte ? static_cast<uint8_t>(block[pos] >> 4) : block[pos];
  out.value = block.subspan(pos + headSize, valueSize);
  pos += headSize + valueSize;
  return true;
}

std::optional<HeaderExtension> RtpPacket::findExtension(uint8_t id, size_t* elementPos) const {
  if (id == 0) return std::nullopt;
  size_t pos = 0;
  HeaderExtension ext;
  while (nextExtension(pos, ext)) {
    if (ext.id != id) continue;
    if (elementPos != nullptr) {
      // The element head sits just before its value.
      const size_t headSize = mProfile == ExtensionProfile::OneByte ? 1 : 2;
      *elementPos = static_cast<size_t>(ext.value.data() - mData.data()) - headSize;
    }
    return ext;
  }
  return std::nullopt;
}

std::optional<std::span<uint8_t>> RtpPacket::extension(uint8_t id) const {
  const auto ext = findExtension(id, nullptr);
  if (!ext) return std::nullopt;
  return ext->value;
}

std::optional<std::string_view> RtpPacket::extensionString(uint8_t id) const {
  const auto value = extension(id);
  if (!value) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(value->data()), value->size());
}

uint16_t RtpPacket::sequenceNumber() const { return common::loadU16(&mData[2]); }
uint32_t RtpPacket::timestamp() const { return common::loadU32(&mData[4]); }
uint32_t RtpPacket::ssrc() const { return common::loadU32(&mData[8]); }
uint32_t RtpPacket::csrc(size_t index) const {
  return index < csrcCount() ? common::loadU32(&mData[kFixedHeaderSize + 4 * index]) : 0;
}

uint16_t RtpPacket::extensionProfileValue() const {
  return hasExtension() ? common::loadU16(&mData[mExtOffset - 4]) : 0;
}

void RtpPacket::setMarker(bool marker) { mData[1] = static_cast<uint8_t>((mData[1] & 0x7F) | (marker ? 0x80 : 0)); }
void RtpPacket::setPayloadType(uint8_t pt) { mData[1] = static_cast<uint8_t>((mData[1] & 0x80) | (pt & 0x7F)); }
void RtpPacket::setSequenceNumber(uint16_t seq) { common::storeU16(&mData[2], seq); }
void RtpPacket::setTimestamp(uint32_t ts) { common::storeU32(&mData[4], ts); }
void RtpPacket::setSsrc(uint32_t ssrc) { common::storeU32(&mData[8], ssrc); }

bool RtpPacket::setExtensionValue(uint8_t id, std::span<const uint8_t> value) {
  const auto ext = findExtension(id, nullptr);
  if (!ext || ext->value.size() != value.size()) return false;
  if (!value.empty()) std::memcpy(ext->value.data(), value.data(), value.size());
  return true;
}

bool RtpPacket::setExtensionId(uint8_t id, uint8_t newId) {
  size_t elementPos = 0;
  const auto ext = findExtension(id, &elementPos);
  if (!ext || !validId(mProfile, newId)) return false;
  if (mProfile == ExtensionProfile::OneByte) {
    mData[elementPos] = static_cast<uint8_t>((newId << 4) | (mData[elementPos] & 0x0F));
  } else {
    mData[elementPos] = newId;
  }
  return true;
}

void RtpPacket::clearElement(size_t elementPos, size_t valueSize) {
  const size_t headSize = mProfile == ExtensionProfile::OneByte ? 1 : 2;
  std::memset(&mData[elementPos], 0, headSize + valueSize);
}

bool RtpPacket::removeExtension(uint8_t id) {
  size_t elementPos = 0;
  const auto ext = findExtension(id, &elementPos);
  if (!ext) return false;
  clearElement(elementPos, ext->value.size());
  return true;
}

size_t RtpPacket::remapExtensions(const ExtensionIdMap& map) {
  size_t kept = 0;
  size_t pos = 0;
  HeaderExtension ext;
  const size_t headSize = mProfile == ExtensionProfile::OneByte ? 1 : 2;
  while (nextExtension(pos, ext)) {
    const size_t elementPos = static_cast<size_t>(ext.value.data() - mData.data()) - headSize;
    const uint8_t newId = map.newId[ext.id];
    if (!validId(mProfile, newId)) {
      clearElement(elementPos, ext.value.size());
      continue;
    }
    if (mProfile == ExtensionProfile::OneByte) {
      mData[elementPos] = static_cast<uint8_t>((newId << 4) | (mData[elementPos] & 0x0F));
    } else {
      mData[elementPos] = newId;
    }
    ++kept;
  }
  return kept;
}

void RtpPacket::removePadding() {
  if (!hasPadding()) return;
  mData[0] = static_cast<uint8_t>(mData[0] & ~0x20);
  mData = mData.first(mData.size() - mPaddingSize);
  mPaddingSize = 0;
}

}  // namespace conclave::rtp
