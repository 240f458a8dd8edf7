// The estimator's cost per transport-cc feedback, as a subscriber's worker pays it: N packets
// sent (onPacketSent each) and one feedback reporting them (onFeedback), with 2 % lost and
// queueing delay that varies. One iteration is one feedback; BM_PacketSent alone shows how much
// of it is the send side. Also the allocator for a subscriber with 10 and 49 tiles.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "bwe/allocator.h"
#include "bwe/send_side_estimator.h"

using namespace conclave;

namespace {

common::TimePoint at(int64_t us) { return common::TimePoint(std::chrono::microseconds(us)); }

// Feedback every 50 ms with `range(0)` packets in it (50: about 10 Mbit/s of 1200-byte packets).
void BM_Feedback(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  bwe::SendSideEstimator est({});
  std::vector<bwe::PacketResult> results(n);
  uint16_t seq = 0;
  int64_t sendUs = 0;
  uint64_t round = 0;
  const int64_t spacingUs = 50'000 / static_cast<int64_t>(n);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) {
      est.onPacketSent(bwe::SentPacket{seq, 1200, sendUs});
      // A queue that grows and drains over 2 s, and every 50th packet lost.
      const int64_t queueUs = static_cast<int64_t>((round + i) % 40) * 500;
      const bool lost = (seq % 50) == 0;
      results[i] = bwe::PacketResult{seq, !lost, lost ? 0 : 5'000'000 + sendUs + 20'000 + queueUs};
      ++seq;
      sendUs += spacingUs;
    }
    est.onFeedback(results, at(sendUs + 40'000));
    ++round;
    benchmark::DoNotOptimize(est.estimateBps());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));  // packets
  state.counters["estimate_kbps"] = est.estimateBps() / 1000.0;
}
BENCHMARK(BM_Feedback)->Arg(10)->Arg(50)->Arg(200);

void BM_PacketSent(benchmark::State& state) {
  bwe::SendSideEstimator est({});
  uint16_t seq = 0;
  int64_t sendUs = 0;
  for (auto _ : state) {
    est.onPacketSent(bwe::SentPacket{seq++, 1200, sendUs});
    sendUs += 1000;
  }
  benchmark::DoNotOptimize(est.estimateBps());
}
BENCHMARK(BM_PacketSent);

void BM_Allocate(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  bwe::Allocator allocator({});
  std::vector<bwe::VideoDemand> video(n, bwe::VideoDemand{2, 1, {150'000, 500'000, 1'500'000}});
  std::vector<int> layers(n);
  int64_t us = 0;
  for (auto _ : state) {
    const auto r = allocator.allocate(4'000'000, 100'000, video, layers, at(us));
    us += 100'000;
    benchmark::DoNotOptimize(r.wantedBps);
  }
}
BENCHMARK(BM_Allocate)->Arg(10)->Arg(49);

}  // namespace

BENCHMARK_MAIN();
