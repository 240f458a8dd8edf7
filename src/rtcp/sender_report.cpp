#include "rtcp/sender_report.h"

namespace conclave::rtcp {

namespace {
constexpr size_t kSenderInfoSize = 24;  // SSRC + NTP + RTP timestamp + counts

ReportBlock blockAt(std::span<const uint8_t> body, size_t offset, size_t index) {
  common::ByteReader r(body.subspan(offset + index * ReportBlock::kSize, ReportBlock::kSize));
  return ReportBlock::read(r);
}
}  // namespace

std::optional<SenderReport> SenderReport::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kSenderReport) return std::nullopt;
  // Profile-specific extensions may follow the report blocks; they are ignored.
  if (packet.body.size() < kSenderInfoSize + packet.header.count * ReportBlock::kSize) {
    return std::nullopt;
  }
  return SenderReport(packet.body, packet.header.count);
}

std::optional<SenderReport> SenderReport::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

uint32_t SenderReport::senderSsrc() const { return common::loadU32(mBody.data()); }

SenderInfo SenderReport::senderInfo() const {
  common::ByteReader r(mBody.subspan(4));
  SenderInfo info;
  info.ntpTimestamp = r.u64();
  info.rtpTimestamp = r.u32();
  info.packetCount = r.u32();
  info.octetCount = r.u32();
  return info;
}

ReportBlock SenderReport::reportBlock(size_t index) const {
  return index < mCount ? blockAt(mBody, kSenderInfoSize, index) : ReportBlock{};
}

bool SenderReport::write(common::ByteWriter& w, uint32_t senderSsrc, const SenderInfo& info,
                         std::span<const ReportBlock> blocks) {
  if (blocks.size() > kMaxBlocks) return false;
  const size_t body = kSenderInfoSize + blocks.size() * ReportBlock::kSize;
  if (!writeHeader(w, static_cast<uint8_t>(blocks.size()), type::kSenderReport, body)) {
    return false;
  }
  w.u32(senderSsrc);
  w.u64(info.ntpTimestamp);
  w.u32(info.rtpTimestamp);
  w.u32(info.packetCount);
  w.u32(info.octetCount);
  for (const auto& block : blocks) block.write(w);
  return w.ok();
}

std::optional<ReceiverReport> ReceiverReport::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kReceiverReport) return std::nullopt;
  if (packet.body.size() < 4 + packet.header.count * ReportBlock::kSize) return std::nullopt;
  return ReceiverReport(packet.body, packet.header.count);
}

std::optional<ReceiverReport> ReceiverReport::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

uint32_t ReceiverReport::senderSsrc() const { return common::loadU32(mBody.data()); }

ReportBlock ReceiverReport::reportBlock(size_t index) const {
  return index < mCount ? blockAt(mBody, 4, index) : ReportBlock{};
}

bool ReceiverReport::write(common::ByteWriter& w, uint32_t senderSsrc, std::span<const ReportBlock> blocks) {
  if (blocks.size() > kMaxBlocks) return false;
  const size_t body = 4 + blocks.size() * ReportBlock::kSize;
  if (!writeHeader(w, static_cast<uint8_t>(blocks.size()), type::kReceiverReport, body)) {
    return false;
  }
  w.u32(senderSsrc);
  for (const auto& block : blocks) block.write(w);
  return w.ok();
}

}  // namespace conclave::rtcp
