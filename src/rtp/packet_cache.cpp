#include "rtp/packet_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "rtp/seq_num.h"

namespace conclave::rtp {

PacketCache::PacketCache(size_t capacity, size_t maxBytes)
    : mCapacity(std::bit_ceil(std::clamp<size_t>(capacity, 1, kMaxCapacity))),
      mMaxBytes(std::max(maxBytes, kMaxPacketSize)) {}

PacketCache::~PacketCache() {
  if (mRing != nullptr) ::munmap(mRing, mMaxBytes);
}

size_t PacketCache::allocatedBytes() const {
  return (mRing != nullptr ? mMaxBytes : 0) + mSlots.capacity() * sizeof(Slot);
}

bool PacketCache::allocate() {
  // Its own mapping: pages are touched (made resident) only as packets are written, and munmap()
  // hands them back to the system at once.
  void* ring = ::mmap(nullptr, mMaxBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring == MAP_FAILED) return false;
  mRing = static_cast<uint8_t*>(ring);
  mSlots.resize(mCapacity);
  return true;
}

bool PacketCache::inWindow(uint16_t seq) const {
  if (!mHaveNewest) return false;
  const auto behind = static_cast<uint16_t>(mNewest - seq);
  return behind < mCapacity;
}

bool PacketCache::insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now) {
  if (packet.size() > kMaxPacketSize) return false;
  if (mRing == nullptr && !allocate()) return false;
  if (!mHaveNewest || SeqNum::isNewer(seq, mNewest)) {
    if (mHaveNewest && static_cast<uint16_t>(seq - mNewest) >= mCapacity) {
      clear();  // a jump past the whole window: everything cached is stale
    }
    // Slots that fall out of the window as it advances no longer count.
    if (mHaveNewest) {
      for (uint16_t s = static_cast<uint16_t>(mNewest + 1); s != static_cast<uint16_t>(seq + 1); ++s) {
        Slot& old = mSlots[slotIndex(s)];
        if (old.used) {
          old.used = false;
          --mCount;
        }
      }
    }
    mHaveNewest = true;
    mNewest = seq;
  } else if (!inWindow(seq)) {
    return false;  // too old
  }
  // A copy never wraps around the end of the ring: skip to its start instead.
  if (mWritten % mMaxBytes + packet.size() > mMaxBytes) mWritten += mMaxBytes - mWritten % mMaxBytes;
  Slot& slot = mSlots[slotIndex(seq)];
  if (!slot.used) ++mCount;
  slot.used = true;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(packet.size());
  slot.storedAt = now;
  slot.position = mWritten;
  if (!packet.empty()) std::memcpy(mRing + mWritten % mMaxBytes, packet.data(), packet.size());
  mWritten += packet.size();
  return true;
}

std::optional<PacketCache::Entry> PacketCache::get(uint16_t seq) const {
  if (!inWindow(seq)) return std::nullopt;
  const Slot& slot = mSlots[slotIndex(seq)];
  if (!slot.used || slot.seq != seq) return std::nullopt;
  // Later copies have been written over this one once the writer is a whole ring ahead of it.
  if (mWritten > slot.position + mMaxBytes) return std::nullopt;
  return Entry{std::span<const uint8_t>(mRing + slot.position % mMaxBytes, slot.size), seq, slot.storedAt};
}

void PacketCache::clear() {
  for (auto& slot : mSlots) slot.used = false;
  mCount = 0;
  mHaveNewest = false;
}

}  // namespace conclave::rtp
