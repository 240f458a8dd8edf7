// Maps the packets of a source stream (SSRC, sequence number, timestamp) onto one continuous
// output stream, as a subscriber sees it.
//
// The SFU forwards one source at a time to a subscriber's output stream (a simulcast layer, or a
// publisher). When it switches source, switchSource() starts a new segment: the first packet of
// the new source gets the next output sequence number, and a timestamp that advances the output
// timestamp by the wall time elapsed since the last forwarded packet (the "gap estimate"), so the
// subscriber's decoder and jitter buffer see one stream without jumps.
//
// Within a segment, skip(seq) removes a packet the SFU chose not to forward (a temporal layer it
// filters out, padding-only probes); later packets close the gap. Reordered packets still get the
// output number they would have had. Packets from an earlier segment are dropped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/clock.h"
#include "rtp/packet.h"
#include "rtp/seq_num.h"

namespace conclave::rtp {

class StreamRewriter {
 public:
  struct Mapped {
    uint16_t sequenceNumber = 0;
    uint32_t timestamp = 0;
  };

  // `firstSequenceNumber` and `firstTimestamp` start the output stream (random per RFC 3550).
  StreamRewriter(uint32_t outSsrc, uint32_t clockRate, uint16_t firstSequenceNumber, uint32_t firstTimestamp);

  // The next packet from `sourceSsrc` starts a new segment. Packets of other SSRCs are dropped
  // until the next switch. Until the first call, the first packet's SSRC is adopted.
  void switchSource(uint32_t sourceSsrc);

  // Maps a source packet; nullopt means "do not forward".
  std::optional<Mapped> map(uint32_t ssrc, uint16_t seq, uint32_t timestamp, common::TimePoint now);
  // map() applied to `packet` in place (sequence number, timestamp, SSRC).
  bool rewrite(RtpPacket& packet, common::TimePoint now);

  // Source packet `seq` of the current segment will not be forwarded.
  void skip(uint16_t seq);

  // For NACKs from the subscriber: the source sequence number behind output `outSeq`, if it
  // belongs to the current segment.
  std::optional<uint16_t> sourceSequenceNumber(uint16_t outSeq) const;
  // For sender reports of the current source: its timestamp on the output stream.
  std::optional<uint32_t> outputTimestamp(uint32_t sourceTimestamp) const;

  uint32_t outSsrc() const { return mOutSsrc; }
  bool started() const { return mSentAny; }
  uint16_t lastSequenceNumber() const { return mMaxOutSeq; }  // newest output seq so far
  uint32_t lastTimestamp() const { return mMaxOutTs; }

 private:
  static constexpr size_t kMaxSkips = 64;  // skips remembered for reordered packets

  void startSegment(uint16_t seq, uint32_t timestamp, common::TimePoint now);
  // Number of remembered skips older than `seq`, or nullopt if `seq` itself was skipped or is
  // too old to map exactly.
  std::optional<uint16_t> skipsBefore(uint16_t seq) const;
  uint16_t skipAt(size_t i) const { return mSkips[(mSkipHead + i) % kMaxSkips]; }

  uint32_t mOutSsrc;
  uint32_t mClockRate;

  // Output side.
  bool mSentAny = false;
  uint16_t mMaxOutSeq;
  uint32_t mMaxOutTs;
  common::TimePoint mMaxOutTsTime{};  // arrival time of the packet that carried mMaxOutTs

  // Current segment.
  bool mHaveSource = false;
  bool mSegmentStarted = false;
  uint32_t mSourceSsrc = 0;
  uint16_t mSegmentFirstSeq = 0;  // first source seq of the segment
  SeqUnwrapper mSourceSeqs;       // source seqs of the segment, extended past the 16-bit wrap
  int64_t mSegmentFirstExt = 0;   // mSegmentFirstSeq, extended
  uint16_t mHighestSeq = 0;       // newest source seq seen or skipped
  uint16_t mBaseSeqOffset = 0;    // out = seq + offset for seqs before every remembered skip
  uint32_t mTsOffset = 0;
  std::array<uint16_t, kMaxSkips> mSkips{};  // ascending, a ring
  size_t mSkipHead = 0;
  size_t mSkipCount = 0;
  bool mForgotSkips = false;
  uint16_t mLastForgottenSkip = 0;
};

}  // namespace conclave::rtp
