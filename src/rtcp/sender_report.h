// Sender report (RFC 3550 §6.4.1) and receiver report (§6.4.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "rtcp/header.h"
#include "rtcp/report_block.h"

namespace conclave::rtcp {

// The middle 32 bits of a 64-bit NTP timestamp, as LSR carries it.
inline uint32_t compactNtp(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

struct SenderInfo {
  uint64_t ntpTimestamp = 0;
  uint32_t rtpTimestamp = 0;
  uint32_t packetCount = 0;
  uint32_t octetCount = 0;
  bool operator==(const SenderInfo&) const = default;
};

class SenderReport {
 public:
  static constexpr size_t kMaxBlocks = 31;

  static std::optional<SenderReport> parse(const RtcpPacket& packet);
  static std::optional<SenderReport> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const;
  SenderInfo senderInfo() const;
  size_t reportCount() const { return mCount; }
  ReportBlock reportBlock(size_t index) const;  // index < reportCount()

  // At most kMaxBlocks blocks.
  static bool write(common::ByteWriter& w, uint32_t senderSsrc, const SenderInfo& info,
                    std::span<const ReportBlock> blocks);

 private:
  SenderReport(std::span<const uint8_t> body, uint8_t count) : mBody(body), mCount(count) {}
  std::span<const uint8_t> mBody;
  uint8_t mCount;
};

class ReceiverReport {
 public:
  static constexpr size_t kMaxBlocks = 31;

  static std::optional<ReceiverReport> parse(const RtcpPacket& packet);
  static std::optional<ReceiverReport> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const;
  size_t reportCount() const { return mCount; }
  ReportBlock reportBlock(size_t index) const;

  static bool write(common::ByteWriter& w, uint32_t senderSsrc, std::span<const ReportBlock> blocks);

 private:
  ReceiverReport(std::span<const uint8_t> body, uint8_t count) : mBody(body), mCount(count) {}
  std::span<const uint8_t> mBody;
  uint8_t mCount;
};

}  // namespace conclave::rtcp
