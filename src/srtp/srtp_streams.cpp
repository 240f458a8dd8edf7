#include "srtp/srtp_streams.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace conclave::srtp {
namespace {

constexpr size_t kInitialCapacity = 8;

}  // namespace

SrtpStreams::SrtpStreams(size_t maxStreams, uint32_t windowBits)
    : mMaxStreams(maxStreams),
      mWindowBits(windowBits),
      mRingWords(std::bit_ceil(std::max<uint32_t>(windowBits, 64)) / 64) {
  if (maxStreams == 0 || maxStreams > (size_t{1} << 20)) throw std::invalid_argument("SRTP stream limit out of range");
  grow();
}

size_t SrtpStreams::bucketOf(uint32_t ssrc) const {
  // Fibonacci hashing: SSRCs are random, but a peer chooses them, so spread every bit.
  return static_cast<uint32_t>(ssrc * 0x9E3779B1u) >> mIndexShift;
}

std::optional<size_t> SrtpStreams::bucketFor(uint32_t ssrc) const {
  const size_t mask = mIndex.size() - 1;
  for (size_t b = bucketOf(ssrc);; b = (b + 1) & mask) {
    const uint32_t entry = mIndex[b];
    if (entry == 0) return std::nullopt;
    if (mStreams[entry - 1].ssrc == ssrc) return b;
  }
}

std::optional<size_t> SrtpStreams::find(uint32_t ssrc) const {
  const auto bucket = bucketFor(ssrc);
  if (!bucket) return std::nullopt;
  return mIndex[*bucket] - 1;
}

void SrtpStreams::insertIndex(uint32_t ssrc, size_t slot) {
  const size_t mask = mIndex.size() - 1;
  size_t b = bucketOf(ssrc);
  while (mIndex[b] != 0) b = (b + 1) & mask;
  mIndex[b] = static_cast<uint32_t>(slot + 1);
}

void SrtpStreams::grow() {
  const size_t capacity =
      mCapacity == 0 ? std::min(kInitialCapacity, mMaxStreams) : std::min(mCapacity * 2, mMaxStreams);
  mStreams.reserve(capacity);
  mRings.reserve(capacity * mRingWords);
  // At most half full, so probes stay short and always end at an empty bucket.
  const size_t buckets = std::bit_ceil(capacity * 2);
  mIndex.assign(buckets, 0);
  mIndexShift = 32 - static_cast<unsigned>(std::countr_zero(buckets));
  for (size_t slot = 0; slot < mStreams.size(); ++slot) insertIndex(mStreams[slot].ssrc, slot);
  mCapacity = capacity;
}

std::optional<size_t> SrtpStreams::add(uint32_t ssrc, bool evict) {
  if (mStreams.size() == mMaxStreams) {
    if (!evict) return std::nullopt;
    const auto oldest =
        std::min_element(mStreams.begin(), mStreams.end(),
                         [](const SrtpStream& a, const SrtpStream& b) { return a.lastUse < b.lastUse; });
    removeSlot(static_cast<size_t>(oldest - mStreams.begin()));
  } else if (mStreams.size() == mCapacity) {
    grow();
  }
  const size_t slot = mStreams.size();
  mStreams.push_back(SrtpStream{.ssrc = ssrc});
  mRings.resize(mRings.size() + mRingWords, 0);
  insertIndex(ssrc, slot);
  touch(slot);
  return slot;
}

void SrtpStreams::remove(uint32_t ssrc) {
  if (const auto slot = find(ssrc)) removeSlot(*slot);
}

void SrtpStreams::removeSlot(size_t slot) {
  // Backward-shift deletion: entries after the hole that may sit in it move up, so that every
  // entry stays reachable from its home bucket without tombstones.
  const size_t mask = mIndex.size() - 1;
  size_t hole = *bucketFor(mStreams[slot].ssrc);
  for (size_t b = (hole + 1) & mask; mIndex[b] != 0; b = (b + 1) & mask) {
    const size_t home = bucketOf(mStreams[mIndex[b] - 1].ssrc);
    const bool stays = hole <= b ? (hole < home && home <= b) : (hole < home || home <= b);
    if (stays) continue;
    mIndex[hole] = mIndex[b];
    hole = b;
  }
  mIndex[hole] = 0;

  // The last stream moves into the freed slot.
  const size_t last = mStreams.size() - 1;
  if (slot != last) {
    mStreams[slot] = mStreams[last];
    std::copy_n(mRings.begin() + static_cast<std::ptrdiff_t>(last * mRingWords), mRingWords,
                mRings.begin() + static_cast<std::ptrdiff_t>(slot * mRingWords));
    mIndex[*bucketFor(mStreams[slot].ssrc)] = static_cast<uint32_t>(slot + 1);
  }
  mStreams.pop_back();
  mRings.resize(mRings.size() - mRingWords);
}

}  // namespace conclave::srtp
