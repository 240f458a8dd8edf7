// Test helpers for the SFU: a TransportHost that routes like MediaWorker but sends into a
// recording sink, packets made from captured Chromium bytes, and RTCP readers.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "ice/demux.h"
#include "ice/stun.h"
#include "rtcp/compound.h"
#include "rtcp/feedback.h"
#include "rtcp/header.h"
#include "rtcp/sender_report.h"
#include "rtp/packet.h"
#include "sfu/router.h"
#include "transport/browser_peer.h"

namespace conclave::sfu::test {

using common::TimePoint;
using transport::WebRtcTransport;

// MediaWorker's routing (STUN by the local half of USERNAME, everything else by source address)
// over a recording sink instead of a socket.
class FakeHost final : public TransportHost {
 public:
  explicit FakeHost(const dtls::DtlsContext& context) : mContext(context) {}

  transport::PacketSink& sink() override { return mSink; }
  const dtls::DtlsContext& dtlsContext() override { return mContext; }
  void registerTransport(const std::string& localUfrag, WebRtcTransport* t) override { byUfrag[localUfrag] = t; }
  void registerEndpoint(const net::Endpoint& endpoint, WebRtcTransport* t) override {
    byEndpoint.try_emplace(endpoint, t);
  }
  void unregisterEndpoint(const net::Endpoint& endpoint, WebRtcTransport* t) override {
    if (auto it = byEndpoint.find(endpoint); it != byEndpoint.end() && it->second == t) byEndpoint.erase(it);
  }
  void unregisterTransport(WebRtcTransport* t) override {
    std::erase_if(byUfrag, [t](const auto& e) { return e.second == t; });
    std::erase_if(byEndpoint, [t](const auto& e) { return e.second == t; });
    ++unregistered;
  }
  uint64_t nextTransportId() override { return ++mIds; }
  std::optional<TimePoint> datagramArrival() const override { return arrival; }
  TimePoint now() const override { return clock ? *clock : TransportHost::now(); }

  void dispatch(std::span<uint8_t> datagram, const net::Endpoint& from, TimePoint now) {
    if (WebRtcTransport* t = route(datagram, from)) {
      t->receive(datagram, from, now);
    } else {
      ++unrouted;
    }
  }

  transport::test::RecordingSink& recorder() { return mSink; }

  std::map<std::string, WebRtcTransport*> byUfrag;
  std::map<net::Endpoint, WebRtcTransport*> byEndpoint;
  size_t unregistered = 0;
  size_t unrouted = 0;
  // What datagramArrival() says (a worker: the kernel's receive time of the datagram).
  std::optional<TimePoint> arrival;
  // What now() says: a test's simulated clock, or (null) the steady clock.
  const TimePoint* clock = nullptr;

 private:
  WebRtcTransport* route(std::span<const uint8_t> datagram, const net::Endpoint& from) {
    if (ice::isStun(datagram)) {
      if (auto msg = ice::StunMessage::parse(datagram)) {
        if (auto user = msg->username()) {
          auto it = byUfrag.find(std::string(user->substr(0, user->find(':'))));
          if (it != byUfrag.end()) return it->second;
        }
      }
    }
    auto it = byEndpoint.find(from);
    return it == byEndpoint.end() ? nullptr : it->second;
  }

  const dtls::DtlsContext& mContext;
  transport::test::RecordingSink mSink;
  uint64_t mIds = 0;
};

// A copy of a captured packet with another sequence number and timestamp.
inline std::vector<uint8_t> rtpFrom(std::span<const uint8_t> captured, uint16_t seq, uint32_t timestamp) {
  std::vector<uint8_t> bytes(captured.begin(), captured.end());
  auto p = rtp::RtpPacket::parse(bytes);
  if (!p) return {};
  p->setSequenceNumber(seq);
  p->setTimestamp(timestamp);
  return bytes;
}

inline std::vector<uint8_t> payloadOf(std::vector<uint8_t> bytes) {
  auto p = rtp::RtpPacket::parse(bytes);
  if (!p) return {};
  auto payload = p->payload();
  return {payload.begin(), payload.end()};
}

// Every RTCP packet of type/fmt in the compounds a peer received.
inline std::vector<rtcp::RtcpPacket> rtcpOf(const std::vector<std::vector<uint8_t>>& compounds, uint8_t type,
                                            std::optional<uint8_t> fmt = std::nullopt) {
  std::vector<rtcp::RtcpPacket> out;
  for (const auto& c : compounds) {
    rtcp::CompoundReader reader(c);
    while (auto p = reader.next()) {
      if (p->header.packetType == type && (!fmt || p->header.count == *fmt)) out.push_back(*p);
    }
  }
  return out;
}

inline std::vector<rtcp::Pli> plisOf(const transport::test::BrowserPeer& peer) {
  std::vector<rtcp::Pli> out;
  for (const auto& p : rtcpOf(peer.rtcp, rtcp::type::kPayloadFeedback, rtcp::fmt::kPli))
    if (auto pli = rtcp::Pli::parse(p)) out.push_back(*pli);
  return out;
}

inline std::vector<uint8_t> nack(uint32_t sender, uint32_t media, std::vector<uint16_t> lost) {
  std::vector<uint8_t> buf(256);
  common::ByteWriter w(buf);
  if (!rtcp::GenericNack::write(w, sender, media, lost)) return {};
  buf.resize(w.size());
  return buf;
}

inline std::vector<uint8_t> pli(uint32_t sender, uint32_t media) {
  std::vector<uint8_t> buf(64);
  common::ByteWriter w(buf);
  if (!rtcp::Pli::write(w, sender, media)) return {};
  buf.resize(w.size());
  return buf;
}

inline std::vector<uint8_t> fir(uint32_t sender, uint32_t media, uint8_t seq) {
  std::vector<uint8_t> buf(64);
  common::ByteWriter w(buf);
  const rtcp::FirEntry entries[] = {{media, seq}};
  if (!rtcp::Fir::write(w, sender, entries)) return {};
  buf.resize(w.size());
  return buf;
}

inline std::vector<uint8_t> senderReport(uint32_t ssrc, const rtcp::SenderInfo& info) {
  std::vector<uint8_t> buf(128);
  common::ByteWriter w(buf);
  if (!rtcp::SenderReport::write(w, ssrc, info, {})) return {};
  buf.resize(w.size());
  return buf;
}

}  // namespace conclave::sfu::test
