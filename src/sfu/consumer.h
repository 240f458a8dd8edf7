// One subscriber's copy of a producer's stream: its own SSRC, a continuous sequence number and
// timestamp space, and the subscriber's payload type and header extension ids.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "rtp/packet.h"
#include "rtp/stream_rewriter.h"
#include "sfu/media.h"

namespace conclave::transport {
class WebRtcTransport;
}

namespace conclave::sfu {

class Producer;

class Consumer {
 public:
  Consumer(const ConsumerSpec& spec, Producer& producer, std::string subscriberId);

  uint64_t id() const { return mSpec.id; }
  uint32_t ssrc() const { return mSpec.ssrc; }
  Producer& producer() const { return mProducer; }
  const std::string& subscriberId() const { return mSubscriberId; }

  // Packet path: writes the subscriber's version of `source` into `out` and returns its length,
  // or 0 when the packet is not forwarded (waiting for a keyframe, too old, too large).
  size_t writePacket(const rtp::RtpPacket& source, std::span<uint8_t> out, common::TimePoint now);
  // For a NACKed packet: the source sequence number behind the subscriber's `seq`.
  std::optional<uint16_t> sourceSequenceNumber(uint16_t seq) const { return mRewriter.sourceSequenceNumber(seq); }
  std::optional<uint32_t> outputTimestamp(uint32_t sourceTimestamp) const {
    return mRewriter.outputTimestamp(sourceTimestamp);
  }

  // Where the subscriber's transport lives (its owner may replace the transport).
  void setTransportSlot(std::unique_ptr<transport::WebRtcTransport>* slot) { mTransportSlot = slot; }
  transport::WebRtcTransport* transport() const { return mTransportSlot ? mTransportSlot->get() : nullptr; }

  bool waitingForKeyframe() const { return mWaitForKeyframe; }
  void requireKeyframe() { mWaitForKeyframe = isVideo(); }
  uint32_t packetsSent() const { return mPacketsSent; }
  uint32_t octetsSent() const { return mOctetsSent; }

 private:
  bool isVideo() const;

  ConsumerSpec mSpec;
  Producer& mProducer;
  std::string mSubscriberId;
  rtp::StreamRewriter mRewriter;
  std::unique_ptr<transport::WebRtcTransport>* mTransportSlot = nullptr;
  bool mWaitForKeyframe;
  uint32_t mPacketsSent = 0;
  uint32_t mOctetsSent = 0;
};

}  // namespace conclave::sfu
