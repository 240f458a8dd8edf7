// Host accounts: passwords (Argon2id), 2-step login (TOTP and one-time recovery codes), login
// sessions, and the persistent rooms an account owns or moderates. The rules, not the wire:
// http::AccountApi turns these calls into the HTTP API of docs/protocol.md.
//
// Runs on the control thread. Hashing a password with Argon2id takes hundreds of milliseconds and
// 256 MiB, so it runs through `Offload` (main: one hashing thread; tests: inline): at most
// `maxPendingHashes` wait, and a request beyond that gets `busy`. Everything else is a few small
// SQLite statements on the control thread (measured in tests/accounts: well under a millisecond).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/attempt_limiter.h"
#include "common/result.h"
#include "net/source_key.h"
#include "store/account_store.h"

namespace conclave::accounts {

// A refusal: the HTTP status and error code the API answers with (docs/protocol.md).
struct Failure {
  unsigned status = 400;
  std::string code;
  std::string message;
  int64_t retryAfterMs = 0;  // with `blocked`
};

template <typename T>
using Outcome = common::Result<T, Failure>;
struct Done {};

struct AccountSettings {
  std::string issuer = "Conclave";  // shown by authenticator apps
  int64_t sessionIdleMs = 12LL * 3600 * 1000;
  int64_t sessionAbsoluteMs = 7LL * 24 * 3600 * 1000;
  int64_t ticketMs = 5 * 60 * 1000;  // time to enter the second factor after the password
  int ticketTries = 5;
  // libsodium's "moderate" limits: 3 passes over 256 MiB.
  unsigned long long hashOpsLimit = 3;
  size_t hashMemLimit = 256u * 1024 * 1024;
  size_t maxPendingHashes = 8;
  size_t maxRoomsPerUser = 100;
  size_t maxModerators = 50;
  size_t maxSettingsBytes = 8 * 1024;
  size_t maxTickets = 1000;
  AttemptLimiter::Settings attempts;
};

// The signed-in user of a request.
struct Session {
  int64_t userId = 0;
  std::string username;
  bool totp = false;
  std::string csrf;
  std::vector<uint8_t> tokenHash;
};

struct LoginResult {
  // Either a new session (token for the cookie, csrf, username, totp) ...
  std::string token;
  Session session;
  // ... or the password was right and a second factor is needed.
  bool totpRequired = false;
  std::string ticket;
};

struct TotpSetup {
  std::string secret;  // base32
  std::string uri;     // otpauth://
};

struct RoomView {
  store::RoomRecord room;
  bool owner = false;
};

class AccountService {
 public:
  // Runs `work` off the control thread, then `then` back on it.
  using Offload = std::function<void(std::function<void()> work, std::function<void()> then)>;
  using NowMs = std::function<int64_t()>;  // Unix milliseconds
  // nullopt if the settings object is acceptable, else what is wrong with it.
  using SettingsCheck = std::function<std::optional<std::string>(const nlohmann::json&)>;

  // `roomTokenKey` makes host and moderator tokens (common/room_token.h); `csrfKey` derives each
  // session's CSRF token from its session token; `newRoomId` issues a room ID.
  AccountService(store::AccountStore& store, std::vector<uint8_t> roomTokenKey, std::vector<uint8_t> csrfKey,
                 std::function<std::string()> newRoomId, AccountSettings settings, Offload offload, NowMs now);

  void setSettingsCheck(SettingsCheck check) { mSettingsCheck = std::move(check); }
  const AccountSettings& settings() const { return mSettings; }

  // --- Operator (`conclave admin`): synchronous. ---
  Outcome<Done> addUser(std::string_view username, std::string_view password);
  bool deleteUser(std::string_view username) { return mStore.deleteUser(username); }
  bool resetTotp(std::string_view username);
  store::AccountStore& store() { return mStore; }

  // --- Login. `source` is the client's network, counted under a salted daily hash. ---
  void login(const std::string& username, const std::string& password, const net::SourceKey& source,
             const std::function<void(Outcome<LoginResult>)>& done);
  Outcome<LoginResult> loginTotp(const std::string& ticket, const std::string& code, const net::SourceKey& source);
  // The session of a cookie token, if it is valid and not expired (its idle time restarts).
  std::optional<Session> session(std::string_view token);
  bool csrfMatches(const Session& session, std::string_view header) const;
  void logout(const Session& session) { mStore.deleteSession(session.tokenHash); }
  // What purgeExpired removed (counts only).
  struct PurgeCounts {
    size_t sessions = 0;  // idle past sessionIdleMs or older than sessionAbsoluteMs
    size_t tickets = 0;   // second-factor tickets past ticketMs
    size_t attempts = 0;  // login-attempt counts past their decay
  };
  // Drops expired sessions, second-factor tickets and login-attempt counts; the retention job
  // (app/retention.h) calls it at start and hourly.
  PurgeCounts purgeExpired();

  // --- The signed-in user's account. ---
  void changePassword(const Session& session, const std::string& oldPassword, const std::string& newPassword,
                      const std::function<void(Outcome<Done>)>& done);
  Outcome<TotpSetup> setupTotp(const Session& session);
  Outcome<std::vector<std::string>> confirmTotp(const Session& session, const std::string& code);
  void disableTotp(const Session& session, const std::string& password, const std::string& code,
                   const std::function<void(Outcome<Done>)>& done);

  // --- Persistent rooms. ---
  std::vector<RoomView> rooms(const Session& session);
  Outcome<std::string> createRoom(const Session& session, std::string_view name);  // the room ID
  Outcome<std::string> hostToken(const Session& session, std::string_view roomId);
  Outcome<std::string> moderatorToken(const Session& session, std::string_view roomId);
  Outcome<RoomView> updateRoom(const Session& session, std::string_view roomId,
                               const std::optional<nlohmann::json>& settings,
                               const std::optional<std::vector<std::string>>& moderators);
  Outcome<Done> deleteRoom(const Session& session, std::string_view roomId);
  std::string hostTokenOf(std::string_view roomId) const;

  // Hashes (sync, slow: call through Offload from the control thread).
  std::string hashPassword(std::string_view password) const;
  bool verifyPassword(const std::string& hash, std::string_view password) const;

  static bool validUsername(std::string_view username);
  static std::optional<Failure> checkNewPassword(std::string_view password);

 private:
  struct Ticket {
    int64_t userId = 0;
    int64_t expires = 0;
    int tries = 0;
  };
  std::optional<Failure> blocked(const std::string& usernameKey, const std::string& sourceKey);
  void countFailure(const std::string& usernameKey, const std::string& sourceKey);
  std::string sourceKey(const net::SourceKey& source);
  LoginResult startSession(const store::UserRecord& user);
  // A 6-digit TOTP code (not used before) or an unused recovery code; consumes what it matched.
  bool checkSecondFactor(const store::UserRecord& user, const std::string& code);
  std::vector<std::string> newRecoveryCodes(std::vector<std::vector<uint8_t>>& hashes) const;
  std::optional<store::RoomRecord> ownedRoom(const Session& session, std::string_view roomId);

  store::AccountStore& mStore;
  std::vector<uint8_t> mRoomTokenKey;
  std::vector<uint8_t> mCsrfKey;
  std::function<std::string()> mNewRoomId;
  AccountSettings mSettings;
  Offload mOffload;
  NowMs mNow;
  SettingsCheck mSettingsCheck;
  AttemptLimiter mAttempts;
  SourceHasher mSources;
  std::map<std::string, Ticket> mTickets;
  size_t mPendingHashes = 0;
};

}  // namespace conclave::accounts
