#include "sfu/producer_layer.h"

#include <algorithm>

namespace conclave::sfu {
namespace {
// Sequence numbers a layer's retransmission cache covers at most: about a second of packets at
// high rates (the byte bound given by the producer covers the rest). Its slot table grows to the
// packets of its time window only.
constexpr size_t kVideoCachePackets = 1024;
}  // namespace

int64_t BitrateMeter::bucketOf(common::TimePoint now) { return now.time_since_epoch() / kBucket; }

void BitrateMeter::advance(int64_t bucket) {
  if (!mStarted) {
    mStarted = true;
    mNewestBucket = bucket;
    return;
  }
  if (bucket <= mNewestBucket) return;
  const int64_t steps = std::min<int64_t>(bucket - mNewestBucket, static_cast<int64_t>(kBuckets));
  for (int64_t i = 1; i <= steps; ++i) mBytes[static_cast<size_t>(mNewestBucket + i) % kBuckets] = 0;
  mNewestBucket = bucket;
}

void BitrateMeter::add(size_t bytes, common::TimePoint now) {
  const int64_t bucket = bucketOf(now);
  advance(bucket);
  if (bucket + static_cast<int64_t>(kBuckets) <= mNewestBucket) return;  // older than the window
  mBytes[static_cast<size_t>(std::max<int64_t>(bucket, 0)) % kBuckets] += bytes;
}

uint32_t BitrateMeter::bitsPerSecond(common::TimePoint now) const {
  if (!mStarted) return 0;
  const int64_t bucket = bucketOf(now);
  uint64_t bytes = 0;
  // Buckets inside the window that ends at `now`, i.e. (bucket - kBuckets, bucket].
  for (size_t i = 0; i < kBuckets; ++i) {
    const int64_t b = mNewestBucket - static_cast<int64_t>(i);
    if (b >= 0 && b > bucket - static_cast<int64_t>(kBuckets) && b <= bucket)
      bytes += mBytes[static_cast<size_t>(b) % kBuckets];
  }
  const auto windowMs = common::toMillis(kBucket * kBuckets);
  return static_cast<uint32_t>(std::min<uint64_t>(bytes * 8 * 1000 / static_cast<uint64_t>(windowMs), UINT32_MAX));
}

ProducerLayer::ProducerLayer(std::string rid_, uint32_t ssrc_, uint32_t rtxSsrc_, uint32_t clockRate, size_t cacheBytes,
                             bool video)
    : rid(std::move(rid_)), ssrc(ssrc_), rtxSsrc(rtxSsrc_), stats(ssrc_, clockRate) {
  if (video) {
    cache = std::make_unique<rtp::PacketCache>(kVideoCachePackets, cacheBytes);
    nack = std::make_unique<rtp::NackGenerator>();
  }
}

}  // namespace conclave::sfu
