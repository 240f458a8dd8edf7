// Source description (RFC 3550 §6.5) and goodbye (§6.6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "rtcp/header.h"

namespace conclave::rtcp {

namespace sdes {
inline constexpr uint8_t kCname = 1;
}

struct SdesChunk {
  uint32_t ssrc = 0;
  std::string_view cname;  // at most 255 bytes
};

class Sdes {
 public:
  static std::optional<Sdes> parse(const RtcpPacket& packet);
  static std::optional<Sdes> parse(std::span<const uint8_t> data);

  size_t chunkCount() const { return mCount; }
  std::optional<std::string_view> cname(uint32_t ssrc) const;

  // f(uint32_t ssrc, uint8_t itemType, std::string_view value) for every item.
  template <typename F>
  void forEachItem(F&& f) const {
    walk(mBody, mCount, [&](uint32_t ssrc, uint8_t item, std::span<const uint8_t> value) {
      f(ssrc, item, std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
    });
  }

  // One chunk with a CNAME item per entry (at most 31).
  static bool write(common::ByteWriter& w, std::span<const SdesChunk> chunks);

 private:
  Sdes(std::span<const uint8_t> body, uint8_t count) : mBody(body), mCount(count) {}

  // Visits items; false if the chunks are malformed.
  template <typename F>
  static bool walk(std::span<const uint8_t> body, size_t count, F&& f);

  std::span<const uint8_t> mBody;
  uint8_t mCount;
};

template <typename F>
bool Sdes::walk(std::span<const uint8_t> body, size_t count, F&& f) {
  size_t pos = 0;
  for (size_t chunk = 0; chunk < count; ++chunk) {
    if (body.size() - pos < 4) return false;
    const uint32_t ssrc = common::loadU32(&body[pos]);
    pos += 4;
    while (true) {
      if (pos >= body.size()) return false;
      const uint8_t item = body[pos];
      if (item == 0) {  // end of list, then null octets up to the next 32-bit boundary
        pos = (pos + 1 + 3) / 4 * 4;
        if (pos > body.size()) return false;
        break;
      }
      if (body.size() - pos < 2 || body.size() - pos - 2 < body[pos + 1]) return false;
      f(ssrc, item, body.subspan(pos + 2, body[pos + 1]));
      pos += 2u + body[pos + 1];
    }
  }
  return true;
}

class Bye {
 public:
  static std::optional<Bye> parse(const RtcpPacket& packet);
  static std::optional<Bye> parse(std::span<const uint8_t> data);

  size_t ssrcCount() const { return mCount; }
  uint32_t ssrc(size_t index) const;  // index < ssrcCount()
  std::string_view reason() const { return mReason; }

  static bool write(common::ByteWriter& w, std::span<const uint32_t> ssrcs, std::string_view reason = {});

 private:
  Bye(std::span<const uint8_t> body, uint8_t count, std::string_view reason)
      : mBody(body), mCount(count), mReason(reason) {}
  std::span<const uint8_t> mBody;
  uint8_t mCount;
  std::string_view mReason;
};

}  // namespace conclave::rtcp
