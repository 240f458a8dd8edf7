#include "rtcp/compound.h"

namespace conclave::rtcp {

std::optional<RtcpPacket> CompoundReader::next() {
  if (mFailed || atEnd()) return std::nullopt;
  auto packet = RtcpPacket::parse(mData.subspan(mPos));
  if (!packet) {
    mFailed = true;
    return std::nullopt;
  }
  mPos += packet->bytes.size();
  return packet;
}

bool isValidCompound(std::span<const uint8_t> data, CompoundRule rule) {
  CompoundReader reader(data);
  size_t count = 0;
  bool sawPadding = false;
  while (auto packet = reader.next()) {
    if (sawPadding) return false;  // padding is only allowed on the last packet
    sawPadding = packet->header.padding;
    if (count == 0 && rule == CompoundRule::Strict && packet->header.packetType != type::kSenderReport &&
        packet->header.packetType != type::kReceiverReport) {
      return false;
    }
    ++count;
  }
  return !reader.failed() && count > 0;
}

bool RtcpDispatcher::handle(std::span<const uint8_t> data) {
  if (!isValidCompound(data, mRule)) {
    ++mCounters.invalidCompounds;
    return false;
  }
  ++mCounters.compounds;
  CompoundReader reader(data);
  while (auto packet = reader.next()) {
    if (dispatch(*packet)) {
      ++mCounters.packets;
    } else {
      ++mCounters.malformed;
    }
  }
  return true;
}

namespace {
// Calls `deliver` with the parsed view, or returns false when the body does not parse.
template <typename T, typename F>
bool deliverAs(const RtcpPacket& packet, F&& deliver) {
  const auto view = T::parse(packet);
  if (!view) return false;
  deliver(*view);
  return true;
}
}  // namespace

bool RtcpDispatcher::dispatch(const RtcpPacket& packet) {
  auto& l = mListener;
  switch (packet.header.packetType) {
    case type::kSenderReport:
      return deliverAs<SenderReport>(packet, [&](const auto& v) { l.onRtcpSenderReport(v); });
    case type::kReceiverReport:
      return deliverAs<ReceiverReport>(packet, [&](const auto& v) { l.onRtcpReceiverReport(v); });
    case type::kSdes:
      return deliverAs<Sdes>(packet, [&](const auto& v) { l.onRtcpSdes(v); });
    case type::kBye:
      return deliverAs<Bye>(packet, [&](const auto& v) { l.onRtcpBye(v); });
    case type::kExtendedReport:
      return deliverAs<ExtendedReport>(packet, [&](const auto& v) { l.onRtcpExtendedReport(v); });
    case type::kRtpFeedback:
    case type::kPayloadFeedback:
      return dispatchFeedback(packet);
    default:
      ++mCounters.other;
      l.onRtcpOther(packet);
      return true;
  }
}

bool RtcpDispatcher::dispatchFeedback(const RtcpPacket& packet) {
  auto& l = mListener;
  const uint8_t format = packet.header.count;
  if (packet.header.packetType == type::kRtpFeedback) {
    if (format == fmt::kNack) {
      return deliverAs<GenericNack>(packet, [&](const auto& v) { l.onRtcpNack(v); });
    }
    if (format == fmt::kTransportCc) {
      return deliverAs<TransportCcFeedback>(packet, [&](const auto& v) { l.onRtcpTransportCc(v); });
    }
  } else {
    if (format == fmt::kPli) return deliverAs<Pli>(packet, [&](const auto& v) { l.onRtcpPli(v); });
    if (format == fmt::kFir) return deliverAs<Fir>(packet, [&](const auto& v) { l.onRtcpFir(v); });
    if (format == fmt::kAfb && Remb::parse(packet)) {
      return deliverAs<Remb>(packet, [&](const auto& v) { l.onRtcpRemb(v); });
    }
  }
  if (packet.body.size() < 8) return false;  // every feedback message has the two SSRCs
  ++mCounters.other;
  l.onRtcpOther(packet);
  return true;
}

}  // namespace conclave::rtcp
