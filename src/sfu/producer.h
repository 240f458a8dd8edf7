// A published track: its packets come from the publisher's transport, are cached (video) for
// retransmission and are handed to every consumer.
//
// A video track may be sent as up to kMaxLayers simulcast layers (ProducerSpec::rids, lowest
// first). Their SSRCs are not in the SDP (browsers leave them out with rids): the router learns
// each from the first packet that carries the layer's rid (or, for its RTX stream, repaired rid)
// header extension, through learnLayerSsrc(). A track without simulcast has one layer, 0.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "rtcp/receiver_stats.h"
#include "rtcp/sender_report.h"
#include "rtp/nack_generator.h"
#include "rtp/packet.h"
#include "rtp/packet_cache.h"
#include "sfu/media.h"
#include "sfu/producer_layer.h"

namespace conclave::sfu {

class Consumer;

class Producer {
 public:
  static constexpr int kMaxLayers = 3;
  // A layer that sent nothing for this long is not offered to consumers (the publisher stopped
  // it, e.g. because its uplink is short).
  static constexpr common::Duration kLayerTimeout = std::chrono::milliseconds(1500);

  Producer(const ProducerSpec& spec, std::string participantId);

  uint64_t id() const { return mSpec.id; }
  const ProducerSpec& spec() const { return mSpec; }
  const std::string& participantId() const { return mParticipantId; }
  MediaKind kind() const { return mSpec.kind; }
  uint32_t ssrc() const { return mLayers[0]->ssrc; }  // layer 0's (0 while it is not learned)

  // Layers.
  int layerCount() const { return mLayerCount; }
  bool simulcast() const { return !mSpec.rids.empty(); }
  const ProducerLayer& layer(int index) const { return *mLayers[static_cast<size_t>(index)]; }
  // The layer whose media SSRC this is, or -1.
  int layerOf(uint32_t ssrc) const;
  // The layer whose RTX SSRC this is, or -1.
  int rtxLayerOf(uint32_t ssrc) const;
  // Control of simulcast SSRCs: `ssrc` carried rid `rid` (repaired rid when `repair`). Returns the
  // layer it now belongs to, or -1 (unknown rid, the layer already has an SSRC, or the SSRC is
  // taken). A layer's SSRC is learned once; an inherited one may be replaced once, and
  // `*replaced` (when given) is then the SSRC it no longer has.
  int learnLayerSsrc(std::string_view rid, uint32_t ssrc, bool repair, uint32_t* replaced = nullptr);
  // The SSRC a layer of the producer this one replaces (same publisher, same section) had: a
  // browser keeps a sender's SSRCs across renegotiations and, once the SFU's receiver reports
  // acknowledged them, no longer sends their rid, so they could never be learned again.
  int inheritLayerSsrc(std::string_view rid, uint32_t ssrc, bool repair);
  // Sent a packet within kLayerTimeout.
  bool layerActive(int index, common::TimePoint now) const;
  // Measured bitrate of a layer (bits/s over the last second).
  uint32_t layerBitrate(int index, common::TimePoint now) const;

  // Packet path: records a packet of `layer` (stats, bitrate, keyframe size) ...
  void onRtp(const rtp::RtpPacket& packet, common::TimePoint now) { onRtp(packet, 0, now); }
  void onRtp(const rtp::RtpPacket& packet, int layer, common::TimePoint now);
  // ... and once the consumers have had it, caches it for NACKs if `taken`: a consumer is on the
  // layer or waiting for its keyframe (takesLayer, which the Router's fan-out loop asks of each).
  void onForwarded(const rtp::RtpPacket& packet, int layer, common::TimePoint now, bool taken);
  // `consumer` forwards `layer` or waits for its keyframe to switch to it.
  static bool takesLayer(const Consumer& consumer, int layer);
  void onSenderReport(const rtcp::SenderInfo& info, common::TimePoint now);

  const rtp::PacketCache* cache() const { return mLayers[0]->cache.get(); }
  const rtp::PacketCache* cache(int layer) const;
  // Upstream loss tracking of a layer (video only, else null): what to NACK toward the publisher.
  rtp::NackGenerator* nackGenerator(int layer = 0) { return mLayers[static_cast<size_t>(layer)]->nack.get(); }
  const rtp::ExtensionIdMap& extensionMap() const { return mExtensionMap; }
  const std::optional<rtcp::SenderInfo>& lastSenderReport() const { return mLastSr; }
  rtcp::ReceiverStats& receiverStats() { return mLayers[0]->stats; }
  rtcp::ReceiverStats& receiverStats(int layer) { return mLayers[static_cast<size_t>(layer)]->stats; }
  void onSenderReport(int layer, const rtcp::SenderInfo& info, common::TimePoint now);
  const std::optional<rtcp::SenderInfo>& lastSenderReport(int layer) const {
    return mLayerSr[static_cast<size_t>(layer)];
  }

  std::vector<Consumer*>& consumers() { return mConsumers; }

  // Keyframe requests toward the publisher are throttled per layer: request() says whether one
  // may be sent now; a refused request stays pending and takePending() releases it later.
  bool requestKeyframe(common::TimePoint now) { return requestKeyframe(0, now); }
  bool requestKeyframe(int layer, common::TimePoint now);
  bool takePendingKeyframe(common::TimePoint now) { return takePendingKeyframe(0, now); }
  bool takePendingKeyframe(int layer, common::TimePoint now);
  void markKeyframePending() { markKeyframePending(0); }
  void markKeyframePending(int layer) { mLayers[static_cast<size_t>(layer)]->keyframePending = true; }

  uint64_t packetsReceived() const { return mPackets; }

  // A paused producer (its participant was muted by a host, or a policy forbids the source)
  // forwards nothing and answers no NACK; the flag is read once per packet.
  bool paused() const { return mPaused; }
  void setPaused(bool paused) { mPaused = paused; }

 private:
  static constexpr common::Duration kKeyframeInterval = std::chrono::milliseconds(500);

  ProducerSpec mSpec;
  std::string mParticipantId;
  rtp::ExtensionIdMap mExtensionMap;
  std::array<std::unique_ptr<ProducerLayer>, kMaxLayers> mLayers;
  int mLayerCount = 1;
  std::optional<rtcp::SenderInfo> mLastSr;  // of layer 0
  std::array<std::optional<rtcp::SenderInfo>, kMaxLayers> mLayerSr;
  std::vector<Consumer*> mConsumers;
  uint64_t mPackets = 0;
  bool mPaused = false;
};

}  // namespace conclave::sfu
