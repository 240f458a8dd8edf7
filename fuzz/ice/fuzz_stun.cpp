// libFuzzer target for the STUN parser, the integrity and fingerprint checks, and
// IceServer::handleStun.
//
// Each input is used twice: as is (parser, checks, server), and, when it parses, rebuilt from its
// attributes and signed again with the server's credentials, so that mutations reach the code
// behind authentication (420, 487, nomination, pair table, restart) instead of stopping at 401.
// Invariants checked on every input (a violation aborts):
//  - a rebuilt message parses again and passes its own integrity and fingerprint checks;
//  - every answer of the server parses, is a response to the same transaction, carries a valid
//    FINGERPRINT, and a success answer carries XOR-MAPPED-ADDRESS and valid MESSAGE-INTEGRITY.
//
// Seed corpus (corpus/stun): the four RFC 5769 test vectors, three Binding requests built by
// aioice (tests/ice/aioice_peer.py capture) and two captured from Chromium 156
// (tests/ice/chromium_capture.py), all signed with the server password used below.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>

#include "common/log.h"
#include "ice/demux.h"
#include "ice/ice_server.h"
#include "ice/stun.h"

using namespace conclave::ice;
namespace net = conclave::net;

namespace {

const IceCredentials kLocal{"cnclvSrv", "cnclvServerPassword01234"};
const IceCredentials kRemote{"aioiCli1", "aioiceClientPassword0123"};

class NullListener : public IceServer::Listener {
 public:
  void onIceSelectedEndpoint(IceServer& server, const net::Endpoint& endpoint) override {
    if (!server.selectedEndpoint() || *server.selectedEndpoint() != endpoint) std::abort();
  }
  void onIceDisconnected(IceServer& server, IceServer::DisconnectReason) override {
    if (server.selectedEndpoint()) std::abort();
  }
  // The server's own checks must fit a datagram and be well-formed STUN.
  void onIceSendRequest(IceServer&, std::span<const uint8_t> request, const net::Endpoint&) override {
    if (request.empty() || request.size() > 1500 || !StunMessage::parse(request)) std::abort();
  }
  void onIceEndpointRemoved(IceServer&, const net::Endpoint&) override {}
};

void check(bool condition) {
  if (!condition) std::abort();
}

// Touches every accessor so that the sanitizers see each read.
void exercise(const StunMessage& m) {
  (void)m.method();
  (void)m.messageClass();
  (void)m.username();
  (void)m.priority();
  (void)m.useCandidate();
  (void)m.iceControlling();
  (void)m.iceControlled();
  if (auto a = m.mappedAddress()) (void)a->toString();
  if (auto a = m.xorMappedAddress()) (void)a->toString();
  if (auto e = m.errorCode()) check(e->code >= 300 && e->code < 700);
  std::array<uint16_t, 4> unknown;
  (void)m.unknownAttributes(unknown);
  (void)m.attribute(0xC057);
  size_t total = 0;
  for (StunAttribute a : m.attributes()) total += a.value.size();
  check(total <= m.bytes().size());
  (void)checkIntegrity(m, kLocal.pwd);
  (void)checkIntegritySha256(m, kLocal.pwd);
  (void)checkFingerprint(m);
}

void checkAnswer(const IceServer::Result& result, const StunMessage& request) {
  if (result.response.empty()) {
    check(result.outcome == IceServer::Outcome::Dropped);
    return;
  }
  auto answer = StunMessage::parse(result.response);
  check(answer.has_value());
  check(answer->messageClass() == StunClass::SuccessResponse || answer->messageClass() == StunClass::ErrorResponse);
  check(std::equal(answer->transactionId().begin(), answer->transactionId().end(), request.transactionId().begin()));
  check(checkFingerprint(*answer));
  if (result.outcome == IceServer::Outcome::Success) {
    check(answer->xorMappedAddress().has_value());
    check(checkIntegrity(*answer, kLocal.pwd) || checkIntegritySha256(*answer, kLocal.pwd));
  } else {
    check(answer->errorCode().has_value() && answer->errorCode()->code == result.errorCode);
  }
}

// The message with its integrity and fingerprint replaced by ones made with the server password.
std::span<const uint8_t> resign(const StunMessage& m, std::span<uint8_t> out) {
  StunBuilder b(out, m.method(), m.messageClass(), m.transactionId());
  for (StunAttribute a : m.attributes()) {
    if (a.type == stun_attr::kMessageIntegrity || a.type == stun_attr::kMessageIntegritySha256 ||
        a.type == stun_attr::kFingerprint) {
      break;
    }
    b.addAttribute(a.type, a.value);
  }
  if (m.hasMessageIntegritySha256()) {
    b.addMessageIntegritySha256(kLocal.pwd);
  } else {
    b.addMessageIntegrity(kLocal.pwd);
  }
  b.addFingerprint();
  if (!b.ok()) return {};
  auto again = StunMessage::parse(b.bytes());
  check(again.has_value());
  check(checkFingerprint(*again));
  check(checkIntegrity(*again, kLocal.pwd) || checkIntegritySha256(*again, kLocal.pwd));
  return b.bytes();
}

struct State {
  State() { conclave::common::initLogging({.level = "off"}); }
  NullListener listener;
  IceServer server{listener, kLocal, kRemote, conclave::common::TimePoint{}};
  std::array<net::Endpoint, 4> sources{*net::Endpoint::parse("192.0.2.1:5000"), *net::Endpoint::parse("192.0.2.2:6000"),
                                       *net::Endpoint::parse("[2001:db8::1]:7000"),
                                       *net::Endpoint::parse("[::ffff:192.0.2.3]:8000")};
  conclave::common::TimePoint now{};
  uint64_t inputs = 0;
  std::array<uint8_t, 65536 + 128> resigned{};
};

State* gState = nullptr;

// CONCLAVE_FUZZ_STATS=1 prints what the server answered, to see which paths the corpus reaches.
void printStats() {
  const auto& s = gState->server.stats();
  std::fprintf(stderr,
               "requests %llu success %llu 400 %llu 401 %llu 420 %llu 487 %llu malformed %llu "
               "bad-fingerprint %llu ignored %llu selections %llu\n",
               static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.successes),
               static_cast<unsigned long long>(s.badRequests), static_cast<unsigned long long>(s.unauthenticated),
               static_cast<unsigned long long>(s.unknownAttributes), static_cast<unsigned long long>(s.roleConflicts),
               static_cast<unsigned long long>(s.malformed), static_cast<unsigned long long>(s.badFingerprints),
               static_cast<unsigned long long>(s.ignored), static_cast<unsigned long long>(s.selections));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (gState == nullptr) {
    gState = new State();  // lives for the whole run: the server keeps its pairs
    if (std::getenv("CONCLAVE_FUZZ_STATS") != nullptr) std::atexit(printStats);
  }
  State* state = gState;
  std::span<const uint8_t> input(data, size);
  (void)classifyPacket(input);

  // Time moves a little with every input; now and then a lot, so consent expires.
  ++state->inputs;
  state->now += std::chrono::milliseconds(size > 0 && data[0] == 0x01 ? 7000 : 100);
  if (state->inputs % 64 == 0) (void)state->server.tick(state->now);
  if (state->inputs % 4096 == 0) (void)state->server.restart(kRemote, kLocal);
  const net::Endpoint& from = state->sources[crc32(input) % state->sources.size()];

  std::array<uint8_t, IceServer::kMaxResponseSize> out;
  auto message = StunMessage::parse(input);
  auto result = state->server.handleStun(input, from, state->now, out);
  if (!message) {
    check(result.outcome == IceServer::Outcome::Dropped);
    return 0;
  }
  exercise(*message);
  checkAnswer(result, *message);

  auto resigned = resign(*message, state->resigned);
  if (resigned.empty()) return 0;
  auto again = StunMessage::parse(resigned);
  exercise(*again);
  checkAnswer(state->server.handleStun(resigned, from, state->now, out), *again);
  return 0;
}
