// RTCP extended reports (RFC 3611), minimally: the block framing is validated so a compound
// packet carrying XR can be walked, and the two blocks WebRTC uses for receiver-side RTT are
// readable (receiver reference time, BT 4; DLRR, BT 5). Other blocks are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "rtcp/header.h"

namespace conclave::rtcp {

struct XrBlock {
  uint8_t blockType = 0;
  uint8_t typeSpecific = 0;
  std::span<const uint8_t> content;  // after the 4-byte block header
};

struct DlrrItem {
  uint32_t ssrc = 0;
  uint32_t lastRr = 0;
  uint32_t delaySinceLastRr = 0;
};

class ExtendedReport {
 public:
  static constexpr uint8_t kReceiverReferenceTime = 4;
  static constexpr uint8_t kDlrr = 5;

  static std::optional<ExtendedReport> parse(const RtcpPacket& packet);
  static std::optional<ExtendedReport> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return common::loadU32(&mBody[0]); }

  // f(const XrBlock&) for each block.
  template <typename F>
  void forEachBlock(F&& f) const {
    walk(mBody, f);
  }
  // The NTP time of the first receiver reference time block, if any.
  std::optional<uint64_t> receiverReferenceTime() const;
  // f(const DlrrItem&) for each sub-block of every DLRR block.
  template <typename F>
  void forEachDlrr(F&& f) const {
    forEachBlock([&](const XrBlock& block) {
      if (block.blockType != kDlrr) return;
      for (size_t pos = 0; pos + 12 <= block.content.size(); pos += 12) {
        const uint8_t* p = &block.content[pos];
        f(DlrrItem{common::loadU32(p), common::loadU32(p + 4), common::loadU32(p + 8)});
      }
    });
  }

 private:
  explicit ExtendedReport(std::span<const uint8_t> body) : mBody(body) {}
  template <typename F>
  static bool walk(std::span<const uint8_t> body, F&& f) {
    size_t pos = 4;
    while (pos < body.size()) {
      if (body.size() - pos < 4) return false;
      const size_t length = 4 * size_t{common::loadU16(&body[pos + 2])};
      if (body.size() - pos - 4 < length) return false;
      f(XrBlock{body[pos], body[pos + 1], body.subspan(pos + 4, length)});
      pos += 4 + length;
    }
    return true;
  }

  std::span<const uint8_t> mBody;
};

}  // namespace conclave::rtcp
