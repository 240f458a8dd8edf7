// The last packets of one producer's stream, kept for NACK retransmission: at least the last
// `window` of the stream (1.5 s by default), bounded by a count of sequence numbers and by bytes.
//
// Packets are packed one after another into chunks of kChunkBytes; a slot per sequence number
// (seq mod the slot table's size) remembers the chunk and offset of its copy. Full chunks form a
// FIFO; when a new chunk is needed, the oldest ones whose newest packet is older than `window` are
// retired to a free stack (so every packet younger than the window stays), and only when every
// chunk is in use (`maxBytes` reached: a stream faster than maxBytes per window) is the oldest
// chunk taken although it is young. A chunk's generation counts its reuses, so a slot whose chunk
// was reused, an entry left from before a wrap or a jump, or one outside the slot window is never
// returned.
//
// Memory follows the stream's rate, not its bounds: the slot table starts at kMinSlots and
// doubles (up to `capacity`) only when a slot is about to be taken from a packet still inside the
// window, and the free stack hands out the most recently retired chunk first, so the chunks ever
// touched are the most ever live at once: window x rate plus a chunk or two (a 150 kbit/s layer
// holds ~40 KiB, a 2.5 Mbit/s one ~470 KiB, where a ring of `maxBytes` filled all of it).
// Nothing is allocated until the first insert() (a publisher that never sends costs a few dozen
// bytes); then the chunk area is reserved as an anonymous mapping of its own (pages become
// resident only as chunks are first written and go back to the system when the cache is
// destroyed), and the tables are allocated. insert() allocates again only when the slot table
// doubles: at most log2(capacity / kMinSlots) times in the cache's life.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.h"
#include "rtp/packet.h"

namespace conclave::rtp {

class PacketCache {
 public:
  static constexpr size_t kMaxPacketSize = 1500;
  static constexpr size_t kMaxCapacity = 32768;
  // The byte bound: about 1.5 s of a 2.5 Mbit/s camera stream.
  static constexpr size_t kDefaultMaxBytes = 512 * 1024;
  // How long a packet is kept at least (while the byte bound allows): the time a subscriber's
  // NACK and its retries (Consumer::kMaxResends, at least an RTT apart) may take to come.
  static constexpr common::Duration kDefaultWindow = std::chrono::milliseconds(1500);
  static constexpr size_t kChunkBytes = 8192;
  static constexpr size_t kMinSlots = 64;

  struct Entry {
    std::span<const uint8_t> bytes;
    uint16_t sequenceNumber = 0;
    common::TimePoint storedAt{};
  };

  // `capacity` is rounded up to a power of two (1..32768) so that slots stay aligned with
  // sequence numbers across the 16-bit wrap. `maxBytes` is rounded up to whole chunks, at least
  // two.
  explicit PacketCache(size_t capacity, size_t maxBytes = kDefaultMaxBytes, common::Duration window = kDefaultWindow);
  ~PacketCache();
  PacketCache(const PacketCache&) = delete;
  PacketCache& operator=(const PacketCache&) = delete;

  // Copies `packet` (sequence number `seq`), received at `now` (non-decreasing from call to
  // call). False if it is larger than kMaxPacketSize, older than the slot window, or the chunk
  // area cannot be mapped.
  bool insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now);
  bool insert(const RtpPacket& packet, common::TimePoint now) {
    return insert(packet.data(), packet.sequenceNumber(), now);
  }

  // The stored copy of `seq`; valid until the next insert() or clear().
  std::optional<Entry> get(uint16_t seq) const;

  void clear();
  // clear(), and the chunks' pages go back to the system (a layer nobody is sent any more): one
  // madvise() call, for the control of memory, never per packet.
  void release();
  size_t capacity() const { return mCapacity; }
  size_t maxBytes() const { return mMaxBytes; }
  common::Duration window() const { return mWindow; }
  // The slot table's current size (kMinSlots or capacity, if smaller, up to capacity).
  size_t slots() const { return mSlots.size(); }
  // Slots holding a packet inside the slot window (a copy whose chunk was reused is still
  // counted; get() does not return it).
  size_t size() const { return mCount; }
  // Bytes this cache has made resident: the chunks ever written and the slot table (0 before the
  // first insert).
  size_t allocatedBytes() const;
  // Of those, the chunks' (0 again after release()).
  size_t chunkBytes() const { return mTouched * kChunkBytes; }

 private:
  struct Slot {
    common::TimePoint storedAt{};
    uint32_t generation = 0;  // of its chunk when the copy was written
    uint16_t seq = 0;
    uint16_t size = 0;
    uint16_t chunk = 0;
    uint16_t offset = 0;
    bool used = false;
  };
  struct Chunk {
    common::TimePoint newest{};  // when its last packet was written
    uint32_t generation = 0;
  };

  bool allocate();
  bool inWindow(uint16_t seq) const;
  size_t slotIndex(uint16_t seq) const { return seq & (mSlots.size() - 1); }
  bool isLive(const Slot& slot) const { return slot.used && mChunks[slot.chunk].generation == slot.generation; }
  void growSlots();
  bool startChunk(common::TimePoint now);
  void retireOldest();
  void resetFree();

  size_t mCapacity;
  size_t mMaxBytes;
  common::Duration mWindow;
  uint8_t* mArea = nullptr;     // mMaxBytes, mapped on first insert
  std::vector<Slot> mSlots;     // a power of two, kMinSlots..mCapacity, on first insert
  std::vector<Chunk> mChunks;   // mMaxBytes / kChunkBytes
  std::vector<uint16_t> mFree;  // retired chunks, the most recently retired on top
  std::vector<uint16_t> mLive;  // written chunks, oldest first: a ring of mChunks.size()
  size_t mLiveHead = 0;
  size_t mLiveCount = 0;  // the newest live chunk is the one being written
  size_t mOffset = 0;     // where the next copy goes in that chunk
  size_t mTouched = 0;    // chunks ever handed out (resident)
  bool mHaveNewest = false;
  uint16_t mNewest = 0;
  size_t mCount = 0;
};

}  // namespace conclave::rtp
