// One subscriber's copy of a producer's stream: its own SSRC, a continuous sequence number and
// timestamp space, and the subscriber's payload type and header extension ids.
//
// Retransmission budget (NACK): a subscriber's NACKs cannot make the server send much more than
// the stream itself. Each packet is resent to this consumer at most kMaxResends times, at least
// kMinResendInterval apart (so a NACK that lists a packet twice, or fifty NACKs for the same
// packets, resend it once), and resent bytes come out of a token bucket that fills with
// kRetransmitSharePercent of the bytes forwarded and holds at most kRetransmitBurstBytes (it starts
// full). The per-packet state is a table allocated with the consumer; nothing allocates per NACK.
//
// Layers (simulcast): a video consumer forwards one layer of its producer at a time. The target
// layer is the highest active layer up to the consumer's max layer (setMaxLayer(): from the
// subscriber's tile size, later from the bandwidth allocator), or the lowest active one when none
// at or below it is active. The consumer keeps forwarding its current layer until a keyframe of
// the target layer arrives (wantsKeyframe() tells the router to ask the publisher for one), then
// switches there: SSRC, sequence numbers, timestamps, VP8 picture ID and TL0PICIDX continue the
// output stream, so the subscriber's decoder sees one stream. A paused consumer forwards nothing.
// The bandwidth allocator (SubscriberBandwidth) caps the target further with setAllocatedLayer():
// the target is the lower of the preference and the allocation, and an allocation of -1 pauses the
// consumer until the subscriber's downlink carries its lowest layer again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "rtp/packet.h"
#include "rtp/stream_rewriter.h"
#include "rtp/vp8_rewriter.h"
#include "sfu/media.h"

namespace conclave::transport {
class MediaTransport;
}

namespace conclave::sfu {

class Producer;
class SubscriberBandwidth;
class TransportCcSender;

class Consumer {
 public:
  Consumer(const ConsumerSpec& spec, Producer& producer, std::string subscriberId);

  uint64_t id() const { return mSpec.id; }
  uint32_t ssrc() const { return mSpec.ssrc; }
  const ConsumerSpec& spec() const { return mSpec; }
  Producer& producer() const { return mProducer; }
  const std::string& subscriberId() const { return mSubscriberId; }

  // Packet path: writes the subscriber's version of `source` into `out` and returns its length,
  // or 0 when the packet is not forwarded (waiting for a keyframe, too old, too large).
  // A `retransmission` does not add to the retransmission budget.
  size_t writePacket(const rtp::RtpPacket& source, std::span<uint8_t> out, common::TimePoint now,
                     bool retransmission = false);
  // For a NACKed packet: the source sequence number behind the subscriber's `seq`.
  std::optional<uint16_t> sourceSequenceNumber(uint16_t seq) const { return mRewriter.sourceSequenceNumber(seq); }
  std::optional<uint32_t> outputTimestamp(uint32_t sourceTimestamp) const {
    return mRewriter.outputTimestamp(sourceTimestamp);
  }

  // Where the subscriber's transport lives (its owner may replace the transport).
  void setTransportSlot(std::unique_ptr<transport::MediaTransport>* slot) { mTransportSlot = slot; }
  transport::MediaTransport* transport() const { return mTransportSlot ? mTransportSlot->get() : nullptr; }
  // The subscriber transport's transport-wide sequence numbering (null: not negotiated).
  void setTransportCc(TransportCcSender* sender) { mTransportCc = sender; }
  TransportCcSender* transportCc() const { return mTransportCc; }
  // The subscriber's estimate and send budget (null: transport-cc not negotiated).
  void setBandwidth(SubscriberBandwidth* bandwidth) { mBandwidth = bandwidth; }
  SubscriberBandwidth* bandwidth() const { return mBandwidth; }
  // The consumer's output timestamp of the newest packet (for padding on its RTX stream).
  uint32_t lastOutputTimestamp() const { return mLastTimestamp; }
  // RTX: the next sequence number of this consumer's RTX stream (its own space, RFC 4588 §4).
  uint16_t nextRtxSequenceNumber() { return mRtxSeq++; }

  // Packet path, for a NACKed packet of `bytes` bytes (the subscriber's sequence number `seq`):
  // true if it may be resent now (and charges the budget), false if it is refused.
  bool allowRetransmit(uint16_t seq, size_t bytes, common::TimePoint now);
  uint64_t retransmitsRefused() const { return mRetransmitsRefused; }

  static constexpr uint8_t kMaxResends = 3;
  static constexpr common::Duration kMinResendInterval = std::chrono::milliseconds(30);
  static constexpr uint64_t kRetransmitSharePercent = 50;
  static constexpr int64_t kRetransmitBurstBytes = 32 * 1024;
  // Sequence numbers tracked for resends (8 bytes each, 2 KiB per video consumer). A NACK for a
  // sequence number whose slot another one used less than kMinResendInterval ago is refused.
  static constexpr size_t kResendWindow = 256;
  // Forwarded video packets are padded (RFC 3550 padding, encrypted with the packet) to a multiple
  // of this many bytes. libwebrtc splits a frame into packets whose sizes differ by one byte, and
  // UDP GSO sends a burst to one subscriber as one message only while its datagrams are of one
  // size (the last may be shorter): unpadded, a frame took two messages as often as one. The cost
  // is 7.5 bytes per packet on average (0.7 % at 1,100 bytes); a frame whose sizes straddle a
  // multiple still takes two, one time in 16.
  static constexpr size_t kVideoSizeQuantum = 16;

  bool waitingForKeyframe() const { return isVideo() && mCurrentLayer < 0; }
  // The subscriber cannot decode what follows: start again at a keyframe of the target layer.
  void requireKeyframe() {
    if (isVideo()) mCurrentLayer = -1;
  }
  uint32_t packetsSent() const { return mPacketsSent; }
  uint32_t octetsSent() const { return mOctetsSent; }

  // ---- layers (the bandwidth allocator's interface) ----
  // Packet path: like writePacket(), for a packet of the producer's layer `layer`; it is written
  // only if it belongs to the current layer, or starts a keyframe of the target layer (the switch).
  size_t writeLayerPacket(const rtp::RtpPacket& source, int layer, std::span<uint8_t> out, common::TimePoint now);
  // The highest layer this consumer may receive (clamped to the producer's layers).
  void setMaxLayer(int layer);
  int maxLayer() const { return mMaxLayer; }
  // Paused by the subscriber (a hidden tile): nothing is forwarded; resuming starts at a keyframe.
  void setPaused(bool paused);
  bool hidden() const { return mPaused; }
  // The bandwidth allocator's cap on the layer: -1 pauses the consumer (its downlink does not
  // carry even the lowest layer); kNoAllocation lifts the cap. Resuming starts at a keyframe.
  static constexpr int kNoAllocation = 1 << 20;
  void setAllocatedLayer(int layer);
  int allocatedLayer() const { return mAllocatedLayer; }
  // Since when the allocator has found no room for even the lowest layer (nullopt: it has room).
  std::optional<common::TimePoint>& shortOfBandwidthSince() { return mShortSince; }
  // Paused by the subscriber or for bandwidth.
  bool paused() const { return mPaused || mAllocatedLayer < 0; }
  // The layer being forwarded (-1: none yet, or waiting for a keyframe).
  int currentLayer() const { return mCurrentLayer; }
  // The layer the consumer switches to at its next keyframe.
  int targetLayer() const { return mTargetLayer; }
  // Recomputes the target from the max layer and which layers the publisher sends now.
  void updateTargetLayer(common::TimePoint now);
  // A keyframe of targetLayer() is needed (not paused, not there yet).
  bool wantsKeyframe() const { return isVideo() && !paused() && mCurrentLayer != mTargetLayer; }
  uint64_t layerSwitches() const { return mLayerSwitches; }

 private:
  bool isVideo() const;

  struct Resend {
    uint16_t seq = 0;
    uint8_t count = 0;    // 0: slot unused
    uint32_t lastMs = 0;  // steady clock, milliseconds (wraps; only differences are used)
  };

  ConsumerSpec mSpec;
  Producer& mProducer;
  std::string mSubscriberId;
  rtp::StreamRewriter mRewriter;
  rtp::Vp8PictureRewriter mPictureRewriter;
  std::unique_ptr<transport::MediaTransport>* mTransportSlot = nullptr;
  TransportCcSender* mTransportCc = nullptr;
  SubscriberBandwidth* mBandwidth = nullptr;
  int mAllocatedLayer = kNoAllocation;
  uint32_t mLastTimestamp = 0;
  std::optional<common::TimePoint> mShortSince;
  uint16_t mRtxSeq;
  int mCurrentLayer;
  int mTargetLayer = 0;
  int mMaxLayer;
  bool mPaused = false;
  uint64_t mLayerSwitches = 0;
  uint32_t mPacketsSent = 0;
  uint32_t mOctetsSent = 0;
  std::vector<Resend> mResends;  // kResendWindow entries for video, by seq mod window
  int64_t mRetransmitTokens = kRetransmitBurstBytes;
  uint64_t mRetransmitsRefused = 0;
};

}  // namespace conclave::sfu
