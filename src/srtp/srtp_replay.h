// Packet index estimation and replay windows, decision for decision as libsrtp 2.5 makes them
// (its rdbx for SRTP, rdb for SRTCP), which follow RFC 3711 §3.3.1 and Appendix A.
//
// SRTP: a stream remembers the highest index it accepted (ROC << 16 | SEQ, 48 bits) and which
// of the `windowBits` indices up to it were received. windowBits is the configured window
// rounded up to a multiple of 32, as libsrtp rounds it. The bits live in a ring of a power of
// two >= windowBits, so moving the window forward clears the bits that enter it instead of
// shifting the whole bitmap.
//
// SRTCP: the index travels in the packet; a 128-bit window starting at the lowest index still in
// it. Outbound, the same field counts the indices sent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace conclave::srtp {

enum class ReplayCheck : uint8_t { Ok, Duplicate, Old };

struct RtpIndexEstimate {
  uint64_t index;  // ROC << 16 | SEQ
  int32_t delta;   // index minus the stream's highest index
};

// RFC 3711 Appendix A as libsrtp implements it: until the stream's highest index passes 0x8000
// the ROC is taken to be 0 (delta may then be as low as -0x8000 or as high as 0xffff); after it,
// the guess closest to the highest index, which may be one ROC behind or ahead.
constexpr RtpIndexEstimate estimateRtpIndex(uint64_t highest, uint16_t seq) {
  constexpr int32_t kMedian = 1 << 15;
  constexpr int32_t kSeqRange = 1 << 16;
  if (highest <= static_cast<uint64_t>(kMedian)) {
    return {seq, int32_t{seq} - int32_t{static_cast<uint16_t>(highest)}};
  }
  const auto roc = static_cast<uint32_t>(highest >> 16);
  const int32_t localSeq = static_cast<uint16_t>(highest);
  const int32_t s = seq;
  uint32_t guessRoc = roc;
  int32_t delta = s - localSeq;
  if (localSeq < kMedian) {
    if (s - localSeq > kMedian) {
      guessRoc = roc - 1;
      delta = s - localSeq - kSeqRange;
    }
  } else if (localSeq - kMedian > s) {
    guessRoc = roc + 1;
    delta = s - localSeq + kSeqRange;
  }
  return {(uint64_t{guessRoc} << 16) | seq, delta};
}

// A view of one stream's SRTP window: its highest index and its ring of bits.
class RtpReplayWindow {
 public:
  // `ring` has a power-of-two number of bits, at least windowBits.
  RtpReplayWindow(uint64_t& highest, std::span<uint64_t> ring, uint32_t windowBits)
      : mHighest(highest), mRing(ring), mWindowBits(windowBits), mRingMask(ring.size() * 64 - 1) {}

  ReplayCheck check(int32_t delta) const {
    if (delta > 0) return ReplayCheck::Ok;
    if (delta <= -static_cast<int32_t>(mWindowBits)) return ReplayCheck::Old;
    return bit(mHighest + static_cast<uint64_t>(static_cast<int64_t>(delta))) ? ReplayCheck::Duplicate
                                                                              : ReplayCheck::Ok;
  }

  // Records the index at `delta` (after check() allowed it, or to repeat one already sent).
  void add(int32_t delta) {
    if (delta > 0) {
      const auto step = static_cast<uint16_t>(delta);  // libsrtp advances by a 16-bit amount
      clearAfter(mHighest, step);
      mHighest += step;
      setBit(mHighest);
    } else {
      setBit(mHighest + static_cast<uint64_t>(static_cast<int64_t>(delta)));
    }
  }

 private:
  bool bit(uint64_t index) const {
    const uint64_t position = index & mRingMask;
    return ((mRing[position / 64] >> (position % 64)) & 1) != 0;
  }
  void setBit(uint64_t index) {
    const uint64_t position = index & mRingMask;
    mRing[position / 64] |= uint64_t{1} << (position % 64);
  }
  // Clears the bits of indices from+1 .. from+count, which enter the window.
  void clearAfter(uint64_t from, uint32_t count) {
    if (count > mRingMask) {
      for (auto& word : mRing) word = 0;
      return;
    }
    uint64_t position = (from + 1) & mRingMask;
    while (count > 0) {
      const uint32_t offset = static_cast<uint32_t>(position % 64);
      const uint32_t run = count < 64 - offset ? count : 64 - offset;
      const uint64_t mask = run == 64 ? ~uint64_t{0} : ((uint64_t{1} << run) - 1) << offset;
      mRing[position / 64] &= ~mask;
      count -= run;
      position = (position + run) & mRingMask;
    }
  }

  uint64_t& mHighest;
  std::span<uint64_t> mRing;
  uint32_t mWindowBits;
  uint64_t mRingMask;
};

// libsrtp's SRTCP window: 128 indices from `start`; bit i of `seen` is index start + i.
struct RtcpReplayWindow {
  static constexpr uint32_t kBits = 128;
  static constexpr uint32_t kMaxIndex = 0x7fffffff;

  uint32_t start = 0;
  std::array<uint64_t, 2> seen{};

  ReplayCheck check(uint32_t index) const {
    if (index >= start + kBits) return ReplayCheck::Ok;
    if (index < start) return ReplayCheck::Old;
    const uint32_t offset = index - start;
    return ((seen[offset / 64] >> (offset % 64)) & 1) != 0 ? ReplayCheck::Duplicate : ReplayCheck::Ok;
  }

  // Records an index that check() allowed.
  void add(uint32_t index) {
    if (index < start) return;
    uint32_t offset = index - start;
    if (offset >= kBits) {
      const uint32_t shift = offset - (kBits - 1);
      shiftDown(shift);
      start += shift;
      offset = kBits - 1;
    }
    seen[offset / 64] |= uint64_t{1} << (offset % 64);
  }

 private:
  void shiftDown(uint32_t shift) {
    if (shift >= kBits) {
      seen = {};
    } else if (shift >= 64) {
      seen[0] = seen[1] >> (shift - 64);
      seen[1] = 0;
    } else if (shift > 0) {
      seen[0] = (seen[0] >> shift) | (seen[1] << (64 - shift));
      seen[1] >>= shift;
    }
  }
};

}  // namespace conclave::srtp
