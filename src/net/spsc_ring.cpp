#include "net/spsc_ring.h"

#include <cstring>
#include <stdexcept>

namespace conclave::net {

SpscRing::SpscRing(size_t capacityBytes)
    : mCapacity(capacityBytes),
      mMask(capacityBytes - 1),
      // Default-initialised: the pages are touched only as records reach them.
      mBuffer(new uint8_t[capacityBytes]) {
  if (capacityBytes < 64 || (capacityBytes & (capacityBytes - 1)) != 0 || capacityBytes > (size_t{1} << 31))
    throw std::invalid_argument("SpscRing: the capacity must be a power of two from 64 bytes to 2 GiB");
}

void SpscRing::writeHeader(size_t offset, uint32_t value) { std::memcpy(mBuffer.get() + offset, &value, sizeof value); }

uint32_t SpscRing::readHeader(size_t offset) const {
  uint32_t value = 0;
  std::memcpy(&value, mBuffer.get() + offset, sizeof value);
  return value;
}

std::span<uint8_t> SpscRing::claim(size_t bytes) {
  mWriter.claimed = 0;
  if (bytes == 0 || bytes > maxRecord()) return {};
  const size_t need = padded(kHeaderBytes + bytes);
  const size_t offset = mWriter.tail & mMask;
  // A record does not wrap: when the room before the end is too short, it is skipped (offsets
  // are multiples of 8, so there is always room for the wrap marker's header).
  const size_t toEnd = mCapacity - offset;
  const size_t skip = toEnd < need ? toEnd : 0;
  const uint64_t end = mWriter.tail + skip + need;
  if (end - mWriter.headSeen > mCapacity) {
    mWriter.headSeen = mHead.load(std::memory_order_acquire);
    if (end - mWriter.headSeen > mCapacity) return {};
  }
  mWriter.claimed = bytes;
  mWriter.skip = skip;
  const size_t start = skip != 0 ? 0 : offset;
  return {mBuffer.get() + start + kHeaderBytes, bytes};
}

void SpscRing::commit(size_t length) {
  const size_t claimed = mWriter.claimed;
  mWriter.claimed = 0;
  if (claimed == 0 || length == 0 || length > claimed) return;
  const size_t offset = mWriter.tail & mMask;
  if (mWriter.skip != 0) writeHeader(offset, kWrapMarker);
  writeHeader(mWriter.skip != 0 ? 0 : offset, static_cast<uint32_t>(length));
  mWriter.tail += mWriter.skip + padded(kHeaderBytes + length);
  // Release: the record's bytes and headers are visible to a reader that sees this tail.
  mTail.store(mWriter.tail, std::memory_order_release);
}

bool SpscRing::wakeNeeded() {
  // Orders the tails stored before it with the flag read after it (see the header).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return !mNotified.exchange(true, std::memory_order_relaxed);
}

void SpscRing::clearNotified() {
  mNotified.store(false, std::memory_order_relaxed);
  // Orders the flag's store with the tail loads after it (see the header).
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

std::span<uint8_t> SpscRing::front() {
  while (true) {
    if (mReader.head == mReader.tailSeen) {
      mReader.tailSeen = mTail.load(std::memory_order_acquire);
      if (mReader.head == mReader.tailSeen) {
        mReader.frontBytes = 0;
        return {};
      }
    }
    const size_t offset = mReader.head & mMask;
    const uint32_t length = readHeader(offset);
    if (length == kWrapMarker) {
      // The gap before the end: the record starts at offset 0. Freed together with it in pop().
      mReader.head += mCapacity - offset;
      continue;
    }
    mReader.frontBytes = padded(kHeaderBytes + length);
    return {mBuffer.get() + offset + kHeaderBytes, length};
  }
}

void SpscRing::pop() {
  if (mReader.frontBytes == 0) return;
  mReader.head += mReader.frontBytes;
  mReader.frontBytes = 0;
  // Release: the writer reuses the bytes only after the reader is done with them.
  mHead.store(mReader.head, std::memory_order_release);
}

size_t SpscRing::usedBytes() const {
  const uint64_t head = mHead.load(std::memory_order_relaxed);
  const uint64_t tail = mTail.load(std::memory_order_relaxed);
  return tail > head ? static_cast<size_t>(tail - head) : 0;
}

}  // namespace conclave::net
