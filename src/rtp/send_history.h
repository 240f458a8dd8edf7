// What the SFU sent on one transport, by transport-wide sequence number
// (draft-holmer-rmcat-transport-wide-cc-extensions-01), so that the receiver's feedback can be
// matched with send times and sizes.
//
// add() numbers each packet with the next transport-wide sequence number (starting at a random
// value) and remembers its send time, size and kind. get() finds it again while it is among the
// last kCapacity packets sent. Fixed size: kCapacity slots of 16 bytes allocated with the object
// (64 KiB, every subscriber connection has one), nothing allocated per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace conclave::rtp {

enum class SentKind : uint8_t { Media, Retransmission, Padding };

class SendHistory {
 public:
  static constexpr size_t kCapacity = 4096;  // power of two: ~4 s at 1000 packets/s

  struct Entry {
    uint16_t sequenceNumber = 0;
    uint32_t bytes = 0;
    int64_t sendTimeUs = 0;
    SentKind kind = SentKind::Media;
  };

  explicit SendHistory(uint16_t firstSequenceNumber) : mNext(firstSequenceNumber) {}

  // The sequence number the next add() assigns.
  uint16_t nextSequenceNumber() const { return mNext; }
  // Records a packet sent now and returns its transport-wide sequence number.
  uint16_t add(uint32_t bytes, int64_t sendTimeUs, SentKind kind);
  // The packet sent with `seq`, if it is among the last kCapacity sent.
  std::optional<Entry> get(uint16_t seq) const;
  uint64_t sent() const { return mSent; }

 private:
  // A slot is valid for the sequence number that last wrote it while that number is within the
  // last kCapacity sent (get() checks both). Packed (16 bytes, where Entry takes 24).
  struct Slot {
    int64_t sendTimeUs = 0;
    uint32_t bytes = 0;
    uint16_t sequenceNumber = 0;
    SentKind kind = SentKind::Media;
  };
  static_assert(sizeof(Slot) == 16);
  std::array<Slot, kCapacity> mSlots{};
  uint16_t mNext;
  uint64_t mSent = 0;
};

}  // namespace conclave::rtp
