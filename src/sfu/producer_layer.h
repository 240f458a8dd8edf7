// One encoding of a published video track: a simulcast layer (RFC 8853: rid, its SSRC and the
// SSRC of its RTX stream, learned from the first packets that carry the rid header extensions),
// or the only stream of a track sent without simulcast.
//
// Each layer has its own sequence space, so its own retransmission cache, reception statistics
// and keyframe-request throttle, and a bitrate meter (what the layer costs a subscriber, for the
// bandwidth allocator). Everything is allocated when the producer is created; the packet path
// only updates fixed-size state.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "rtcp/receiver_stats.h"
#include "rtp/nack_generator.h"
#include "rtp/packet_cache.h"

namespace conclave::sfu {

// Bytes received over the last second, in kBuckets buckets of kBucket (a sliding window with
// fixed state).
class BitrateMeter {
 public:
  static constexpr size_t kBuckets = 10;
  static constexpr common::Duration kBucket = std::chrono::milliseconds(100);

  void add(size_t bytes, common::TimePoint now);
  // Bits per second over the window that ends now (0 when nothing arrived in it).
  uint32_t bitsPerSecond(common::TimePoint now) const;

 private:
  static int64_t bucketOf(common::TimePoint now);
  void advance(int64_t bucket);

  std::array<uint64_t, kBuckets> mBytes{};
  int64_t mNewestBucket = 0;  // index (time / kBucket) of the newest bucket written
  bool mStarted = false;
};

struct ProducerLayer {
  ProducerLayer(std::string rid, uint32_t ssrc, uint32_t rtxSsrc, uint32_t clockRate, size_t cacheBytes, bool video);

  std::string rid;       // empty without simulcast
  uint32_t ssrc = 0;     // 0: not learned yet
  uint32_t rtxSsrc = 0;  // 0: none, or not learned yet
  // SSRCs taken over from the producer this one replaced (see Producer::inheritLayerSsrc): a
  // packet carrying the rid with another SSRC may still replace them, once.
  bool ssrcInherited = false;
  bool rtxSsrcInherited = false;
  std::unique_ptr<rtp::PacketCache> cache;   // video only
  common::TimePoint lastForwarded{};         // the last packet cached: a consumer was on the layer
  std::unique_ptr<rtp::NackGenerator> nack;  // video only: the layer's losses, NACKed upstream
  rtcp::ReceiverStats stats;
  BitrateMeter bitrate;
  std::optional<common::TimePoint> lastPacket;
  std::optional<common::TimePoint> lastKeyframeRequest;
  bool keyframePending = false;
  uint16_t width = 0;  // of the last keyframe that said so
  uint16_t height = 0;
};

}  // namespace conclave::sfu
