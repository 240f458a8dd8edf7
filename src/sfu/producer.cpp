#include "sfu/producer.h"

#include "rtp/vp8.h"
#include "sfu/consumer.h"

namespace conclave::sfu {
namespace {
// Bytes each layer's retransmission cache may hold at most: about 1.5 s of the layer at its usual
// rate (a stream without simulcast gets the full amount). What it holds is the last 1.5 s
// (PacketCache::kDefaultWindow), so a layer below these rates makes less of it resident.
constexpr std::array<size_t, Producer::kMaxLayers> kSimulcastCacheBytes = {128 * 1024, 256 * 1024,
                                                                           rtp::PacketCache::kDefaultMaxBytes};
}  // namespace

Producer::Producer(const ProducerSpec& spec, std::string participantId)
    : mSpec(spec), mParticipantId(std::move(participantId)), mPaused(spec.paused) {
  for (auto [from, to] : spec.extensionMap) mExtensionMap.set(from, to);
  // Video is retransmitted on NACK; audio is not.
  const bool video = spec.kind == MediaKind::Video;
  if (video && !spec.rids.empty()) {
    mLayerCount = static_cast<int>(std::min<size_t>(spec.rids.size(), kMaxLayers));
    for (int i = 0; i < mLayerCount; ++i) {
      const auto index = static_cast<size_t>(i);
      // The top layer gets the full cache even when fewer than three layers are sent.
      const size_t bytes = i == mLayerCount - 1 ? rtp::PacketCache::kDefaultMaxBytes : kSimulcastCacheBytes[index];
      mLayers[index] = std::make_unique<ProducerLayer>(spec.rids[index], 0, 0, spec.clockRate, bytes, true);
    }
  } else {
    mLayers[0] = std::make_unique<ProducerLayer>(std::string(), spec.ssrc, spec.rtxSsrc.value_or(0), spec.clockRate,
                                                 rtp::PacketCache::kDefaultMaxBytes, video);
  }
}

int Producer::layerOf(uint32_t ssrc) const {
  if (ssrc == 0) return -1;
  for (int i = 0; i < mLayerCount; ++i)
    if (mLayers[static_cast<size_t>(i)]->ssrc == ssrc) return i;
  return -1;
}

int Producer::rtxLayerOf(uint32_t ssrc) const {
  if (ssrc == 0) return -1;
  for (int i = 0; i < mLayerCount; ++i)
    if (mLayers[static_cast<size_t>(i)]->rtxSsrc == ssrc) return i;
  return -1;
}

int Producer::learnLayerSsrc(std::string_view rid, uint32_t ssrc, bool repair, uint32_t* replaced) {
  if (!simulcast() || ssrc == 0 || layerOf(ssrc) >= 0 || rtxLayerOf(ssrc) >= 0) return -1;
  for (int i = 0; i < mLayerCount; ++i) {
    ProducerLayer& l = *mLayers[static_cast<size_t>(i)];
    if (l.rid != rid) continue;
    uint32_t& slot = repair ? l.rtxSsrc : l.ssrc;
    bool& inherited = repair ? l.rtxSsrcInherited : l.ssrcInherited;
    if (slot != 0 && !inherited) return -1;
    if (slot != 0 && replaced) *replaced = slot;
    inherited = false;
    slot = ssrc;
    if (!repair) l.stats = rtcp::ReceiverStats(ssrc, mSpec.clockRate);
    return i;
  }
  return -1;
}

int Producer::inheritLayerSsrc(std::string_view rid, uint32_t ssrc, bool repair) {
  const int layer = learnLayerSsrc(rid, ssrc, repair);
  if (layer < 0) return -1;
  ProducerLayer& l = *mLayers[static_cast<size_t>(layer)];
  (repair ? l.rtxSsrcInherited : l.ssrcInherited) = true;
  return layer;
}

bool Producer::layerActive(int index, common::TimePoint now) const {
  if (index < 0 || index >= mLayerCount) return false;
  const ProducerLayer& l = *mLayers[static_cast<size_t>(index)];
  return l.ssrc != 0 && l.lastPacket && now - *l.lastPacket < kLayerTimeout;
}

uint32_t Producer::layerBitrate(int index, common::TimePoint now) const {
  if (index < 0 || index >= mLayerCount) return 0;
  return mLayers[static_cast<size_t>(index)]->bitrate.bitsPerSecond(now);
}

const rtp::PacketCache* Producer::cache(int layer) const {
  if (layer < 0 || layer >= mLayerCount) return nullptr;
  return mLayers[static_cast<size_t>(layer)]->cache.get();
}

void Producer::onRtp(const rtp::RtpPacket& packet, int layer, common::TimePoint now) {
  ++mPackets;
  ProducerLayer& l = *mLayers[static_cast<size_t>(layer)];
  l.stats.onPacket(packet.sequenceNumber(), packet.timestamp(), now);
  l.bitrate.add(packet.size(), now);
  l.lastPacket = now;
  if (l.cache) {
    if (auto vp8 = rtp::Vp8Descriptor::parse(packet.payload()); vp8 && vp8->keyframe && vp8->width != 0) {
      l.width = vp8->width;
      l.height = vp8->height;
    }
  }
}

void Producer::onForwarded(const rtp::RtpPacket& packet, int layer, common::TimePoint now, bool taken) {
  ProducerLayer& l = *mLayers[static_cast<size_t>(layer)];
  if (!l.cache) return;
  // A NACK can only name a packet its consumer was sent, of the layer it forwards (the rewriter
  // maps that layer's segment only): a layer no consumer is on (after this packet, so a switch at
  // it counts) or waiting to switch to is not cached, and once it has been so for a window, its
  // pages go back (issue 13: the top layer of a camera nobody watches in full was ~470 KiB per
  // publisher).
  if (taken) {
    l.cache->insert(packet, now);
    l.lastForwarded = now;
  } else if (l.cache->chunkBytes() > 0 && now - l.lastForwarded > l.cache->window()) {
    l.cache->release();
  }
}

bool Producer::takesLayer(const Consumer& consumer, int layer) {
  return consumer.currentLayer() == layer || consumer.targetLayer() == layer;
}

void Producer::onSenderReport(const rtcp::SenderInfo& info, common::TimePoint now) { onSenderReport(0, info, now); }

void Producer::onSenderReport(int layer, const rtcp::SenderInfo& info, common::TimePoint now) {
  if (layer == 0) mLastSr = info;
  mLayerSr[static_cast<size_t>(layer)] = info;
  mLayers[static_cast<size_t>(layer)]->stats.onSenderReport(info.ntpTimestamp, now);
}

bool Producer::requestKeyframe(int layer, common::TimePoint now) {
  if (mSpec.kind != MediaKind::Video || layer < 0 || layer >= mLayerCount) return false;
  ProducerLayer& l = *mLayers[static_cast<size_t>(layer)];
  if (l.lastKeyframeRequest && now - *l.lastKeyframeRequest < kKeyframeInterval) {
    l.keyframePending = true;
    return false;
  }
  l.lastKeyframeRequest = now;
  l.keyframePending = false;
  return true;
}

bool Producer::takePendingKeyframe(int layer, common::TimePoint now) {
  if (layer < 0 || layer >= mLayerCount || !mLayers[static_cast<size_t>(layer)]->keyframePending) return false;
  return requestKeyframe(layer, now);
}

}  // namespace conclave::sfu
