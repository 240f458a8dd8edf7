#include "sfu/producer.h"

namespace conclave::sfu {
namespace {
// Sequence numbers a video producer's retransmission cache covers: about a second of packets at
// high rates (PacketCache::kDefaultMaxBytes bounds the bytes).
constexpr size_t kVideoCachePackets = 1024;
}  // namespace

Producer::Producer(const ProducerSpec& spec, std::string participantId)
    : mSpec(spec), mParticipantId(std::move(participantId)), mStats(spec.ssrc, spec.clockRate), mPaused(spec.paused) {
  for (auto [from, to] : spec.extensionMap) mExtensionMap.set(from, to);
  // Video is retransmitted on NACK; audio is not.
  if (spec.kind == MediaKind::Video) mCache = std::make_unique<rtp::PacketCache>(kVideoCachePackets);
}

void Producer::onRtp(const rtp::RtpPacket& packet, common::TimePoint now) {
  ++mPackets;
  mStats.onPacket(packet.sequenceNumber(), packet.timestamp(), now);
  if (mCache) mCache->insert(packet, now);
}

void Producer::onSenderReport(const rtcp::SenderInfo& info, common::TimePoint now) {
  mLastSr = info;
  mStats.onSenderReport(info.ntpTimestamp, now);
}

bool Producer::requestKeyframe(common::TimePoint now) {
  if (mSpec.kind != MediaKind::Video) return false;
  if (mLastKeyframeRequest && now - *mLastKeyframeRequest < kKeyframeInterval) {
    mKeyframePending = true;
    return false;
  }
  mLastKeyframeRequest = now;
  mKeyframePending = false;
  return true;
}

bool Producer::takePendingKeyframe(common::TimePoint now) {
  if (!mKeyframePending) return false;
  return requestKeyframe(now);
}

}  // namespace conclave::sfu
