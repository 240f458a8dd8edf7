#include "rtcp/transport_cc.h"

#include <algorithm>
#include <limits>

#include "rtp/seq_num.h"

namespace conclave::rtcp {

namespace {

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<TransportCcFeedback> TransportCcFeedback::parse(const RtcpPacket& packet) {
  if (packet.header.packetType != type::kRtpFeedback || packet.header.count != fmt::kTransportCc ||
      packet.body.size() < kChunksOffset) {
    return std::nullopt;
  }
  const auto body = packet.body;
  const size_t count = common::loadU16(&body[10]);
  size_t deltaBytes = 0;
  size_t received = 0;
  const size_t deltasOffset = walkChunks(body, count, [&](uint8_t symbol) {
    deltaBytes += symbol;  // 1 byte for a small delta, 2 for a large one
    received += symbol != 0 ? 1 : 0;
  });
  if (deltasOffset == 0 || body.size() - deltasOffset < deltaBytes) return std::nullopt;
  return TransportCcFeedback(body, deltasOffset, received);
}

std::optional<TransportCcFeedback> TransportCcFeedback::parse(std::span<const uint8_t> data) {
  const auto packet = RtcpPacket::parse(data);
  return packet ? parse(*packet) : std::nullopt;
}

int32_t TransportCcFeedback::referenceTime() const {
  const uint32_t raw = common::loadU24(&mBody[12]);
  return (raw & 0x800000) != 0 ? static_cast<int32_t>(raw | 0xFF000000u) : static_cast<int32_t>(raw);
}

size_t TransportCcFeedback::packets(std::span<TransportCcPacket> out) const {
  size_t n = 0;
  forEachPacket([&](const TransportCcPacket& p) {
    if (n < out.size()) out[n++] = p;
  });
  return n;
}

TransportCcBuilder::TransportCcBuilder(uint32_t senderSsrc, uint32_t mediaSsrc)
    : mSenderSsrc(senderSsrc), mMediaSsrc(mediaSsrc) {}

void TransportCcBuilder::reset(uint8_t feedbackPacketCount, std::optional<uint16_t> baseSequenceNumber) {
  mFeedbackCount = feedbackPacketCount;
  mCount = 0;
  mHaveBase = baseSequenceNumber.has_value();
  mBaseSeq = baseSequenceNumber.value_or(0);
  mHaveReceived = false;
}

bool TransportCcBuilder::addReceived(uint16_t seq, int64_t arrivalUs) {
  const uint16_t base = mHaveBase ? mBaseSeq : seq;
  const int32_t index = rtp::SeqNum::diff(seq, base);
  if (index < 0 || static_cast<size_t>(index) < mCount || static_cast<size_t>(index) >= kMaxStatuses) {
    return false;
  }
  constexpr int64_t kTicksPerReference = TransportCcFeedback::kReferenceTickUs / TransportCcFeedback::kDeltaTickUs;
  const int64_t ticks = floorDiv(arrivalUs, TransportCcFeedback::kDeltaTickUs);
  int64_t reference = mReferenceTime;
  int64_t lastTicks = mLastTicks;
  if (!mHaveReceived) {
    reference = floorDiv(arrivalUs, TransportCcFeedback::kReferenceTickUs);
    lastTicks = reference * kTicksPerReference;
  }
  const int64_t delta = ticks - lastTicks;
  if (delta < std::numeric_limits<int16_t>::min() || delta > std::numeric_limits<int16_t>::max()) {
    return false;
  }
  mHaveBase = true;
  mBaseSeq = base;
  mHaveReceived = true;
  mReferenceTime = static_cast<int32_t>(reference);
  for (size_t i = mCount; i < static_cast<size_t>(index); ++i) mSymbols[i] = 0;  // not received
  mSymbols[index] = delta >= 0 && delta <= 255 ? 1 : 2;
  mDeltas[index] = static_cast<int16_t>(delta);
  mCount = static_cast<size_t>(index) + 1;
  mLastTicks = ticks;
  return true;
}

template <typename F>
void TransportCcBuilder::forEachChunk(F&& f) const {
  size_t i = 0;
  while (i < mCount) {
    size_t run = 1;
    while (i + run < mCount && run < 0x1FFF && mSymbols[i + run] == mSymbols[i]) ++run;
    if (run >= 14 || i + run == mCount) {
      f(static_cast<uint16_t>((mSymbols[i] << 13) | run), i, run);
      i += run;
      continue;
    }
    size_t n = std::min<size_t>(14, mCount - i);
    bool oneBit = true;
    for (size_t k = 0; k < n; ++k) oneBit = oneBit && mSymbols[i + k] <= 1;
    uint16_t chunk = 0x8000;
    if (oneBit) {
      for (size_t k = 0; k < n; ++k) chunk |= static_cast<uint16_t>(mSymbols[i + k] << (13 - k));
    } else {
      n = std::min<size_t>(7, mCount - i);
      chunk |= 0x4000;
      for (size_t k = 0; k < n; ++k) {
        chunk |= static_cast<uint16_t>(mSymbols[i + k] << (12 - 2 * k));
      }
    }
    f(chunk, i, n);
    i += n;
  }
}

size_t TransportCcBuilder::deltasSize() const {
  size_t bytes = 0;
  for (size_t i = 0; i < mCount; ++i) bytes += mSymbols[i];
  return bytes;
}

size_t TransportCcBuilder::size() const {
  size_t chunks = 0;
  forEachChunk([&](uint16_t, size_t, size_t) { ++chunks; });
  const size_t unpadded = RtcpHeader::kSize + 16 + 2 * chunks + deltasSize();
  return (unpadded + 3) / 4 * 4;
}

bool TransportCcBuilder::write(common::ByteWriter& w) const {
  if (mCount == 0) return false;
  const size_t total = size();
  size_t chunks = 0;
  forEachChunk([&](uint16_t, size_t, size_t) { ++chunks; });
  const size_t padding = total - (RtcpHeader::kSize + 16 + 2 * chunks + deltasSize());
  if (total / 4 - 1 > 0xFFFF) return false;
  w.u8(static_cast<uint8_t>(0x80 | (padding > 0 ? 0x20 : 0) | fmt::kTransportCc));
  w.u8(type::kRtpFeedback);
  w.u16(static_cast<uint16_t>(total / 4 - 1));
  w.u32(mSenderSsrc);
  w.u32(mMediaSsrc);
  w.u16(mBaseSeq);
  w.u16(static_cast<uint16_t>(mCount));
  w.u24(static_cast<uint32_t>(mReferenceTime) & 0xFFFFFF);
  w.u8(mFeedbackCount);
  forEachChunk([&](uint16_t chunk, size_t, size_t) { w.u16(chunk); });
  for (size_t i = 0; i < mCount; ++i) {
    if (mSymbols[i] == 1) w.u8(static_cast<uint8_t>(mDeltas[i]));
    if (mSymbols[i] == 2) w.u16(static_cast<uint16_t>(mDeltas[i]));
  }
  if (padding > 0) {
    w.zeros(padding - 1);
    w.u8(static_cast<uint8_t>(padding));
  }
  return w.ok();
}

}  // namespace conclave::rtcp
