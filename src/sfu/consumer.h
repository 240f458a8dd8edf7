// One subscriber's copy of a producer's stream: its own SSRC, a continuous sequence number and
// timestamp space, and the subscriber's payload type and header extension ids.
//
// Retransmission budget (NACK): a subscriber's NACKs cannot make the server send much more than
// the stream itself. Each packet is resent to this consumer at most kMaxResends times, at least
// kMinResendInterval apart (so a NACK that lists a packet twice, or fifty NACKs for the same
// packets, resend it once), and resent bytes come out of a token bucket that fills with
// kRetransmitSharePercent of the bytes forwarded and holds at most kRetransmitBurstBytes (it starts
// full). The per-packet state is a table allocated with the consumer; nothing allocates per NACK.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

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
  // A `retransmission` does not add to the retransmission budget.
  size_t writePacket(const rtp::RtpPacket& source, std::span<uint8_t> out, common::TimePoint now,
                     bool retransmission = false);
  // For a NACKed packet: the source sequence number behind the subscriber's `seq`.
  std::optional<uint16_t> sourceSequenceNumber(uint16_t seq) const { return mRewriter.sourceSequenceNumber(seq); }
  std::optional<uint32_t> outputTimestamp(uint32_t sourceTimestamp) const {
    return mRewriter.outputTimestamp(sourceTimestamp);
  }

  // Where the subscriber's transport lives (its owner may replace the transport).
  void setTransportSlot(std::unique_ptr<transport::WebRtcTransport>* slot) { mTransportSlot = slot; }
  transport::WebRtcTransport* transport() const { return mTransportSlot ? mTransportSlot->get() : nullptr; }

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

  bool waitingForKeyframe() const { return mWaitForKeyframe; }
  void requireKeyframe() { mWaitForKeyframe = isVideo(); }
  uint32_t packetsSent() const { return mPacketsSent; }
  uint32_t octetsSent() const { return mOctetsSent; }

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
  std::unique_ptr<transport::WebRtcTransport>* mTransportSlot = nullptr;
  bool mWaitForKeyframe;
  uint32_t mPacketsSent = 0;
  uint32_t mOctetsSent = 0;
  std::vector<Resend> mResends;  // kResendWindow entries for video, by seq mod window
  int64_t mRetransmitTokens = kRetransmitBurstBytes;
  uint64_t mRetransmitsRefused = 0;
};

}  // namespace conclave::sfu
