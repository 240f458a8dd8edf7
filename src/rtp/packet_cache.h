// The last N packets of one producer's stream, kept for NACK retransmission.
//
// Slots are allocated once, in the constructor (capacity x 1500 bytes); inserting copies the
// packet into the slot of its sequence number (seq mod capacity), overwriting what was there, so
// the packet path never allocates. Lookups only answer for the `capacity` sequence numbers up to
// the newest one inserted, so an entry left from before a wrap or a jump is never returned.
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

  struct Entry {
    std::span<const uint8_t> bytes;
    uint16_t sequenceNumber = 0;
    common::TimePoint storedAt{};
  };

  // `capacity` is rounded up to a power of two (1..32768) so that slots stay aligned with
  // sequence numbers across the 16-bit wrap.
  explicit PacketCache(size_t capacity);

  // Copies `packet` (sequence number `seq`). False if it is larger than kMaxPacketSize or older
  // than the window.
  bool insert(std::span<const uint8_t> packet, uint16_t seq, common::TimePoint now);
  bool insert(const RtpPacket& packet, common::TimePoint now) {
    return insert(packet.data(), packet.sequenceNumber(), now);
  }

  // The stored copy of `seq`; valid until the next insert() or clear().
  std::optional<Entry> get(uint16_t seq) const;

  void clear();
  size_t capacity() const { return mSlots.size(); }
  size_t size() const { return mCount; }  // slots holding a packet inside the window

 private:
  struct Slot {
    uint16_t seq = 0;
    uint16_t size = 0;
    bool used = false;
    common::TimePoint storedAt{};
  };

  bool inWindow(uint16_t seq) const;
  size_t slotIndex(uint16_t seq) const { return seq & (mSlots.size() - 1); }

  std::vector<uint8_t> mStorage;
  std::vector<Slot> mSlots;
  bool mHaveNewest = false;
  uint16_t mNewest = 0;
  size_t mCount = 0;
};

}  // namespace conclave::rtp
