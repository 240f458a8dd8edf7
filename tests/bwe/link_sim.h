// A bottleneck link for the estimator's tests: the sender's packets queue at a capacity that may
// change over time (drop-tail beyond a maximum queueing delay), may be lost at random or delayed
// out of order, and arrive after a one-way delay on a receiver clock with its own offset and the
// 250 us resolution of transport-cc. The receiver sends feedback every 50 ms (packets from the
// last one reported up to the newest arrived, late arrivals first), which reaches the estimator
// one one-way delay later. Time is simulated in microseconds; everything is deterministic.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "bwe/send_side_estimator.h"
#include "common/clock.h"

namespace conclave::bwe::testing {

inline common::TimePoint at(int64_t us) { return common::TimePoint(std::chrono::microseconds(us)); }

struct LinkConfig {
  std::function<uint32_t(int64_t)> capacityBps = [](int64_t) { return 2'000'000U; };
  std::function<double(int64_t)> lossAt = [](int64_t) { return 0.0; };
  int64_t oneWayUs = 20'000;
  int64_t maxQueueUs = 400'000;
  double reorderFraction = 0;  // packets that take this much longer, after the bottleneck
  int64_t reorderUs = 0;
  // Each packet's delay after the bottleneck varies uniformly in [-jitterUs, +jitterUs] (packets
  // overtake each other, as with e2e/impair_forwarder.mjs or netem's jitter).
  int64_t jitterUs = 0;
  int64_t feedbackIntervalUs = 50'000;
  int64_t remoteClockOffsetUs = 987'654'321;
  uint16_t firstSequenceNumber = 0;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
};

class LinkSim {
 public:
  LinkSim(LinkConfig config, SendSideEstimator& estimator)
      : mConfig(std::move(config)), mEstimator(estimator), mRandom(mConfig.seed | 1) {}

  int64_t nowUs() const { return mNowUs; }
  uint64_t sent() const { return mPackets.size(); }
  uint64_t lost() const { return mLost; }

  // Sends a packet at `atUs` (not before the last one sent) through the bottleneck.
  void send(uint32_t bytes, int64_t atUs, int probeClusterId = -1) {
    Packet p;
    p.sendUs = atUs;
    const uint32_t capacity = std::max<uint32_t>(mConfig.capacityBps(atUs), 1);
    const int64_t start = std::max(atUs, mLinkFreeUs);
    if (start - atUs > mConfig.maxQueueUs) {
      p.arrivalUs = -1;  // the queue is full
    } else {
      mLinkFreeUs = start + static_cast<int64_t>(bytes) * 8'000'000 / capacity;
      p.arrivalUs = mLinkFreeUs + mConfig.oneWayUs;
      if (uniform() < mConfig.lossAt(atUs)) p.arrivalUs = -1;
      if (p.arrivalUs >= 0 && uniform() < mConfig.reorderFraction) p.arrivalUs += mConfig.reorderUs;
      if (p.arrivalUs >= 0 && mConfig.jitterUs > 0) {
        p.arrivalUs += static_cast<int64_t>((2 * uniform() - 1) * static_cast<double>(mConfig.jitterUs));
      }
    }
    if (p.arrivalUs < 0) ++mLost;
    const auto seq = static_cast<uint16_t>(mConfig.firstSequenceNumber + mPackets.size());
    mPackets.push_back(p);
    mEstimator.onPacketSent(SentPacket{seq, bytes, atUs, probeClusterId >= 0, false, probeClusterId});
  }

  // Moves time to `untilUs` in 1 ms steps: the receiver's feedback, and its delivery.
  void advanceTo(int64_t untilUs) {
    while (mNowUs < untilUs) {
      mNowUs = std::min(untilUs, mNowUs + 1000);
      if (mNowUs >= mNextFeedbackUs) {
        buildFeedback();
        mNextFeedbackUs += mConfig.feedbackIntervalUs;
      }
      while (!mInFlight.empty() && mInFlight.front().deliverUs <= mNowUs) {
        mEstimator.onFeedback(mInFlight.front().results, at(mNowUs));
        mInFlight.erase(mInFlight.begin());
      }
    }
  }

 private:
  struct Packet {
    int64_t sendUs = 0;
    int64_t arrivalUs = -1;  // local time; -1 lost
    bool reportedReceived = false;
  };
  struct Feedback {
    int64_t deliverUs;
    std::vector<PacketResult> results;
  };

  double uniform() {
    mRandom ^= mRandom << 13;
    mRandom ^= mRandom >> 7;
    mRandom ^= mRandom << 17;
    return static_cast<double>(mRandom >> 11) / static_cast<double>(1ULL << 53);
  }

  int64_t remote(int64_t localUs) const {
    const int64_t t = localUs + mConfig.remoteClockOffsetUs;
    return t - t % 250;
  }

  uint16_t seqOf(size_t index) const { return static_cast<uint16_t>(mConfig.firstSequenceNumber + index); }

  bool arrived(const Packet& p) const { return p.arrivalUs >= 0 && p.arrivalUs <= mNowUs; }

  void buildFeedback() {
    Feedback fb{mNowUs + mConfig.oneWayUs, {}};
    // Packets reported lost that arrived since (reordered): received now, first.
    for (size_t i = mLateScanFrom; i < mNextReport; ++i) {
      Packet& p = mPackets[i];
      if (!p.reportedReceived && arrived(p)) {
        p.reportedReceived = true;
        fb.results.push_back(PacketResult{seqOf(i), true, remote(p.arrivalUs)});
      }
    }
    mLateScanFrom = mNextReport > 200 ? mNextReport - 200 : 0;
    size_t newest = mNextReport;
    for (size_t i = mNextReport; i < mPackets.size(); ++i) {
      if (arrived(mPackets[i])) newest = i + 1;
    }
    for (size_t i = mNextReport; i < newest; ++i) {
      Packet& p = mPackets[i];
      if (arrived(p)) {
        p.reportedReceived = true;
        fb.results.push_back(PacketResult{seqOf(i), true, remote(p.arrivalUs)});
      } else {
        fb.results.push_back(PacketResult{seqOf(i), false, 0});
      }
    }
    mNextReport = newest;
    if (!fb.results.empty()) mInFlight.push_back(std::move(fb));
  }

  LinkConfig mConfig;
  SendSideEstimator& mEstimator;
  uint64_t mRandom;
  int64_t mNowUs = 0;
  int64_t mLinkFreeUs = 0;
  int64_t mNextFeedbackUs = 0;
  size_t mNextReport = 0;
  size_t mLateScanFrom = 0;
  uint64_t mLost = 0;
  std::vector<Packet> mPackets;
  std::vector<Feedback> mInFlight;
};

// Sends paced 1200-byte packets at rate(nowUs) bits per second, 1 ms at a time, until `untilUs`;
// calls sample(nowUs) every 100 ms.
inline void drive(LinkSim& sim, int64_t untilUs, const std::function<uint32_t(int64_t)>& rate,
                  const std::function<void(int64_t)>& sample = {}) {
  static constexpr uint32_t kPacketBytes = 1200;
  double budgetBits = 0;
  while (sim.nowUs() < untilUs) {
    const int64_t t = sim.nowUs();
    budgetBits = std::min(budgetBits + rate(t) / 1000.0, 4.0 * kPacketBytes * 8);
    while (budgetBits >= kPacketBytes * 8) {
      sim.send(kPacketBytes, t);
      budgetBits -= kPacketBytes * 8;
    }
    sim.advanceTo(t + 1000);
    if (sample && sim.nowUs() % 100'000 == 0) sample(sim.nowUs());
  }
}

}  // namespace conclave::bwe::testing
