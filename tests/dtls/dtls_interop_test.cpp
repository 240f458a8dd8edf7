// Interop with independent DTLS-SRTP stacks over loopback UDP: the openssl command line tool
// (s_client / s_server, printing its RFC 5764 exported keying material) and aiortc (Python,
// pyOpenSSL + pylibsrtp), which the SFU meets in tests and bots.
#include <gtest/gtest.h>

#include <memory>

#include "dtls/dtls_test_util.h"
#include "dtls/dtls_transport.h"
#include "dtls/endpoint.h"
#include "dtls/interop_util.h"
#include "srtp/srtp_session.h"

using namespace conclave;
using namespace conclave::dtls;
using namespace conclave::dtls::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kOpenSsl = "/usr/bin/openssl";
constexpr const char* kPython = "/usr/bin/python3";

class DtlsInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sfuContext = std::make_unique<DtlsContext>(common::Certificate::generateSelfSigned("conclave"));
  }
  std::unique_ptr<DtlsContext> sfuContext;
};

std::vector<uint8_t> bytesOf(std::string_view text) { return {text.begin(), text.end()}; }

}  // namespace

// The SFU as DTLS server (a=setup:passive), openssl s_client as the browser.
TEST_F(DtlsInteropTest, OpenSslClientAgainstOurServerGcm) {
  if (!executableExists(kOpenSsl)) GTEST_SKIP() << "no openssl binary";
  TempDir dir;
  const auto peerCert = common::Certificate::generateSelfSigned("openssl-client");
  const auto certFile = dir.write("cert.pem", peerCert.certPem());
  const auto keyFile = dir.write("key.pem", peerCert.keyPem());

  Endpoint sfu(*sfuContext, DtlsRole::Server);
  ASSERT_TRUE(sfu.transport.setRemoteFingerprint("sha-256", std::span<const uint8_t>(peerCert.sha256Fingerprint())));
  ChildProcess client({kOpenSsl, "s_client", "-dtls1_2", "-connect", "127.0.0.1:" + std::to_string(sfu.socket.port()),
                       "-cert", certFile, "-key", keyFile, "-use_srtp", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
                       "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "56"});

  ASSERT_TRUE(runUntil(
      sfu, client, [&] { return sfu.profile || sfu.failed; }, 10s))
      << client.output();
  ASSERT_FALSE(sfu.failed) << *sfu.failed << "\n" << client.output();
  EXPECT_EQ(*sfu.profile, srtp::SrtpProfile::AeadAes128Gcm);
  ASSERT_TRUE(client.waitForLine("Keying material: ", 5s)) << client.output();
  EXPECT_EQ(client.lineAfter("SRTP Extension negotiated, profile="), "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(client.lineAfter("Keying material: "), sfu.exportedKeyingMaterial());

  // Application data typed into s_client arrives as one record.
  client.writeStdin("hello conclave\n");
  ASSERT_TRUE(runUntil(
      sfu, client, [&] { return !sfu.appData.empty(); }, 5s));
  EXPECT_EQ(sfu.appData, "hello conclave\n");

  // End of input: s_client sends close_notify.
  client.closeStdin();
  ASSERT_TRUE(runUntil(
      sfu, client, [&] { return sfu.closed; }, 5s))
      << client.output();
  EXPECT_EQ(sfu.transport.state(), DtlsState::Closed);
  EXPECT_TRUE(client.waitExit(5s));
}

// The SFU as DTLS client (the peer answered a=setup:passive), openssl s_server offering only
// SRTP_AES128_CM_SHA1_80 (60 bytes of keying material).
TEST_F(DtlsInteropTest, OurClientAgainstOpenSslServerAesCm) {
  if (!executableExists(kOpenSsl)) GTEST_SKIP() << "no openssl binary";
  TempDir dir;
  const auto peerCert = common::Certificate::generateSelfSigned("openssl-server");
  const auto certFile = dir.write("cert.pem", peerCert.certPem());
  const auto keyFile = dir.write("key.pem", peerCert.keyPem());
  ChildProcess server({kOpenSsl, "s_server", "-dtls1_2", "-accept", "0", "-cert", certFile, "-key", keyFile,
                       "-use_srtp", "SRTP_AES128_CM_SHA1_80", "-keymatexport", "EXTRACTOR-dtls_srtp",
                       "-keymatexportlen", "60", "-verify", "1", "-naccept", "1"});
  ASSERT_TRUE(server.waitForLine("ACCEPT", 5s)) << server.output();
  const auto accept = server.lineAfter("ACCEPT ");
  ASSERT_TRUE(accept);
  const uint16_t port = static_cast<uint16_t>(std::stoi(accept->substr(accept->rfind(':') + 1)));

  Endpoint sfu(*sfuContext, DtlsRole::Client);
  sfu.socket.setPeerPort(port);
  ASSERT_TRUE(sfu.transport.setRemoteFingerprint("sha-256", std::span<const uint8_t>(peerCert.sha256Fingerprint())));
  sfu.transport.start(std::chrono::steady_clock::now());
  ASSERT_TRUE(runUntil(
      sfu, server, [&] { return sfu.profile || sfu.failed; }, 10s))
      << server.output();
  ASSERT_FALSE(sfu.failed) << *sfu.failed << "\n" << server.output();
  EXPECT_EQ(*sfu.profile, srtp::SrtpProfile::AesCm128HmacSha1_80);
  ASSERT_TRUE(server.waitForLine("Keying material: ", 5s)) << server.output();
  EXPECT_EQ(server.lineAfter("Keying material: "), sfu.exportedKeyingMaterial());

  // s_server prints what it reads; then our close_notify ends it.
  ASSERT_TRUE(sfu.transport.sendApplicationData(bytesOf("from the sfu\n")));
  EXPECT_TRUE(server.waitForOutput("from the sfu", 5s)) << server.output();
  sfu.transport.close();
  EXPECT_TRUE(server.waitExit(5s)) << server.output();
}

// aiortc's own RTCDtlsTransport (pyOpenSSL, SRTP_AES128_CM_SHA1_80 only, pylibsrtp) in both
// roles: DTLS, then SRTP, SRTCP and application data both ways, then close_notify.
class AiortcInteropTest : public DtlsInteropTest, public ::testing::WithParamInterface<DtlsRole> {};

TEST_P(AiortcInteropTest, DtlsSrtpBothWays) {
  if (!executableExists(kPython)) GTEST_SKIP() << "no " << kPython;
  const DtlsRole ourRole = GetParam();
  Endpoint sfu(*sfuContext, ourRole);
  const std::string script = std::string(CONCLAVE_SOURCE_DIR) + "/tests/dtls/aiortc_peer.py";
  ChildProcess peer({kPython, script, ourRole == DtlsRole::Server ? "client" : "server",
                     std::to_string(sfu.socket.port()), test::fingerprintText(*sfuContext)});
  ASSERT_TRUE(peer.waitForLine("FINGERPRINT ", 20s)) << peer.output();
  if (peer.output().find("SKIP") != std::string::npos) GTEST_SKIP() << peer.output();
  const auto port = peer.lineAfter("PORT ");
  const auto fingerprint = peer.lineAfter("FINGERPRINT ");
  ASSERT_TRUE(port && fingerprint) << peer.output();
  sfu.socket.setPeerPort(static_cast<uint16_t>(std::stoi(*port)));
  ASSERT_TRUE(test::setRemoteFingerprintText(sfu.transport, "sha-256", *fingerprint));
  if (ourRole == DtlsRole::Client) sfu.transport.start(std::chrono::steady_clock::now());

  ASSERT_TRUE(runUntil(
      sfu, peer, [&] { return sfu.profile || sfu.failed; }, 10s))
      << peer.output();
  ASSERT_FALSE(sfu.failed) << *sfu.failed << "\n" << peer.output();
  EXPECT_EQ(*sfu.profile, srtp::SrtpProfile::AesCm128HmacSha1_80);

  // What aiortc sent, protected with its keys, decrypts with ours.
  ASSERT_TRUE(runUntil(
      sfu, peer, [&] { return !sfu.rtpReceived.empty() && !sfu.rtcpReceived.empty() && !sfu.appData.empty(); }, 10s))
      << peer.output();
  EXPECT_EQ(sfu.appData, "hello from aiortc");
  EXPECT_TRUE(sfu.srtpErrors.empty());
  EXPECT_EQ(std::optional(hexUpper(sfu.rtpReceived[0])), peer.lineAfter("SENT_RTP "));
  EXPECT_EQ(std::optional(hexUpper(sfu.rtcpReceived[0])), peer.lineAfter("SENT_RTCP "));

  // And the other way: aiortc prints what it decrypted.
  std::vector<uint8_t> rtp{0x80, 0x6f, 0x12, 0x34, 0x00, 0x00, 0x10, 0x00, 0xca, 0xfe, 0xba, 0xbe};
  for (int i = 0; i < 48; ++i) rtp.push_back(static_cast<uint8_t>(i));
  const std::vector<uint8_t> rtcp{0x80, 0xc9, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe};  // empty RR
  sfu.sendSrtp(rtp, false);
  sfu.sendSrtp(rtcp, true);
  ASSERT_TRUE(sfu.transport.sendApplicationData(bytesOf("hello from conclave")));
  ASSERT_TRUE(runUntil(
      sfu, peer, [&] { return sfu.closed; }, 10s))
      << peer.output();  // aiortc stops when done
  EXPECT_EQ(peer.lineAfter("GOT_RTP "), hexUpper(rtp));
  EXPECT_EQ(peer.lineAfter("GOT_RTCP "), hexUpper(rtcp));
  EXPECT_EQ(peer.lineAfter("GOT_DATA "), hexUpper(bytesOf("hello from conclave")));
  EXPECT_TRUE(peer.waitExit(5s));
  EXPECT_EQ(peer.exitCode(), 0) << peer.output();
}

INSTANTIATE_TEST_SUITE_P(Roles, AiortcInteropTest, ::testing::Values(DtlsRole::Server, DtlsRole::Client),
                         [](const ::testing::TestParamInfo<DtlsRole>& p) {
                           return p.param == DtlsRole::Server ? "SfuIsServer" : "SfuIsClient";
                         });
