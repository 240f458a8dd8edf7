// Compound RTCP packets (RFC 3550 §6.1, validity checks of Appendix A.2, reduced-size RTCP of
// RFC 5506) and dispatch of each packet to a listener.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rtcp/extended_report.h"
#include "rtcp/feedback.h"
#include "rtcp/header.h"
#include "rtcp/sdes.h"
#include "rtcp/sender_report.h"
#include "rtcp/transport_cc.h"

namespace conclave::rtcp {

// Iterates the packets of a compound packet.
class CompoundReader {
 public:
  explicit CompoundReader(std::span<const uint8_t> data) : mData(data) {}

  // The next packet; nullopt at the end or on a framing error (then failed() is true).
  std::optional<RtcpPacket> next();
  bool failed() const { return mFailed; }
  bool atEnd() const { return mPos == mData.size(); }

 private:
  std::span<const uint8_t> mData;
  size_t mPos = 0;
  bool mFailed = false;
};

enum class CompoundRule {
  Strict,            // RFC 3550 A.2: the first packet is SR or RR
  AllowReducedSize,  // RFC 5506: any packet type may come first, e.g. a lone feedback message
};

// Version 2 everywhere, lengths add up exactly to the datagram, padding only on the last packet,
// at least one packet, and (Strict) SR or RR first.
bool isValidCompound(std::span<const uint8_t> data, CompoundRule rule);

class RtcpDispatcher {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onRtcpSenderReport(const SenderReport&) {}
    virtual void onRtcpReceiverReport(const ReceiverReport&) {}
    virtual void onRtcpSdes(const Sdes&) {}
    virtual void onRtcpBye(const Bye&) {}
    virtual void onRtcpNack(const GenericNack&) {}
    virtual void onRtcpTransportCc(const TransportCcFeedback&) {}
    virtual void onRtcpPli(const Pli&) {}
    virtual void onRtcpFir(const Fir&) {}
    virtual void onRtcpRemb(const Remb&) {}
    virtual void onRtcpExtendedReport(const ExtendedReport&) {}
    virtual void onRtcpOther(const RtcpPacket&) {}  // APP, SLI, RPSI, unknown types
  };

  struct Counters {
    uint64_t compounds = 0;         // accepted compound packets
    uint64_t invalidCompounds = 0;  // dropped whole: framing broken
    uint64_t packets = 0;           // packets handed to the listener
    uint64_t malformed = 0;         // well framed, but the body did not parse; skipped
    uint64_t other = 0;             // unknown or unhandled types
  };

  explicit RtcpDispatcher(Listener& listener, CompoundRule rule = CompoundRule::AllowReducedSize)
      : mListener(listener), mRule(rule) {}

  // Validates the compound packet, then hands each packet to the listener. False if the whole
  // compound was dropped.
  bool handle(std::span<const uint8_t> data);
  const Counters& counters() const { return mCounters; }

 private:
  bool dispatch(const RtcpPacket& packet);  // false: malformed
  bool dispatchFeedback(const RtcpPacket& packet);

  Listener& mListener;
  CompoundRule mRule;
  Counters mCounters;
};

}  // namespace conclave::rtcp
