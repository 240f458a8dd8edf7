#include "rtp/send_history.h"

#include "rtp/seq_num.h"

namespace conclave::rtp {

uint16_t SendHistory::add(uint32_t bytes, int64_t sendTimeUs, SentKind kind) {
  const uint16_t seq = mNext++;
  mSlots[seq & (kCapacity - 1)] = Slot{sendTimeUs, bytes, seq, kind};
  ++mSent;
  return seq;
}

std::optional<SendHistory::Entry> SendHistory::get(uint16_t seq) const {
  if (mSent == 0) return std::nullopt;
  const auto newest = static_cast<uint16_t>(mNext - 1);
  // Not sent yet, or older than the window (its slot has been reused or will be).
  const int32_t age = SeqNum::diff(newest, seq);
  if (age < 0 || static_cast<size_t>(age) >= kCapacity || static_cast<uint64_t>(age) >= mSent) return std::nullopt;
  const Slot& s = mSlots[seq & (kCapacity - 1)];
  if (s.sequenceNumber != seq) return std::nullopt;
  return Entry{s.sequenceNumber, s.bytes, s.sendTimeUs, s.kind};
}

}  // namespace conclave::rtp
