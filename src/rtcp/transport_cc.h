// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1): RTPFB FMT 15. For each transport-wide sequence number from the base on, it says whether
// the packet arrived and, if so, its arrival time as a delta from the previous one.
//
//   base seq (16) | packet status count (16) | reference time (24, signed, 64 ms) | fb count (8)
//   packet chunks (16 bits each): run length (0 | S(2) | run(13)) or status vector
//   (1 | 0 | 14 x 1-bit) / (1 | 1 | 7 x 2-bit); symbols: 0 not received, 1 small delta (8 bits,
//   unsigned), 2 large delta (16 bits, signed), 3 reserved. Deltas count 250 us.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "rtcp/header.h"

namespace conclave::rtcp {

struct TransportCcPacket {
  uint16_t sequenceNumber = 0;
  bool received = false;
  int32_t deltaTicks = 0;  // 250 us units; 0 when not received
  int64_t arrivalUs = 0;   // reference time + all deltas so far; 0 when not received
};

class TransportCcFeedback {
 public:
  static constexpr int64_t kDeltaTickUs = 250;
  static constexpr int64_t kReferenceTickUs = 64000;

  // Validates the whole message: every chunk, every delta, and that they fit the packet.
  static std::optional<TransportCcFeedback> parse(const RtcpPacket& packet);
  static std::optional<TransportCcFeedback> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return common::loadU32(&mBody[0]); }
  uint32_t mediaSsrc() const { return common::loadU32(&mBody[4]); }
  uint16_t baseSequenceNumber() const { return common::loadU16(&mBody[8]); }
  uint16_t packetStatusCount() const { return common::loadU16(&mBody[10]); }
  int32_t referenceTime() const;  // signed, in 64 ms units
  int64_t referenceTimeUs() const { return int64_t{referenceTime()} * kReferenceTickUs; }
  uint8_t feedbackPacketCount() const { return mBody[15]; }
  size_t receivedCount() const { return mReceived; }

  // f(const TransportCcPacket&) for each of the packetStatusCount() sequence numbers.
  template <typename F>
  void forEachPacket(F&& f) const;
  // Fills `out` with up to out.size() entries; returns how many it wrote.
  size_t packets(std::span<TransportCcPacket> out) const;

 private:
  static constexpr size_t kChunksOffset = 16;

  TransportCcFeedback(std::span<const uint8_t> body, size_t deltasOffset, size_t received)
      : mBody(body), mDeltasOffset(deltasOffset), mReceived(received) {}

  // Walks the chunks: symbol(uint8_t) per status, up to `count`. Returns the offset after the
  // last chunk used, or 0 if the chunks are malformed or truncated.
  template <typename F>
  static size_t walkChunks(std::span<const uint8_t> body, size_t count, F&& f);

  std::span<const uint8_t> mBody;
  size_t mDeltasOffset;
  size_t mReceived;
};

// Builds one feedback message from packet arrivals, in transport sequence order.
class TransportCcBuilder {
 public:
  static constexpr size_t kMaxStatuses = 2048;

  TransportCcBuilder(uint32_t senderSsrc, uint32_t mediaSsrc);

  // The "SSRC of media source" field: libwebrtc names there an SSRC of the stream it received
  // last, and some of its versions drop feedback that names none of the receiver's own SSRCs.
  void setMediaSsrc(uint32_t ssrc) { mMediaSsrc = ssrc; }

  // Starts over for the next message. With `baseSequenceNumber` (the first sequence number not
  // yet reported), packets missing before the first one added are reported as not received;
  // without, the message starts at the first packet added.
  void reset(uint8_t feedbackPacketCount, std::optional<uint16_t> baseSequenceNumber = {});

  // Adds a packet that arrived at `arrivalUs` (any monotonic microsecond clock). Sequence
  // numbers must increase (gaps are reported as not received). False if the packet does not fit
  // this message (too many statuses, a delta beyond 16 bits, older than the base or not newer
  // than the last one): write this message, reset(), and add it again.
  bool addReceived(uint16_t seq, int64_t arrivalUs);

  bool empty() const { return mCount == 0; }
  size_t statusCount() const { return mCount; }
  size_t size() const;  // bytes write() needs
  // Writes the RTCP packet (padded to 32 bits with the P bit, as libwebrtc does). False if it
  // is empty or does not fit.
  bool write(common::ByteWriter& w) const;

 private:
  // Calls f(uint16_t chunk, size_t firstSymbol, size_t symbolCount) for each packet chunk.
  template <typename F>
  void forEachChunk(F&& f) const;
  size_t deltasSize() const;

  uint32_t mSenderSsrc;
  uint32_t mMediaSsrc;
  uint8_t mFeedbackCount = 0;
  size_t mCount = 0;  // statuses from the base sequence number on, gaps included
  bool mHaveBase = false;
  bool mHaveReceived = false;
  uint16_t mBaseSeq = 0;
  int32_t mReferenceTime = 0;  // 64 ms units, 24 bits
  int64_t mLastTicks = 0;      // arrival of the last received packet, 250 us units
  std::array<uint8_t, kMaxStatuses> mSymbols{};
  std::array<int16_t, kMaxStatuses> mDeltas{};
};

// --- template definitions ---

template <typename F>
size_t TransportCcFeedback::walkChunks(std::span<const uint8_t> body, size_t count, F&& f) {
  size_t pos = kChunksOffset;
  size_t done = 0;
  while (done < count) {
    if (body.size() < pos + 2) return 0;
    const uint16_t chunk = common::loadU16(&body[pos]);
    pos += 2;
    if ((chunk & 0x8000) == 0) {  // run length
      const auto symbol = static_cast<uint8_t>((chunk >> 13) & 0x03);
      if (symbol == 3) return 0;
      const size_t run = chunk & 0x1FFF;
      for (size_t i = 0; i < run && done < count; ++i, ++done) f(symbol);
    } else if ((chunk & 0x4000) == 0) {  // 14 one-bit symbols
      for (int bit = 13; bit >= 0 && done < count; --bit, ++done) {
        f(static_cast<uint8_t>((chunk >> bit) & 0x01));
      }
    } else {  // 7 two-bit symbols
      for (int shift = 12; shift >= 0 && done < count; shift -= 2, ++done) {
        const auto symbol = static_cast<uint8_t>((chunk >> shift) & 0x03);
        if (symbol == 3) return 0;
        f(symbol);
      }
    }
  }
  return pos;
}

template <typename F>
void TransportCcFeedback::forEachPacket(F&& f) const {
  size_t deltaPos = mDeltasOffset;
  int64_t arrivalUs = referenceTimeUs();
  auto seq = baseSequenceNumber();
  walkChunks(mBody, packetStatusCount(), [&](uint8_t symbol) {
    TransportCcPacket p;
    p.sequenceNumber = seq++;
    if (symbol == 1) {
      p.deltaTicks = mBody[deltaPos];
      deltaPos += 1;
    } else if (symbol == 2) {
      p.deltaTicks = static_cast<int16_t>(common::loadU16(&mBody[deltaPos]));
      deltaPos += 2;
    }
    if (symbol != 0) {
      p.received = true;
      arrivalUs += int64_t{p.deltaTicks} * kDeltaTickUs;
      p.arrivalUs = arrivalUs;
    }
    f(p);
  });
}

}  // namespace conclave::rtcp
