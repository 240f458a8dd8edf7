// A published track: its packets come from the publisher's transport, are cached (video) for
// retransmission and are handed to every consumer.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "rtcp/receiver_stats.h"
#include "rtcp/sender_report.h"
#include "rtp/packet.h"
#include "rtp/packet_cache.h"
#include "sfu/media.h"

namespace conclave::sfu {

class Consumer;

class Producer {
 public:
  Producer(const ProducerSpec& spec, std::string participantId);

  uint64_t id() const { return mSpec.id; }
  const ProducerSpec& spec() const { return mSpec; }
  const std::string& participantId() const { return mParticipantId; }
  MediaKind kind() const { return mSpec.kind; }
  uint32_t ssrc() const { return mSpec.ssrc; }

  // Packet path: records the packet (stats, cache).
  void onRtp(const rtp::RtpPacket& packet, common::TimePoint now);
  void onSenderReport(const rtcp::SenderInfo& info, common::TimePoint now);

  const rtp::PacketCache* cache() const { return mCache.get(); }
  const rtp::ExtensionIdMap& extensionMap() const { return mExtensionMap; }
  const std::optional<rtcp::SenderInfo>& lastSenderReport() const { return mLastSr; }
  rtcp::ReceiverStats& receiverStats() { return mStats; }

  std::vector<Consumer*>& consumers() { return mConsumers; }

  // Keyframe requests toward the publisher are throttled: request() says whether one may be sent
  // now; a refused request stays pending and takePending() releases it later.
  bool requestKeyframe(common::TimePoint now);
  bool takePendingKeyframe(common::TimePoint now);
  void markKeyframePending() { mKeyframePending = true; }

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
  std::unique_ptr<rtp::PacketCache> mCache;
  rtcp::ReceiverStats mStats;
  std::optional<rtcp::SenderInfo> mLastSr;
  std::vector<Consumer*> mConsumers;
  std::optional<common::TimePoint> mLastKeyframeRequest;
  bool mKeyframePending = false;
  uint64_t mPackets = 0;
  bool mPaused = false;
};

}  // namespace conclave::sfu
