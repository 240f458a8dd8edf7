// Wrap-around arithmetic on RTP sequence numbers (16 bits) and timestamps (32 bits).
//
// "a is newer than b" means a follows b by less than half the number space; at exactly half the
// space the larger value counts as newer, so that isNewer(a, b) and isNewer(b, a) never both hold.
#pragma once

#include <cstdint>

namespace conclave::rtp {

struct SeqNum {
  // Signed distance a - b, in the range [-32768, 32767].
  static int32_t diff(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(a - b)); }
  static bool isNewer(uint16_t a, uint16_t b) {
    const auto d = static_cast<uint16_t>(a - b);
    if (d == 0x8000) return a > b;
    return d != 0 && d < 0x8000;
  }
  static bool isNewerOrEqual(uint16_t a, uint16_t b) { return a == b || isNewer(a, b); }
  static uint16_t newest(uint16_t a, uint16_t b) { return isNewer(a, b) ? a : b; }
};

struct RtpTimestamp {
  static int64_t diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a - b)); }
  static bool isNewer(uint32_t a, uint32_t b) {
    const auto d = static_cast<uint32_t>(a - b);
    if (d == 0x80000000u) return a > b;
    return d != 0 && d < 0x80000000u;
  }
};

// Extends 16-bit sequence numbers to 64 bits by counting wrap-arounds relative to the newest
// value seen so far; reordered older values unwrap below it.
class SeqUnwrapper {
 public:
  int64_t unwrap(uint16_t seq) {
    if (!mHave) {
      mHave = true;
      mLast = seq;
      return mLast;
    }
    const int64_t value = mLast + SeqNum::diff(seq, static_cast<uint16_t>(mLast));
    if (value > mLast) mLast = value;
    return value;
  }
  bool empty() const { return !mHave; }
  int64_t last() const { return mLast; }

 private:
  int64_t mLast = 0;
  bool mHave = false;
};

}  // namespace conclave::rtp
