#include "ice/ice_server.h"

#include <algorithm>

#include "common/log.h"
#include "common/random.h"

namespace conclave::ice {
namespace {

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

bool isIceChars(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

IceCredentials IceCredentials::generate() { return {iceToken(6), iceToken(18)}; }

bool IceCredentials::valid() const {
  return ufrag.size() >= 4 && ufrag.size() <= 256 && pwd.size() >= 22 && pwd.size() <= 256 &&
         isIceChars(ufrag) && isIceChars(pwd);
}

// ---- IceServer -----------------------------------------------------------------------------

IceServer::IceServer(Listener& listener, IceCredentials local, std::optional<IceCredentials> remote,
                     common::TimePoint now, Config config)
    : mListener(listener),
      mConfig(config),
      mCurrent{std::move(local), std::move(remote)},
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

IceServer::Result IceServer::answerError(const StunMessage& request, uint16_t code,
                                         const std::string* password, std::span<uint8_t> out) {
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
  if (code == stun_error::kUnknownAttribute)
    builder.addUnknownAttributes(request.unknownRequired());
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

IceServer::Result IceServer::answerSuccess(const StunMessage& request, const Endpoint& from,
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

IceServer::Result IceServer::handleStun(std::span<const uint8_t> datagram, const Endpoint& from,
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

IceServer::Result IceServer::processRequest(const StunMessage& request, const Endpoint& from,
                                            common::TimePoint now, std::span<uint8_t> out) {
  if (!request.username() ||
      !(request.hasMessageIntegrity() || request.hasMessageIntegritySha256())) {
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
  if (recordCheck(request, from, now)) {
    // Last thing done: the listener may act on the server (but not destroy it) from here.
    mListener.onIceSelectedEndpoint(*this, from);
  }
  return result;
}

IceServer::Pair* IceServer::findPair(const Endpoint& remote) {
  auto it =
      std::find_if(mPairs.begin(), mPairs.end(), [&](const Pair& p) { return p.remote == remote; });
  return it == mPairs.end() ? nullptr : &*it;
}

const IceServer::Pair* IceServer::findPair(const Endpoint& remote) const {
  auto it =
      std::find_if(mPairs.begin(), mPairs.end(), [&](const Pair& p) { return p.remote == remote; });
  return it == mPairs.end() ? nullptr : &*it;
}

bool IceServer::recordCheck(const StunMessage& request, const Endpoint& from,
                            common::TimePoint now) {
  Pair* pair = findPair(from);
  if (pair == nullptr) {
    if (mPairs.size() >= mConfig.maxPairs) {
      // Forget the least recently checked pair that is not the selected one.
      auto victim = mPairs.end();
      for (auto it = mPairs.begin(); it != mPairs.end(); ++it) {
        if (mSelected && it->remote == *mSelected) continue;
        if (victim == mPairs.end() || it->lastCheck < victim->lastCheck) victim = it;
      }
      *victim = Pair{from, now, 0};
      pair = &*victim;
    } else {
      pair = &mPairs.emplace_back(Pair{from, now, 0});
    }
  }
  pair->lastCheck = now;
  pair->priority = request.priority().value_or(0);

  if (!request.useCandidate() || (mSelected && *mSelected == from)) return false;
  // A nomination of another pair: the browser moved (network change, ICE restart) and the latest
  // nomination wins.
  mSelected = from;
  mState = State::Connected;
  ++mStats.selections;
  common::logger("ice")->info("selected endpoint {}", common::logAddress(from.toString()));
  return true;
}

bool IceServer::isValidated(const Endpoint& endpoint) const {
  return findPair(endpoint) != nullptr;
}

common::TimePoint IceServer::nextDeadline() const {
  if (mState == State::New) return mCreatedAt + mConfig.connectTimeout;
  common::TimePoint deadline = common::TimePoint::max();
  for (const Pair& p : mPairs) deadline = std::min(deadline, p.lastCheck + mConfig.consentTimeout);
  return deadline;
}

IceServer::State IceServer::tick(common::TimePoint now) {
  // Pairs without a valid check for the consent timeout are gone (RFC 7675 §5.1).
  bool selectedExpired = false;
  std::erase_if(mPairs, [&](const Pair& p) {
    if (now - p.lastCheck < mConfig.consentTimeout) return false;
    if (mSelected && p.remote == *mSelected) selectedExpired = true;
    return true;
  });
  if (mState == State::Connected && selectedExpired) {
    mSelected.reset();
    mState = State::Disconnected;
    common::logger("ice")->info("consent expired");
    mListener.onIceDisconnected(*this, DisconnectReason::ConsentExpired);
    return State::Disconnected;
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
