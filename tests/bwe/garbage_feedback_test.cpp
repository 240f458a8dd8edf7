// Feedback is what a subscriber's browser says: anything at all. The estimator must not crash,
// must not allocate (so nothing grows with the input), and must keep its outputs in range.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

#include "bwe/link_sim.h"
#include "bwe/send_side_estimator.h"

namespace {
std::atomic<uint64_t> gAllocations{0};
}  // namespace

// Counts every allocation of this test binary, so a test can show a loop allocated nothing.
// (GCC takes the replacement's free() for a mismatch with its malloc(); it is not.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace conclave::bwe;
using namespace conclave::bwe::testing;

namespace {

class Random {
 public:
  uint64_t next() {
    mState ^= mState << 13;
    mState ^= mState >> 7;
    mState ^= mState << 17;
    return mState;
  }

 private:
  uint64_t mState = 0x2545F4914F6CDD1DULL;
};

int64_t wildTime(Random& r) {
  switch (r.next() % 6) {
    case 0:
      return std::numeric_limits<int64_t>::min();
    case 1:
      return std::numeric_limits<int64_t>::max();
    case 2:
      return 0;
    case 3:
      return static_cast<int64_t>(r.next());
    default:
      return static_cast<int64_t>(r.next() % 100'000'000);  // 100 s
  }
}

void expectSane(const SendSideEstimator& est, const SendSideEstimator::Config& config) {
  EXPECT_GE(est.estimateBps(), config.minBps);
  EXPECT_LE(est.estimateBps(), config.maxBps);
  EXPECT_GE(est.lossFraction(), 0.0);
  EXPECT_LE(est.lossFraction(), 1.0);
  if (est.rtt()) {
    EXPECT_GE(est.rtt()->count(), 0);
    EXPECT_LE(conclave::common::toMillis(*est.rtt()), 10'000);
  }
}

TEST(SendSideEstimatorGarbage, AnyFeedbackKeepsItInRangeWithoutAllocating) {
  const SendSideEstimator::Config config{};
  SendSideEstimator est(config);
  Random r;
  std::vector<PacketResult> results(70'000);
  const uint64_t before = gAllocations.load();
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 50; ++i) {
      SentPacket p{static_cast<uint16_t>(r.next()), static_cast<uint32_t>(r.next()), wildTime(r)};
      p.probe = r.next() % 4 == 0;
      p.retransmission = r.next() % 3 == 0;
      p.probeClusterId = static_cast<int>(r.next() % 5 == 0 ? r.next() : r.next() % 4);
      est.onPacketSent(p);
    }
    const size_t n = round % 100 == 0 ? results.size() : r.next() % 300;
    const auto base = static_cast<uint16_t>(r.next());
    for (size_t i = 0; i < n; ++i) {
      // Mostly plausible sequence numbers near the ones sent, some repeated, some anywhere.
      const auto seq = static_cast<uint16_t>(r.next() % 3 == 0 ? r.next() : base + i);
      results[i] = PacketResult{seq, r.next() % 2 == 0, wildTime(r)};
    }
    const auto now = round % 50 == 0 ? conclave::common::TimePoint::max()
                                     : at(static_cast<int64_t>(r.next() % 1'000'000'000'000ULL));
    est.onFeedback(std::span<const PacketResult>(results.data(), n), now);
    est.onFeedback({}, now);
    expectSane(est, config);
  }
  EXPECT_EQ(gAllocations.load() - before, 0U);
  EXPECT_GT(est.stats().unknownResults, 0U);
  EXPECT_GT(est.stats().invalidTimes, 0U);
}

TEST(SendSideEstimatorGarbage, RepeatedAndUnknownResultsAreCountedAndIgnored) {
  SendSideEstimator est({});
  for (uint16_t s = 0; s < 10; ++s) est.onPacketSent(SentPacket{s, 1200, s * 5000LL});
  std::vector<PacketResult> fb;
  for (uint16_t s = 0; s < 10; ++s) fb.push_back(PacketResult{s, true, 1'000'000 + s * 5000LL});
  est.onFeedback(fb, at(200'000));
  est.onFeedback(fb, at(250'000));  // the same again
  const std::vector<PacketResult> unknown{{500, true, 1'100'000}, {9000, false, 0}};
  est.onFeedback(unknown, at(260'000));
  EXPECT_EQ(est.stats().repeatedResults, 10U);
  EXPECT_EQ(est.stats().unknownResults, 2U);
  EXPECT_EQ(est.lossFraction(), 0.0);
}

TEST(SendSideEstimatorGarbage, APacketSentOver10SecondsBeforeTheNewestIsForgotten) {
  // Packet 7 stays in its slot when the count jumps (a transport that restarted its numbering):
  // feedback for 7 much later means another packet 7.
  const std::vector<PacketResult> seven{{7, false, 0}};
  SendSideEstimator recent({});
  recent.onPacketSent(SentPacket{7, 1200, 0});
  recent.onPacketSent(SentPacket{40'000, 1200, 5'000'000});
  recent.onFeedback(seven, at(5'100'000));
  EXPECT_EQ(recent.stats().unknownResults, 0U);
  SendSideEstimator old({});
  old.onPacketSent(SentPacket{7, 1200, 0});
  old.onPacketSent(SentPacket{40'000, 1200, 11'000'000});
  old.onFeedback(seven, at(11'100'000));
  EXPECT_EQ(old.stats().unknownResults, 1U);
}

TEST(SendSideEstimatorGarbage, AfterGarbageARealLinkIsStillTracked) {
  SendSideEstimator est({});
  Random r;
  std::vector<PacketResult> results(300);
  for (int round = 0; round < 200; ++round) {
    for (auto& x : results) x = PacketResult{static_cast<uint16_t>(r.next()), r.next() % 2 == 0, wildTime(r)};
    est.onFeedback(results, at(round * 50'000));
  }
  LinkConfig link;
  link.capacityBps = [](int64_t) { return 800'000U; };
  LinkSim sim(link, est);
  drive(sim, 30'000'000, [&](int64_t) { return est.estimateBps(); });
  EXPECT_GT(est.estimateBps(), 500'000U);
  EXPECT_LT(est.estimateBps(), 1'000'000U);
}

TEST(SendSideEstimatorGarbage, AReceiverClockJumpDoesNotLookLikeCongestion) {
  SendSideEstimator est({});
  LinkConfig link;
  link.capacityBps = [](int64_t) { return 2'000'000U; };
  LinkSim sim(link, est);
  drive(sim, 10'000'000, [&](int64_t) { return est.estimateBps(); });
  const uint32_t before = est.estimateBps();
  // The same link, but the receiver's clock is now hours ahead (a restart, a 24-bit wrap).
  LinkConfig jumped = link;
  jumped.remoteClockOffsetUs += 7'200'000'000LL;
  jumped.firstSequenceNumber = static_cast<uint16_t>(sim.sent());
  LinkSim after(jumped, est);
  after.advanceTo(10'000'000);
  drive(after, 12'000'000, [&](int64_t) { return est.estimateBps(); });
  EXPECT_GT(est.estimateBps(), before * 0.8);
}

}  // namespace
