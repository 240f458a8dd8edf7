#include "ice/ice_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ice/test_util.h"

using namespace conclave::ice;
namespace net = conclave::net;
using conclave::common::ManualClock;
using conclave::ice::test::fromHex;
using std::chrono::seconds;

namespace {

// Credentials shared with tests/ice/aioice_peer.py.
const IceCredentials kLocal{"cnclvSrv", "cnclvServerPassword01234"};
const IceCredentials kRemote{"aioiCli1", "aioiceClientPassword0123"};

// Binding requests built by aioice 0.8.0 (python3-aiortc 1.4.0, Debian 12), with
// `/usr/bin/python3 tests/ice/aioice_peer.py capture`: aioice's stun.Message with the attributes
// aioice's Connection.build_request() puts in a check from the controlling side (USERNAME
// "cnclvSrv:aioiCli1", PRIORITY 0x6E7F1EFF, ICE-CONTROLLING 0x1122334455667788, and USE-CANDIDATE
// in the second), closed by aioice's add_message_integrity() (MESSAGE-INTEGRITY with the server
// password "cnclvServerPassword01234", then FINGERPRINT). Transaction id 0102...0c.
// The third is the same check with MESSAGE-INTEGRITY-SHA256 computed by Python's hmac module.
constexpr std::string_view kAioiceCheck =
    "0001004c2112a4420102030405060708090a0b0c00060011636e636c765372763a61696f69436c6931000000"
    "002400046e7f1eff802a0008112233445566778800080014ca1027516089b3896756b58141b3cbefc855e8b6"
    "80280004128f38a2";
constexpr std::string_view kAioiceNominatingCheck =
    "000100502112a4420102030405060708090a0b0c00060011636e636c765372763a61696f69436c6931000000"
    "002400046e7f1eff802a0008112233445566778800250000000800141bc89d1160f6fe56a8ab52f805ae1d76"
    "22c889ef802800041ae3d279";
constexpr std::string_view kAioiceSha256Check =
    "000100582112a4420102030405060708090a0b0c00060011636e636c765372763a61696f69436c6931000000"
    "002400046e7f1eff802a00081122334455667788001c00205bf2b3555a91ff92cdd700b5188858a773a4230c"
    "0b2c0fc1bb13a2c33175f407802800046f016f00";

// Binding requests of Chromium 156.0.8078.108 (Debian 12 package, headless), captured with
// `/usr/bin/python3 tests/ice/chromium_capture.py` over loopback: Chromium answered an ICE-lite
// offer with the server credentials above and chose ufrag "UZ+m" (pwd "2EhK+J2WI4JkEnLqrA3MK2Y0").
// Attributes: USERNAME "cnclvSrv:UZ+m", GOOG-NETWORK-INFO (0xC057, comprehension-optional),
// ICE-CONTROLLING, [USE-CANDIDATE,] PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT. Sent from
// 127.0.0.1:60034. The first check has no USE-CANDIDATE; Chromium nominated in the next one.
const IceCredentials kChromium{"UZ+m", "2EhK+J2WI4JkEnLqrA3MK2Y0"};
constexpr std::string_view kChromiumCheck =
    "000100502112a442442b76536e3448706b64772f0006000d636e636c765372763a555a2b6d000000c0570004"
    "000003e7802a00080fc53c7c429be916002400046e001eff000800144da44e97db12de7507c56637af01d407"
    "b604901580280004965523bc";
constexpr std::string_view kChromiumNominatingCheck =
    "000100542112a44275726130764569494432364f0006000d636e636c765372763a555a2b6d000000c0570004"
    "000003e7802a00080fc53c7c429be91600250000002400046e001eff000800145b515272579b408cfbe1118d"
    "0df2bc928d570425802800048d419def";
// The first bytes of the DTLS ClientHello record Chromium sent next on the same 5-tuple.
constexpr std::string_view kChromiumDtlsStart = "16feff000000000000000004a301000585";

struct Check {
  std::string username = kLocal.ufrag + ":" + kRemote.ufrag;
  std::string password = kLocal.pwd;
  bool useCandidate = false;
  bool controlling = true;
  bool controlled = false;
  bool integrity = true;
  bool sha256 = false;
  bool fingerprint = true;
  bool withUsername = true;
  std::optional<uint16_t> extraAttribute;
  uint16_t method = kStunMethodBinding;
  StunClass cls = StunClass::Request;
};

std::vector<uint8_t> makeCheck(const Check& c) {
  static uint8_t counter = 0;
  StunTransactionId id{};
  id.fill(++counter);
  std::array<uint8_t, 512> out{};
  StunBuilder b(out, c.method, c.cls, id);
  if (c.withUsername) b.addUsername(c.username);
  b.addPriority(0x6E7F1EFF);
  if (c.controlling) b.addIceControlling(0x1122334455667788ULL);
  if (c.controlled) b.addIceControlled(0x1122334455667788ULL);
  if (c.useCandidate) b.addUseCandidate();
  if (c.extraAttribute) b.addAttribute(*c.extraAttribute, std::array<uint8_t, 4>{});
  if (c.integrity) {
    if (c.sha256) {
      b.addMessageIntegritySha256(c.password);
    } else {
      b.addMessageIntegrity(c.password);
    }
  }
  if (c.fingerprint) b.addFingerprint();
  EXPECT_TRUE(b.ok());
  return {b.bytes().begin(), b.bytes().end()};
}

class RecordingListener : public IceServer::Listener {
 public:
  void onIceSelectedEndpoint(IceServer&, const net::Endpoint& endpoint) override { selected.push_back(endpoint); }
  void onIceDisconnected(IceServer&, IceServer::DisconnectReason reason) override { disconnects.push_back(reason); }
  void onIceSendRequest(IceServer&, std::span<const uint8_t> request, const net::Endpoint& to) override {
    requests.push_back({{request.begin(), request.end()}, to});
  }
  void onIceEndpointRemoved(IceServer&, const net::Endpoint& endpoint) override { removed.push_back(endpoint); }
  // How many of our checks went to `to`.
  size_t requestsTo(const net::Endpoint& to) const {
    return static_cast<size_t>(
        std::count_if(requests.begin(), requests.end(), [&](const auto& r) { return r.to == to; }));
  }
  struct Sent {
    std::vector<uint8_t> bytes;
    net::Endpoint to;
  };
  std::vector<net::Endpoint> selected;
  std::vector<IceServer::DisconnectReason> disconnects;
  std::vector<Sent> requests;
  std::vector<net::Endpoint> removed;
};

// The browser's answer to a check of ours: success, same transaction id, signed with its password.
std::vector<uint8_t> answerTo(std::span<const uint8_t> request, const net::Endpoint& mapped,
                              std::string_view password = kRemote.pwd) {
  auto req = StunMessage::parse(request);
  EXPECT_TRUE(req);
  std::array<uint8_t, 256> out{};
  auto b = StunBuilder::responseTo(*req, StunClass::SuccessResponse, out);
  b.addXorMappedAddress(mapped);
  b.addMessageIntegrity(password);
  b.addFingerprint();
  return {b.bytes().begin(), b.bytes().end()};
}

// Answers the last check the server sent to `peer`, from `peer` (what a real browser does).
bool answerLast(IceServer& server, const RecordingListener& listener, const net::Endpoint& peer,
                conclave::common::TimePoint now, std::string_view password = kRemote.pwd) {
  for (auto it = listener.requests.rbegin(); it != listener.requests.rend(); ++it) {
    if (it->to != peer) continue;
    std::array<uint8_t, IceServer::kMaxResponseSize> out{};
    auto r = server.handleStun(answerTo(it->bytes, peer, password), peer, now, out);
    return r.response.empty();
  }
  return false;
}

class IceServerTest : public ::testing::Test {
 protected:
  IceServerTest() : server(listener, kLocal, kRemote, clock.now()) {}

  IceServer::Result send(const std::vector<uint8_t>& datagram, const net::Endpoint& from) {
    return server.handleStun(datagram, from, clock.now(), responseBuffer);
  }
  // The peer at `from` answers our last check to it.
  void confirm(const net::Endpoint& from) { EXPECT_TRUE(answerLast(server, listener, from, clock.now())); }
  // A nominating check from `from`, and the answer to our return-path check.
  void nominate(const net::Endpoint& from) {
    EXPECT_EQ(send(makeCheck({.useCandidate = true}), from).outcome, IceServer::Outcome::Success);
    confirm(from);
  }
  // Parses the response and checks that it answers `request`.
  StunMessage response(const IceServer::Result& result, const std::vector<uint8_t>& request) {
    auto m = StunMessage::parse(result.response);
    EXPECT_TRUE(m);
    auto req = StunMessage::parse(request);
    EXPECT_TRUE(std::equal(m->transactionId().begin(), m->transactionId().end(), req->transactionId().begin()));
    EXPECT_EQ(m->method(), kStunMethodBinding);
    EXPECT_TRUE(checkFingerprint(*m));  // every answer carries FINGERPRINT
    return *m;
  }

  ManualClock clock;
  RecordingListener listener;
  IceServer server;
  std::array<uint8_t, IceServer::kMaxResponseSize> responseBuffer{};
  const net::Endpoint browser = *net::Endpoint::parse("203.0.113.5:54321");
  const net::Endpoint browser2 = *net::Endpoint::parse("198.51.100.20:40000");
};

}  // namespace

TEST(IceCredentials, GeneratedAreValidAndDistinct) {
  // RFC 8839 §5.4 ice-char: ALPHA / DIGIT / "+" / "/".
  const auto iceChars = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; });
  };
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto c = IceCredentials::generate();
    EXPECT_EQ(c.ufrag.size(), 8u);
    EXPECT_EQ(c.pwd.size(), 24u);  // 144 bits, within 22..256
    EXPECT_TRUE(iceChars(c.ufrag) && iceChars(c.pwd)) << c.ufrag << " " << c.pwd;
    EXPECT_TRUE(seen.insert(c.pwd).second);
  }
}

TEST_F(IceServerTest, ValidCheckIsAnsweredWithXorMappedAddress) {
  const auto request = makeCheck({});
  auto result = send(request, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  auto m = response(result, request);
  EXPECT_EQ(m.messageClass(), StunClass::SuccessResponse);
  ASSERT_TRUE(m.xorMappedAddress());
  EXPECT_EQ(*m.xorMappedAddress(), browser);
  EXPECT_TRUE(checkIntegrity(m, kLocal.pwd));
  EXPECT_FALSE(checkIntegrity(m, kRemote.pwd));
  EXPECT_LE(result.response.size(), IceServer::kMaxResponseSize);
  // A check without USE-CANDIDATE validates the pair but selects nothing.
  EXPECT_TRUE(server.isValidated(browser));
  EXPECT_FALSE(server.isValidated(browser2));
  EXPECT_FALSE(server.selectedEndpoint());
  EXPECT_EQ(server.state(), IceServer::State::New);
  EXPECT_TRUE(listener.selected.empty());
  EXPECT_EQ(server.stats().successes, 1u);
}

TEST_F(IceServerTest, AioiceChecksAreAnsweredAndNominate) {
  const auto check = fromHex(kAioiceCheck);
  auto result = send(check, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  auto m = response(result, check);
  EXPECT_TRUE(checkIntegrity(m, kLocal.pwd));
  EXPECT_EQ(*m.xorMappedAddress(), browser);
  EXPECT_TRUE(listener.selected.empty());

  const auto nominating = fromHex(kAioiceNominatingCheck);
  result = send(nominating, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_TRUE(listener.selected.empty());  // not before the return path answered
  confirm(browser);
  ASSERT_EQ(listener.selected.size(), 1u);
  EXPECT_EQ(listener.selected[0], browser);
  EXPECT_EQ(server.state(), IceServer::State::Connected);
}

TEST_F(IceServerTest, Sha256CheckIsAnsweredWithSha256Integrity) {
  const auto check = fromHex(kAioiceSha256Check);
  auto result = send(check, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  auto m = response(result, check);
  EXPECT_FALSE(m.hasMessageIntegrity());
  EXPECT_TRUE(m.hasMessageIntegritySha256());
  EXPECT_TRUE(checkIntegritySha256(m, kLocal.pwd));

  const auto ours = makeCheck({.sha256 = true});
  EXPECT_EQ(send(ours, browser).outcome, IceServer::Outcome::Success);
  const auto wrong = makeCheck({.password = "wrongPasswordWrongPassword", .sha256 = true});
  EXPECT_EQ(send(wrong, browser).errorCode, 401);
}

TEST_F(IceServerTest, WrongPasswordIsRejectedWith401WithoutIntegrity) {
  const auto request = makeCheck({.password = "notTheServerPassword0123"});
  auto result = send(request, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::ErrorResponse);
  EXPECT_EQ(result.errorCode, 401);
  auto m = response(result, request);
  EXPECT_EQ(m.messageClass(), StunClass::ErrorResponse);
  EXPECT_EQ(m.errorCode()->code, 401);
  EXPECT_EQ(m.errorCode()->reason, "Unauthenticated");
  EXPECT_FALSE(m.hasMessageIntegrity());
  EXPECT_FALSE(m.xorMappedAddress());
  EXPECT_FALSE(server.isValidated(browser));
  EXPECT_EQ(server.stats().unauthenticated, 1u);
  // The captured aioice check with one bit of its HMAC flipped, FINGERPRINT recomputed.
  auto tampered = fromHex(kAioiceCheck);
  tampered[tampered.size() - 9] ^= 1;
  std::array<uint8_t, 128> fixed{};
  StunBuilder rebuilt(fixed, kStunMethodBinding, StunClass::Request, StunMessage::parse(tampered)->transactionId());
  for (StunAttribute a : StunMessage::parse(tampered)->attributes()) {
    if (a.type != stun_attr::kFingerprint) rebuilt.addAttribute(a.type, a.value);
  }
  rebuilt.addFingerprint();
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(send({rebuilt.bytes().begin(), rebuilt.bytes().end()}, browser).errorCode, 401);
}

TEST_F(IceServerTest, WrongUsernameIsRejectedWith401) {
  for (const std::string& username :
       {"otherUfrag:" + kRemote.ufrag, kLocal.ufrag + ":otherRemote", kLocal.ufrag + ":", kLocal.ufrag,
        kRemote.ufrag + ":" + kLocal.ufrag, kLocal.ufrag + "x:" + kRemote.ufrag, std::string()}) {
    const auto request = makeCheck({.username = username});
    auto result = send(request, browser);
    EXPECT_EQ(result.outcome, IceServer::Outcome::ErrorResponse) << username;
    EXPECT_EQ(result.errorCode, 401) << username;
  }
  EXPECT_FALSE(server.isValidated(browser));
}

TEST_F(IceServerTest, MissingUsernameOrIntegrityIs400) {
  for (const Check& c : {Check{.withUsername = false}, Check{.integrity = false}}) {
    const auto request = makeCheck(c);
    auto result = send(request, browser);
    ASSERT_EQ(result.outcome, IceServer::Outcome::ErrorResponse);
    EXPECT_EQ(result.errorCode, 400);
    auto m = response(result, request);
    EXPECT_EQ(m.errorCode()->code, 400);
    EXPECT_FALSE(m.hasMessageIntegrity());
  }
  // Another method (TURN Allocate) is a bad request for an ICE agent.
  EXPECT_EQ(send(makeCheck({.method = 0x003}), browser).errorCode, 400);
  EXPECT_EQ(server.stats().badRequests, 3u);
  EXPECT_FALSE(server.isValidated(browser));
}

TEST_F(IceServerTest, DropsWhatIsNotAnAuthenticatableRequest) {
  auto badFingerprint = makeCheck({});
  badFingerprint.back() ^= 1;
  auto r = send(badFingerprint, browser);
  EXPECT_EQ(r.outcome, IceServer::Outcome::Dropped);
  EXPECT_EQ(r.dropReason, IceServer::DropReason::BadFingerprint);
  EXPECT_TRUE(r.response.empty());

  r = send(makeCheck({.cls = StunClass::Indication}), browser);
  EXPECT_EQ(r.dropReason, IceServer::DropReason::NotRequest);
  r = send(fromHex(test::kRfc5769Ipv4Response), browser);
  EXPECT_EQ(r.dropReason, IceServer::DropReason::NotRequest);

  r = send(fromHex("16fefd000000000000000000"), browser);
  EXPECT_EQ(r.dropReason, IceServer::DropReason::Malformed);
  r = send({}, browser);
  EXPECT_EQ(r.dropReason, IceServer::DropReason::Malformed);

  // A check without FINGERPRINT is still fine (FINGERPRINT is checked only when present).
  EXPECT_EQ(send(makeCheck({.fingerprint = false}), browser).outcome, IceServer::Outcome::Success);
  EXPECT_EQ(server.stats().badFingerprints, 1u);
  EXPECT_EQ(server.stats().ignored, 2u);
  EXPECT_EQ(server.stats().malformed, 2u);
}

TEST_F(IceServerTest, UnknownComprehensionRequiredAttributeIs420) {
  const auto request = makeCheck({.extraAttribute = 0x0003});
  auto result = send(request, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::ErrorResponse);
  EXPECT_EQ(result.errorCode, 420);
  auto m = response(result, request);
  std::array<uint16_t, 4> unknown{};
  ASSERT_EQ(m.unknownAttributes(unknown), 1u);
  EXPECT_EQ(unknown[0], 0x0003);
  EXPECT_TRUE(checkIntegrity(m, kLocal.pwd));  // authenticated request: signed answer
  // Comprehension-optional unknown attributes (e.g. Chrome's GOOG-NETWORK-INFO) are fine.
  EXPECT_EQ(send(makeCheck({.extraAttribute = 0xC057}), browser).outcome, IceServer::Outcome::Success);
}

TEST_F(IceServerTest, WorstCaseAnswerFitsMaxResponseSize) {
  // Eight unknown attributes and MESSAGE-INTEGRITY-SHA256: the largest answer the server writes.
  StunTransactionId id{};
  std::array<uint8_t, 512> out{};
  StunBuilder b(out, kStunMethodBinding, StunClass::Request, id);
  b.addUsername(kLocal.ufrag + ":" + kRemote.ufrag);
  b.addIceControlling(1);
  for (uint16_t t = 0x0040; t < 0x0050; ++t) b.addAttribute(t, {});
  b.addMessageIntegritySha256(kLocal.pwd);
  b.addFingerprint();
  ASSERT_TRUE(b.ok());
  auto result = send({b.bytes().begin(), b.bytes().end()}, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::ErrorResponse);
  EXPECT_EQ(result.errorCode, 420);
  EXPECT_LE(result.response.size(), IceServer::kMaxResponseSize);
  // Any larger IPv6 success answer fits too.
  auto v6 = *net::Endpoint::parse("[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  result = send(makeCheck({.sha256 = true}), v6);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_LE(result.response.size(), IceServer::kMaxResponseSize);
  // And a too small buffer drops instead of writing past it.
  std::array<uint8_t, 40> small{};
  auto dropped = server.handleStun(makeCheck({}), browser, clock.now(), small);
  EXPECT_EQ(dropped.outcome, IceServer::Outcome::Dropped);
  EXPECT_EQ(dropped.dropReason, IceServer::DropReason::BufferTooSmall);
}

TEST_F(IceServerTest, RoleConflictIsAnswered487) {
  const auto request = makeCheck({.controlling = false, .controlled = true});
  auto result = send(request, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::ErrorResponse);
  EXPECT_EQ(result.errorCode, 487);
  auto m = response(result, request);
  EXPECT_EQ(m.errorCode()->code, 487);
  EXPECT_EQ(m.errorCode()->reason, "Role Conflict");
  EXPECT_TRUE(checkIntegrity(m, kLocal.pwd));
  EXPECT_FALSE(server.isValidated(browser));
  EXPECT_EQ(server.stats().roleConflicts, 1u);

  // After switching to controlling (RFC 8445 §7.2.5.1) the peer's retry succeeds.
  EXPECT_EQ(send(makeCheck({}), browser).outcome, IceServer::Outcome::Success);
  // Both roles at once is malformed.
  EXPECT_EQ(send(makeCheck({.controlling = true, .controlled = true}), browser).errorCode, 400);
  // A check with neither attribute is accepted (lenient towards minimal peers).
  EXPECT_EQ(send(makeCheck({.controlling = false}), browser).outcome, IceServer::Outcome::Success);
}

TEST(IceServerConfig, RoleConflictAnswerCanBeTurnedOff) {
  RecordingListener listener;
  IceServer::Config config;
  config.answerRoleConflict = false;
  IceServer server(listener, kLocal, kRemote, {}, config);
  std::array<uint8_t, IceServer::kMaxResponseSize> out{};
  auto result = server.handleStun(makeCheck({.controlling = false, .controlled = true}),
                                  *net::Endpoint::parse("192.0.2.1:1"), {}, out);
  EXPECT_EQ(result.outcome, IceServer::Outcome::Success);
}

TEST_F(IceServerTest, UseCandidateSelectsOnlyAfterTheReturnPathAnswered) {
  EXPECT_EQ(send(makeCheck({}), browser).outcome, IceServer::Outcome::Success);
  // The first check from an address gets a check of ours back: USERNAME "theirs:ours",
  // ICE-CONTROLLED, signed with the browser's password.
  ASSERT_EQ(listener.requestsTo(browser), 1u);
  auto ours = StunMessage::parse(listener.requests[0].bytes);
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->messageClass(), StunClass::Request);
  EXPECT_EQ(ours->username(), kRemote.ufrag + ":" + kLocal.ufrag);
  EXPECT_TRUE(ours->iceControlled());
  EXPECT_FALSE(ours->useCandidate());
  EXPECT_TRUE(checkIntegrity(*ours, kRemote.pwd));
  EXPECT_TRUE(checkFingerprint(*ours));

  EXPECT_EQ(send(makeCheck({.useCandidate = true}), browser).outcome, IceServer::Outcome::Success);
  EXPECT_TRUE(listener.selected.empty());
  EXPECT_FALSE(server.selectedEndpoint());
  // An answer signed with the wrong password, or from another address, proves nothing.
  EXPECT_TRUE(answerLast(server, listener, browser, clock.now(), "notTheBrowserPassword012"));
  auto reply = answerTo(listener.requests.back().bytes, browser);
  server.handleStun(reply, browser2, clock.now(), responseBuffer);
  EXPECT_FALSE(server.selectedEndpoint());
  EXPECT_FALSE(server.isConfirmed(browser, clock.now()));
  // The real answer from the address itself selects it.
  confirm(browser);
  ASSERT_EQ(listener.selected.size(), 1u);
  EXPECT_EQ(listener.selected[0], browser);
  EXPECT_EQ(server.selectedEndpoint(), browser);
  EXPECT_EQ(server.state(), IceServer::State::Connected);
  EXPECT_EQ(server.stats().checksAnswered, 1u);
  // A replayed answer (same transaction id) counts once.
  server.handleStun(reply, browser, clock.now(), responseBuffer);
  EXPECT_EQ(server.stats().checksAnswered, 1u);
}

TEST_F(IceServerTest, SpoofedNominationNeverMovesMedia) {
  nominate(browser);
  ASSERT_EQ(server.selectedEndpoint(), browser);
  // The participant (who knows the password) sends nominating checks with a third party's
  // source address, again and again. The third party never answers our checks.
  const auto victim = *net::Endpoint::parse("192.0.2.99:9");
  for (int i = 0; i < 50; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    EXPECT_EQ(send(makeCheck({.useCandidate = true}), victim).outcome, IceServer::Outcome::Success);
    server.tick(clock.now());
    confirm(browser);  // the real browser keeps answering consent checks
  }
  EXPECT_EQ(server.selectedEndpoint(), browser);
  EXPECT_EQ(listener.selected.size(), 1u);
  // What the victim got from us beyond the answers: at most one check per request it "sent",
  // paced by checkRetry (500 ms): about 10 here.
  EXPECT_LE(listener.requestsTo(victim), 11u);
  EXPECT_GE(listener.requestsTo(victim), 1u);
}

TEST_F(IceServerTest, ANewNominationSwitchesAfterItsRoundTripAndTheSwitchInterval) {
  nominate(browser);
  // Consent checks on the selected pair, with or without USE-CANDIDATE, change nothing.
  send(makeCheck({.useCandidate = true}), browser);
  send(makeCheck({}), browser);
  // Checks on another path do not move media...
  send(makeCheck({}), browser2);
  confirm(browser2);
  EXPECT_EQ(listener.selected.size(), 1u);
  EXPECT_TRUE(server.isValidated(browser2));
  // ...until that path is nominated (e.g. the browser moved from Wi-Fi to cellular), and not
  // sooner than switchInterval (2 s) after the last switch.
  send(makeCheck({.useCandidate = true}), browser2);
  EXPECT_EQ(server.selectedEndpoint(), browser);
  EXPECT_EQ(server.stats().switchesDeferred, 1u);
  clock.advance(seconds(2));
  server.tick(clock.now());
  ASSERT_EQ(listener.selected.size(), 2u);
  EXPECT_EQ(listener.selected[1], browser2);
  EXPECT_EQ(server.selectedEndpoint(), browser2);
  EXPECT_EQ(server.stats().selections, 2u);
  // A failed check never nominates.
  send(makeCheck({.password = "notTheServerPassword0123", .useCandidate = true}), browser);
  clock.advance(seconds(3));
  server.tick(clock.now());
  EXPECT_EQ(server.selectedEndpoint(), browser2);
}

TEST_F(IceServerTest, ConsentExpiresThirtySecondsAfterTheLastAnswerToOurChecks) {
  nominate(browser);
  ASSERT_EQ(server.state(), IceServer::State::Connected);
  // Consent checks go out every 5 s (x 0.8..1.2), one a second while the last is unanswered:
  // the first at 4..6 s, the second 4..6 s later, then one a second, so 10..14 in 20 s.
  const size_t before = listener.requestsTo(browser);
  for (int i = 0; i < 200; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    server.tick(clock.now());
  }
  const size_t consentChecks = listener.requestsTo(browser) - before;
  EXPECT_GE(consentChecks, 10u);
  EXPECT_LE(consentChecks, 14u);
  confirm(browser);  // consent refreshed 20 s in
  // The peer's own requests do not refresh consent (anyone can spoof a source address)...
  for (int i = 0; i < 29; ++i) {
    clock.advance(seconds(1));
    send(makeCheck({}), browser);
    EXPECT_EQ(server.tick(clock.now()), IceServer::State::Connected);
  }
  // ...and consent ends 30 s after the last answer.
  clock.advance(seconds(1));
  EXPECT_EQ(server.tick(clock.now()), IceServer::State::Disconnected);
  ASSERT_EQ(listener.disconnects.size(), 1u);
  EXPECT_EQ(listener.disconnects[0], IceServer::DisconnectReason::ConsentExpired);
  EXPECT_FALSE(server.selectedEndpoint());
  EXPECT_FALSE(server.isValidated(browser));
  // Reported once.
  clock.advance(seconds(60));
  EXPECT_EQ(server.tick(clock.now()), IceServer::State::Disconnected);
  EXPECT_EQ(listener.disconnects.size(), 1u);
  // A new nomination with its round trip connects again.
  nominate(browser);
  EXPECT_EQ(server.state(), IceServer::State::Connected);
  EXPECT_EQ(listener.selected.size(), 2u);
}

TEST_F(IceServerTest, ConsentFollowsTheSelectedPairNotOthers) {
  nominate(browser);
  clock.advance(seconds(25));
  send(makeCheck({}), browser2);  // another path alive, but not nominated
  confirm(browser2);
  // The selected pair keeps answering (the browser has two working paths): it stays selected,
  // and its consent alone decides.
  for (int i = 0; i < 300; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    server.tick(clock.now());
    confirm(browser);
  }
  EXPECT_EQ(server.selectedEndpoint(), browser);
  EXPECT_EQ(listener.selected.size(), 1u);
  EXPECT_EQ(server.state(), IceServer::State::Connected);
}

TEST_F(IceServerTest, NatRebindingMovesMediaToTheNewPortOnceItAnswers) {
  nominate(browser);
  clock.advance(seconds(3));
  // The NAT gives the browser a new port. The browser does not know: it goes on checking what it
  // sees as the same pair, without USE-CANDIDATE; its checks now come from the new port, and
  // what we send to the old one is lost.
  const auto rebound = *net::Endpoint::parse("203.0.113.5:60001");
  EXPECT_EQ(send(makeCheck({}), rebound).outcome, IceServer::Outcome::Success);
  EXPECT_EQ(server.selectedEndpoint(), browser);  // a request alone moves nothing
  const size_t probesBefore = listener.requestsTo(browser);
  confirm(rebound);                               // our return-path check is answered from there
  EXPECT_EQ(server.selectedEndpoint(), browser);  // the old path may still be alive: probe it first
  // The old path is probed at once, and again a second later; both go unanswered, so the new
  // port takes over about a second after it answered (not after a 5 s consent interval).
  const auto start = clock.now();
  for (int i = 0; i < 40 && server.selectedEndpoint() == browser; ++i) {
    clock.advance(std::chrono::milliseconds(50));
    server.tick(clock.now());
  }
  EXPECT_EQ(server.selectedEndpoint(), rebound);
  ASSERT_EQ(listener.selected.size(), 2u);
  EXPECT_EQ(listener.selected[1], rebound);
  EXPECT_EQ(listener.requestsTo(browser) - probesBefore, 2u);
  EXPECT_LE(clock.now() - start, std::chrono::milliseconds(1100));
  EXPECT_GE(clock.now() - start, std::chrono::milliseconds(1000));
  // A late nominating check from the old port (delayed in the network) does not move media back
  // there while it does not answer.
  send(makeCheck({.useCandidate = true}), browser);
  for (int i = 0; i < 40; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    server.tick(clock.now());
    confirm(rebound);
  }
  EXPECT_EQ(server.selectedEndpoint(), rebound);
  // Consent now runs on the new pair and the call carries on there.
  for (int i = 0; i < 600; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    EXPECT_EQ(server.tick(clock.now()), IceServer::State::Connected);
    confirm(rebound);
  }
  EXPECT_EQ(server.selectedEndpoint(), rebound);
  EXPECT_FALSE(server.isValidated(browser));  // the old port expired from the table
  EXPECT_TRUE(listener.disconnects.empty());
}

TEST_F(IceServerTest, AnotherAnsweringAddressDoesNotTakeOverWhileTheSelectedOneAnswers) {
  nominate(browser);
  clock.advance(seconds(3));
  send(makeCheck({}), browser2);
  confirm(browser2);
  // The probe of the selected pair is answered: nothing moves.
  for (int i = 0; i < 100; ++i) {
    clock.advance(std::chrono::milliseconds(50));
    server.tick(clock.now());
    confirm(browser);
  }
  EXPECT_EQ(server.selectedEndpoint(), browser);
  EXPECT_EQ(listener.selected.size(), 1u);
}

TEST_F(IceServerTest, AFailingPathIsNeverReplacedByASpoofedOrUnauthenticatedSource) {
  nominate(browser);
  // The browser vanishes; its path stops answering. A hostile participant (who knows the
  // password) sends checks with a victim's source address; someone without the password sends
  // checks from a third address, and even answers our checks (with a guessed password).
  const auto victim = *net::Endpoint::parse("192.0.2.99:9");
  const auto stranger = *net::Endpoint::parse("[2001:db8::66]:4444");
  for (int i = 0; i < 350; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    if (i % 10 == 0) {
      send(makeCheck({.useCandidate = i % 20 == 0}), victim);
      const auto refused = send(makeCheck({.password = "notTheServerPassword0123", .useCandidate = true}), stranger);
      EXPECT_EQ(refused.errorCode, stun_error::kUnauthenticated);
      if (!listener.requests.empty()) {
        server.handleStun(answerTo(listener.requests.back().bytes, stranger, "guessedBrowserPassword01"), stranger,
                          clock.now(), responseBuffer);
      }
    }
    server.tick(clock.now());
    if (server.state() == IceServer::State::Disconnected) break;
  }
  // Media never went to either; consent expired and the owner was told (the client restarts ICE).
  EXPECT_EQ(listener.selected.size(), 1u);
  EXPECT_FALSE(server.isValidated(stranger));
  EXPECT_EQ(listener.requestsTo(stranger), 0u);
  EXPECT_EQ(server.state(), IceServer::State::Disconnected);
  ASSERT_EQ(listener.disconnects.size(), 1u);
  EXPECT_EQ(listener.disconnects[0], IceServer::DisconnectReason::ConsentExpired);
}

TEST(IceServerConfig, ConnectTimeoutAndConfigurableConsent) {
  RecordingListener listener;
  ManualClock clock;
  IceServer::Config config;
  config.consentTimeout = seconds(5);
  config.connectTimeout = seconds(10);
  IceServer server(listener, kLocal, kRemote, clock.now(), config);
  EXPECT_EQ(server.nextDeadline(), clock.now() + seconds(10));
  clock.advance(seconds(9));
  EXPECT_EQ(server.tick(clock.now()), IceServer::State::New);
  clock.advance(seconds(1));
  EXPECT_EQ(server.tick(clock.now()), IceServer::State::Disconnected);
  ASSERT_EQ(listener.disconnects.size(), 1u);
  EXPECT_EQ(listener.disconnects[0], IceServer::DisconnectReason::ConnectTimeout);

  IceServer fast(listener, kLocal, kRemote, clock.now(), config);
  std::array<uint8_t, IceServer::kMaxResponseSize> out{};
  const auto from = *net::Endpoint::parse("192.0.2.1:1");
  fast.handleStun(makeCheck({.useCandidate = true}), from, clock.now(), out);
  EXPECT_TRUE(answerLast(fast, listener, from, clock.now()));
  clock.advance(seconds(4));
  EXPECT_EQ(fast.tick(clock.now()), IceServer::State::Connected);
  clock.advance(seconds(1));
  EXPECT_EQ(fast.tick(clock.now()), IceServer::State::Disconnected);
  EXPECT_EQ(listener.disconnects.back(), IceServer::DisconnectReason::ConsentExpired);
}

TEST_F(IceServerTest, RestartKeepsOldCredentialsUntilTheFirstNewCheck) {
  nominate(browser);
  const IceCredentials newRemote{"aioiCli2", "aioiceClientPassword9999"};
  const IceCredentials newLocal = server.restart(newRemote);
  EXPECT_EQ(newLocal.pwd.size(), 24u);  // freshly generated (IceCredentials::generate)
  EXPECT_NE(newLocal, kLocal);
  EXPECT_EQ(server.localCredentials(), newLocal);
  EXPECT_TRUE(server.restartPending());
  EXPECT_EQ(server.selectedEndpoint(), browser);  // media keeps flowing during the restart

  // Old credentials still answered, and signed with the old password.
  auto oldCheck = makeCheck({});
  auto result = send(oldCheck, browser);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_TRUE(checkIntegrity(response(result, oldCheck), kLocal.pwd));

  // The first check with the new credentials completes the restart.
  auto newCheck =
      makeCheck({.username = newLocal.ufrag + ":" + newRemote.ufrag, .password = newLocal.pwd, .useCandidate = true});
  clock.advance(seconds(2));
  result = send(newCheck, browser2);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_TRUE(checkIntegrity(response(result, newCheck), newLocal.pwd));
  EXPECT_FALSE(server.restartPending());
  // Our check to the new path uses the new credentials; the browser answers with its new password.
  auto ours = StunMessage::parse(listener.requests.back().bytes);
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->username(), newRemote.ufrag + ":" + newLocal.ufrag);
  EXPECT_TRUE(answerLast(server, listener, browser2, clock.now(), newRemote.pwd));
  EXPECT_EQ(server.selectedEndpoint(), browser2);

  // From now on the old credentials are refused.
  EXPECT_EQ(send(makeCheck({}), browser).errorCode, 401);
  // Mixing new local and old remote ufrag is refused too.
  EXPECT_EQ(
      send(makeCheck({.username = newLocal.ufrag + ":" + kRemote.ufrag, .password = newLocal.pwd}), browser).errorCode,
      401);
}

TEST_F(IceServerTest, RestartWithGivenLocalCredentials) {
  const IceCredentials newLocal{"srvNew1", "cnclvServerPasswordNew01"};
  EXPECT_EQ(server.restart(std::nullopt, newLocal), newLocal);
  // Remote side not known yet: any remote ufrag half is accepted with the new local credentials.
  EXPECT_EQ(send(makeCheck({.username = "srvNew1:whatever", .password = newLocal.pwd}), browser).outcome,
            IceServer::Outcome::Success);
}

TEST(IceServerEarlyChecks, AcceptedBeforeRemoteCredentialsAreKnown) {
  RecordingListener listener;
  IceServer server(listener, kLocal, std::nullopt, {});
  std::array<uint8_t, IceServer::kMaxResponseSize> out{};
  const auto from = *net::Endpoint::parse("192.0.2.1:1");
  EXPECT_EQ(server.handleStun(makeCheck({}), from, {}, out).outcome, IceServer::Outcome::Success);
  EXPECT_EQ(server.handleStun(makeCheck({.username = kLocal.ufrag + ":"}), from, {}, out).errorCode,
            401);  // the remote half must not be empty
  EXPECT_EQ(server.handleStun(makeCheck({.password = kRemote.pwd}), from, {}, out).errorCode, 401);
  server.setRemoteCredentials(kRemote);
  EXPECT_EQ(server.handleStun(makeCheck({.username = kLocal.ufrag + ":other"}), from, {}, out).errorCode, 401);
  EXPECT_EQ(server.handleStun(makeCheck({}), from, {}, out).outcome, IceServer::Outcome::Success);
}

TEST_F(IceServerTest, MappedAndIpv6SourcesGetTheRightMappedAddress) {
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the peer must see its IPv4.
  const auto mapped = *net::Endpoint::parse("[::ffff:203.0.113.5]:54321");
  auto request = makeCheck({.useCandidate = true});
  auto result = send(request, mapped);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_EQ(*response(result, request).xorMappedAddress(), browser);
  EXPECT_EQ(listener.requestsTo(mapped), 1u);  // our check goes out through the same socket
  confirm(mapped);
  EXPECT_EQ(server.selectedEndpoint(), mapped);  // replies go out through the same socket

  const auto v6 = *net::Endpoint::parse("[2001:db8::77]:3478");
  request = makeCheck({});
  result = send(request, v6);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_EQ(*response(result, request).xorMappedAddress(), v6);
}

TEST(IceServerPairs, TableIsBoundedAndKeepsTheSelectedPair) {
  RecordingListener listener;
  ManualClock clock;
  IceServer::Config config;
  config.maxPairs = 2;
  IceServer server(listener, kLocal, kRemote, clock.now(), config);
  std::array<uint8_t, IceServer::kMaxResponseSize> out{};
  const auto a = *net::Endpoint::parse("192.0.2.1:1");
  const auto b = *net::Endpoint::parse("192.0.2.2:2");
  const auto c = *net::Endpoint::parse("192.0.2.3:3");
  server.handleStun(makeCheck({.useCandidate = true}), a, clock.now(), out);
  EXPECT_TRUE(answerLast(server, listener, a, clock.now()));
  clock.advance(seconds(1));
  server.handleStun(makeCheck({}), b, clock.now(), out);
  clock.advance(seconds(1));
  server.handleStun(makeCheck({}), c, clock.now(), out);  // evicts b, not the selected a
  EXPECT_TRUE(server.isValidated(a));
  EXPECT_FALSE(server.isValidated(b));
  EXPECT_TRUE(server.isValidated(c));
  EXPECT_EQ(server.selectedEndpoint(), a);
  // The owner is told, so the worker's routing table forgets b too.
  ASSERT_EQ(listener.removed.size(), 1u);
  EXPECT_EQ(listener.removed[0], b);
  EXPECT_EQ(server.pairCount(), 2u);
}

TEST(IceServerChromium, CapturedChecksAreAnsweredAndNominate) {
  RecordingListener listener;
  IceServer server(listener, kLocal, kChromium, {});
  std::array<uint8_t, IceServer::kMaxResponseSize> out{};
  const auto from = *net::Endpoint::parse("127.0.0.1:60034");

  const auto check = fromHex(kChromiumCheck);
  auto parsed = StunMessage::parse(check);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->username(), "cnclvSrv:UZ+m");
  EXPECT_TRUE(parsed->attribute(0xC057));  // GOOG-NETWORK-INFO
  EXPECT_TRUE(parsed->iceControlling());
  EXPECT_TRUE(checkIntegrity(*parsed, kLocal.pwd));
  EXPECT_TRUE(checkFingerprint(*parsed));

  auto result = server.handleStun(check, from, {}, out);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  auto answer = StunMessage::parse(result.response);
  ASSERT_TRUE(answer);
  EXPECT_EQ(*answer->xorMappedAddress(), from);
  EXPECT_TRUE(checkIntegrity(*answer, kLocal.pwd));
  EXPECT_TRUE(listener.selected.empty());

  EXPECT_EQ(classifyPacket(fromHex(kChromiumDtlsStart)), PacketKind::Dtls);

  result = server.handleStun(fromHex(kChromiumNominatingCheck), from, {}, out);
  ASSERT_EQ(result.outcome, IceServer::Outcome::Success);
  EXPECT_TRUE(listener.selected.empty());
  EXPECT_TRUE(answerLast(server, listener, from, {}, kChromium.pwd));
  ASSERT_EQ(listener.selected.size(), 1u);
  EXPECT_EQ(listener.selected[0], from);

  // The same bytes with another remote ufrag configured are refused.
  IceServer other(listener, kLocal, kRemote, {});
  EXPECT_EQ(other.handleStun(check, from, {}, out).errorCode, 401);
}
