#include "bwe/allocator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

using namespace conclave::bwe;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {

const TimePoint kStart = TimePoint(100s);

// A 720p camera's three layers.
VideoDemand camera(int current = -1, int maxLayer = 2) {
  return VideoDemand{maxLayer, current, {150'000, 500'000, 1'500'000}};
}

std::vector<int> allocate(Allocator& a, uint32_t estimate, uint32_t audio, const std::vector<VideoDemand>& video,
                          TimePoint now = kStart, Allocator::Result* result = nullptr) {
  std::vector<int> layers(video.size(), 99);
  const auto r = a.allocate(estimate, audio, video, layers, now);
  if (result) *result = r;
  return layers;
}

TEST(Allocator, AudioComesFirstAndVideoThatDoesNotFitIsPaused) {
  Allocator a({});
  Allocator::Result r;
  EXPECT_EQ(allocate(a, 260'000, 80'000, {camera(0)}, kStart, &r), (std::vector<int>{0}));  // 162 k of video
  EXPECT_EQ(r.allocatedBps, 230'000U);
  EXPECT_EQ(allocate(a, 150'000, 80'000, {camera(0)}, kStart, &r), (std::vector<int>{-1}));
  EXPECT_EQ(r.allocatedBps, 80'000U) << "audio is never dropped for video";
  EXPECT_TRUE(r.switchedDown);
}

// Behind a 300 kbit/s link the estimate hovers around what audio and the lowest layer need;
// pausing there froze the tile for good (without video the acknowledged rate, and so the
// estimate, fell further).
TEST(Allocator, ATileKeepsItsLowestLayerOnMostOfItsCostAndResumesOnlyWhenAllOfItFits) {
  Allocator a({});
  // (200 k - 50 k audio) x 0.9 = 135 k of video: 90 % of the lowest layer.
  EXPECT_EQ(allocate(a, 200'000, 50'000, {camera(0)}), (std::vector<int>{0}));
  EXPECT_EQ(allocate(a, 200'000, 50'000, {camera(-1)}), (std::vector<int>{-1}));
  // 153 k: all of it.
  EXPECT_EQ(allocate(a, 220'000, 50'000, {camera(-1)}), (std::vector<int>{0}));
  // (152 k - 50 k) x 0.9 = 92 k: just over 60 %, still kept; below that, paused.
  EXPECT_EQ(allocate(a, 152'000, 50'000, {camera(0)}), (std::vector<int>{0}));
  EXPECT_EQ(allocate(a, 145'000, 50'000, {camera(0)}), (std::vector<int>{-1}));
}

TEST(Allocator, EveryTileGetsTheLowLayerBeforeAnyGetsAHigherOne) {
  Allocator a({});
  // 630 kbit/s of video: one tile could have its 500 kbit/s layer, but both get 150 kbit/s.
  EXPECT_EQ(allocate(a, 700'000, 0, {camera(), camera()}), (std::vector<int>{0, 0}));
  Allocator b({});
  EXPECT_EQ(allocate(b, 3'000'000, 0, {camera(), camera(), camera()}), (std::vector<int>{1, 1, 1}));
  Allocator c({});
  EXPECT_EQ(allocate(c, 10'000'000, 0, {camera(), camera(), camera()}), (std::vector<int>{2, 2, 2}));
}

TEST(Allocator, ATileGetsNoMoreThanItAskedForAndAHiddenOneNothing) {
  Allocator a({});
  Allocator::Result r;
  EXPECT_EQ(allocate(a, 10'000'000, 0, {camera(-1, 0), camera(-1, -1), camera(-1, 1)}, kStart, &r),
            (std::vector<int>{0, -1, 1}));
  EXPECT_EQ(r.allocatedBps, 650'000U);
  EXPECT_EQ(r.wantedBps, 0U) << "nothing more to probe for";
}

TEST(Allocator, LayersThatDoNotArriveAreSkipped) {
  Allocator a({});
  const VideoDemand noMiddle{2, -1, {150'000, 0, 1'500'000}};
  const VideoDemand screen{2, -1, {800'000, 0, 0}};
  const VideoDemand nothingYet{2, 1, {0, 0, 0}};
  EXPECT_EQ(allocate(a, 10'000'000, 0, {noMiddle, screen, nothingYet}), (std::vector<int>{2, 0, 1}));
}

TEST(Allocator, KeepsALayerWithoutHeadroomButGoesUpOnlyWithIt) {
  Allocator a({});
  // 0.9 x 600 kbit/s = 540: enough to keep the 500 kbit/s layer, not enough to switch up to it.
  EXPECT_EQ(allocate(a, 600'000, 0, {camera(1)}), (std::vector<int>{1}));
  EXPECT_EQ(allocate(a, 600'000, 0, {camera(0)}), (std::vector<int>{0}));
  Allocator b({});
  EXPECT_EQ(allocate(b, 700'000, 0, {camera(0)}), (std::vector<int>{1}));  // 630 >= 625
}

TEST(Allocator, AnEstimateWobblingAroundALayerDoesNotMakeItFlap) {
  Allocator a({});
  int current = 1;
  int switches = 0;
  TimePoint now = kStart;
  for (int i = 0; i < 300; ++i) {  // 30 s, every 100 ms, between 570 and 690 kbit/s
    const uint32_t estimate = 630'000 + ((i % 7) - 3) * 20'000;
    const int layer = allocate(a, estimate, 0, {camera(current)}, now)[0];
    if (layer != current) ++switches;
    current = layer;
    now += 100ms;
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(switches, 0);
}

TEST(Allocator, NothingGoesUpFor4SecondsAfterSomethingWentDown) {
  Allocator a({});
  Allocator::Result r;
  EXPECT_EQ(allocate(a, 400'000, 0, {camera(1)}, kStart, &r), (std::vector<int>{0}));
  EXPECT_TRUE(r.switchedDown);
  EXPECT_EQ(allocate(a, 5'000'000, 0, {camera(0)}, kStart + 3900ms, &r), (std::vector<int>{0}));
  EXPECT_EQ(r.wantedBps, 0U) << "no probing while held";
  EXPECT_EQ(allocate(a, 5'000'000, 0, {camera(0)}, kStart + 4s, &r), (std::vector<int>{2}));
}

TEST(Allocator, ATileThatShrinksDoesNotHoldTheOthers) {
  Allocator a({});
  Allocator::Result r;
  // The first tile shrank to the low layer; the second, new, may have the high layer at once.
  EXPECT_EQ(allocate(a, 5'000'000, 0, {camera(2, 0), camera(0)}, kStart, &r), (std::vector<int>{0, 2}));
  EXPECT_FALSE(r.switchedDown);
  // And a publisher that stops sending its high layer is no reason either.
  const VideoDemand lost{2, 2, {150'000, 500'000, 0}};
  EXPECT_EQ(allocate(a, 5'000'000, 0, {lost, camera(0, 1)}, kStart, &r), (std::vector<int>{1, 1}));
  EXPECT_FALSE(r.switchedDown);
}

TEST(Allocator, SaysWhatEstimateTheNextSwitchUpWouldNeed) {
  Allocator a({});
  Allocator::Result r;
  EXPECT_EQ(allocate(a, 300'000, 40'000, {camera(0)}, kStart, &r), (std::vector<int>{0}));
  // 150 kbit/s used, 500 x 1.25 - 150 more: 625 kbit/s of video, / 0.9, + 40 of audio.
  EXPECT_EQ(r.wantedBps, 734'445U);
  // With that estimate it does switch.
  EXPECT_EQ(allocate(a, r.wantedBps, 40'000, {camera(0)}, kStart + 1s, &r), (std::vector<int>{1}));
}

TEST(Allocator, ManyTilesAreFine) {
  Allocator a({});
  std::vector<VideoDemand> video(200, camera(0));
  const auto layers = allocate(a, 10'000'000, 50'000, video);
  int at0 = 0;
  int paused = 0;
  for (int l : layers) {
    at0 += l == 0 ? 1 : 0;
    paused += l == -1 ? 1 : 0;
  }
  EXPECT_EQ(at0, 60) << "(10 M - 50 k) x 0.9 / 150 k, the last one on 60 % of its cost";
  EXPECT_EQ(paused, 140);
}

}  // namespace
