// Our DtlsTransport fed with real datagrams recorded from Chromium 156 (tests/dtls/data).
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <map>

#include "common/bytes.h"
#include "dtls/dtls_test_util.h"
#include "dtls/dtls_transport.h"

using namespace conclave;
using namespace conclave::dtls;
using conclave::dtls::test::Recorder;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> readData(const std::string& name) {
  std::ifstream in(std::string(CONCLAVE_SOURCE_DIR) + "/tests/dtls/data/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), {}};
}

struct ServerHello {
  uint16_t version = 0;
  uint16_t cipherSuite = 0;
  std::map<uint16_t, std::vector<uint8_t>> extensions;
};

// The ServerHello at the start of a datagram (record header, handshake header, body).
std::optional<ServerHello> parseServerHello(std::span<const uint8_t> datagram) {
  common::ByteReader r(datagram);
  if (r.u8() != 22) return std::nullopt;
  r.skip(2 + 2 + 6 + 2);
  if (r.u8() != 2) return std::nullopt;  // server_hello
  r.skip(3 + 2 + 3 + 3);
  ServerHello hello;
  hello.version = r.u16();
  r.skip(32);
  r.skip(r.u8());  // session id
  hello.cipherSuite = r.u16();
  r.skip(1);
  common::ByteReader ext(r.bytes(r.u16()));
  while (ext.ok() && ext.remaining() > 0) {
    const uint16_t type = ext.u16();
    const auto body = ext.bytes(ext.u16());
    hello.extensions[type] = {body.begin(), body.end()};
  }
  if (!r.ok() || !ext.ok()) return std::nullopt;
  return hello;
}

// SHA-256 of the first certificate in a datagram whose second record is a Certificate message.
std::array<uint8_t, 32> leafFingerprint(std::span<const uint8_t> datagram) {
  common::ByteReader r(datagram);
  r.skip(11);
  r.skip(r.u16());  // the ServerHello record
  r.skip(11 + 2);   // the Certificate record header
  EXPECT_EQ(r.u8(), 11);
  r.skip(3 + 2 + 3 + 3);
  r.skip(3);  // certificate_list length
  const auto der = r.bytes(r.u24());
  EXPECT_TRUE(r.ok());
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(der.data(), der.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

TEST(DtlsChromiumBytes, AcceptsChromiumClientHelloSpanningTwoDatagrams) {
  const DtlsContext context(common::Certificate::generateSelfSigned("conclave"));
  Recorder events;
  DtlsTransport server(context, DtlsRole::Server, events);
  const TimePoint now{};
  server.feed(readData("chromium156-client-hello-part1.bin"), now);
  EXPECT_TRUE(events.outbox.empty());  // half a ClientHello: nothing to answer yet
  EXPECT_EQ(server.state(), DtlsState::Connecting);
  server.feed(readData("chromium156-client-hello-part2.bin"), now);
  ASSERT_FALSE(events.outbox.empty()) << events.failed.value_or("");
  EXPECT_FALSE(events.failed);
  for (const auto& d : events.outbox) EXPECT_LE(d.size(), 1200u);

  const auto hello = parseServerHello(events.outbox[0]);
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->version, 0xfefd);      // DTLS 1.2 (Chromium also offered 1.3)
  EXPECT_EQ(hello->cipherSuite, 0xc02b);  // ECDHE-ECDSA-AES128-GCM-SHA256
  ASSERT_TRUE(hello->extensions.count(14));
  // use_srtp: one profile, SRTP_AEAD_AES_128_GCM, empty MKI — chosen over 0x0001 and 0x0008.
  EXPECT_EQ(hello->extensions.at(14), (std::vector<uint8_t>{0x00, 0x02, 0x00, 0x07, 0x00}));
  EXPECT_TRUE(hello->extensions.count(23));  // extended_master_secret
  EXPECT_TRUE(server.nextTimeout());         // waiting for the client's flight, retransmit armed
}

TEST(DtlsChromiumBytes, ChromiumSecondFlightAgainstADifferentServerRandomFails) {
  // The recorded flight answers aiortc's ServerHello, not ours: its CertificateVerify signs a
  // transcript with another server random, so it must be rejected (and not crash).
  const DtlsContext context(common::Certificate::generateSelfSigned("conclave"));
  Recorder events;
  DtlsTransport server(context, DtlsRole::Server, events);
  const TimePoint now{};
  server.feed(readData("chromium156-client-hello-part1.bin"), now);
  server.feed(readData("chromium156-client-hello-part2.bin"), now);
  server.feed(readData("chromium156-client-second-flight.bin"), now);
  ASSERT_TRUE(events.failed);
  EXPECT_FALSE(events.connected);
  EXPECT_EQ(server.state(), DtlsState::Failed);
}

TEST(DtlsChromiumBytes, ParsesChromiumServerFlightAndChecksItsCertificate) {
  const DtlsContext context(common::Certificate::generateSelfSigned("conclave"));
  const auto flight = readData("chromium156-server-hello-flight.bin");
  for (bool rightFingerprint : {false, true}) {
    SCOPED_TRACE(rightFingerprint ? "right fingerprint" : "wrong fingerprint");
    Recorder events;
    DtlsTransport client(context, DtlsRole::Client, events);
    auto fingerprint = leafFingerprint(flight);
    if (!rightFingerprint) fingerprint[0] ^= 0xff;
    client.setRemoteFingerprint("sha-256", std::span<const uint8_t>(fingerprint));
    client.start(TimePoint{});
    client.feed(flight, TimePoint{});
    ASSERT_TRUE(events.failed);
    if (rightFingerprint) {
      // Certificate accepted; the ServerKeyExchange signature covers aiortc's client random,
      // not ours, so verification fails there.
      EXPECT_EQ(events.failed->find("fingerprint"), std::string::npos) << *events.failed;
      EXPECT_NE(events.failed->find("signature"), std::string::npos) << *events.failed;
    } else {
      EXPECT_NE(events.failed->find("fingerprint"), std::string::npos) << *events.failed;
    }
  }
}
