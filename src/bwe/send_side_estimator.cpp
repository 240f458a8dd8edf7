#include "bwe/send_side_estimator.h"

#include <algorithm>
#include <chrono>

namespace conclave::bwe {

namespace {

constexpr int64_t kMaxRttUs = 10'000'000;
constexpr int64_t kClusterTimeoutUs = 2'000'000;
constexpr uint32_t kMaxPacketBytes = 64 * 1024;
// A remembered packet sent this long before the newest one is from before a jump in the
// sequence numbers (a transport that restarted its count): its slot is not what feedback means.
constexpr int64_t kMaxPacketAgeUs = 10'000'000;

bool saneTime(int64_t us) { return us > -SendSideEstimator::kMaxTimeUs && us < SendSideEstimator::kMaxTimeUs; }

SendSideEstimator::Config sanitized(SendSideEstimator::Config c) {
  c.minBps = std::max<uint32_t>(c.minBps, 1000);
  c.maxBps = std::max(c.maxBps, c.minBps);
  c.initialBps = std::clamp(c.initialBps, c.minBps, c.maxBps);
  return c;
}

}  // namespace

SendSideEstimator::SendSideEstimator(Config config)
    : mConfig(sanitized(config)),
      mAimd(mConfig.initialBps, mConfig.minBps, mConfig.maxBps),
      mLoss(mConfig.maxBps),
      mEstimateBps(mConfig.initialBps) {}

void SendSideEstimator::onPacketSent(const SentPacket& packet) {
  if (!saneTime(packet.sendTimeUs)) {
    ++mStats.invalidTimes;
    return;
  }
  // The first packet after feedback (or after a time with nothing sent) starts the wait for
  // feedback afresh.
  if (!mSentSinceQuiet) {
    mQuietSinceUs = std::max(mQuietSinceUs.value_or(packet.sendTimeUs), packet.sendTimeUs);
    mSentSinceQuiet = true;
  }
  mNewestSendUs = std::max(mNewestSendUs.value_or(packet.sendTimeUs), packet.sendTimeUs);
  Slot& slot = mHistory[packet.sequenceNumber % kHistorySize];
  slot.sendTimeUs = packet.sendTimeUs;
  slot.bytes = std::min(packet.bytes, kMaxPacketBytes);
  slot.sequenceNumber = packet.sequenceNumber;
  slot.state = SlotState::kSent;
  slot.probeClusterId = packet.probe && packet.probeClusterId >= 0 ? packet.probeClusterId : -1;
  if (slot.probeClusterId >= 0) onProbeSent(packet);
}

void SendSideEstimator::onFeedback(std::span<const PacketResult> results, common::TimePoint now) {
  const int64_t nowUs = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  ++mStats.feedbacks;
  mQuietSinceUs = nowUs;
  mSentSinceQuiet = false;
  int received = 0;
  int lost = 0;
  int recovered = 0;
  bool delaySample = false;
  bool overused = false;
  std::optional<int64_t> newestSendUs;
  for (const PacketResult& r : results) {
    ++mStats.results;
    Slot& slot = mHistory[r.sequenceNumber % kHistorySize];
    if (slot.state == SlotState::kEmpty || slot.sequenceNumber != r.sequenceNumber ||
        (mNewestSendUs && slot.sendTimeUs < *mNewestSendUs - kMaxPacketAgeUs)) {
      ++mStats.unknownResults;
      continue;
    }
    if (slot.state == SlotState::kReceived) {
      ++mStats.repeatedResults;
      continue;
    }
    // Losses of packets sent before the estimate last went down were caused by the rate before:
    // they must not take it down again (a drop-tail queue reports them a whole queue later).
    const bool counts = !mLastDecreaseUs || slot.sendTimeUs >= *mLastDecreaseUs;
    if (slot.state == SlotState::kSent) mSentRate.add(slot.sendTimeUs, slot.bytes);
    if (!r.received) {
      if (slot.state == SlotState::kSent) {
        slot.state = SlotState::kLost;
        if (counts) ++lost;
      }
      continue;
    }
    if (!saneTime(r.arrivalTimeUs)) {
      ++mStats.invalidTimes;
      continue;
    }
    // A packet reported lost before and received now was late, not lost.
    if (counts) {
      if (slot.state == SlotState::kSent) {
        ++received;
      } else {
        ++recovered;
      }
    }
    slot.state = SlotState::kReceived;
    newestSendUs = std::max(newestSendUs.value_or(slot.sendTimeUs), slot.sendTimeUs);
    mAcked.add(r.arrivalTimeUs, slot.bytes);
    if (slot.probeClusterId >= 0) onProbeReceived(slot, r.arrivalTimeUs);
    const uint64_t resets = mInterArrival.resets();
    const auto deltas = mInterArrival.add(slot.sendTimeUs, r.arrivalTimeUs);
    if (mInterArrival.resets() != resets) mTrendline.reset();  // the receiver's clock jumped
    if (deltas) {
      const double trend = mTrendline.update(*deltas);
      const BandwidthUsage usage = mDetector.detect(trend, static_cast<double>(deltas->sendDeltaUs), nowUs);
      overused = overused || (usage == BandwidthUsage::kOverusing && mTrendline.queueStandsOut());
      delaySample = true;
    }
  }
  if (newestSendUs) updateRtt(nowUs - *newestSendUs);
  if (delaySample) {
    // One rate decision per feedback, on the worst the detector said during it.
    BandwidthUsage usage = overused ? BandwidthUsage::kOverusing : mDetector.state();
    if (usage == BandwidthUsage::kOverusing && !overused) usage = BandwidthUsage::kNormal;
    if (overused) {
      ++mStats.overuses;
      mLastOveruseUs = nowUs;
    }
    mAimd.update(usage, mAcked.bps(), rttUs(), nowUs, mSentRate.bps());
  }
  const bool congested = mLastOveruseUs && nowUs - *mLastOveruseUs < kCongestionMemoryUs;
  mLoss.onPackets(received, lost, recovered, combined(nowUs), rttUs(), nowUs, congested);
  const uint32_t previous = mEstimateBps;
  mEstimateBps = combined(nowUs);
  if (mEstimateBps < previous) mLastDecreaseUs = nowUs;
  evaluateProbes(nowUs);
}

void SendSideEstimator::onTimer(common::TimePoint now) {
  const int64_t nowUs = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  // Nothing sent since: no feedback is due, the silence says nothing about the path.
  if (!mSentSinceQuiet || !mQuietSinceUs || nowUs - *mQuietSinceUs < kFeedbackTimeoutUs) return;
  mQuietSinceUs = nowUs;
  mSentSinceQuiet = false;
  ++mStats.feedbackTimeouts;
  const uint32_t halved = std::max(mConfig.minBps, mEstimateBps / 2);
  mAimd.setEstimate(halved, nowUs);
  mLoss.setEstimate(halved, nowUs);
  mEstimateBps = std::min(halved, combined(nowUs));
  mLastDecreaseUs = nowUs;
}

uint32_t SendSideEstimator::combined(int64_t nowUs) const {
  return std::clamp(std::min(mAimd.bps(), mLoss.capBps(nowUs)), mConfig.minBps, mConfig.maxBps);
}

double SendSideEstimator::lossFraction() const { return mLoss.lossFraction(); }

std::optional<common::Duration> SendSideEstimator::rtt() const {
  if (!mRttUs) return std::nullopt;
  return std::chrono::microseconds(*mRttUs);
}

void SendSideEstimator::updateRtt(int64_t sampleUs) {
  // Send to feedback: the path both ways plus however long the receiver held the feedback.
  if (sampleUs < 0 || sampleUs > kMaxRttUs) return;
  mRttUs = mRttUs ? (*mRttUs * 7 + sampleUs) / 8 : sampleUs;
}

void SendSideEstimator::onProbeSent(const SentPacket& packet) {
  Cluster& c = mClusters[static_cast<size_t>(packet.probeClusterId) % kMaxClusters];
  if (c.id != packet.probeClusterId) {
    c = Cluster{};
    c.id = packet.probeClusterId;
    c.firstSendUs = packet.sendTimeUs;
  }
  if (c.done) return;
  const uint32_t bytes = std::min(packet.bytes, kMaxPacketBytes);
  ++c.sent;
  c.firstSendUs = std::min(c.firstSendUs, packet.sendTimeUs);
  if (packet.sendTimeUs >= c.lastSendUs || c.sent == 1) {
    c.lastSendUs = packet.sendTimeUs;
    c.lastSentBytes = bytes;
  }
  c.sentBytes += bytes;
}

void SendSideEstimator::onProbeReceived(const Slot& slot, int64_t arrivalUs) {
  Cluster& c = mClusters[static_cast<size_t>(slot.probeClusterId) % kMaxClusters];
  if (c.id != slot.probeClusterId || c.done) return;
  if (c.received == 0 || arrivalUs < c.firstArrivalUs) {
    c.firstArrivalUs = arrivalUs;
    c.firstArrivalBytes = slot.bytes;
  }
  if (c.received == 0 || arrivalUs > c.lastArrivalUs) c.lastArrivalUs = arrivalUs;
  ++c.received;
  c.receivedBytes += slot.bytes;
}

void SendSideEstimator::evaluateProbes(int64_t nowUs) {
  for (Cluster& c : mClusters) {
    if (c.id < 0 || c.done) continue;
    const bool enough = c.received >= kMinProbePackets && c.received * 5 >= c.sent * 4;
    if (!enough) {
      if (nowUs - c.lastSendUs > kClusterTimeoutUs) {
        c.done = true;
        ++mStats.failedProbes;
      }
      continue;
    }
    c.done = true;
    const auto bps = probeRate(c);
    if (!bps) {
      ++mStats.failedProbes;
      continue;
    }
    ++mStats.probeResults;
    mLastProbe = ProbeResult{c.id, *bps};
    if (*bps > estimateBps()) {
      mAimd.setEstimate(*bps, nowUs);
      mLoss.setEstimate(*bps, nowUs);
      mEstimateBps = combined(nowUs);
    }
  }
}

std::optional<uint32_t> SendSideEstimator::probeRate(const Cluster& c) const {
  // Send rate without the last packet's bytes, receive rate without the first's: n packets span
  // n - 1 intervals.
  const int64_t sendUs = c.lastSendUs - c.firstSendUs;
  const int64_t recvUs = c.lastArrivalUs - c.firstArrivalUs;
  if (sendUs <= 0 || recvUs <= 0 || sendUs > 1'000'000 || recvUs > 1'000'000) return std::nullopt;
  const double sendBps = static_cast<double>(c.sentBytes - c.lastSentBytes) * 8e6 / static_cast<double>(sendUs);
  const double recvBps = static_cast<double>(c.receivedBytes - c.firstArrivalBytes) * 8e6 / static_cast<double>(recvUs);
  // Arriving much faster than sent: the receiver's timestamps bunched up; the cluster says nothing.
  if (recvBps > 1.5 * sendBps) return std::nullopt;
  double bps = std::min(sendBps, recvBps);
  // Arriving clearly slower than sent: the path is full at about the receive rate.
  if (recvBps < 0.9 * sendBps) bps = 0.95 * recvBps;
  return static_cast<uint32_t>(std::clamp<double>(bps, mConfig.minBps, mConfig.maxBps));
}

}  // namespace conclave::bwe
