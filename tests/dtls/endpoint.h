// Test helper: our side of a loopback interop link, a DtlsTransport on a UDP socket that
// demultiplexes DTLS and SRTP/SRTCP (RFC 7983) and keeps an SrtpSession once connected.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dtls/dtls_transport.h"
#include "dtls/interop_util.h"
#include "srtp/srtp_session.h"

namespace conclave::srtp {
inline void PrintTo(SrtpResult result, std::ostream* os) { *os << toString(result); }
}  // namespace conclave::srtp

namespace conclave::dtls::test {

using namespace std::chrono_literals;

// Our side of the link: a DtlsTransport on a UDP socket, with SRTP once connected.
struct Endpoint final : DtlsTransport::Listener {
  Endpoint(const DtlsContext& context, DtlsRole role) : transport(context, role, *this) {}

  void onDtlsSend(std::span<const uint8_t> datagram) override { socket.send(datagram); }
  void onDtlsConnected(srtp::SrtpProfile p, const srtp::SrtpKeyMaterial& l, const srtp::SrtpKeyMaterial& r) override {
    profile = p;
    local = l;
    remote = r;
    srtp.emplace(p, l, r);
  }
  void onDtlsClosed() override { closed = true; }
  void onDtlsFailed(std::string_view reason) override { failed = std::string(reason); }
  void onDtlsApplicationData(std::span<const uint8_t> data) override { appData.append(data.begin(), data.end()); }

  // One step of the event loop: a datagram (DTLS or SRTP) or a timer.
  void step(std::chrono::milliseconds wait = 10ms) {
    auto timeout = transport.nextTimeout();
    if (timeout) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*timeout - std::chrono::steady_clock::now());
      wait = std::clamp(left, 0ms, wait);
    }
    if (auto d = socket.receive(wait)) {
      if (!d->empty() && (*d)[0] >= 128 && (*d)[0] < 192) {
        receiveSrtp(*d);
      } else {
        transport.feed(*d, std::chrono::steady_clock::now());
      }
    }
    transport.handleTimeout(std::chrono::steady_clock::now());
  }

  void receiveSrtp(std::vector<uint8_t> packet) {
    if (!srtp) return;
    size_t len = packet.size();
    const bool rtcp = packet.size() > 1 && packet[1] >= 192 && packet[1] <= 223;
    const auto result = rtcp ? srtp->unprotectRtcp(packet, len) : srtp->unprotectRtp(packet, len);
    if (result != srtp::SrtpResult::Ok) {
      srtpErrors.push_back(result);
      return;
    }
    packet.resize(len);
    (rtcp ? rtcpReceived : rtpReceived).push_back(std::move(packet));
  }

  void sendSrtp(std::vector<uint8_t> packet, bool rtcp) {
    size_t len = packet.size();
    packet.resize(len + srtp::kSrtpMaxRtcpTrailer);
    const auto result = rtcp ? srtp->protectRtcp(packet, len) : srtp->protectRtp(packet, len);
    ASSERT_EQ(result, srtp::SrtpResult::Ok);
    packet.resize(len);
    socket.send(packet);
  }

  // RFC 5764 §4.2 order: client key, server key, client salt, server salt.
  std::string exportedKeyingMaterial() const {
    const bool client = transport.role() == DtlsRole::Client;
    const auto& c = client ? local : remote;
    const auto& s = client ? remote : local;
    return hexUpper(c.masterKey()) + hexUpper(s.masterKey()) + hexUpper(c.masterSalt()) + hexUpper(s.masterSalt());
  }

  UdpSocket socket;
  DtlsTransport transport;
  std::optional<srtp::SrtpProfile> profile;
  srtp::SrtpKeyMaterial local, remote;
  std::optional<srtp::SrtpSession> srtp;
  bool closed = false;
  std::optional<std::string> failed;
  std::string appData;
  std::vector<std::vector<uint8_t>> rtpReceived, rtcpReceived;
  std::vector<srtp::SrtpResult> srtpErrors;
};

template <typename Done>
bool runUntil(Endpoint& e, ChildProcess& child, Done done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    e.step();
    child.pump();
  }
  return done();
}

}  // namespace conclave::dtls::test
