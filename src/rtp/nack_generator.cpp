#include "rtp/nack_generator.h"

#include <algorithm>

#include "rtp/seq_num.h"

namespace conclave::rtp {

bool NackGenerator::onPacket(uint16_t seq, common::TimePoint now) {
  if (!mStarted) {
    mStarted = true;
    mNewest = seq;
    return false;
  }
  const int32_t d = SeqNum::diff(seq, mNewest);
  if (d > 0) {
    if (d > kMaxGap) {
      clear();
      if (!mKeyframeNeeded) ++mCounters.keyframesNeeded;
      mKeyframeNeeded = true;
    } else {
      for (auto s = static_cast<uint16_t>(mNewest + 1); s != seq; ++s) markMissing(s, now);
    }
    mNewest = seq;
    // The slot of the new packet may still hold a number a whole window older: it is lost.
    Slot& own = slot(seq);
    if (own.missing && own.seq != seq) {
      own.missing = false;
      --mMissing;
      ++mCounters.givenUp;
    }
    return false;
  }
  if (d == 0 || -d >= static_cast<int32_t>(kWindow)) return false;
  Slot& s = slot(seq);
  if (!s.missing || s.seq != seq) return false;
  s.missing = false;
  --mMissing;
  ++mCounters.recovered;
  return true;
}

void NackGenerator::markMissing(uint16_t seq, common::TimePoint now) {
  Slot& s = slot(seq);
  if (s.missing) {  // a number a whole window older, never repaired
    --mMissing;
    ++mCounters.givenUp;
  }
  s = Slot{now, {}, seq, 0, true};
  ++mMissing;
  ++mCounters.missing;
}

size_t NackGenerator::collect(common::TimePoint now, std::span<uint16_t> out, common::Duration retryInterval) {
  if (mMissing == 0) return 0;
  retryInterval = std::max(retryInterval, kMinRetryInterval);
  size_t n = 0;
  for (size_t k = 0; k < kWindow; ++k) {
    const auto seq = static_cast<uint16_t>(mNewest - (kWindow - 1) + k);
    Slot& s = slot(seq);
    if (!s.missing || s.seq != seq) continue;
    const bool answered = s.requests == 0 || now - s.lastRequest >= retryInterval;
    if (now - s.firstMissing > kMaxAge || (s.requests >= kMaxRetries && answered)) {
      s.missing = false;
      --mMissing;
      ++mCounters.givenUp;
      if (!mKeyframeNeeded) ++mCounters.keyframesNeeded;
      mKeyframeNeeded = true;
      continue;
    }
    if (!answered || n == out.size()) continue;
    out[n++] = seq;
    ++s.requests;
    s.lastRequest = now;
    ++mCounters.requests;
  }
  return n;
}

bool NackGenerator::takeKeyframeNeeded() {
  const bool needed = mKeyframeNeeded;
  mKeyframeNeeded = false;
  return needed;
}

void NackGenerator::clearBefore(uint16_t seq) {
  if (mMissing == 0) return;
  for (Slot& s : mSlots) {
    if (s.missing && SeqNum::isNewer(seq, s.seq)) {
      s.missing = false;
      --mMissing;
    }
  }
}

void NackGenerator::clear() {
  for (Slot& s : mSlots) s.missing = false;
  mMissing = 0;
}

}  // namespace conclave::rtp
