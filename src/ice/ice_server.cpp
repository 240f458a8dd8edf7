#include "ice/ice_server.h"

#include <algorithm>

#include "common/log.h"
#include "common/random.h"

namespace conclave::ice {
namespace {

// generate(): 6 random bytes make an 8-character ufrag (48 bits), 18 make a 24-character pwd
// (144 bits, above the 128 RFC 8445 §5.3 asks for).
constexpr size_t kUfragRandomBytes = 6;
constexpr size_t kPwdRandomBytes = 18;
// RFC 7675 §5.1: the consent interval is randomised uniformly to 0.8..1.2 of itself (in 1/1000).
constexpr uint32_t kConsentJitterMinPermille = 800;
constexpr uint32_t kConsentJitterMaxPermille = 1200;
// While our last consent check on the selected pair is unanswered, the next goes after 1 s rather
// than the full interval, so a lost check or answer does not cost 5 s of the 30 s budget.
constexpr common::Duration kUnansweredConsentRetry = std::chrono::seconds(1);
// USERNAME "theirUfrag:ourUfrag" of a check we send: room for two ufrags of the longest length
// the SDP parser accepts (256 ice-chars, RFC 8839 §5.4); a longer pair is not sent (see maybeCheck).
constexpr size_t kMaxCheckUsername = 2 * 256 + 1;
// A check we send: STUN header (20) + USERNAME (4 + 516 with padding) + PRIORITY (8) +
// ICE-CONTROLLED (12) + MESSAGE-INTEGRITY (24) + FINGERPRINT (8) = 592 bytes at most.
constexpr size_t kMaxCheckSize = 640;

// randomToken() is base64url; ice-char has "+" and "/" where base64url has "-" and "_".
std::string iceToken(size_t bytes) {
  std::string token = common::randomToken(bytes);
  for (char& c : token) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  return token;
}

}  // namespace

// ---- credentials ---------------------------------------------------------------------------

IceCredentials IceCredentials::generate() { return {iceToken(kUfragRandomBytes), iceToken(kPwdRandomBytes)}; }

// ---- IceServer -----------------------------------------------------------------------------

IceServer::IceServer(Listener& listener, IceCredentials local, std::optional<IceCredentials> remote,
                     common::TimePoint now, Config config)
    : mListener(listener),
      mConfig(config),
      mCurrent{std::move(local), std::move(remote)},
      mTieBreaker(common::randomU64()),
      mCreatedAt(now) {
  mConfig.maxPairs = std::max<size_t>(mConfig.maxPairs, 2);
  mPairs.reserve(mConfig.maxPairs);
}

void IceServer::setRemoteCredentials(IceCredentials remote) { mCurrent.remote = std::move(remote); }

const IceCredentials& IceServer::restart(std::optional<IceCredentials> newRemote,
                                         std::optional<IceCredentials> newLocal) {
  mPrevious = std::move(mCurrent);
  mCurrent = {newLocal ? std::move(*newLocal) : IceCredentials::generate(), std::move(newRemote)};
  common::logger("ice")->debug("ICE restart: new credentials, old ones valid until first check");
  return mCurrent.local;
}

bool IceServer::usernameMatches(const CredentialSet& set, std::string_view username) {
  // USERNAME of a check sent to us is "ourUfrag:theirUfrag" (RFC 8445 §7.2.2).
  const std::string& local = set.local.ufrag;
  if (username.size() <= local.size() + 1 || username.compare(0, local.size(), local) != 0 ||
      username[local.size()] != ':') {
    return false;  // their half may not be empty either
  }
  if (!set.remote) return true;  // early check: their half is not known yet
  return username.substr(local.size() + 1) == set.remote->ufrag;
}

bool IceServer::integrityMatches(const StunMessage& request, std::string_view password) {
  // RFC 8489 §9.1.3: with MESSAGE-INTEGRITY-SHA256 present, that is the one that counts.
  if (request.hasMessageIntegritySha256()) return checkIntegritySha256(request, password);
  return checkIntegrity(request, password);
}

IceServer::Auth IceServer::authenticate(const StunMessage& request) const {
  const std::string_view username = *request.username();
  bool anyUsername = false;
  if (usernameMatches(mCurrent, username)) {
    anyUsername = true;
    if (integrityMatches(request, mCurrent.local.pwd)) return Auth::Current;
  }
  if (mPrevious && usernameMatches(*mPrevious, username)) {
    anyUsername = true;
    if (integrityMatches(request, mPrevious->local.pwd)) return Auth::Previous;
  }
  return anyUsername ? Auth::BadIntegrity : Auth::NoUsernameMatch;
}

IceServer::Result IceServer::answerError(const StunMessage& request, uint16_t code, const std::string* password,
                                         std::span<uint8_t> out) {
  switch (code) {
    case stun_error::kBadRequest:
      ++mStats.badRequests;
      break;
    case stun_error::kUnauthenticated:
      ++mStats.unauthenticated;
      break;
    case stun_error::kUnknownAttribute:
      ++mStats.unknownAttributes;
      break;
    case stun_error::kRoleConflict:
      ++mStats.roleConflicts;
      break;
    default:
      break;
  }
  auto builder = StunBuilder::responseTo(request, StunClass::ErrorResponse, out);
  builder.addErrorCode(code);
  if (code == stun_error::kUnknownAttribute) builder.addUnknownAttributes(request.unknownRequired());
  if (password != nullptr) {
    if (request.hasMessageIntegritySha256()) {
      builder.addMessageIntegritySha256(*password);
    } else {
      builder.addMessageIntegrity(*password);
    }
  }
  builder.addFingerprint();
  if (!builder.ok()) return {Outcome::Dropped, DropReason::BufferTooSmall, 0, {}};
  return {Outcome::ErrorResponse, DropReason::None, code, builder.bytes()};
}

IceServer::Result IceServer::answerSuccess(const StunMessage& request, const net::Endpoint& from,
                                           const std::string& password, std::span<uint8_t> out) {
  auto builder = StunBuilder::responseTo(request, StunClass::SuccessResponse, out);
  // The peer must see the address it sent from, not the IPv4-mapped form a dual-stack socket
  // reports.
  builder.addXorMappedAddress(from.unmapped());
  if (request.hasMessageIntegritySha256()) {
    builder.addMessageIntegritySha256(password);
  } else {
    builder.addMessageIntegrity(password);
  }
  builder.addFingerprint();
  if (!builder.ok()) return {Outcome::Dropped, DropReason::BufferTooSmall, 0, {}};
  ++mStats.successes;
  return {Outcome::Success, DropReason::None, 0, builder.bytes()};
}

IceServer::Result IceServer::handleStun(std::span<const uint8_t> datagram, const net::Endpoint& from,
                                        common::TimePoint now, std::span<uint8_t> responseOut) {
  auto message = StunMessage::parse(datagram);
  if (!message) {
    ++mStats.malformed;
    return {Outcome::Dropped, DropReason::Malformed, 0, {}};
  }
  // RFC 8489 §7.3: a FINGERPRINT that does not match means this is not a STUN message.
  if (message->hasFingerprint() && !checkFingerprint(*message)) {
    ++mStats.badFingerprints;
    return {Outcome::Dropped, DropReason::BadFingerprint, 0, {}};
  }
  if (message->messageClass() == StunClass::SuccessResponse || message->messageClass() == StunClass::ErrorResponse) {
    // An answer to a check of ours is consumed; anything else is ignored like an indication.
    const bool ours = handleResponse(*message, from, now);
    return {Outcome::Dropped, ours ? DropReason::None : DropReason::NotRequest, 0, {}};
  }
  if (message->messageClass() != StunClass::Request) {
    ++mStats.ignored;
    return {Outcome::Dropped, DropReason::NotRequest, 0, {}};
  }
  ++mStats.requests;
  if (message->method() != kStunMethodBinding) {
    return answerError(*message, stun_error::kBadRequest, nullptr, responseOut);
  }
  return processRequest(*message, from, now, responseOut);
}

IceServer::Result IceServer::processRequest(const StunMessage& request, const net::Endpoint& from,
                                            common::TimePoint now, std::span<uint8_t> out) {
  if (!request.username() || !(request.hasMessageIntegrity() || request.hasMessageIntegritySha256())) {
    return answerError(request, stun_error::kBadRequest, nullptr, out);
  }
  const Auth auth = authenticate(request);
  if (auth == Auth::NoUsernameMatch || auth == Auth::BadIntegrity) {
    return answerError(request, stun_error::kUnauthenticated, nullptr, out);
  }
  // Answers are signed with the password that matched (old or new during a restart).
  const std::string& password = auth == Auth::Current ? mCurrent.local.pwd : mPrevious->local.pwd;
  if (!request.unknownRequired().empty()) {
    return answerError(request, stun_error::kUnknownAttribute, &password, out);
  }
  if (request.iceControlling() && request.iceControlled()) {
    return answerError(request, stun_error::kBadRequest, &password, out);
  }
  if (request.iceControlled() && mConfig.answerRoleConflict) {
    return answerError(request, stun_error::kRoleConflict, &password, out);
  }
  Result result = answerSuccess(request, from, password, out);
  if (result.outcome != Outcome::Success) return result;

  if (auth == Auth::Current && mPrevious) {
    // First check with the new credentials: the restart is complete (RFC 8445 §9).
    mPrevious.reset();
  }
  Pair& pair = recordCheck(request, from, now);
  // Our own check toward the source proves (or not) that it is the peer's return path.
  maybeCheck(pair, now);
  if (trySelect(pair, now)) {
    // Last thing done: the listener may act on the server (but not destroy it) from here.
    mListener.onIceSelectedEndpoint(*this, from);
  }
  return result;
}

IceServer::Pair* IceServer::findPair(const net::Endpoint& remote) {
  auto it = std::find_if(mPairs.begin(), mPairs.end(), [&](const Pair& p) { return p.remote == remote; });
  return it == mPairs.end() ? nullptr : &*it;
}

const IceServer::Pair* IceServer::findPair(const net::Endpoint& remote) const {
  auto it = std::find_if(mPairs.begin(), mPairs.end(), [&](const Pair& p) { return p.remote == remote; });
  return it == mPairs.end() ? nullptr : &*it;
}

IceServer::Pair& IceServer::recordCheck(const StunMessage& request, const net::Endpoint& from, common::TimePoint now) {
  Pair* pair = findPair(from);
  if (pair == nullptr) {
    if (mPairs.size() >= mConfig.maxPairs) {
      // Forget the least recently checked pair that is not the selected one.
      auto victim = mPairs.end();
      for (auto it = mPairs.begin(); it != mPairs.end(); ++it) {
        if (mSelected && it->remote == *mSelected) continue;
        if (victim == mPairs.end() || it->lastCheck < victim->lastCheck) victim = it;
      }
      const net::Endpoint evicted = victim->remote;
      *victim = Pair{};
      victim->remote = from;
      pair = &*victim;
      mListener.onIceEndpointRemoved(*this, evicted);
    } else {
      pair = &mPairs.emplace_back();
      pair->remote = from;
    }
  }
  pair->lastCheck = now;
  pair->priority = request.priority().value_or(0);
  // Each authenticated request pays for one check of ours toward its source.
  pair->credit = static_cast<uint8_t>(std::min<int>(pair->credit + 1, kCheckCredit));
  if (request.useCandidate()) {
    // The latest nomination wins (the browser moved: network change, ICE restart).
    for (Pair& p : mPairs) p.nominated = &p == pair;
  }
  return *pair;
}

bool IceServer::confirmed(const Pair& pair, common::TimePoint now) const {
  return pair.lastResponse && now - *pair.lastResponse < mConfig.consentTimeout;
}

bool IceServer::isConfirmed(const net::Endpoint& endpoint, common::TimePoint now) const {
  const Pair* pair = findPair(endpoint);
  return pair != nullptr && confirmed(*pair, now);
}

common::Duration IceServer::jitteredConsentInterval() const {
  const auto permille =
      kConsentJitterMinPermille + common::randomU32() % (kConsentJitterMaxPermille - kConsentJitterMinPermille + 1);
  return mConfig.consentInterval * permille / 1000;
}

void IceServer::maybeCheck(Pair& pair, common::TimePoint now) {
  if (!mCurrent.remote || now < pair.nextCheck) return;
  const bool selected = mSelected && *mSelected == pair.remote;
  const bool proven = confirmed(pair, now);
  if (!selected) {
    // Nothing to prove (unless it stopped answering, e.g. the path media left), or not paid for.
    if ((proven && !pair.stale()) || pair.credit == 0) return;
    --pair.credit;
  }
  StunTransactionId tid{};
  common::randomBytes(tid);
  // USERNAME of a check we send: "theirUfrag:ourUfrag" (RFC 8445 §7.2.2), built without a heap
  // string.
  std::array<char, kMaxCheckUsername> user{};
  const std::string& theirs = mCurrent.remote->ufrag;
  const std::string& ours = mCurrent.local.ufrag;
  if (theirs.size() + ours.size() + 1 > user.size()) return;
  std::copy(theirs.begin(), theirs.end(), user.begin());
  user[theirs.size()] = ':';
  std::copy(ours.begin(), ours.end(), user.begin() + static_cast<std::ptrdiff_t>(theirs.size() + 1));
  std::array<uint8_t, kMaxCheckSize> buf{};
  StunBuilder b(buf, kStunMethodBinding, StunClass::Request, tid);
  b.addUsername(std::string_view(user.data(), theirs.size() + ours.size() + 1));
  b.addPriority((126u << 24) | (65535u << 8) | 255u);  // a host candidate (RFC 8445 §5.1.2)
  b.addIceControlled(mTieBreaker);
  b.addMessageIntegrity(mCurrent.remote->pwd);
  b.addFingerprint();
  if (!b.ok()) return;

  if (selected) {
    // Consent: every ~5 s; sooner while the previous check is unanswered.
    pair.nextCheck = now + (pair.tidCount > 0 || pair.probing ? kUnansweredConsentRetry : jitteredConsentInterval());
  } else {
    pair.nextCheck = now + mConfig.checkRetry;
  }
  pair.tids[pair.nextTid] = tid;
  pair.nextTid = static_cast<uint8_t>((pair.nextTid + 1) % kOutstandingChecks);
  pair.tidCount = static_cast<uint8_t>(std::min<size_t>(pair.tidCount + 1, kOutstandingChecks));
  ++mStats.checksSent;
  mListener.onIceSendRequest(*this, b.bytes(), pair.remote);
}

bool IceServer::handleResponse(const StunMessage& response, const net::Endpoint& from, common::TimePoint now) {
  Pair* pair = findPair(from);
  // Only a success response from exactly the address we sent to, with the transaction id of a
  // check of ours, signed with the peer's password (RFC 8445 §7.2.5.2.1, RFC 7675 §5.1).
  bool matches = false;
  if (pair != nullptr && response.messageClass() == StunClass::SuccessResponse) {
    const auto tid = response.transactionId();
    for (size_t i = 0; i < kOutstandingChecks && !matches; ++i) {
      const size_t slot = (pair->nextTid + kOutstandingChecks - 1 - i) % kOutstandingChecks;
      if (i < pair->tidCount && std::equal(tid.begin(), tid.end(), pair->tids[slot].begin())) matches = true;
    }
  }
  if (matches) {
    const bool hasIntegrity = response.hasMessageIntegrity() || response.hasMessageIntegritySha256();
    matches = hasIntegrity && ((mCurrent.remote && integrityMatches(response, mCurrent.remote->pwd)) ||
                               (mPrevious && mPrevious->remote && integrityMatches(response, mPrevious->remote->pwd)));
  }
  if (!matches) {
    ++mStats.ignored;
    return false;
  }
  ++mStats.checksAnswered;
  pair->lastResponse = now;
  pair->tidCount = 0;
  pair->probing = false;
  if (mSelected && *mSelected != from) {
    // Another address of the peer answers (a new NAT binding, a new network): probe the selected
    // pair now instead of at its next consent check, so a dead path is noticed within seconds.
    if (Pair* selected = findPair(*mSelected); selected != nullptr && !selected->probing) {
      selected->probing = true;
      selected->nextCheck = std::min(selected->nextCheck, now);
    }
  }
  if (trySelect(*pair, now)) mListener.onIceSelectedEndpoint(*this, from);
  return true;
}

bool IceServer::takesOver(const Pair& pair) const {
  if (!mSelected || !pair.lastResponse) return false;
  const Pair* selected = findPair(*mSelected);
  if (selected == nullptr) return true;
  return selected->stale() && (!selected->lastResponse || *pair.lastResponse > *selected->lastResponse);
}

bool IceServer::trySelect(Pair& pair, common::TimePoint now) {
  // A pair whose last checks went unanswered waits for an answer, even if nominated again: no
  // flapping back to a path that stopped answering.
  if (!confirmed(pair, now) || pair.stale()) return false;
  if (mSelected && *mSelected == pair.remote) return false;
  if (!pair.nominated && !takesOver(pair)) return false;
  if (mState == State::Connected && mLastSwitch && now - *mLastSwitch < mConfig.switchInterval) {
    ++mStats.switchesDeferred;  // tick() applies it once the interval has passed
    return false;
  }
  select(pair, now);
  return true;
}

void IceServer::select(Pair& pair, common::TimePoint now) {
  // The browser's nomination, or the path that replaced it: a later nomination moves it again.
  for (Pair& p : mPairs) {
    p.nominated = &p == &pair;
    p.probing = false;
  }
  mSelected = pair.remote;
  mState = State::Connected;
  mLastSwitch = now;
  pair.nextCheck = now + jitteredConsentInterval();
  ++mStats.selections;
  common::logger("ice")->info("selected endpoint {}", common::logAddress(pair.remote.toString()));
}

bool IceServer::isValidated(const net::Endpoint& endpoint) const { return findPair(endpoint) != nullptr; }

common::TimePoint IceServer::nextDeadline() const {
  if (mState == State::New && mPairs.empty()) return mCreatedAt + mConfig.connectTimeout;
  common::TimePoint deadline = mState == State::New ? mCreatedAt + mConfig.connectTimeout : common::TimePoint::max();
  for (const Pair& p : mPairs) {
    const bool selected = mSelected && p.remote == *mSelected;
    const auto last =
        selected ? p.lastResponse.value_or(p.lastCheck) : std::max(p.lastCheck, p.lastResponse.value_or(p.lastCheck));
    deadline = std::min(deadline, last + mConfig.consentTimeout);
    if (mCurrent.remote && (selected || p.credit > 0)) deadline = std::min(deadline, p.nextCheck);
    if (p.nominated && !selected && mLastSwitch) deadline = std::min(deadline, *mLastSwitch + mConfig.switchInterval);
  }
  return deadline;
}

IceServer::State IceServer::tick(common::TimePoint now) {
  // Pairs without a valid check for the consent timeout are gone; the selected one when its
  // consent (answers to our checks) is 30 s old (RFC 7675 §5.1).
  bool selectedExpired = false;
  for (size_t i = 0; i < mPairs.size();) {
    const Pair& p = mPairs[i];
    const bool selected = mSelected && p.remote == *mSelected;
    const bool expired =
        selected ? !confirmed(p, now)
                 : now - std::max(p.lastCheck, p.lastResponse.value_or(p.lastCheck)) >= mConfig.consentTimeout;
    if (!expired) {
      ++i;
      continue;
    }
    selectedExpired = selectedExpired || selected;
    const net::Endpoint gone = p.remote;
    mPairs.erase(mPairs.begin() + static_cast<std::ptrdiff_t>(i));
    mListener.onIceEndpointRemoved(*this, gone);
  }
  if (mState == State::Connected && selectedExpired) {
    mSelected.reset();
    mState = State::Disconnected;
    common::logger("ice")->info("consent expired");
    mListener.onIceDisconnected(*this, DisconnectReason::ConsentExpired);
    return State::Disconnected;
  }
  // Checks first: a consent check that goes unanswered once more may let another pair take over.
  for (Pair& p : mPairs) maybeCheck(p, now);
  for (Pair& p : mPairs) {
    if (trySelect(p, now)) mListener.onIceSelectedEndpoint(*this, p.remote);
  }
  if (mState == State::New && now - mCreatedAt >= mConfig.connectTimeout) {
    mState = State::Disconnected;
    common::logger("ice")->info("no nomination within the connect timeout");
    mListener.onIceDisconnected(*this, DisconnectReason::ConnectTimeout);
    return State::Disconnected;
  }
  return mState;
}

}  // namespace conclave::ice
