// An RTP packet (RFC 3550 §5.1) as a view over a mutable buffer, with RFC 8285 header extensions.
//
// parse() checks every length once (CSRCs, extension block, each extension element, padding);
// accessors then read fields straight from the buffer and mutators write them in place, so that
// the SFU can rewrite sequence number, timestamp, SSRC, payload type and header extensions of a
// packet without copying or allocating. The view does not own the buffer: it must outlive it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace conclave::rtp {

enum class ExtensionProfile : uint8_t {
  None,     // X bit clear
  OneByte,  // 0xBEDE, RFC 8285 §4.2
  TwoByte,  // 0x100X, RFC 8285 §4.3
  Other,    // some other profile: the block is kept but its elements are not interpreted
};

// One header extension element: id and value, the value pointing into the packet.
struct HeaderExtension {
  uint8_t id = 0;
  std::span<uint8_t> value;
};

// Where the SFU's subscriber-side extension ids come from: newId[publisherId], 0 = remove.
struct ExtensionIdMap {
  std::array<uint8_t, 256> newId{};
  void set(uint8_t from, uint8_t to) { newId[from] = to; }
};

class RtpPacket {
 public:
  static constexpr size_t kFixedHeaderSize = 12;
  static constexpr uint16_t kOneByteProfile = 0xBEDE;
  static constexpr uint16_t kTwoByteProfile = 0x1000;  // upper 12 bits; low 4 are "appbits"

  // nullopt unless the whole buffer is one well-formed RTP packet.
  static std::optional<RtpPacket> parse(std::span<uint8_t> buffer);

  // Fixed header.
  bool hasPadding() const { return (mData[0] & 0x20) != 0; }
  bool hasExtension() const { return (mData[0] & 0x10) != 0; }
  uint8_t csrcCount() const { return mData[0] & 0x0F; }
  bool marker() const { return (mData[1] & 0x80) != 0; }
  uint8_t payloadType() const { return mData[1] & 0x7F; }
  uint16_t sequenceNumber() const;
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  uint32_t csrc(size_t index) const;  // index < csrcCount()

  // Sizes and sections.
  size_t size() const { return mData.size(); }
  size_t headerSize() const { return mHeaderSize; }  // fixed header + CSRCs + extension block
  size_t paddingSize() const { return mPaddingSize; }
  size_t payloadSize() const { return mData.size() - mHeaderSize - mPaddingSize; }
  std::span<uint8_t> data() const { return mData; }
  std::span<uint8_t> payload() const { return mData.subspan(mHeaderSize, payloadSize()); }

  // Header extensions.
  ExtensionProfile extensionProfile() const { return mProfile; }
  uint16_t extensionProfileValue() const;  // the 16-bit "defined by profile" field, 0 if none
  std::span<uint8_t> extensionBlock() const { return mData.subspan(mExtOffset, mExtSize); }
  // The value of extension `id` (first occurrence), or nullopt. A present two-byte-form element
  // may have an empty value.
  std::optional<std::span<uint8_t>> extension(uint8_t id) const;
  std::optional<std::string_view> extensionString(uint8_t id) const;  // mid, rid

  // Visits every element in order: f(HeaderExtension). Only for one- and two-byte profiles.
  template <typename F>
  void forEachExtension(F&& f) const {
    size_t pos = 0;
    HeaderExtension ext;
    while (nextExtension(pos, ext)) f(ext);
  }

  // In-place mutators.
  void setMarker(bool marker);
  void setPayloadType(uint8_t pt);  // pt < 128
  void setSequenceNumber(uint16_t seq);
  void setTimestamp(uint32_t ts);
  void setSsrc(uint32_t ssrc);
  // Overwrites the value of extension `id`; false if absent or `value` differs in size.
  bool setExtensionValue(uint8_t id, std::span<const uint8_t> value);
  // Changes an element's id; false if absent or `newId` is invalid for the profile (1..14 for
  // one-byte, 1..255 for two-byte).
  bool setExtensionId(uint8_t id, uint8_t newId);
  // Turns element `id` into padding bytes (RFC 8285 allows 0 bytes between elements).
  bool removeExtension(uint8_t id);
  // Applies `map` to every element at once (ids mapped to 0, or to an id the profile cannot
  // carry, are removed). Safe when the map swaps ids. Returns the number of elements kept.
  size_t remapExtensions(const ExtensionIdMap& map);

  // Drops the padding: the packet ends after the payload and P is cleared. size() shrinks.
  void removePadding();

 private:
  explicit RtpPacket(std::span<uint8_t> data) : mData(data) {}
  bool parseExtensionBlock(std::span<const uint8_t> block);
  // Advances `pos` (offset inside the element list) to the next element; false at the end.
  bool nextExtension(size_t& pos, HeaderExtension& out) const;
  std::optional<HeaderExtension> findExtension(uint8_t id, size_t* elementPos) const;
  void clearElement(size_t elementPos, size_t valueSize);

  std::span<uint8_t> mData;
  uint32_t mHeaderSize = kFixedHeaderSize;
  uint32_t mPaddingSize = 0;
  uint32_t mExtOffset = 0;  // start of the extension elements (after the 4-byte block header)
  uint32_t mExtSize = 0;    // bytes of extension elements that are valid to read
  ExtensionProfile mProfile = ExtensionProfile::None;
};

}  // namespace conclave::rtp
