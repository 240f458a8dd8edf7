// libFuzzer target: arbitrary datagrams into a DtlsTransport.
//
// Input: if the first byte is a DTLS content type (20..63) the whole input is one datagram for a
// server-role transport (the seed corpus holds real ClientHellos). Otherwise the first byte picks
// the role (even: server; odd: client, which first sends its ClientHello) and the rest is a
// sequence of datagrams, each a 2-byte big-endian length and its bytes; a timeout is fired
// between datagrams.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.h"
#include "common/certificate.h"
#include "dtls/dtls_transport.h"

namespace {

using namespace conclave;

struct NullListener final : dtls::DtlsTransport::Listener {
  void onDtlsSend(std::span<const uint8_t> datagram) override { bytesSent += datagram.size(); }
  void onDtlsConnected(srtp::SrtpProfile, const srtp::SrtpKeyMaterial&, const srtp::SrtpKeyMaterial&) override {}
  void onDtlsClosed() override {}
  void onDtlsFailed(std::string_view) override {}
  void onDtlsApplicationData(std::span<const uint8_t> data) override { bytesReceived += data.size(); }
  size_t bytesSent = 0;
  size_t bytesReceived = 0;
};

const dtls::DtlsContext& context() {
  static const dtls::DtlsContext ctx(common::Certificate::generateSelfSigned("fuzz"));
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  NullListener listener;
  const std::span<const uint8_t> input(data, size);
  const bool single = input[0] >= 20 && input[0] <= 63;
  const auto role = !single && (input[0] & 1) ? dtls::DtlsRole::Client : dtls::DtlsRole::Server;
  dtls::DtlsTransport transport(context(), role, listener);
  // Any fingerprint: a mismatch is one more path to exercise.
  const std::array<uint8_t, 32> fingerprint{};
  transport.setRemoteFingerprint("sha-256", std::span<const uint8_t>(fingerprint));
  common::TimePoint now{};
  if (role == dtls::DtlsRole::Client) transport.start(now);

  if (single) {
    transport.feed(input, now);
  } else {
    common::ByteReader reader(input.subspan(1));
    while (reader.remaining() >= 2) {
      const uint16_t length = reader.u16();
      const auto datagram = reader.bytes(std::min<size_t>(length, reader.remaining()));
      transport.feed(datagram, now);
      now += std::chrono::milliseconds(150);
      transport.handleTimeout(now);
      (void)transport.nextTimeout();
    }
  }
  if (transport.state() == dtls::DtlsState::Connected) {
    const uint8_t probe[] = {1, 2, 3};
    transport.sendApplicationData(probe);
  }
  transport.close();
  return 0;
}
