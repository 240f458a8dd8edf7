#include "sfu/transport_cc_sender.h"

#include "common/bytes.h"
#include "rtp/header_extensions.h"

namespace conclave::sfu {

bool TransportCcSender::stamp(rtp::RtpPacket& packet, uint8_t extensionId, rtp::SentKind kind, common::TimePoint now) {
  if (extensionId == 0) return false;
  auto value = packet.extension(extensionId);
  if (!value || value->size() != 2) return false;
  const auto sendUs = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const uint16_t seq = mHistory.add(static_cast<uint32_t>(packet.size()), sendUs, kind);
  common::storeU16(value->data(), seq);
  ++mCounters.stamped;
  return true;
}

size_t TransportCcSender::onFeedback(const rtcp::TransportCcFeedback& feedback, std::span<bwe::PacketResult> out) {
  if (feedback.packetStatusCount() > kMaxResults) {
    ++mCounters.rejected;
    return 0;
  }
  ++mCounters.feedbacks;
  size_t n = 0;
  feedback.forEachPacket([&](const rtcp::TransportCcPacket& p) {
    if (n == out.size() || !mHistory.get(p.sequenceNumber)) {
      ++mCounters.unknown;
      return;
    }
    out[n++] = bwe::PacketResult{p.sequenceNumber, p.received, p.received ? p.arrivalUs : 0};
    if (!p.received) ++mCounters.lost;
  });
  mCounters.reported += n;
  return n;
}

}  // namespace conclave::sfu
