// The last packets of one producer's stream, kept for NACK retransmission, bounded by count and
// by bytes.
//
// Packets are packed one after another into a byte ring of `maxBytes`; a slot per sequence
// number (seq mod capacity) remembers where its copy starts. A copy is returned only while it lies
// inside the window of `capacity` sequence numbers up to the newest one inserted and its bytes have
// not been overwritten by later packets, so an entry left from before a wrap, a jump or a full
// ring is never returned.
//
// Memory: nothing is allocated until the first insert() (a publisher that never sends costs a
// few dozen bytes). Then the slot table (capacity x 24 bytes) and the ring are allocated once; the
// ring is an anonymous mapping of its own, so its pages become resident only as packets fill them
// and go back to the system as soon as the cache is destroyed (not to a malloc arena that may
// keep them). insert() never allocates after the first call.
#pragma once

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
  // About 1.5 s of a 2.5 Mbit/s camera stream.
  static constexpr size_t kDefaultMaxBytes = 512 * 1024;

  struct Entry {
    std::span<const uint8_t> bytes;
    uint16_t sequenceNumber = 0;
    common::TimePoint storedAt{};
  };

  // `capacity` is rounded up to a power of two (1..32768) so that slots stay aligned with
  // sequence numbers across the 16-bit wrap. `maxBytes` is raised to at least kMaxPacketSize.
  explicit PacketCache(size_t capacity, size_t maxBytes = kDefaultMaxBytes);
  ~PacketCache();
  PacketCache(const PacketCache&) = delete;
  PacketCache& operator=(const PacketCache&) = delete;

  // Copies `packet` (sequence number `seq`). False if it is larger than kMaxPacketSize, older
  // than the window, or the ring cannot be mapped.
  bool insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now);
  bool insert(const RtpPacket& packet, common::TimePoint now) {
    return insert(packet.data(), packet.sequenceNumber(), now);
  }

  // The stored copy of `seq`; valid until the next insert() or clear().
  std::optional<Entry> get(uint16_t seq) const;

  void clear();
  size_t capacity() const { return mCapacity; }
  size_t maxBytes() const { return mMaxBytes; }
  // Slots holding a packet inside the window (a copy whose bytes were reused is still counted;
  // get() does not return it).
  size_t size() const { return mCount; }
  // Bytes allocated for this cache (0 before the first insert).
  size_t allocatedBytes() const;

 private:
  struct Slot {
    uint64_t position = 0;  // where the copy starts, counted in bytes ever written
    common::TimePoint storedAt{};
    uint16_t seq = 0;
    uint16_t size = 0;
    bool used = false;
  };

  bool allocate();
  bool inWindow(uint16_t seq) const;
  size_t slotIndex(uint16_t seq) const { return seq & (mCapacity - 1); }

  size_t mCapacity;
  size_t mMaxBytes;
  uint8_t* mRing = nullptr;  // mMaxBytes, mapped on first insert
  std::vector<Slot> mSlots;  // mCapacity, on first insert
  uint64_t mWritten = 0;     // bytes ever written (ring position = mWritten % mMaxBytes)
  bool mHaveNewest = false;
  uint16_t mNewest = 0;
  size_t mCount = 0;
};

}  // namespace conclave::rtp
