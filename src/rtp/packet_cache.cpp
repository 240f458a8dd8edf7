#include "rtp/packet_cache.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "rtp/seq_num.h"

namespace conclave::rtp {

PacketCache::PacketCache(size_t capacity) {
  const size_t slots = std::bit_ceil(std::clamp<size_t>(capacity, 1, kMaxCapacity));
  mStorage.resize(slots * kMaxPacketSize);
  mSlots.resize(slots);
}

bool PacketCache::inWindow(uint16_t seq) const {
  if (!mHaveNewest) return false;
  const auto behind = static_cast<uint16_t>(mNewest - seq);
  return behind < mSlots.size();
}

bool PacketCache::insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now) {
  if (packet.size() > kMaxPacketSize) return false;
  if (!mHaveNewest || SeqNum::isNewer(seq, mNewest)) {
    if (mHaveNewest && static_cast<uint16_t>(seq - mNewest) >= mSlots.size()) {
      clear();  // a jump past the whole window: everything cached is stale
    }
    // Slots that fall out of the window as it advances no longer count.
    if (mHaveNewest) {
      for (uint16_t s = static_cast<uint16_t>(mNewest + 1); s != static_cast<uint16_t>(seq + 1);
           ++s) {
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
  Slot& slot = mSlots[slotIndex(seq)];
  if (!slot.used) ++mCount;
  slot.used = true;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(packet.size());
  slot.storedAt = now;
  if (!packet.empty()) {
    std::memcpy(&mStorage[slotIndex(seq) * kMaxPacketSize], packet.data(), packet.size());
  }
  return true;
}

std::optional<PacketCache::Entry> PacketCache::get(uint16_t seq) const {
  if (!inWindow(seq)) return std::nullopt;
  const Slot& slot = mSlots[slotIndex(seq)];
  if (!slot.used || slot.seq != seq) return std::nullopt;
  const auto offset = slotIndex(seq) * kMaxPacketSize;
  return Entry{std::span<const uint8_t>(&mStorage[offset], slot.size), seq, slot.storedAt};
}

void PacketCache::clear() {
  for (auto& slot : mSlots) slot.used = false;
  mCount = 0;
  mHaveNewest = false;
}

}  // namespace conclave::rtp
