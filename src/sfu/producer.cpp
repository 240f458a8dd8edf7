#include "sfu/producer.h"

namespace conclave::sfu {

Producer::Producer(const ProducerSpec& spec, std::string participantId)
    : mSpec(spec), mParticipantId(std::move(participantId)), mStats(spec.ssrc, spec.clockRate) {
  for (auto [from, to] : spec.extensionMap) mExtensionMap.set(from, to);
  // Video is retransmitted on NACK: keep about a second of packets at high rates.
  if (spec.kind == MediaKind::Video) mCache = std::make_unique<rtp::PacketCache>(1024);
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
