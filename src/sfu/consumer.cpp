#include "sfu/consumer.h"

#include <algorithm>
#include <cstring>

#include "common/random.h"
#include "rtp/vp8.h"
#include "sfu/producer.h"

namespace conclave::sfu {

Consumer::Consumer(const ConsumerSpec& spec, Producer& producer, std::string subscriberId)
    : mSpec(spec),
      mProducer(producer),
      mSubscriberId(std::move(subscriberId)),
      mRewriter(spec.ssrc, producer.spec().clockRate, static_cast<uint16_t>(common::randomU32()), common::randomU32()),
      mRtxSeq(static_cast<uint16_t>(common::randomU32())),
      mCurrentLayer(producer.kind() == MediaKind::Video ? -1 : 0),
      mMaxLayer(producer.layerCount() - 1) {
  // Only video is cached, so only video is ever resent.
  if (isVideo()) mResends.resize(kResendWindow);
}

bool Consumer::isVideo() const { return mProducer.kind() == MediaKind::Video; }

namespace {

// Pads the RTP packet of `size` bytes in `out` (RFC 3550 padding: P set, zeros, the count in the
// last byte) to the next multiple of Consumer::kVideoSizeQuantum, if it has no padding yet and
// the room is there. Returns the new size.
size_t padToQuantum(std::span<uint8_t> out, size_t size) {
  constexpr size_t q = Consumer::kVideoSizeQuantum;
  const size_t padded = (size + q - 1) / q * q;
  if (padded == size || padded > out.size() || size == 0 || (out[0] & 0x20) != 0) return size;
  std::memset(out.data() + size, 0, padded - size);
  out[padded - 1] = static_cast<uint8_t>(padded - size);
  out[0] = static_cast<uint8_t>(out[0] | 0x20);
  return padded;
}

}  // namespace

size_t Consumer::writePacket(const rtp::RtpPacket& source, std::span<uint8_t> out, common::TimePoint now,
                             bool retransmission) {
  if (source.size() > out.size() || paused()) return 0;
  if (mCurrentLayer < 0) {
    // Not started (or must restart): only at a keyframe, taken as one of the target layer.
    auto vp8 = rtp::Vp8Descriptor::parse(source.payload());
    if (!vp8 || !vp8->keyframe) return 0;
    mCurrentLayer = mTargetLayer;
  }
  std::memcpy(out.data(), source.data().data(), source.size());
  auto packet = rtp::RtpPacket::parse(out.first(source.size()));
  if (!packet) return 0;
  auto mapped = mRewriter.map(source.ssrc(), source.sequenceNumber(), source.timestamp(), now);
  if (!mapped) return 0;
  if (isVideo()) mPictureRewriter.rewrite(packet->payload());
  packet->setSsrc(mSpec.ssrc);
  packet->setSequenceNumber(mapped->sequenceNumber);
  packet->setTimestamp(mapped->timestamp);
  mLastTimestamp = mapped->timestamp;
  packet->setPayloadType(mSpec.payloadType);  // extensions were remapped once, on arrival
  ++mPacketsSent;
  mOctetsSent += static_cast<uint32_t>(packet->payloadSize());
  if (!retransmission)
    mRetransmitTokens =
        std::min<int64_t>(mRetransmitTokens + static_cast<int64_t>(packet->size() * kRetransmitSharePercent / 100),
                          kRetransmitBurstBytes);
  return isVideo() && !retransmission ? padToQuantum(out, packet->size()) : packet->size();
}

size_t Consumer::writeLayerPacket(const rtp::RtpPacket& source, int layer, std::span<uint8_t> out,
                                  common::TimePoint now) {
  if (paused() || source.size() > out.size()) return 0;
  if (!isVideo()) return writePacket(source, out, now);
  updateTargetLayer(now);
  if (layer != mCurrentLayer) {
    if (layer != mTargetLayer) return 0;
    auto vp8 = rtp::Vp8Descriptor::parse(source.payload());
    if (!vp8 || !vp8->keyframe) return 0;
    // A keyframe of the target layer: the output stream continues with it.
    if (mCurrentLayer >= 0) ++mLayerSwitches;
    mRewriter.switchSource(source.ssrc());
    mPictureRewriter.switchSource();
    mCurrentLayer = layer;
  }
  return writePacket(source, out, now);
}

void Consumer::setMaxLayer(int layer) { mMaxLayer = std::clamp(layer, 0, mProducer.layerCount() - 1); }

void Consumer::setPaused(bool paused) {
  if (paused == mPaused) return;
  mPaused = paused;
  if (!this->paused()) requireKeyframe();
}

void Consumer::setAllocatedLayer(int layer) {
  const bool wasPaused = paused();
  mAllocatedLayer = std::max(layer, -1);
  if (wasPaused && !paused()) requireKeyframe();
}

void Consumer::updateTargetLayer(common::TimePoint now) {
  const int count = mProducer.layerCount();
  const int cap = std::clamp(std::min(mMaxLayer, mAllocatedLayer), 0, count - 1);
  for (int l = cap; l >= 0; --l)
    if (mProducer.layerActive(l, now)) {
      mTargetLayer = l;
      return;
    }
  for (int l = cap + 1; l < count; ++l)
    if (mProducer.layerActive(l, now)) {
      mTargetLayer = l;
      return;
    }
  mTargetLayer = cap;  // nothing arrives yet: the first keyframe of the wanted layer starts it
}

bool Consumer::allowRetransmit(uint16_t seq, size_t bytes, common::TimePoint now) {
  if (mResends.empty()) return false;
  Resend& r = mResends[seq % kResendWindow];
  const auto nowMs = static_cast<uint32_t>(common::toMillis(now.time_since_epoch()));
  const bool recent = r.count != 0 && nowMs - r.lastMs < static_cast<uint32_t>(common::toMillis(kMinResendInterval));
  // The slot belongs to another sequence number: take it over unless that one was just resent.
  if (r.count != 0 && r.seq != seq && !recent) r = Resend{};
  const bool refused = (r.count != 0 && (r.seq != seq || recent || r.count >= kMaxResends)) ||
                       mRetransmitTokens < static_cast<int64_t>(bytes);
  if (refused) {
    ++mRetransmitsRefused;
    return false;
  }
  mRetransmitTokens -= static_cast<int64_t>(bytes);
  r.seq = seq;
  ++r.count;
  r.lastMs = nowMs;
  return true;
}

}  // namespace conclave::sfu
