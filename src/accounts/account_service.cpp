#include "accounts/account_service.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>

#include "accounts/totp.h"
#include "common/base64.h"
#include "common/random.h"
#include "common/room_token.h"

namespace conclave::accounts {
namespace {

constexpr std::string_view kCsrfPurpose = "conclave csrf v1";
constexpr size_t kTotpSecretBytes = 20;  // RFC 4226 §4: 160 bits
constexpr int kRecoveryCodes = 10;
constexpr int64_t kTouchEveryMs = 60 * 1000;
constexpr size_t kMaxNameLength = 100;

std::vector<uint8_t> sha256(std::string_view text) {
  std::vector<uint8_t> out(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), out.data());
  return out;
}

// Recovery codes are compared without dashes, blanks or case.
std::string normalizeRecoveryCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Failure badCredentials() { return {401, "bad-credentials", "wrong username or password"}; }
Failure badCode() { return {401, "bad-code", "wrong or already used code"}; }
Failure busy() { return {503, "busy", "the server is busy; try again in a moment"}; }
Failure notFound() { return {404, "not-found", "no such room"}; }

// `then` with a database failure turned into a 500 answer instead of an exception on the loop.
template <typename T>
std::function<void()> guarded(std::function<void()> then, std::function<void(Outcome<T>)> done) {
  return [then = std::move(then), done = std::move(done)] {
    try {
      then();
    } catch (const std::exception&) {
      done(Failure{500, "internal", "the server failed"});
    }
  };
}

}  // namespace

AccountService::AccountService(store::AccountStore& store, std::vector<uint8_t> roomTokenKey,
                               std::vector<uint8_t> csrfKey, std::function<std::string()> newRoomId,
                               AccountSettings settings, Offload offload, NowMs now)
    : mStore(store),
      mRoomTokenKey(std::move(roomTokenKey)),
      mCsrfKey(std::move(csrfKey)),
      mNewRoomId(std::move(newRoomId)),
      mSettings(std::move(settings)),
      mOffload(std::move(offload)),
      mNow(std::move(now)),
      mAttempts(mSettings.attempts) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
}

bool AccountService::validUsername(std::string_view username) {
  if (username.empty() || username.size() > 64) return false;
  return std::all_of(username.begin(), username.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

std::optional<Failure> AccountService::checkNewPassword(std::string_view password) {
  if (password.size() < 8) return Failure{400, "weak-password", "a password needs at least 8 characters"};
  if (password.size() > 1024) return Failure{400, "invalid", "a password has at most 1024 characters"};
  return std::nullopt;
}

std::string AccountService::hashPassword(std::string_view password) const {
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), mSettings.hashOpsLimit,
                            mSettings.hashMemLimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("out of memory hashing a password");
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

bool AccountService::verifyPassword(const std::string& hash, std::string_view password) const {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Outcome<Done> AccountService::addUser(std::string_view username, std::string_view password) {
  if (!validUsername(username)) return Failure{400, "invalid", "a username has 1 to 64 letters, digits and . _ - @"};
  if (auto weak = checkNewPassword(password)) return *weak;
  if (!mStore.addUser(username, hashPassword(password), mNow()))
    return Failure{409, "username-taken", "that username exists already"};
  return Done{};
}

bool AccountService::resetTotp(std::string_view username) {
  auto user = mStore.findUser(username);
  if (!user) return false;
  mStore.disableTotp(user->id);
  return true;
}

std::string AccountService::sourceKey(const net::SourceKey& source) {
  if (mSources.rotateIfDue(mNow())) {
    // The old salt's counts can no longer be reached; start afresh (usernames too, for simplicity).
    mAttempts.clear();
  }
  return "s:" + mSources.keyOf(source);
}

std::optional<Failure> AccountService::blocked(const std::string& usernameKey, const std::string& sourceKey) {
  int64_t now = mNow();
  int64_t wait = std::max(mAttempts.retryAfterMs(usernameKey, now), mAttempts.retryAfterMs(sourceKey, now));
  if (wait == 0) return std::nullopt;
  int64_t seconds = (wait + 999) / 1000;
  return Failure{429, "blocked", "too many attempts; try again in " + std::to_string(seconds) + " s", wait};
}

void AccountService::countFailure(const std::string& usernameKey, const std::string& sourceKey) {
  int64_t now = mNow();
  mAttempts.failure(usernameKey, now);
  mAttempts.failure(sourceKey, now);
}

LoginResult AccountService::startSession(const store::UserRecord& user) {
  LoginResult result;
  result.token = common::randomToken(32);
  result.session.userId = user.id;
  result.session.username = user.username;
  result.session.totp = !user.totpSecret.empty();
  result.session.tokenHash = sha256(result.token);
  result.session.csrf = common::roomToken(mCsrfKey, kCsrfPurpose, result.token);
  mStore.addSession(result.session.tokenHash, user.id, mNow());
  return result;
}

void AccountService::login(const std::string& username, const std::string& password, const net::SourceKey& source,
                           const std::function<void(Outcome<LoginResult>)>& done) {
  std::string lowered;
  for (char c : username) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string userKey = "u:" + lowered, srcKey = sourceKey(source);
  if (auto refusal = blocked(userKey, srcKey)) return done(*refusal);
  if (password.size() > 1024 || username.size() > 64) {
    countFailure(userKey, srcKey);
    return done(badCredentials());
  }
  if (mPendingHashes >= mSettings.maxPendingHashes) return done(busy());
  auto user = validUsername(username) ? mStore.findUser(username) : std::nullopt;
  ++mPendingHashes;
  auto ok = std::make_shared<bool>(false);
  std::string hash = user ? user->passwordHash : std::string();
  mOffload(
      [this, ok, hash, password] {
        if (!hash.empty()) {
          *ok = verifyPassword(hash, password);
        } else {
          // An unknown user costs the same time as a known one: no answer tells names apart.
          static const std::string dummy = hashPassword("conclave: no such user");
          verifyPassword(dummy, password);
        }
      },
      guarded<LoginResult>(
          [this, ok, username, userKey, srcKey, done] {
            --mPendingHashes;
            auto current = *ok ? mStore.findUser(username) : std::nullopt;
            if (!current) {
              countFailure(userKey, srcKey);
              return done(badCredentials());
            }
            mAttempts.success(userKey);
            if (current->totpSecret.empty()) return done(startSession(*current));
            purgeExpired();
            if (mTickets.size() >= mSettings.maxTickets) mTickets.erase(mTickets.begin());
            LoginResult result;
            result.totpRequired = true;
            result.ticket = common::randomToken(32);
            mTickets[result.ticket] = Ticket{current->id, mNow() + mSettings.ticketMs, 0};
            done(std::move(result));
          },
          done));
}

bool AccountService::checkSecondFactor(const store::UserRecord& user, const std::string& code) {
  if (user.totpSecret.empty()) return false;
  if (auto step = matchTotp(user.totpSecret, code, mNow() / 1000)) return mStore.advanceTotpStep(user.id, *step);
  std::string normalized = normalizeRecoveryCode(code);
  if (normalized.size() != 10) return false;
  return mStore.useRecoveryCode(user.id, sha256(normalized));
}

Outcome<LoginResult> AccountService::loginTotp(const std::string& ticket, const std::string& code,
                                               const net::SourceKey& source) {
  std::string srcKey = sourceKey(source);
  auto it = mTickets.find(ticket);
  if (it == mTickets.end() || it->second.expires <= mNow()) {
    if (it != mTickets.end()) mTickets.erase(it);
    mAttempts.failure(srcKey, mNow());
    return Failure{401, "bad-ticket", "the login has expired; enter the password again"};
  }
  auto user = mStore.findUser(it->second.userId);
  if (!user) {
    mTickets.erase(it);
    return badCredentials();
  }
  std::string lowered;
  for (char c : user->username) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string userKey = "u:" + lowered;
  if (auto refusal = blocked(userKey, srcKey)) return *refusal;
  if (!checkSecondFactor(*user, code)) {
    countFailure(userKey, srcKey);
    if (++it->second.tries >= mSettings.ticketTries) mTickets.erase(it);
    return badCode();
  }
  mTickets.erase(it);
  mAttempts.success(userKey);
  return startSession(*user);
}

std::optional<Session> AccountService::session(std::string_view token) {
  if (token.empty() || token.size() > 64) return std::nullopt;
  auto hash = sha256(token);
  auto record = mStore.findSession(hash);
  if (!record) return std::nullopt;
  int64_t now = mNow();
  if (now - record->lastSeen >= mSettings.sessionIdleMs || now - record->created >= mSettings.sessionAbsoluteMs) {
    mStore.deleteSession(hash);
    return std::nullopt;
  }
  auto user = mStore.findUser(record->userId);
  if (!user) return std::nullopt;
  if (now - record->lastSeen >= kTouchEveryMs) mStore.touchSession(hash, now);
  Session s;
  s.userId = user->id;
  s.username = user->username;
  s.totp = !user->totpSecret.empty();
  s.tokenHash = std::move(hash);
  s.csrf = common::roomToken(mCsrfKey, kCsrfPurpose, token);
  return s;
}

bool AccountService::csrfMatches(const Session& session, std::string_view header) const {
  return header.size() == session.csrf.size() &&
         CRYPTO_memcmp(header.data(), session.csrf.data(), session.csrf.size()) == 0;
}

AccountService::PurgeCounts AccountService::purgeExpired() {
  int64_t now = mNow();
  PurgeCounts counts;
  counts.sessions =
      static_cast<size_t>(mStore.purgeSessions(now - mSettings.sessionIdleMs, now - mSettings.sessionAbsoluteMs));
  counts.tickets = std::erase_if(mTickets, [now](const auto& kv) { return kv.second.expires <= now; });
  counts.attempts = mAttempts.purge(now);
  return counts;
}

void AccountService::changePassword(const Session& session, const std::string& oldPassword,
                                    const std::string& newPassword, const std::function<void(Outcome<Done>)>& done) {
  if (auto weak = checkNewPassword(newPassword)) return done(*weak);
  auto user = mStore.findUser(session.userId);
  if (!user) return done(badCredentials());
  if (mPendingHashes >= mSettings.maxPendingHashes) return done(busy());
  ++mPendingHashes;
  auto result = std::make_shared<std::optional<std::string>>();
  std::string hash = user->passwordHash;
  mOffload(
      [this, result, hash, oldPassword, newPassword] {
        if (verifyPassword(hash, oldPassword)) *result = hashPassword(newPassword);
      },
      guarded<Done>(
          [this, result, session, done] {
            --mPendingHashes;
            if (!*result) return done(Failure{403, "bad-credentials", "the current password is wrong"});
            mStore.setPasswordHash(session.userId, **result);
            mStore.deleteSessionsOfUser(session.userId, session.tokenHash);  // other devices sign in again
            done(Done{});
          },
          done));
}

Outcome<TotpSetup> AccountService::setupTotp(const Session& session) {
  auto user = mStore.findUser(session.userId);
  if (!user) return badCredentials();
  if (!user->totpSecret.empty()) return Failure{409, "totp-enabled", "2-step login is on already; turn it off first"};
  std::vector<uint8_t> secret(kTotpSecretBytes);
  common::randomBytes(secret);
  mStore.setTotpPending(user->id, secret);
  return TotpSetup{base32Encode(secret), otpauthUri(mSettings.issuer, user->username, secret)};
}

std::vector<std::string> AccountService::newRecoveryCodes(std::vector<std::vector<uint8_t>>& hashes) const {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // no l, o, 0, 1
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    std::array<uint8_t, 10> bytes{};
    common::randomBytes(bytes);
    std::string code;
    for (uint8_t b : bytes) code += kAlphabet[b & 31];
    hashes.push_back(sha256(code));
    codes.push_back(code.substr(0, 5) + "-" + code.substr(5));
  }
  return codes;
}

Outcome<std::vector<std::string>> AccountService::confirmTotp(const Session& session, const std::string& code) {
  auto user = mStore.findUser(session.userId);
  if (!user) return badCredentials();
  if (!user->totpSecret.empty()) return Failure{409, "totp-enabled", "2-step login is on already"};
  if (user->totpPending.empty()) return Failure{409, "no-totp-setup", "start the 2-step setup first"};
  auto step = matchTotp(user->totpPending, code, mNow() / 1000);
  if (!step) return badCode();
  std::vector<std::vector<uint8_t>> hashes;
  auto codes = newRecoveryCodes(hashes);
  mStore.enableTotp(user->id, user->totpPending, *step, hashes);
  return codes;
}

void AccountService::disableTotp(const Session& session, const std::string& password, const std::string& code,
                                 const std::function<void(Outcome<Done>)>& done) {
  auto user = mStore.findUser(session.userId);
  if (!user) return done(badCredentials());
  if (user->totpSecret.empty()) return done(Failure{409, "totp-off", "2-step login is off"});
  if (mPendingHashes >= mSettings.maxPendingHashes) return done(busy());
  ++mPendingHashes;
  auto ok = std::make_shared<bool>(false);
  std::string hash = user->passwordHash;
  mOffload([this, ok, hash, password] { *ok = verifyPassword(hash, password); },
           guarded<Done>(
               [this, ok, session, code, done] {
                 --mPendingHashes;
                 auto current = mStore.findUser(session.userId);
                 if (!*ok || !current) return done(Failure{403, "bad-credentials", "the password is wrong"});
                 if (!checkSecondFactor(*current, code)) return done(badCode());
                 mStore.disableTotp(current->id);
                 done(Done{});
               },
               done));
}

std::vector<RoomView> AccountService::rooms(const Session& session) {
  std::vector<RoomView> out;
  for (auto& room : mStore.roomsOf(session.userId)) {
    bool owner = room.ownerId == session.userId;
    out.push_back(RoomView{std::move(room), owner});
  }
  return out;
}

Outcome<std::string> AccountService::createRoom(const Session& session, std::string_view name) {
  if (name.size() > kMaxNameLength) return Failure{400, "invalid", "a room name has at most 100 bytes"};
  if (mStore.roomCountOf(session.userId) >= mSettings.maxRoomsPerUser)
    return Failure{409, "too-many-rooms", "this account has as many rooms as it may have"};
  std::string roomId = mNewRoomId();
  mStore.addRoom(roomId, session.userId, name, "{}", mNow());
  return roomId;
}

std::optional<store::RoomRecord> AccountService::ownedRoom(const Session& session, std::string_view roomId) {
  auto room = mStore.findRoom(roomId);
  if (!room || room->ownerId != session.userId) return std::nullopt;
  return room;
}

std::string AccountService::hostTokenOf(std::string_view roomId) const {
  return common::roomToken(mRoomTokenKey, common::kHostTokenPurpose, roomId);
}

Outcome<std::string> AccountService::hostToken(const Session& session, std::string_view roomId) {
  if (!ownedRoom(session, roomId)) return notFound();
  return hostTokenOf(roomId);
}

Outcome<std::string> AccountService::moderatorToken(const Session& session, std::string_view roomId) {
  auto room = mStore.findRoom(roomId);
  if (!room) return notFound();
  bool moderator =
      std::find(room->moderators.begin(), room->moderators.end(), session.username) != room->moderators.end();
  if (!moderator && room->ownerId != session.userId) return notFound();
  return common::roomToken(mRoomTokenKey, common::kModeratorTokenPurpose, roomId);
}

Outcome<RoomView> AccountService::updateRoom(const Session& session, std::string_view roomId,
                                             const std::optional<nlohmann::json>& settings,
                                             const std::optional<std::vector<std::string>>& moderators) {
  auto room = ownedRoom(session, roomId);
  if (!room) return notFound();
  std::optional<std::string> settingsText;
  if (settings) {
    if (!settings->is_object()) return Failure{400, "invalid", "settings must be an object"};
    settingsText = settings->dump();
    if (settingsText->size() > mSettings.maxSettingsBytes)
      return Failure{400, "invalid", "settings are larger than 8 KiB"};
    if (mSettingsCheck) {
      if (auto problem = mSettingsCheck(*settings)) return Failure{400, "invalid", *problem};
    }
  }
  std::vector<int64_t> moderatorIds;
  if (moderators) {
    if (moderators->size() > mSettings.maxModerators)
      return Failure{400, "invalid", "a room has at most " + std::to_string(mSettings.maxModerators) + " moderators"};
    for (const auto& name : *moderators) {
      auto user = validUsername(name) ? mStore.findUser(name) : std::nullopt;
      if (!user) return Failure{400, "unknown-user", "no account is called \"" + name.substr(0, 64) + "\""};
      if (user->id != session.userId) moderatorIds.push_back(user->id);
    }
  }
  if (settingsText) mStore.setRoomSettings(roomId, *settingsText);
  if (moderators) mStore.setRoomModerators(roomId, moderatorIds);
  auto updated = mStore.findRoom(roomId);
  if (!updated) return notFound();
  return RoomView{std::move(*updated), true};
}

Outcome<Done> AccountService::deleteRoom(const Session& session, std::string_view roomId) {
  if (!ownedRoom(session, roomId)) return notFound();
  mStore.deleteRoom(roomId);
  return Done{};
}

}  // namespace conclave::accounts
