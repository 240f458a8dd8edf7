#include "bwe/allocator.h"

#include <algorithm>
#include <cmath>

namespace conclave::bwe {

namespace {

// The next layer above `from` that is arriving and not above what the tile asked for.
int nextLayer(const VideoDemand& d, int from) {
  const int top = std::min(d.maxLayer, kMaxLayers - 1);
  for (int l = from + 1; l <= top; ++l) {
    if (d.layerBps[static_cast<size_t>(l)] > 0) return l;
  }
  return -1;
}

uint32_t bpsOf(const VideoDemand& d, int layer) { return layer < 0 ? 0 : d.layerBps[static_cast<size_t>(layer)]; }

// How many arriving layers a tile has up to and including `layer`.
int stepsTo(const VideoDemand& d, int layer) {
  int steps = 0;
  for (int l = 0; l <= std::min(layer, kMaxLayers - 1); ++l) {
    if (d.layerBps[static_cast<size_t>(l)] > 0) ++steps;
  }
  return steps;
}

// The layer a tile could keep if the budget allowed: the highest arriving one up to both what it
// has and what it asks for. Below that is a switch down for want of bandwidth.
int keepable(const VideoDemand& d) {
  for (int l = std::min({d.currentLayer, d.maxLayer, kMaxLayers - 1}); l >= 0; --l) {
    if (d.layerBps[static_cast<size_t>(l)] > 0) return l;
  }
  return -1;
}

bool anyLayerArriving(const VideoDemand& d) {
  return std::any_of(d.layerBps.begin(), d.layerBps.end(), [](uint32_t b) { return b > 0; });
}

}  // namespace

Allocator::Allocator(Config config) : mConfig(config) {
  mConfig.videoShare = std::clamp(mConfig.videoShare, 0.0, 1.0);
  mConfig.upHeadroom = std::max(mConfig.upHeadroom, 1.0);
  mConfig.lowestKeepShare = std::clamp(mConfig.lowestKeepShare, 0.0, 1.0);
}

Allocator::Result Allocator::allocate(uint32_t estimateBps, uint32_t audioBps, std::span<const VideoDemand> video,
                                      std::span<int> layers, common::TimePoint now) {
  Result result;
  const size_t n = std::min(video.size(), layers.size());
  const double videoBudget = std::max(0.0, (static_cast<double>(estimateBps) - audioBps) * mConfig.videoShare);
  double left = videoBudget;
  const bool holdUp = mLastDown && now - *mLastDown < mConfig.upHold;
  std::optional<double> cheapestWish;  // the smallest extra the next switch up would need

  for (size_t i = 0; i < n; ++i) {
    const VideoDemand& d = video[i];
    layers[i] = -1;
    if (d.maxLayer >= 0 && !anyLayerArriving(d)) {
      // Nothing measured (the publisher just started): it costs nothing yet, keep what it has.
      layers[i] = std::clamp(d.currentLayer, 0, std::min(d.maxLayer, kMaxLayers - 1));
    }
  }
  // Round r hands out each tile's (r + 1)-th layer, only to tiles that got all r before it: a
  // tile that cannot have a layer does not skip to a higher one, and every tile gets a layer
  // before any gets the next. Within a round, tiles that have that layer already keep it before
  // others may switch up to it.
  for (int round = 0; round < kMaxLayers; ++round) {
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < n; ++i) {
        const VideoDemand& d = video[i];
        if (!anyLayerArriving(d) || stepsTo(d, layers[i]) != round) continue;
        const int next = nextLayer(d, layers[i]);
        if (next < 0) continue;
        const bool keeps = next <= d.currentLayer;
        if ((pass == 0) != keeps || (!keeps && holdUp)) continue;
        const double cost = static_cast<double>(bpsOf(d, next)) - bpsOf(d, layers[i]);
        double needed = keeps ? cost : bpsOf(d, next) * mConfig.upHeadroom - bpsOf(d, layers[i]);
        if (round == 0) needed = keeps ? cost * mConfig.lowestKeepShare : cost;
        if (needed <= left) {
          layers[i] = next;
          left -= cost;
        } else if (!keeps) {
          cheapestWish = std::min(cheapestWish.value_or(needed), needed);
        }
      }
    }
  }

  double allocated = audioBps;
  for (size_t i = 0; i < n; ++i) {
    allocated += bpsOf(video[i], layers[i]);
    // A tile that shrank or a layer the publisher stopped sending is no reason to hold the others.
    if (layers[i] < keepable(video[i])) result.switchedDown = true;
  }
  if (result.switchedDown) mLastDown = now;
  result.allocatedBps = static_cast<uint32_t>(std::min(allocated, 4e9));
  if (cheapestWish && !holdUp && mConfig.videoShare > 0) {
    const double used = videoBudget - left;
    const double wanted = (used + *cheapestWish) / mConfig.videoShare + audioBps;
    result.wantedBps = static_cast<uint32_t>(std::min(std::ceil(wanted), 4e9));
  }
  return result;
}

}  // namespace conclave::bwe
