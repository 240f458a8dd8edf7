// Loss tracking on a received stream, for generic NACKs (RFC 4585 §6.2.1) toward its sender.
//
// onPacket() is told every sequence number that arrives; a jump forward marks the numbers in
// between missing. collect() returns the missing ones that are due: never asked for, or last asked
// for at least `retryInterval` ago (about a round trip, so the answer had time to come). Each
// is asked for at most kMaxRetries times and for at most kMaxAge; then it is given up and a
// keyframe is needed. A jump of more than kMaxGap numbers cannot be repaired by NACKs at all: the
// missing list starts over and a keyframe is needed at once.
//
// Fixed-size state: a table of kWindow slots indexed by sequence number, allocated with the
// object; onPacket() and collect() never allocate. Only numbers within kWindow of the newest one
// are tracked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/clock.h"

namespace conclave::rtp {

class NackGenerator {
 public:
  static constexpr size_t kWindow = 512;  // power of two
  static constexpr uint16_t kMaxGap = 256;
  static constexpr uint8_t kMaxRetries = 5;
  static constexpr common::Duration kMaxAge = std::chrono::milliseconds(1000);
  static constexpr common::Duration kDefaultRetryInterval = std::chrono::milliseconds(100);
  static constexpr common::Duration kMinRetryInterval = std::chrono::milliseconds(20);

  struct Counters {
    uint64_t missing = 0;    // sequence numbers found missing
    uint64_t recovered = 0;  // of those, arrived later (retransmitted or reordered)
    uint64_t givenUp = 0;    // asked for too often or too long
    uint64_t requests = 0;   // sequence numbers returned by collect(), retries included
    uint64_t keyframesNeeded = 0;
  };

  // `seq` arrived. Returns true if it was one of the missing (a repair or a late packet).
  bool onPacket(uint16_t seq, common::TimePoint now);

  // Writes the sequence numbers to NACK now into `out` (ascending, oldest first) and returns how
  // many; those beyond out.size() wait for the next call. Gives up on the hopeless ones.
  size_t collect(common::TimePoint now, std::span<uint16_t> out,
                 common::Duration retryInterval = kDefaultRetryInterval);

  // True once after a loss NACKs cannot repair (a gap too large, a packet given up).
  bool takeKeyframeNeeded();
  bool keyframeNeeded() const { return mKeyframeNeeded; }
  // `seq` is one of the missing (a repair for it would fill a hole).
  bool isMissing(uint16_t seq) const {
    const Slot& s = mSlots[seq & (kWindow - 1)];
    return s.missing && s.seq == seq;
  }
  // A keyframe arrived: what is missing before it is no longer needed.
  void clearBefore(uint16_t seq);
  // Forgets everything missing (the stream starts over, e.g. after a pause).
  void clear();

  size_t missingCount() const { return mMissing; }
  const Counters& counters() const { return mCounters; }

 private:
  struct Slot {
    common::TimePoint firstMissing{};
    common::TimePoint lastRequest{};
    uint16_t seq = 0;
    uint8_t requests = 0;
    bool missing = false;
  };

  Slot& slot(uint16_t seq) { return mSlots[seq & (kWindow - 1)]; }
  void markMissing(uint16_t seq, common::TimePoint now);

  std::array<Slot, kWindow> mSlots{};
  bool mStarted = false;
  uint16_t mNewest = 0;
  size_t mMissing = 0;
  bool mKeyframeNeeded = false;
  Counters mCounters;
};

}  // namespace conclave::rtp
