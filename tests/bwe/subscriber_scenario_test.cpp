// The three parts together, as the media plane will use them for one subscriber: the allocator
// picks the layer from the estimate, the probe controller probes before a switch up, the sender
// sends audio, the chosen layer and the probe clusters through a simulated bottleneck, and the
// estimator follows the feedback. The link's capacity steps down and up again.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "bwe/allocator.h"
#include "bwe/link_sim.h"
#include "bwe/probe_controller.h"
#include "bwe/send_side_estimator.h"

using namespace conclave::bwe;
using namespace conclave::bwe::testing;

namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr uint32_t kAudioBps = 40'000;
constexpr uint32_t kPacketBytes = 1200;

struct Switch {
  int64_t us;
  int layer;
};

struct Outcome {
  std::vector<Switch> switches;
  uint64_t probes = 0;
  uint64_t mediaBitsAboveEstimate = 0;
};

uint32_t cameraBps(int layer) {
  static constexpr uint32_t kLayers[] = {150'000, 500'000, 1'500'000};
  return kLayers[layer];
}

Outcome run(const std::function<uint32_t(int64_t)>& capacity, int64_t untilUs) {
  SendSideEstimator est({});
  ProbeController probes({});
  Allocator allocator({});
  LinkConfig link;
  link.capacityBps = capacity;
  LinkSim sim(link, est);
  Outcome out;
  int layer = -1;
  double budgetBits = 0;
  std::vector<int64_t> probeTimes;
  int probeId = -1;
  uint32_t probeBytes = 0;
  while (sim.nowUs() < untilUs) {
    const int64_t t = sim.nowUs();
    if (t % 100'000 == 0) {
      const VideoDemand demand{2, layer, {cameraBps(0), cameraBps(1), cameraBps(2)}};
      int chosen = layer;
      const auto result = allocator.allocate(est.estimateBps(), kAudioBps, {&demand, 1}, {&chosen, 1}, at(t));
      if (chosen != layer) out.switches.push_back({t, chosen});
      layer = chosen;
      if (result.allocatedBps > est.estimateBps())
        out.mediaBitsAboveEstimate += result.allocatedBps - est.estimateBps();
      if (auto cluster = probes.process(est.estimateBps(), result.wantedBps, at(t))) {
        ++out.probes;
        probeId = cluster->id;
        probeBytes = cluster->bytesPerPacket;
        for (int i = 0; i < cluster->packets; ++i) {
          probeTimes.push_back(t + std::chrono::duration_cast<std::chrono::microseconds>(cluster->duration).count() *
                                       i / cluster->packets);
        }
      }
    }
    const uint32_t media = kAudioBps + (layer >= 0 ? cameraBps(layer) : 0);
    budgetBits = std::min(budgetBits + media / 1000.0, 4.0 * kPacketBytes * 8);
    while (budgetBits >= kPacketBytes * 8) {
      sim.send(kPacketBytes, t);
      budgetBits -= kPacketBytes * 8;
    }
    while (!probeTimes.empty() && probeTimes.front() < t + 1000) {
      sim.send(probeBytes, std::max(t, probeTimes.front()), probeId);
      probeTimes.erase(probeTimes.begin());
    }
    sim.advanceTo(t + 1000);
  }
  std::printf("switches:");
  for (const auto& s : out.switches) std::printf(" %.1fs->%d", static_cast<double>(s.us) / 1e6, s.layer);
  std::printf("; %llu probe clusters\n", static_cast<unsigned long long>(out.probes));
  return out;
}

int layerAt(const Outcome& o, int64_t us) {
  int layer = -1;
  for (const auto& s : o.switches) {
    if (s.us <= us) layer = s.layer;
  }
  return layer;
}

int64_t firstSwitchTo(const Outcome& o, int layer, int64_t fromUs) {
  for (const auto& s : o.switches) {
    if (s.us >= fromUs && s.layer == layer) return s.us;
  }
  return -1;
}

TEST(SubscriberScenario, ACappedDownlinkGetsTheLowLayerAndClimbsBackWhenTheCapIsLifted) {
  // 5 Mbit/s, then 300 kbit/s from 20 s to 40 s, then 5 Mbit/s again.
  const auto o =
      run([](int64_t t) { return t >= 20 * kSecond && t < 40 * kSecond ? 300'000U : 5'000'000U; }, 70 * kSecond);
  const int64_t top = firstSwitchTo(o, 2, 0);
  ASSERT_GE(top, 0);
  std::printf("high layer at %.1f s\n", static_cast<double>(top) / 1e6);
  EXPECT_LE(top, 10 * kSecond) << "probes find 5 Mbit/s from a 1 Mbit/s start";
  EXPECT_EQ(layerAt(o, 20 * kSecond), 2);

  const int64_t down = firstSwitchTo(o, 0, 20 * kSecond);
  ASSERT_GE(down, 0);
  std::printf("low layer %.1f s after the cap\n", static_cast<double>(down - 20 * kSecond) / 1e6);
  EXPECT_LE(down, 23 * kSecond);
  for (int64_t t = 25 * kSecond; t < 40 * kSecond; t += 100'000) {
    ASSERT_EQ(layerAt(o, t), 0) << "at " << t << ": 150 + 40 kbit/s is what fits in 300";
  }

  const int64_t back = firstSwitchTo(o, 2, 40 * kSecond);
  ASSERT_GE(back, 0);
  std::printf("high layer again %.1f s after the cap was lifted\n", static_cast<double>(back - 40 * kSecond) / 1e6);
  EXPECT_LE(back, 55 * kSecond) << "within the probe backoff (10 s) and a few probe steps";
  EXPECT_EQ(layerAt(o, 70 * kSecond), 2);
  EXPECT_LE(o.switches.size(), 10U) << "no flapping";
  EXPECT_EQ(o.mediaBitsAboveEstimate, 0U) << "the allocation never exceeds the estimate";
}

}  // namespace
