#include "rtcp/receiver_stats.h"

#include <algorithm>

#include "rtcp/sender_report.h"

namespace conclave::rtcp {

namespace {

constexpr uint32_t kSeqMod = 1u << 16;

// Wall time since `epoch` in units of `rate` per second, modulo 2^32 as RTP timestamps wrap.
uint32_t toUnits(common::Duration sinceEpoch, uint32_t rate) {
  const auto ns = static_cast<uint64_t>(std::max<int64_t>(0, sinceEpoch.count()));
  const uint64_t seconds = ns / 1'000'000'000u;
  const uint64_t rest = ns % 1'000'000'000u;
  return static_cast<uint32_t>(seconds * rate + rest * rate / 1'000'000'000u);
}

}  // namespace

ReceiverStats::ReceiverStats(uint32_t ssrc, uint32_t clockRate) : mSsrc(ssrc), mClockRate(clockRate) {}

void ReceiverStats::initSequence(uint16_t seq) {
  mBaseSeq = seq;
  mMaxSeq = seq;
  mBadSeq = kSeqMod + 1;  // so seq == mBadSeq is false
  mCycles = 0;
  mReceived = 0;
  mReceivedPrior = 0;
  mExpectedPrior = 0;
}

bool ReceiverStats::updateSequence(uint16_t seq) {
  const auto delta = static_cast<uint16_t>(seq - mMaxSeq);
  if (delta < kMaxDropout) {
    if (seq < mMaxSeq) mCycles += kSeqMod;  // in order, with permissible gap: wrapped
    mMaxSeq = seq;
  } else if (delta <= kSeqMod - kMaxMisorder) {
    // A very large jump: accept it only when the next packet follows it.
    if (seq == mBadSeq) {
      initSequence(seq);
      mHaveTransit = false;
    } else {
      mBadSeq = (seq + 1u) & (kSeqMod - 1);
      return false;
    }
  }
  // else: a duplicate or reordered packet, counted.
  return true;
}

void ReceiverStats::onPacket(uint16_t seq, uint32_t rtpTimestamp, common::TimePoint arrival) {
  if (!mStarted) {
    mStarted = true;
    mEpoch = arrival;
    initSequence(seq);
  } else if (!updateSequence(seq)) {
    return;
  }
  ++mReceived;
  updateJitter(rtpTimestamp, arrival);
}

void ReceiverStats::updateJitter(uint32_t rtpTimestamp, common::TimePoint arrival) {
  // A.8: transit = arrival (in RTP units) - timestamp; J += (|D| - J) / 16.
  const uint32_t transit = toUnits(arrival - mEpoch, mClockRate) - rtpTimestamp;
  if (mHaveTransit) {
    int64_t d = static_cast<int32_t>(transit - mLastTransit);
    if (d < 0) d = -d;
    mJitterQ4 += d - ((mJitterQ4 + 8) >> 4);
  }
  mHaveTransit = true;
  mLastTransit = transit;
}

void ReceiverStats::onSenderReport(uint64_t ntpTimestamp, common::TimePoint arrival) {
  mHaveSr = true;
  mLastSr = compactNtp(ntpTimestamp);
  mLastSrArrival = arrival;
}

int64_t ReceiverStats::expected() const {
  if (!mStarted) return 0;
  return static_cast<int64_t>(extendedHighestSequence()) - mBaseSeq + 1;
}

ReportBlock ReceiverStats::makeReportBlock(common::TimePoint now) {
  ReportBlock block;
  block.ssrc = mSsrc;
  const int64_t expectedNow = expected();
  block.cumulativeLost = static_cast<int32_t>(std::clamp<int64_t>(lost(), -0x800000, 0x7FFFFF));
  block.highestSequence = extendedHighestSequence();
  block.jitter = jitter();
  // A.3: the fraction lost over the interval since the last report.
  const int64_t expectedInterval = expectedNow - mExpectedPrior;
  const int64_t receivedInterval = static_cast<int64_t>(mReceived - mReceivedPrior);
  const int64_t lostInterval = expectedInterval - receivedInterval;
  mExpectedPrior = expectedNow;
  mReceivedPrior = mReceived;
  if (expectedInterval > 0 && lostInterval > 0) {
    block.fractionLost = static_cast<uint8_t>(std::min<int64_t>(255, (lostInterval << 8) / expectedInterval));
  }
  if (mHaveSr) {
    block.lastSr = mLastSr;
    block.delaySinceLastSr = toUnits(now - mLastSrArrival, 65536);
  }
  return block;
}

}  // namespace conclave::rtcp
