#include "rtp/stream_rewriter.h"

#include <algorithm>

#include "rtp/seq_num.h"

namespace conclave::rtp {

namespace {

// Wall time as RTP clock ticks, at least 1 and below half the timestamp space.
uint32_t elapsedTicks(common::Duration elapsed, uint32_t clockRate) {
  const int64_t ns = std::max<int64_t>(0, elapsed.count());
  const uint64_t seconds = static_cast<uint64_t>(ns) / 1'000'000'000u;
  const uint64_t rest = static_cast<uint64_t>(ns) % 1'000'000'000u;
  uint64_t ticks = seconds * clockRate + rest * clockRate / 1'000'000'000u;
  ticks = std::clamp<uint64_t>(ticks, 1, 0x3FFFFFFF);
  return static_cast<uint32_t>(ticks);
}

}  // namespace

StreamRewriter::StreamRewriter(uint32_t outSsrc, uint32_t clockRate, uint16_t firstSequenceNumber,
                               uint32_t firstTimestamp)
    : mOutSsrc(outSsrc),
      mClockRate(clockRate),
      mMaxOutSeq(static_cast<uint16_t>(firstSequenceNumber - 1)),
      mMaxOutTs(firstTimestamp) {}

void StreamRewriter::switchSource(uint32_t sourceSsrc) {
  mHaveSource = true;
  mSourceSsrc = sourceSsrc;
  mSegmentStarted = false;
}

void StreamRewriter::startSegment(uint16_t seq, uint32_t timestamp, common::TimePoint now) {
  const auto outSeq = static_cast<uint16_t>(mMaxOutSeq + 1);
  uint32_t outTs = mMaxOutTs;
  if (mSentAny) outTs += elapsedTicks(now - mMaxOutTsTime, mClockRate);
  mBaseSeqOffset = static_cast<uint16_t>(outSeq - seq);
  mTsOffset = outTs - timestamp;
  mSegmentFirstSeq = seq;
  mSourceSeqs = SeqUnwrapper{};
  mSegmentFirstExt = mSourceSeqs.unwrap(seq);
  mHighestSeq = seq;
  mSkipHead = 0;
  mSkipCount = 0;
  mForgotSkips = false;
  mSegmentStarted = true;
}

std::optional<uint16_t> StreamRewriter::skipsBefore(uint16_t seq) const {
  if (mForgotSkips && SeqNum::isNewerOrEqual(mLastForgottenSkip, seq)) return std::nullopt;
  uint16_t count = 0;
  for (size_t i = 0; i < mSkipCount; ++i) {
    const uint16_t skipped = skipAt(i);
    if (skipped == seq) return std::nullopt;
    if (!SeqNum::isNewer(seq, skipped)) break;
    ++count;
  }
  return count;
}

std::optional<StreamRewriter::Mapped> StreamRewriter::map(uint32_t ssrc, uint16_t seq, uint32_t timestamp,
                                                          common::TimePoint now) {
  if (!mHaveSource) switchSource(ssrc);
  if (ssrc != mSourceSsrc) return std::nullopt;
  if (!mSegmentStarted) startSegment(seq, timestamp, now);
  // Older than the segment: the output numbers before it are taken. Compared as extended
  // numbers: a plain 16-bit comparison with the first seq turns false after 32768 packets.
  if (mSourceSeqs.unwrap(seq) < mSegmentFirstExt) return std::nullopt;
  const auto skips = skipsBefore(seq);
  if (!skips) return std::nullopt;
  Mapped out;
  out.sequenceNumber = static_cast<uint16_t>(seq + mBaseSeqOffset - *skips);
  out.timestamp = timestamp + mTsOffset;
  if (SeqNum::isNewer(seq, mHighestSeq)) mHighestSeq = seq;
  if (!mSentAny || SeqNum::isNewer(out.sequenceNumber, mMaxOutSeq)) {
    mMaxOutSeq = out.sequenceNumber;
  }
  if (!mSentAny || RtpTimestamp::isNewer(out.timestamp, mMaxOutTs)) {
    mMaxOutTs = out.timestamp;
    mMaxOutTsTime = now;
  }
  mSentAny = true;
  return out;
}

bool StreamRewriter::rewrite(RtpPacket& packet, common::TimePoint now) {
  const auto out = map(packet.ssrc(), packet.sequenceNumber(), packet.timestamp(), now);
  if (!out) return false;
  packet.setSequenceNumber(out->sequenceNumber);
  packet.setTimestamp(out->timestamp);
  packet.setSsrc(mOutSsrc);
  return true;
}

void StreamRewriter::skip(uint16_t seq) {
  if (!mSegmentStarted || !SeqNum::isNewer(seq, mHighestSeq)) {
    return;  // a late skip cannot renumber packets already sent: the subscriber sees a gap
  }
  mHighestSeq = seq;
  mSourceSeqs.unwrap(seq);
  if (mSkipCount == kMaxSkips) {
    mLastForgottenSkip = skipAt(0);
    mForgotSkips = true;
    mBaseSeqOffset = static_cast<uint16_t>(mBaseSeqOffset - 1);
    mSkipHead = (mSkipHead + 1) % kMaxSkips;
    --mSkipCount;
  }
  mSkips[(mSkipHead + mSkipCount) % kMaxSkips] = seq;
  ++mSkipCount;
}

std::optional<uint16_t> StreamRewriter::sourceSequenceNumber(uint16_t outSeq) const {
  if (!mSegmentStarted || !mSentAny) return std::nullopt;
  if (SeqNum::isNewer(outSeq, mMaxOutSeq)) return std::nullopt;
  auto seq = static_cast<uint16_t>(outSeq - mBaseSeqOffset);
  for (size_t i = 0; i < mSkipCount; ++i) {
    if (!SeqNum::isNewerOrEqual(seq, skipAt(i))) break;
    ++seq;
  }
  if (mForgotSkips && SeqNum::isNewerOrEqual(mLastForgottenSkip, seq)) return std::nullopt;
  const int64_t newest = mSourceSeqs.last();
  if (newest + SeqNum::diff(seq, static_cast<uint16_t>(newest)) < mSegmentFirstExt) return std::nullopt;
  return seq;
}

std::optional<uint32_t> StreamRewriter::outputTimestamp(uint32_t sourceTimestamp) const {
  if (!mSegmentStarted) return std::nullopt;
  return sourceTimestamp + mTsOffset;
}

}  // namespace conclave::rtp
