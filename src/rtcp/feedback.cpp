#include "rtcp/feedback.h"

#include "rtp/seq_num.h"

namespace conclave::rtcp {

namespace {

constexpr size_t kCommonSize = 8;  // sender SSRC + media SSRC

bool isFeedback(const RtcpPacket& packet, uint8_t packetType, uint8_t format) {
  return packet.header.packetType == packetType && packet.header.count == format && packet.body.size() >= kCommonSize;
}

bool writeCommon(common::ByteWriter& w, uint8_t format, uint8_t packetType, size_t fciSize, uint32_t senderSsrc,
                 uint32_t mediaSsrc) {
  if (!writeHeader(w, format, packetType, kCommonSize + fciSize)) return false;
  w.u32(senderSsrc);
  w.u32(mediaSsrc);
  return w.ok();
}

// Calls f(NackItem) for each item that `lost` groups into.
template <typename F>
void groupNack(std::span<const uint16_t> lost, F&& f) {
  size_t i = 0;
  while (i < lost.size()) {
    NackItem item{lost[i], 0};
    ++i;
    while (i < lost.size()) {
      const int32_t d = rtp::SeqNum::diff(lost[i], item.pid);
      if (d < 1 || d > 16) break;
      item.blp = static_cast<uint16_t>(item.blp | (1u << (d - 1)));
      ++i;
    }
    f(item);
  }
}

}  // namespace

std::optional<GenericNack> GenericNack::parse(const RtcpPacket& packet) {
  if (!isFeedback(packet, type::kRtpFeedback, fmt::kNack)) return std::nullopt;
  const size_t fci = packet.body.size() - kCommonSize;
  if (fci == 0 || fci % 4 != 0) return std::nullopt;
  return GenericNack(packet.body);
}

std::optional<GenericNack> GenericNack::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

NackItem GenericNack::item(size_t index) const {
  if (index >= itemCount()) return {};
  const uint8_t* p = &mBody[kCommonSize + 4 * index];
  return NackItem{common::loadU16(p), common::loadU16(p + 2)};
}

size_t GenericNack::lostSequenceNumbers(std::span<uint16_t> out) const {
  size_t n = 0;
  forEachLost([&](uint16_t seq) {
    if (n < out.size()) out[n++] = seq;
  });
  return n;
}

bool GenericNack::write(common::ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc,
                        std::span<const uint16_t> lost) {
  size_t items = 0;
  groupNack(lost, [&](const NackItem&) { ++items; });
  if (items == 0) return false;
  if (!writeCommon(w, fmt::kNack, type::kRtpFeedback, 4 * items, senderSsrc, mediaSsrc)) {
    return false;
  }
  groupNack(lost, [&](const NackItem& item) {
    w.u16(item.pid);
    w.u16(item.blp);
  });
  return w.ok();
}

std::optional<Pli> Pli::parse(const RtcpPacket& packet) {
  if (!isFeedback(packet, type::kPayloadFeedback, fmt::kPli)) return std::nullopt;
  return Pli(common::loadU32(&packet.body[0]), common::loadU32(&packet.body[4]));
}

std::optional<Pli> Pli::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

bool Pli::write(common::ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc) {
  return writeCommon(w, fmt::kPli, type::kPayloadFeedback, 0, senderSsrc, mediaSsrc);
}

std::optional<Fir> Fir::parse(const RtcpPacket& packet) {
  if (!isFeedback(packet, type::kPayloadFeedback, fmt::kFir)) return std::nullopt;
  const size_t fci = packet.body.size() - kCommonSize;
  if (fci == 0 || fci % 8 != 0) return std::nullopt;
  return Fir(packet.body);
}

std::optional<Fir> Fir::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

FirEntry Fir::entry(size_t index) const {
  if (index >= entryCount()) return {};
  const uint8_t* p = &mBody[kCommonSize + 8 * index];
  return FirEntry{common::loadU32(p), p[4]};
}

bool Fir::write(common::ByteWriter& w, uint32_t senderSsrc, std::span<const FirEntry> entries) {
  if (entries.empty()) return false;
  if (!writeCommon(w, fmt::kFir, type::kPayloadFeedback, 8 * entries.size(), senderSsrc, 0)) {
    return false;
  }
  for (const auto& entry : entries) {
    w.u32(entry.ssrc);
    w.u8(entry.sequenceNumber);
    w.zeros(3);
  }
  return w.ok();
}

std::optional<Remb> Remb::parse(const RtcpPacket& packet) {
  if (!isFeedback(packet, type::kPayloadFeedback, fmt::kAfb)) return std::nullopt;
  common::ByteReader r(packet.body.subspan(kCommonSize));
  const uint32_t id = r.u32();
  const uint8_t count = r.u8();
  const uint32_t expMantissa = r.u24();
  r.skip(4u * count);
  if (!r.ok() || id != 0x52454D42) return std::nullopt;  // "REMB"
  const unsigned exponent = expMantissa >> 18;
  const uint64_t mantissa = expMantissa & 0x3FFFF;
  // Saturate instead of shifting bits out of 64.
  const uint64_t bitrate = exponent > 46 && mantissa > (~uint64_t{0} >> exponent) ? ~uint64_t{0} : mantissa << exponent;
  return Remb(packet.body, bitrate);
}

std::optional<Remb> Remb::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

uint32_t Remb::ssrc(size_t index) const { return index < ssrcCount() ? common::loadU32(&mBody[16 + 4 * index]) : 0; }

bool Remb::write(common::ByteWriter& w, uint32_t senderSsrc, uint64_t bitrate, std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > kMaxSsrcs) return false;
  unsigned exponent = 0;
  while ((bitrate >> exponent) > 0x3FFFF) ++exponent;
  const auto mantissa = static_cast<uint32_t>(bitrate >> exponent);
  if (!writeCommon(w, fmt::kAfb, type::kPayloadFeedback, 8 + 4 * ssrcs.size(), senderSsrc, 0)) {
    return false;
  }
  w.u32(0x52454D42);
  w.u8(static_cast<uint8_t>(ssrcs.size()));
  w.u24((exponent << 18) | mantissa);
  for (const uint32_t ssrc : ssrcs) w.u32(ssrc);
  return w.ok();
}

}  // namespace conclave::rtcp
