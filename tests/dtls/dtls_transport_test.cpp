#include "dtls/dtls_transport.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/bytes.h"
#include "dtls/dtls_test_util.h"
#include "srtp/srtp_session.h"

using namespace conclave;
using namespace conclave::dtls;
using conclave::dtls::test::Link;
using conclave::dtls::test::Recorder;

namespace {

using namespace std::chrono_literals;

class DtlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sServerContext = std::make_unique<DtlsContext>(common::Certificate::generateSelfSigned("sfu"));
    sClientContext = std::make_unique<DtlsContext>(common::Certificate::generateSelfSigned("browser"));
  }
  static void TearDownTestSuite() {
    sServerContext.reset();
    sClientContext.reset();
  }

  // The SFU as DTLS server (a=setup:passive), the peer as client, fingerprints exchanged.
  void makePair(DtlsTransport::Options options = {}) {
    server = std::make_unique<DtlsTransport>(*sServerContext, DtlsRole::Server, serverEvents, options);
    client = std::make_unique<DtlsTransport>(*sClientContext, DtlsRole::Client, clientEvents, options);
    ASSERT_TRUE(server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sClientContext->localFingerprint())));
    ASSERT_TRUE(client->setRemoteFingerprint("SHA-256", std::span<const uint8_t>(sServerContext->localFingerprint())));
    link = std::make_unique<Link>(Link{*client, clientEvents, *server, serverEvents});
  }

  // The same, but the server has not got the client's fingerprint yet (the SDP answer is late).
  void makePairBeforeServerKnowsFingerprint() {
    server = std::make_unique<DtlsTransport>(*sServerContext, DtlsRole::Server, serverEvents);
    client = std::make_unique<DtlsTransport>(*sClientContext, DtlsRole::Client, clientEvents);
    ASSERT_TRUE(client->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sServerContext->localFingerprint())));
    link = std::make_unique<Link>(Link{*client, clientEvents, *server, serverEvents});
  }

  static std::unique_ptr<DtlsContext> sServerContext;
  static std::unique_ptr<DtlsContext> sClientContext;
  Recorder serverEvents, clientEvents;
  std::unique_ptr<DtlsTransport> server, client;
  std::unique_ptr<Link> link;
  TimePoint t0 = TimePoint{} + 1000s;
};

std::unique_ptr<DtlsContext> DtlsTransportTest::sServerContext;
std::unique_ptr<DtlsContext> DtlsTransportTest::sClientContext;

bool allZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// Splits a datagram holding one handshake record into two records that each carry half of the
// handshake message (as a large ClientHello, e.g. with post-quantum key shares, arrives).
std::vector<std::vector<uint8_t>> splitHandshakeRecord(const std::vector<uint8_t>& datagram) {
  common::ByteReader r(datagram);
  const uint8_t type = r.u8();
  const uint16_t version = r.u16();
  const uint16_t epoch = r.u16();
  const uint64_t seq = (uint64_t{r.u16()} << 32) | r.u32();
  const uint16_t recordLength = r.u16();
  const uint8_t msgType = r.u8();
  const uint32_t msgLength = r.u24();
  const uint16_t msgSeq = r.u16();
  const uint32_t fragOffset = r.u24();
  const uint32_t fragLength = r.u24();
  const auto body = r.bytes(fragLength);
  EXPECT_TRUE(r.ok() && type == 22 && fragOffset == 0 && fragLength == msgLength && recordLength == 12 + fragLength);
  std::vector<std::vector<uint8_t>> out;
  const uint32_t half = fragLength / 2;
  for (uint32_t part = 0; part < 2; ++part) {
    const uint32_t offset = part == 0 ? 0 : half;
    const uint32_t length = part == 0 ? half : fragLength - half;
    std::vector<uint8_t> rec(13 + 12 + length);
    common::ByteWriter w(rec);
    w.u8(type);
    w.u16(version);
    w.u16(epoch);
    w.u16(static_cast<uint16_t>((seq + part) >> 32));
    w.u32(static_cast<uint32_t>(seq + part));
    w.u16(static_cast<uint16_t>(12 + length));
    w.u8(msgType);
    w.u24(msgLength);
    w.u16(msgSeq);
    w.u24(offset);
    w.u24(length);
    w.bytes(body.subspan(offset, length));
    EXPECT_TRUE(w.ok());
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace

TEST_F(DtlsTransportTest, HandshakeDerivesMatchingSrtpKeysWithGcm) {
  makePair();
  EXPECT_EQ(server->state(), DtlsState::New);
  client->start(t0);
  EXPECT_EQ(client->state(), DtlsState::Connecting);
  ASSERT_EQ(clientEvents.outbox.size(), 1u);  // the ClientHello
  link->pump(t0);

  ASSERT_TRUE(serverEvents.connected) << serverEvents.failed.value_or("");
  ASSERT_TRUE(clientEvents.connected) << clientEvents.failed.value_or("");
  EXPECT_EQ(server->state(), DtlsState::Connected);
  EXPECT_EQ(client->state(), DtlsState::Connected);
  EXPECT_EQ(serverEvents.connected->profile, srtp::SrtpProfile::AeadAes128Gcm);
  EXPECT_EQ(clientEvents.connected->profile, srtp::SrtpProfile::AeadAes128Gcm);
  EXPECT_EQ(server->srtpProfile(), srtp::SrtpProfile::AeadAes128Gcm);
  // What one side sends with, the other receives with.
  EXPECT_EQ(serverEvents.connected->local, clientEvents.connected->remote);
  EXPECT_EQ(serverEvents.connected->remote, clientEvents.connected->local);
  EXPECT_NE(serverEvents.connected->local, serverEvents.connected->remote);
  EXPECT_EQ(serverEvents.connected->local.keyLength, 16);
  EXPECT_EQ(serverEvents.connected->local.saltLength, 12);
  EXPECT_FALSE(allZero(serverEvents.connected->local.masterKey()));
  EXPECT_FALSE(allZero(serverEvents.connected->remote.masterSalt()));
  EXPECT_EQ(serverEvents.events, 1);
  EXPECT_EQ(clientEvents.events, 1);
  EXPECT_FALSE(server->nextTimeout());
  EXPECT_FALSE(client->nextTimeout());
  for (const auto& d : serverEvents.sent) EXPECT_LE(d.size(), 1200u);
  for (const auto& d : clientEvents.sent) EXPECT_LE(d.size(), 1200u);

  // The keys drive SRTP end to end.
  const auto& s = *serverEvents.connected;
  const auto& c = *clientEvents.connected;
  srtp::SrtpSession serverSrtp(s.profile, s.local, s.remote);
  srtp::SrtpSession clientSrtp(c.profile, c.local, c.remote);
  std::vector<uint8_t> rtp(100 + srtp::kSrtpMaxRtpTrailer, 0);
  rtp[0] = 0x80;
  rtp[11] = 0x42;
  size_t len = 100;
  ASSERT_EQ(clientSrtp.protectRtp(rtp, len), srtp::SrtpResult::Ok);
  EXPECT_EQ(serverSrtp.unprotectRtp(rtp, len), srtp::SrtpResult::Ok);
  EXPECT_EQ(len, 100u);
}

TEST_F(DtlsTransportTest, SfuAsDtlsClientWorksToo) {
  // Subscribe connection where the browser answered a=setup:passive.
  auto sfu = std::make_unique<DtlsTransport>(*sServerContext, DtlsRole::Client, serverEvents);
  auto browser = std::make_unique<DtlsTransport>(*sClientContext, DtlsRole::Server, clientEvents);
  sfu->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sClientContext->localFingerprint()));
  browser->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sServerContext->localFingerprint()));
  Link l{*sfu, serverEvents, *browser, clientEvents};
  sfu->start(t0);
  l.pump(t0);
  ASSERT_TRUE(serverEvents.connected);
  ASSERT_TRUE(clientEvents.connected);
  EXPECT_EQ(serverEvents.connected->local, clientEvents.connected->remote);
  EXPECT_EQ(serverEvents.connected->remote, clientEvents.connected->local);
}

TEST_F(DtlsTransportTest, FallsBackToAesCmWhenPeerOffersOnlyThat) {
  // A peer like aiortc 1.4 that offers only SRTP_AES128_CM_SHA1_80.
  DtlsContext cmOnly(common::Certificate::generateSelfSigned("cm-only"));
  ASSERT_EQ(SSL_CTX_set_tlsext_use_srtp(cmOnly.native(), "SRTP_AES128_CM_SHA1_80"), 0);
  server = std::make_unique<DtlsTransport>(*sServerContext, DtlsRole::Server, serverEvents);
  client = std::make_unique<DtlsTransport>(cmOnly, DtlsRole::Client, clientEvents);
  server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(cmOnly.localFingerprint()));
  client->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sServerContext->localFingerprint()));
  Link l{*client, clientEvents, *server, serverEvents};
  client->start(t0);
  l.pump(t0);
  ASSERT_TRUE(serverEvents.connected);
  ASSERT_TRUE(clientEvents.connected);
  EXPECT_EQ(serverEvents.connected->profile, srtp::SrtpProfile::AesCm128HmacSha1_80);
  EXPECT_EQ(serverEvents.connected->local.saltLength, 14);
  EXPECT_EQ(serverEvents.connected->local, clientEvents.connected->remote);
}

TEST_F(DtlsTransportTest, ServerRefusesClientWithWrongFingerprint) {
  makePair();
  auto wrong = sClientContext->localFingerprint();
  wrong[31] ^= 1;
  server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(wrong));
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(serverEvents.failed);
  EXPECT_NE(serverEvents.failed->find("fingerprint"), std::string::npos) << *serverEvents.failed;
  EXPECT_EQ(server->state(), DtlsState::Failed);
  EXPECT_FALSE(serverEvents.connected);
  // The server's alert ends the client too.
  EXPECT_FALSE(clientEvents.connected);
  ASSERT_TRUE(clientEvents.failed);
  EXPECT_EQ(client->state(), DtlsState::Failed);
  // Nothing more happens once failed.
  server->feed(clientEvents.sent.back(), t0);
  EXPECT_EQ(serverEvents.events, 1);
}

TEST_F(DtlsTransportTest, ClientRefusesServerWithWrongFingerprint) {
  makePair();
  client->setRemoteFingerprint("sha-256",
                               std::span<const uint8_t>(sClientContext->localFingerprint()));  // not the server's
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(clientEvents.failed);
  EXPECT_NE(clientEvents.failed->find("fingerprint"), std::string::npos) << *clientEvents.failed;
  EXPECT_FALSE(clientEvents.connected);
  EXPECT_FALSE(serverEvents.connected);
}

TEST_F(DtlsTransportTest, FingerprintArrivingAfterTheHandshakeIsCheckedThen) {
  makePairBeforeServerKnowsFingerprint();
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(clientEvents.connected);
  EXPECT_FALSE(serverEvents.connected);  // the SDP answer has not reached the server yet
  EXPECT_EQ(server->state(), DtlsState::Connecting);
  EXPECT_EQ(server->nextTimeout(), t0 + 30s);  // the handshake deadline still runs
  EXPECT_TRUE(server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sClientContext->localFingerprint())));
  ASSERT_TRUE(serverEvents.connected);
  EXPECT_EQ(serverEvents.connected->local, clientEvents.connected->remote);
}

TEST_F(DtlsTransportTest, LateWrongFingerprintFailsAndClosesThePeer) {
  makePairBeforeServerKnowsFingerprint();
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(clientEvents.connected);
  server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(sServerContext->localFingerprint()));  // wrong one
  ASSERT_TRUE(serverEvents.failed);
  EXPECT_FALSE(serverEvents.connected);
  link->pump(t0);  // our close_notify
  EXPECT_TRUE(clientEvents.closed);
}

TEST_F(DtlsTransportTest, HandshakeTimesOutOnTheCallersClock) {
  makePair();
  client->start(t0);
  ASSERT_TRUE(client->nextTimeout());
  EXPECT_LE(*client->nextTimeout(), t0 + 200ms);  // first retransmission after ~100 ms
  client->handleTimeout(t0 + 29s);
  EXPECT_EQ(client->state(), DtlsState::Connecting);
  client->handleTimeout(t0 + 30s);
  EXPECT_EQ(client->state(), DtlsState::Failed);
  ASSERT_TRUE(clientEvents.failed);
  EXPECT_NE(clientEvents.failed->find("timed out"), std::string::npos);
  EXPECT_FALSE(client->nextTimeout());

  // A server that saw a ClientHello but nothing after it also gives up.
  server->feed(clientEvents.sent.front(), t0);
  EXPECT_EQ(server->state(), DtlsState::Connecting);
  server->handleTimeout(t0 + 31s);
  EXPECT_TRUE(serverEvents.failed);
}

TEST_F(DtlsTransportTest, LostClientHelloIsRetransmitted) {
  makePair();
  link->filter = [](bool fromClient, size_t index, const std::vector<uint8_t>&) { return !(fromClient && index == 0); };
  client->start(std::chrono::steady_clock::now());
  ASSERT_TRUE(link->runUntil([&] { return serverEvents.connected && clientEvents.connected; }, 5000ms));
  EXPECT_GE(client->stats().retransmissions, 1u);
  EXPECT_EQ(serverEvents.connected->local, clientEvents.connected->remote);
}

TEST_F(DtlsTransportTest, LostServerFlightsAreRetransmitted) {
  makePair();
  // Drop the server's first flight (ServerHello...ServerHelloDone) and its first Finished.
  bool droppedFinished = false;
  link->filter = [&](bool fromClient, size_t index, const std::vector<uint8_t>& d) {
    if (fromClient) return true;
    if (index == 0) return false;
    if (!droppedFinished && d[0] == 20) return !(droppedFinished = true);  // ChangeCipherSpec+Finished
    return true;
  };
  client->start(std::chrono::steady_clock::now());
  ASSERT_TRUE(link->runUntil([&] { return serverEvents.connected && clientEvents.connected; }, 5000ms));
  EXPECT_TRUE(droppedFinished);
  EXPECT_GE(client->stats().retransmissions, 2u);
  EXPECT_EQ(serverEvents.connected->remote, clientEvents.connected->local);
}

TEST_F(DtlsTransportTest, ReassemblesAClientHelloSplitAcrossDatagrams) {
  makePair();
  client->start(std::chrono::steady_clock::now());
  auto hello = clientEvents.takeOutbox();
  ASSERT_EQ(hello.size(), 1u);
  const auto parts = splitHandshakeRecord(hello[0]);
  server->feed(parts[0], std::chrono::steady_clock::now());
  EXPECT_TRUE(serverEvents.outbox.empty());  // waiting for the rest
  server->feed(parts[1], std::chrono::steady_clock::now());
  EXPECT_FALSE(serverEvents.outbox.empty());  // ServerHello flight
  // The forged second record used up a record number the client's next flight reuses, so
  // one retransmission is needed; the handshake must still complete.
  ASSERT_TRUE(link->runUntil([&] { return serverEvents.connected && clientEvents.connected; }, 5000ms));
}

TEST_F(DtlsTransportTest, SmallMtuFragmentsTheHandshake) {
  makePair({.mtu = 300});
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(serverEvents.connected);
  ASSERT_TRUE(clientEvents.connected);
  size_t largest = 0;
  for (const auto& d : serverEvents.sent) largest = std::max(largest, d.size());
  EXPECT_LE(largest, 300u);
  EXPECT_GT(serverEvents.sent.size(), 2u);  // the certificate flight needed several datagrams
}

TEST_F(DtlsTransportTest, CloseNotifyReachesThePeer) {
  makePair();
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(serverEvents.connected && clientEvents.connected);
  client->close();
  EXPECT_EQ(client->state(), DtlsState::Closed);
  ASSERT_EQ(clientEvents.outbox.size(), 1u);
  EXPECT_EQ(clientEvents.outbox[0][0], 21);  // alert
  EXPECT_FALSE(clientEvents.closed);         // no callback for our own close
  link->pump(t0);
  EXPECT_TRUE(serverEvents.closed);
  EXPECT_EQ(server->state(), DtlsState::Closed);
  EXPECT_FALSE(serverEvents.failed);
  EXPECT_GE(client->stats().datagramsDropped, 1u);  // the server's answering close_notify
  EXPECT_FALSE(server->sendApplicationData(std::vector<uint8_t>{1, 2, 3}));
}

TEST_F(DtlsTransportTest, ApplicationDataBothWays) {
  makePair();
  client->start(t0);
  link->pump(t0);
  ASSERT_TRUE(serverEvents.connected && clientEvents.connected);
  const std::vector<uint8_t> ping{'p', 'i', 'n', 'g'};
  const std::vector<uint8_t> big(1100, 0x5a);
  ASSERT_TRUE(client->sendApplicationData(ping));
  ASSERT_TRUE(server->sendApplicationData(big));
  link->pump(t0);
  ASSERT_EQ(serverEvents.received.size(), 1u);
  EXPECT_EQ(serverEvents.received[0], ping);
  ASSERT_EQ(clientEvents.received.size(), 1u);
  EXPECT_EQ(clientEvents.received[0], big);
}

// Demultiplexing is the caller's (WebRtcTransport, RFC 7983); the transport itself drops only
// what cannot hold a record header, and a datagram that reaches it but is not DTLS is discarded by
// OpenSSL without harm.
TEST_F(DtlsTransportTest, DropsDatagramsShorterThanARecordHeader) {
  makePair();
  const std::vector<uint8_t> shortRecord{22, 0xfe, 0xfd};
  server->feed(shortRecord, t0);
  server->feed({}, t0);
  EXPECT_EQ(server->stats().datagramsDropped, 2u);
  EXPECT_EQ(server->state(), DtlsState::New);
  // A client that has not started ignores datagrams too.
  client->feed(std::vector<uint8_t>(20, 22), t0);
  EXPECT_EQ(client->state(), DtlsState::New);
  EXPECT_EQ(client->stats().datagramsDropped, 1u);
}

TEST_F(DtlsTransportTest, BytesThatAreNotDtlsDoNotDisturbTheHandshake) {
  makePair();
  const std::vector<uint8_t> stun{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                  3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
  const std::vector<uint8_t> rtp{0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xaa, 0xbb};
  server->feed(stun, t0);
  server->feed(rtp, t0);
  client->start(t0);
  client->feed(rtp, t0);
  link->pump(t0);
  EXPECT_TRUE(serverEvents.connected);
  EXPECT_TRUE(clientEvents.connected);
  EXPECT_FALSE(serverEvents.failed);
  EXPECT_FALSE(clientEvents.failed);
}

// The text form ("AB:CD:...") is the SDP layer's to parse (sdp::parseFingerprint and its tests);
// the transport checks the algorithm and that the digest has its length.
TEST_F(DtlsTransportTest, FingerprintAlgorithmAndLength) {
  makePair();
  const auto digest = sClientContext->localFingerprint();
  EXPECT_FALSE(server->setRemoteFingerprint("md5", std::span<const uint8_t>(digest)));
  EXPECT_FALSE(server->setRemoteFingerprint("sha-256", std::span<const uint8_t>(digest).first(2)));
  EXPECT_FALSE(server->setRemoteFingerprint("sha-256", std::span<const uint8_t>()));
  EXPECT_FALSE(server->setRemoteFingerprint("sha-384", std::span<const uint8_t>(digest)));
  EXPECT_TRUE(server->setRemoteFingerprint("Sha-256", std::span<const uint8_t>(digest)));
  // The text helper the interop tests use takes either case of hex.
  std::string lower = test::fingerprintText(*sClientContext);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(test::setRemoteFingerprintText(*server, "sha-256", lower));
  EXPECT_FALSE(test::setRemoteFingerprintText(*server, "sha-256", "AB:CD"));
  std::array<uint8_t, 20> sha1{};
  EXPECT_TRUE(server->setRemoteFingerprint("sha-1", std::span<const uint8_t>(sha1)));
  // The last accepted fingerprint (a wrong SHA-1) is the one checked.
  client->start(t0);
  link->pump(t0);
  EXPECT_TRUE(serverEvents.failed);
}
