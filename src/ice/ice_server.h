// ICE-lite agent for one session (RFC 8445 §2.5): it gathers only host candidates and is always
// controlled (§6.1.1). It answers the browser's connectivity checks, learns candidate pairs from
// them (one per remote endpoint; the local side is the one socket the caller received on), and
// takes the pair the browser nominates with USE-CANDIDATE as the selected one.
//
// Return-path check before any media goes out. An authenticated request only shows that someone
// who knows the password can put that source address on a packet; the password is the
// participant's own, so a hostile participant could spoof a check from a third party's address
// and have its media aimed there. So, beyond plain ICE-lite, the server sends its own Binding
// request (USERNAME "remoteUfrag:localUfrag", ICE-CONTROLLED, signed with the remote password, as
// a full agent's triggered check, RFC 8445 §7.3.1.4) to the address a check came from, and a
// nominated pair becomes the selected one only once an authenticated success response with the
// same transaction id came back from exactly that address (RFC 8445 §7.2.5.2.1). A third party
// never has the peer's password, so a one-way spoofed packet cannot move media. Checks toward an
// address that has not answered are paid for by the requests that came from it (one check per
// authenticated request, at most kCheckCredit in advance), so they reflect no more than the
// requests themselves; switches of the selected pair are spaced by Config::switchInterval (the
// first selection is immediate; a later one waits, the old pair carrying media meanwhile).
//
// NAT rebinding and network changes. The selected pair moves to another of the peer's addresses
// when, and only when, that address answered one of our checks (so the peer itself receives
// there; a spoofed source never does) and either
//   - the browser nominated it (USE-CANDIDATE; the browser is the controlling agent), or
//   - the selected pair stopped answering: kStaleConsentChecks consent checks in a row went
//     unanswered while the other address answered after the selected one last did. This is the
//     NAT rebinding case: the browser keeps using what it sees as the same pair, its checks
//     arrive from a new source port, and it may never nominate again. When another address
//     answers, the selected pair is probed at once, so the switch follows about
//     kUnansweredConsentRetry (1 s) after the new address proved itself, not a consent interval.
// The new pair is then treated as the nominated one. DTLS and SRTP are not touched: the same
// session continues on the new path (mediasoup and pion likewise keep the DTLS association across
// a tuple change). If no other address answers, consent expires as below and the owner is told.
//
// Consent freshness (RFC 7675 §5.1), as the side that sends media: the server sends a check on the
// selected pair every Config::consentInterval (randomised 0.8..1.2, every second while the last
// one is unanswered) and consent expires Config::consentTimeout (30 s) after the last
// authenticated success response from that pair. Requests from the peer do not renew it (a
// spoofed source can send requests too).
//
// No I/O: handleStun() gets the datagram, its source and the time, and writes the answer (if any)
// into the caller's buffer; events go to the Listener.
//
// Answers to a Binding request, in order (RFC 8489 §6.3, §9.1.3; RFC 8445 §7.3):
//   not parseable, or FINGERPRINT present and wrong  -> dropped, no answer
//   an indication or a response                      -> dropped (a lite agent sends no requests)
//   a request of another method                      -> 400 Bad Request
//   USERNAME or MESSAGE-INTEGRITY(-SHA256) missing   -> 400 Bad Request, without MESSAGE-INTEGRITY
//   USERNAME not "localUfrag:remoteUfrag"            -> 401 Unauthenticated, without M-I
//   MESSAGE-INTEGRITY wrong for the local password   -> 401 Unauthenticated, without M-I
//     (RFC 8489 §9.1.3 says reject with 401 rather than drop; with a wrong key there is nothing
//      to sign the answer with, hence no M-I. These unsigned answers are 48 or 52 bytes, so a
//      spoofed request gains an attacker at most 2.4 times its size.)
//   unknown comprehension-required attributes        -> 420 with UNKNOWN-ATTRIBUTES, with M-I
//   both ICE-CONTROLLING and ICE-CONTROLLED          -> 400 Bad Request, with M-I
//   ICE-CONTROLLED (the peer thinks it is controlled) -> 487 Role Conflict, with M-I (see below)
//   otherwise                                         -> success with XOR-MAPPED-ADDRESS of the
//                                                        source, M-I and FINGERPRINT
// Every answer carries FINGERPRINT (RFC 8445 §7). An answer to a request authenticated with
// MESSAGE-INTEGRITY-SHA256 is signed with MESSAGE-INTEGRITY-SHA256, otherwise with
// MESSAGE-INTEGRITY.
//
// Role conflict (RFC 8445 §7.3.1.1): a controlled agent that sees ICE-CONTROLLED either switches
// to controlling (if its tie-breaker is >= the peer's) or answers 487. A lite agent may not be
// controlling (§6.1.1), so it always answers 487; the full peer then switches to controlling
// (§7.2.5.1) and checks again. mediasoup stopped sending this 487 because of an old Chrome bug
// (webrtc issue 7478); Config::answerRoleConflict = false accepts such checks as mediasoup does.
//
// Threading: one IceServer belongs to one worker thread. A Listener callback must not destroy the
// IceServer that calls it; the server does not touch itself after a callback returns.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "ice/stun.h"
#include "net/endpoint.h"

namespace conclave::ice {

// ice-ufrag / ice-pwd (RFC 8839 §5.4): ufrag 4..256 ice-chars, pwd 22..256 ice-chars, where an
// ice-char is ALPHA / DIGIT / "+" / "/". The peer's come from its SDP, whose parser
// (sdp/session_description.cpp) is the one place that enforces these limits.
struct IceCredentials {
  std::string ufrag;
  std::string pwd;

  // Random credentials from the CSPRNG: an 8-character ufrag (48 bits) and a 24-character pwd
  // (144 bits, above the 128 bits RFC 8445 §5.3 asks for), in the ice-char alphabet.
  static IceCredentials generate();
  bool operator==(const IceCredentials&) const = default;
};

class IceServer {
 public:
  enum class State : uint8_t {
    New,           // no pair nominated yet
    Connected,     // a pair is selected
    Disconnected,  // consent expired (or never connected); a new nomination connects again
  };
  enum class DisconnectReason : uint8_t {
    ConsentExpired,  // no valid check on the selected pair for Config::consentTimeout
    ConnectTimeout,  // no nomination within Config::connectTimeout of creation
  };

  class Listener {
   public:
    virtual ~Listener() = default;
    // A pair was nominated, its return path answered, and it is now the selected one (first
    // nomination, or a switch, e.g. after the browser changed networks). Media goes to `endpoint`
    // from now on.
    virtual void onIceSelectedEndpoint(IceServer& server, const net::Endpoint& endpoint) = 0;
    // A Binding request of ours (return-path or consent check) to send to `to`.
    virtual void onIceSendRequest(IceServer& server, std::span<const uint8_t> request, const net::Endpoint& to) = 0;
    // `endpoint` is no longer a candidate pair of this session (evicted or expired): forget it.
    virtual void onIceEndpointRemoved(IceServer& server, const net::Endpoint& endpoint) = 0;
    // The session lost its selected pair (or never got one). The owner usually closes it.
    virtual void onIceDisconnected(IceServer& server, DisconnectReason reason) = 0;
  };

  struct Config {
    // RFC 7675 §5.1: consent expires 30 s after the last authenticated response to our check.
    common::Duration consentTimeout = std::chrono::seconds(30);
    // RFC 7675 §5.1: a consent check every 5 s, randomised to 0.8..1.2 of that.
    common::Duration consentInterval = std::chrono::seconds(5);
    // An unanswered check is repeated after this long (if the address has credit for one).
    common::Duration checkRetry = std::chrono::milliseconds(500);
    // Minimum time between two changes of the selected pair (not for the first selection).
    common::Duration switchInterval = std::chrono::seconds(2);
    common::Duration connectTimeout = std::chrono::seconds(30);
    size_t maxPairs = 8;  // remote endpoints tracked at once; the least recently checked goes
    bool answerRoleConflict = true;
  };

  enum class Outcome : uint8_t { Success, ErrorResponse, Dropped };
  enum class DropReason : uint8_t { None, Malformed, BadFingerprint, NotRequest, BufferTooSmall };

  struct Result {
    Outcome outcome = Outcome::Dropped;
    DropReason dropReason = DropReason::None;
    uint16_t errorCode = 0;             // for ErrorResponse
    std::span<const uint8_t> response;  // send this back to `from`; empty when Dropped
  };

  struct Stats {
    uint64_t requests = 0;  // Binding requests that parsed
    uint64_t successes = 0;
    uint64_t badRequests = 0;        // 400
    uint64_t unauthenticated = 0;    // 401
    uint64_t unknownAttributes = 0;  // 420
    uint64_t roleConflicts = 0;      // 487
    uint64_t malformed = 0;
    uint64_t badFingerprints = 0;
    uint64_t ignored = 0;  // indications, and responses that match no check of ours
    uint64_t selections = 0;
    uint64_t checksSent = 0;        // our Binding requests (return-path and consent checks)
    uint64_t checksAnswered = 0;    // authenticated success responses to them
    uint64_t switchesDeferred = 0;  // nominations held back by switchInterval
  };

  // An answer never exceeds this size; give handleStun() a buffer at least this large.
  static constexpr size_t kMaxResponseSize = 128;

  // `remote` may be unknown yet (the browser's checks can arrive before its SDP is processed):
  // then a USERNAME is accepted on its local half alone until setRemoteCredentials().
  IceServer(Listener& listener, IceCredentials local, std::optional<IceCredentials> remote, common::TimePoint now,
            Config config);
  IceServer(Listener& listener, IceCredentials local, std::optional<IceCredentials> remote, common::TimePoint now)
      : IceServer(listener, std::move(local), std::move(remote), now, Config{}) {}

  // Packet path: never throws; does not allocate (the pair table is reserved up front; only a
  // change of the selected endpoint formats a log line). Requests are answered; responses to our
  // own checks are consumed (Outcome::Dropped, DropReason::None, nothing to send back).
  Result handleStun(std::span<const uint8_t> datagram, const net::Endpoint& from, common::TimePoint now,
                    std::span<uint8_t> responseOut);

  // Sends due checks, applies a deferred switch, checks consent and the connect timeout; call at
  // least every few hundred milliseconds. Returns the state after the check (Disconnected when
  // the session is dead).
  State tick(common::TimePoint now);
  // The time at which tick() next has something to do (for the caller's timer).
  common::TimePoint nextDeadline() const;

  void setRemoteCredentials(IceCredentials remote);
  // ICE restart (RFC 8445 §9): new credentials on both sides (fresh local ones are generated when
  // `newLocal` is empty). Checks with the old credentials are still answered until the first check
  // that uses the new ones; the selected pair stays until the browser nominates again.
  const IceCredentials& restart(std::optional<IceCredentials> newRemote,
                                std::optional<IceCredentials> newLocal = std::nullopt);

  State state() const { return mState; }
  const std::optional<net::Endpoint>& selectedEndpoint() const { return mSelected; }
  // True if `endpoint` sent an authenticated check that has not expired: only such sources may
  // send DTLS/SRTP to us (receiving amplifies nothing).
  bool isValidated(const net::Endpoint& endpoint) const;
  // True if `endpoint` answered one of our checks within the consent timeout: the return path is
  // proven, so the server may send to it.
  bool isConfirmed(const net::Endpoint& endpoint, common::TimePoint now) const;
  size_t pairCount() const { return mPairs.size(); }
  const IceCredentials& localCredentials() const { return mCurrent.local; }
  const std::optional<IceCredentials>& remoteCredentials() const { return mCurrent.remote; }
  bool restartPending() const { return mPrevious.has_value(); }
  const Stats& stats() const { return mStats; }

 private:
  struct CredentialSet {
    IceCredentials local;
    std::optional<IceCredentials> remote;
  };
  static constexpr size_t kOutstandingChecks = 4;    // transaction ids remembered per pair
  static constexpr uint8_t kCheckCredit = 3;         // checks an unanswered address may be owed
  static constexpr uint8_t kStaleConsentChecks = 2;  // unanswered in a row: the selected pair is failing

  struct Pair {
    net::Endpoint remote;
    common::TimePoint lastCheck;                    // last authenticated request from it
    std::optional<common::TimePoint> lastResponse;  // last authenticated answer to our check
    common::TimePoint nextCheck{};                  // our next check is due
    std::array<StunTransactionId, kOutstandingChecks> tids{};
    uint8_t tidCount = 0;
    uint8_t nextTid = 0;
    uint8_t credit = 0;  // checks this address has paid for with its requests
    bool nominated = false;
    bool probing = false;  // selected, and another address answered since its last answer
    uint32_t priority = 0;
    // Our last kStaleConsentChecks checks to it went unanswered.
    bool stale() const { return tidCount >= kStaleConsentChecks; }
  };
  enum class Auth : uint8_t { Current, Previous, NoUsernameMatch, BadIntegrity };

  Auth authenticate(const StunMessage& request) const;
  static bool usernameMatches(const CredentialSet& set, std::string_view username);
  static bool integrityMatches(const StunMessage& request, std::string_view password);

  Result answerError(const StunMessage& request, uint16_t code, const std::string* password, std::span<uint8_t> out);
  Result answerSuccess(const StunMessage& request, const net::Endpoint& from, const std::string& password,
                       std::span<uint8_t> out);
  Result processRequest(const StunMessage& request, const net::Endpoint& from, common::TimePoint now,
                        std::span<uint8_t> out);
  // Updates the pair table after an authenticated request; returns the pair.
  Pair& recordCheck(const StunMessage& request, const net::Endpoint& from, common::TimePoint now);
  bool handleResponse(const StunMessage& response, const net::Endpoint& from, common::TimePoint now);
  bool confirmed(const Pair& pair, common::TimePoint now) const;
  // Sends our check to `pair` if one is due and paid for.
  void maybeCheck(Pair& pair, common::TimePoint now);
  // Selects the pair if it is confirmed and nominated (or takes over, see takesOver) and the
  // switch interval allows; true if it did.
  bool trySelect(Pair& pair, common::TimePoint now);
  // `pair` answered after the selected pair last did, and the selected one has stopped answering.
  bool takesOver(const Pair& pair) const;
  void select(Pair& pair, common::TimePoint now);
  common::Duration jitteredConsentInterval() const;
  Pair* findPair(const net::Endpoint& remote);
  const Pair* findPair(const net::Endpoint& remote) const;

  Listener& mListener;
  Config mConfig;
  CredentialSet mCurrent;
  std::optional<CredentialSet> mPrevious;
  std::vector<Pair> mPairs;
  std::optional<net::Endpoint> mSelected;
  std::optional<common::TimePoint> mLastSwitch;
  uint64_t mTieBreaker;
  State mState = State::New;
  common::TimePoint mCreatedAt;
  Stats mStats;
};

}  // namespace conclave::ice
