// SrtpStreams: the per-SSRC state of one SRTP direction (libsrtp's streams): the SRTP index and
// replay window, the SRTCP window (inbound) or index counter (outbound), keyed by SSRC.
//
// Bounded: at most `maxStreams` SSRCs. Storage grows by doubling from a few streams as SSRCs
// appear, so a new stream may allocate, a known one never does. Lookup is an open-addressing
// hash table (linear probing, backward-shift deletion) over slot numbers; the slots stay dense
// (a removed stream's slot takes the last one), so the table is rebuilt only when it grows.
// A stream's state is addressed by slot; slots and windows move when streams are added or removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "srtp/srtp_replay.h"

namespace conclave::srtp {

struct SrtpStream {
  uint32_t ssrc = 0;
  uint32_t rtcpSent = 0;        // outbound: the last SRTCP index used
  uint64_t rtpHighest = 0;      // ROC << 16 | SEQ of the highest SRTP index accepted or sent
  uint64_t lastUse = 0;         // for evicting the least recently used stream
  RtcpReplayWindow rtcpWindow;  // inbound
};

class SrtpStreams {
 public:
  // `windowBits`: the SRTP replay window (a multiple of 32).
  SrtpStreams(size_t maxStreams, uint32_t windowBits);

  size_t size() const { return mStreams.size(); }
  size_t maxStreams() const { return mMaxStreams; }

  std::optional<size_t> find(uint32_t ssrc) const;
  // Adds a fresh stream (the SSRC must not be present). When all maxStreams are taken: evicts the
  // least recently used stream if `evict`, else returns nullopt. Only this may allocate.
  std::optional<size_t> add(uint32_t ssrc, bool evict);
  void remove(uint32_t ssrc);

  SrtpStream& stream(size_t slot) { return mStreams[slot]; }
  void touch(size_t slot) { mStreams[slot].lastUse = ++mClock; }
  RtpReplayWindow rtpWindow(size_t slot) {
    return RtpReplayWindow(mStreams[slot].rtpHighest, std::span(mRings).subspan(slot * mRingWords, mRingWords),
                           mWindowBits);
  }

 private:
  size_t bucketOf(uint32_t ssrc) const;
  std::optional<size_t> bucketFor(uint32_t ssrc) const;
  void insertIndex(uint32_t ssrc, size_t slot);
  void grow();
  void removeSlot(size_t slot);

  size_t mMaxStreams;
  size_t mCapacity = 0;  // streams the vectors have room for
  uint32_t mWindowBits;
  size_t mRingWords;
  uint64_t mClock = 0;
  std::vector<SrtpStream> mStreams;
  std::vector<uint64_t> mRings;  // mRingWords per slot
  std::vector<uint32_t> mIndex;  // hash buckets: slot + 1, 0 when empty; a power of two long
  unsigned mIndexShift = 0;      // 32 - log2(mIndex.size())
};

}  // namespace conclave::srtp
