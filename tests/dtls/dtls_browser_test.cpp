// End to end with a real browser: headless Chromium does DTLS-SRTP with our DtlsTransport over
// loopback (tests/dtls/chromium_peer.py supplies ICE through aiortc and relays the datagrams).
// The SRTP and SRTCP that Chromium sends must decrypt with the keys we derived.
#include <gtest/gtest.h>

#include <memory>

#include "dtls/dtls_test_util.h"
#include "dtls/endpoint.h"
#include "dtls/interop_util.h"

using namespace conclave;
using namespace conclave::dtls;
using namespace conclave::dtls::test;
using namespace std::chrono_literals;

class ChromiumDtlsTest : public ::testing::TestWithParam<DtlsRole> {};

TEST_P(ChromiumDtlsTest, ChromiumSrtpDecryptsWithOurKeys) {
  if (!executableExists("/usr/bin/chromium") || !executableExists("/usr/bin/python3"))
    GTEST_SKIP() << "needs /usr/bin/chromium and /usr/bin/python3 with aiortc";
  {
    ChildProcess probe({"/usr/bin/python3", "-c", "import aiortc"});
    if (!probe.waitExit(30s) || probe.exitCode() != 0) GTEST_SKIP() << "python3 cannot import aiortc";
  }
  const DtlsRole ourRole = GetParam();
  const DtlsContext context(common::Certificate::generateSelfSigned("conclave"));
  Endpoint sfu(context, ourRole);
  ChildProcess peer({"/usr/bin/python3", std::string(CONCLAVE_SOURCE_DIR) + "/tests/dtls/chromium_peer.py",
                     ourRole == DtlsRole::Server ? "passive" : "active", std::to_string(sfu.socket.port()),
                     test::fingerprintText(context)});
  ASSERT_TRUE(peer.waitForLine("CHROMIUM_FINGERPRINT ", 30s)) << peer.output();
  const auto relayPort = peer.lineAfter("RELAY_PORT ");
  const auto fingerprint = peer.lineAfter("CHROMIUM_FINGERPRINT ");
  ASSERT_TRUE(relayPort && fingerprint) << peer.output();
  sfu.socket.setPeerPort(static_cast<uint16_t>(std::stoi(*relayPort)));
  ASSERT_TRUE(test::setRemoteFingerprintText(sfu.transport, "sha-256", *fingerprint));
  if (ourRole == DtlsRole::Client) sfu.transport.start(std::chrono::steady_clock::now());

  ASSERT_TRUE(runUntil(
      sfu, peer, [&] { return sfu.profile || sfu.failed; }, 20s))
      << peer.output();
  ASSERT_FALSE(sfu.failed) << *sfu.failed;
  // The DTLS server chooses. We prefer GCM; Chromium 156 as server prefers its own first entry,
  // SRTP_AES128_CM_SHA1_80 (its use_srtp list is 0x0001, 0x0008, 0x0007).
  EXPECT_EQ(*sfu.profile,
            ourRole == DtlsRole::Server ? srtp::SrtpProfile::AeadAes128Gcm : srtp::SrtpProfile::AesCm128HmacSha1_80);

  ASSERT_TRUE(runUntil(
      sfu, peer, [&] { return sfu.rtpReceived.size() >= 50 && !sfu.rtcpReceived.empty() && sfu.appData.size() >= 12; },
      20s))
      << "rtp " << sfu.rtpReceived.size() << " rtcp " << sfu.rtcpReceived.size() << " data " << sfu.appData.size();
  EXPECT_TRUE(sfu.srtpErrors.empty()) << sfu.srtpErrors.size() << " SRTP errors, first "
                                      << srtp::toString(sfu.srtpErrors.front());
  for (const auto& rtp : sfu.rtpReceived) EXPECT_EQ(rtp[0] >> 6, 2);  // RTP version 2 once decrypted
  // The data channel's SCTP packet (RFC 8261): source and destination port 5000.
  EXPECT_EQ(sfu.appData.substr(0, 4), std::string("\x13\x88\x13\x88"));
  EXPECT_GE(sfu.transport.stats().datagramsReceived, 2u);

  sfu.transport.close();
  peer.closeStdin();
  EXPECT_TRUE(peer.waitExit(20s)) << peer.output();
}

INSTANTIATE_TEST_SUITE_P(Roles, ChromiumDtlsTest, ::testing::Values(DtlsRole::Server, DtlsRole::Client),
                         [](const ::testing::TestParamInfo<DtlsRole>& p) {
                           return p.param == DtlsRole::Server ? "SfuIsServer" : "SfuIsClient";
                         });
