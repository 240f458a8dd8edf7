// Which simulcast layer each of one subscriber's video consumers gets, from the bandwidth
// estimate:
//   - audio comes first, always (its bitrate is taken off the budget; audio is never dropped);
//   - the video budget is a share of the estimate (the rest is room for retransmissions and
//     probes), handed out in rounds: every visible tile gets the lowest layer before any tile
//     gets a higher one, then the next layer for each, and so on, never above the layer the tile
//     asked for (its rendered size); a tile that does not get even the lowest layer is paused;
//   - hysteresis: a consumer keeps its layer while the budget covers the layer's measured
//     bitrate, but goes up only with 25 % headroom, and no consumer goes up for 4 s after any went
//     down for want of bandwidth, so layers do not flap around the estimate.
// The result also says how much the next switch up would need, for the ProbeController.
// No I/O, no allocation.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "common/clock.h"

namespace conclave::bwe {

inline constexpr int kMaxLayers = 3;

// One video consumer of the subscriber.
struct VideoDemand {
  int maxLayer = kMaxLayers - 1;  // what the tile asked for; -1: hidden (paused)
  int currentLayer = -1;          // what it gets now (or is switching to); -1: paused
  // Measured bitrate of each of the producer's layers; 0: the layer is not arriving.
  std::array<uint32_t, kMaxLayers> layerBps{};
};

class Allocator {
 public:
  struct Config {
    double videoShare = 0.9;   // of the estimate less audio; the rest is for repair and probes
    double upHeadroom = 1.25;  // a layer up needs its bitrate x this
    common::Duration upHold = std::chrono::seconds(4);
    // A tile keeps its lowest layer while the budget carries this share of it: a frozen tile is
    // worse than the smallest layer a little over an estimate that is conservative by design
    // (the send budget still bounds what goes out). A paused tile resumes at the full cost.
    double lowestKeepShare = 0.6;
  };
  struct Result {
    uint32_t allocatedBps = 0;  // audio + the video layers given
    uint32_t wantedBps = 0;     // the estimate the next switch up would need; 0: none possible
    bool switchedDown = false;  // a consumer got less than it had and still asks for
  };

  explicit Allocator(Config config);

  // Writes the layer for video[i] to layers[i] (-1: paused); `layers` must be as long as `video`.
  Result allocate(uint32_t estimateBps, uint32_t audioBps, std::span<const VideoDemand> video, std::span<int> layers,
                  common::TimePoint now);

 private:
  Config mConfig;
  std::optional<common::TimePoint> mLastDown;
};

}  // namespace conclave::bwe
