// Reception statistics of one incoming RTP stream, as RFC 3550 Appendix A computes them: the
// extended highest sequence number with wrap-around cycles and restart detection (A.1), expected
// and lost packets and the fraction lost per report interval (A.3), interarrival jitter (A.8),
// and LSR/DLSR from the last sender report. Time is a parameter.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "rtcp/report_block.h"

namespace conclave::rtcp {

class ReceiverStats {
 public:
  static constexpr uint32_t kMaxDropout = 3000;
  static constexpr uint32_t kMaxMisorder = 100;

  ReceiverStats(uint32_t ssrc, uint32_t clockRate);

  // Every packet of the stream, in arrival order. A packet far outside the expected sequence
  // range is not counted unless the next one follows it (the sender restarted: re-sync).
  void onPacket(uint16_t seq, uint32_t rtpTimestamp, common::TimePoint arrival);
  // A sender report of this stream's source arrived.
  void onSenderReport(uint64_t ntpTimestamp, common::TimePoint arrival);

  // The report block for the interval since the previous call (which this call ends).
  ReportBlock makeReportBlock(common::TimePoint now);

  uint32_t ssrc() const { return mSsrc; }
  bool hasPackets() const { return mStarted; }
  uint64_t received() const { return mReceived; }
  uint32_t extendedHighestSequence() const { return mCycles + mMaxSeq; }
  int64_t expected() const;
  int64_t lost() const { return expected() - static_cast<int64_t>(mReceived); }
  uint32_t jitter() const { return static_cast<uint32_t>(mJitterQ4 >> 4); }  // RTP units

 private:
  void initSequence(uint16_t seq);
  bool updateSequence(uint16_t seq);  // false: not counted
  void updateJitter(uint32_t rtpTimestamp, common::TimePoint arrival);

  uint32_t mSsrc;
  uint32_t mClockRate;

  bool mStarted = false;
  uint16_t mMaxSeq = 0;
  uint32_t mCycles = 0;  // shifted count of wrap-arounds (multiples of 65536)
  uint32_t mBaseSeq = 0;
  uint32_t mBadSeq = 0;
  uint64_t mReceived = 0;
  int64_t mExpectedPrior = 0;
  uint64_t mReceivedPrior = 0;

  bool mHaveTransit = false;
  uint32_t mLastTransit = 0;
  int64_t mJitterQ4 = 0;  // jitter x 16, as in A.8
  common::TimePoint mEpoch{};

  bool mHaveSr = false;
  uint32_t mLastSr = 0;
  common::TimePoint mLastSrArrival{};
};

}  // namespace conclave::rtcp
