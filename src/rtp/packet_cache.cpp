#include "rtp/packet_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "rtp/seq_num.h"

namespace conclave::rtp {

static_assert(PacketCache::kMaxPacketSize <= PacketCache::kChunkBytes, "a copy fits in one chunk");
static_assert(PacketCache::kChunkBytes <= UINT16_MAX, "offsets are 16-bit");

PacketCache::PacketCache(size_t capacity, size_t maxBytes, common::Duration window)
    : mCapacity(std::bit_ceil(std::clamp<size_t>(capacity, 1, kMaxCapacity))),
      mMaxBytes(std::clamp<size_t>((maxBytes + kChunkBytes - 1) / kChunkBytes, 2, UINT16_MAX) * kChunkBytes),
      mWindow(window) {}

PacketCache::~PacketCache() {
  if (mArea != nullptr) ::munmap(mArea, mMaxBytes);
}

size_t PacketCache::allocatedBytes() const {
  if (mArea == nullptr) return 0;
  return mTouched * kChunkBytes + mSlots.capacity() * sizeof(Slot) +
         mChunks.capacity() * (sizeof(Chunk) + 2 * sizeof(uint16_t));
}

bool PacketCache::allocate() {
  // Its own mapping: pages are touched (made resident) only as chunks are first written, and
  // munmap() hands them back to the system at once.
  void* area = ::mmap(nullptr, mMaxBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) return false;
  mArea = static_cast<uint8_t*>(area);
  const size_t chunks = mMaxBytes / kChunkBytes;
  mChunks.resize(chunks);
  mLive.resize(chunks);
  mFree.reserve(chunks);
  resetFree();
  mSlots.resize(std::min(kMinSlots, mCapacity));
  return true;
}

void PacketCache::resetFree() {
  // Chunk 0 on top: chunks never written are handed out in order, after every retired one.
  mFree.clear();
  for (size_t i = mChunks.size(); i-- > 0;) mFree.push_back(static_cast<uint16_t>(i));
}

bool PacketCache::inWindow(uint16_t seq) const {
  if (!mHaveNewest) return false;
  const auto behind = static_cast<uint16_t>(mNewest - seq);
  return behind < mSlots.size();
}

void PacketCache::growSlots() {
  std::vector<Slot> old(mSlots.size() * 2);
  old.swap(mSlots);
  for (const Slot& slot : old)
    if (slot.used && static_cast<uint16_t>(mNewest - slot.seq) < old.size()) mSlots[slotIndex(slot.seq)] = slot;
}

void PacketCache::retireOldest() {
  const uint16_t chunk = mLive[mLiveHead];
  ++mChunks[chunk].generation;  // every slot pointing into it is stale now
  mFree.push_back(chunk);
  mLiveHead = (mLiveHead + 1) % mLive.size();
  --mLiveCount;
}

bool PacketCache::startChunk(common::TimePoint now) {
  // Chunks whose every packet is older than the window go back (the one being written, too).
  while (mLiveCount > 0 && now - mChunks[mLive[mLiveHead]].newest > mWindow) retireOldest();
  // Every chunk is in use: the byte bound, so the oldest goes although it is young.
  if (mFree.empty()) retireOldest();
  const uint16_t chunk = mFree.back();
  mFree.pop_back();
  mTouched = std::max<size_t>(mTouched, size_t{chunk} + 1);
  mLive[(mLiveHead + mLiveCount) % mLive.size()] = chunk;
  ++mLiveCount;
  mOffset = 0;
  return true;
}

bool PacketCache::insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now) {
  if (packet.size() > kMaxPacketSize) return false;
  if (mArea == nullptr && !allocate()) return false;
  if (!mHaveNewest || SeqNum::isNewer(seq, mNewest)) {
    if (mHaveNewest && static_cast<uint16_t>(seq - mNewest) >= mCapacity) {
      clear();  // a jump past the whole window: everything cached is stale
    }
    // The slot this packet takes still holds one inside the time window: the table is too small
    // for the stream's rate, so it doubles (the packets in it keep their places by seq).
    while (mHaveNewest && mSlots.size() < mCapacity) {
      const Slot& victim = mSlots[slotIndex(seq)];
      if (!isLive(victim) || victim.seq == seq || now - victim.storedAt > mWindow) break;
      growSlots();
    }
    // Slots that fall out of the window as it advances no longer count.
    if (mHaveNewest) {
      const auto advance = static_cast<uint16_t>(seq - mNewest);
      for (size_t i = 1; i <= std::min<size_t>(advance, mSlots.size()); ++i) {
        Slot& old = mSlots[slotIndex(static_cast<uint16_t>(mNewest + i))];
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
  if (mLiveCount == 0 || mOffset + packet.size() > kChunkBytes) startChunk(now);
  Chunk& chunk = mChunks[mLive[(mLiveHead + mLiveCount - 1) % mLive.size()]];
  const auto chunkIndex = static_cast<uint16_t>(&chunk - mChunks.data());
  Slot& slot = mSlots[slotIndex(seq)];
  if (!slot.used) ++mCount;
  slot.used = true;
  slot.seq = seq;
  slot.size = static_cast<uint16_t>(packet.size());
  slot.storedAt = now;
  slot.chunk = chunkIndex;
  slot.offset = static_cast<uint16_t>(mOffset);
  slot.generation = chunk.generation;
  if (!packet.empty()) std::memcpy(mArea + chunkIndex * kChunkBytes + mOffset, packet.data(), packet.size());
  mOffset += packet.size();
  chunk.newest = std::max(chunk.newest, now);
  return true;
}

std::optional<PacketCache::Entry> PacketCache::get(uint16_t seq) const {
  if (!inWindow(seq)) return std::nullopt;
  const Slot& slot = mSlots[slotIndex(seq)];
  if (!isLive(slot) || slot.seq != seq) return std::nullopt;
  return Entry{std::span<const uint8_t>(mArea + slot.chunk * kChunkBytes + slot.offset, slot.size), seq, slot.storedAt};
}

void PacketCache::clear() {
  for (auto& slot : mSlots) slot.used = false;
  mCount = 0;
  mHaveNewest = false;
  while (mLiveCount > 0) retireOldest();
}

void PacketCache::release() {
  clear();
  if (mArea == nullptr || mTouched == 0) return;
  // The pages read as zeros again when next written; the generations stay, so no old slot answers.
  ::madvise(mArea, mTouched * kChunkBytes, MADV_DONTNEED);
  mTouched = 0;
  resetFree();
}

}  // namespace conclave::rtp
