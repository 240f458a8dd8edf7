// The sending side of transport-wide congestion control on one subscriber transport: every RTP
// packet the SFU sends on it (media, RTX, padding) is stamped with the next transport-wide
// sequence number (header extension transport-wide-cc-01) and remembered in a send history; the
// subscriber's feedback (RTPFB FMT 15) is turned into per-packet results for the estimator.
//
// Fixed size (the history, a results buffer); nothing allocates per packet or per feedback.
#pragma once

#include <cstdint>
#include <span>

#include "bwe/types.h"
#include "common/clock.h"
#include "rtcp/transport_cc.h"
#include "rtp/packet.h"
#include "rtp/send_history.h"

namespace conclave::sfu {

class TransportCcSender {
 public:
  // A feedback message naming more sequence numbers than the history holds is not read.
  static constexpr size_t kMaxResults = rtp::SendHistory::kCapacity;

  struct Counters {
    uint64_t stamped = 0;
    uint64_t feedbacks = 0;
    uint64_t reported = 0;  // results handed on (packets found in the history)
    uint64_t lost = 0;      // of those, reported not received
    uint64_t unknown = 0;   // sequence numbers not in the history (never sent, or too old)
    uint64_t rejected = 0;  // feedback messages not read
  };

  explicit TransportCcSender(uint16_t firstSequenceNumber) : mHistory(firstSequenceNumber) {}

  // Writes the next transport-wide sequence number into `packet`'s extension `extensionId` and
  // records the packet. False (nothing recorded) when the packet does not carry that extension.
  bool stamp(rtp::RtpPacket& packet, uint8_t extensionId, rtp::SentKind kind, common::TimePoint now);

  // Writes the results of one feedback message into `out` (kMaxResults entries suffice), in its
  // order, for the packets this transport sent; returns how many.
  size_t onFeedback(const rtcp::TransportCcFeedback& feedback, std::span<bwe::PacketResult> out);

  const rtp::SendHistory& history() const { return mHistory; }
  const Counters& counters() const { return mCounters; }

 private:
  rtp::SendHistory mHistory;
  Counters mCounters;
};

}  // namespace conclave::sfu
