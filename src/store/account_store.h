// Host accounts and their persistent rooms in the database (schema version 2): the SQL and
// nothing else. Hashing, TOTP and the rules live in accounts::AccountService.
//
// Kept: usernames, Argon2id password hashes, TOTP secrets (needed in clear to check codes) and the
// last TOTP time step used, SHA-256 hashes of recovery codes and of session tokens, persistent
// rooms (ID, owner, optional name, settings JSON, moderators). Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace conclave::store {

struct UserRecord {
  int64_t id = 0;
  std::string username;
  std::string passwordHash;
  std::vector<uint8_t> totpSecret;   // empty: 2-step login off
  std::vector<uint8_t> totpPending;  // set up but not confirmed yet
  int64_t totpLastStep = 0;
  int64_t created = 0;
};

struct SessionRecord {
  int64_t userId = 0;
  int64_t created = 0;
  int64_t lastSeen = 0;
};

struct RoomRecord {
  std::string roomId;
  int64_t ownerId = 0;
  std::string owner;  // username
  std::string name;
  std::string settings;  // JSON object text
  int64_t created = 0;
  std::vector<std::string> moderators;  // usernames
};

// What eraseUser removed, row counts by table.
struct ErasedRows {
  size_t sessions = 0;
  size_t recoveryCodes = 0;
  size_t roomsOwned = 0;
  size_t moderatorships = 0;  // of rooms others own
  size_t meetings = 0;        // meetings rows of the owned rooms
  size_t securityLog = 0;     // security_log rows of the owned rooms
};

class AccountStore {
 public:
  explicit AccountStore(const Database& db) : mDb(db) {}

  // Users. addUser returns nullopt if the name is taken (case-insensitively).
  std::optional<int64_t> addUser(std::string_view username, std::string_view passwordHash, int64_t now);
  std::optional<UserRecord> findUser(std::string_view username) const;
  std::optional<UserRecord> findUser(int64_t id) const;
  std::vector<UserRecord> listUsers() const;
  // Also deletes the user's sessions, recovery codes and rooms.
  bool deleteUser(std::string_view username);
  void setPasswordHash(int64_t userId, std::string_view hash);
  void setTotpPending(int64_t userId, const std::vector<uint8_t>& secret);
  // Moves the pending secret into place, records `step` as used and replaces the recovery codes.
  void enableTotp(int64_t userId, const std::vector<uint8_t>& secret, int64_t step,
                  const std::vector<std::vector<uint8_t>>& codeHashes);
  // Turns 2-step login off: secret, pending secret and recovery codes go.
  void disableTotp(int64_t userId);
  // Records `step` as used if it is later than the last used one; false if it is not (a replay).
  bool advanceTotpStep(int64_t userId, int64_t step);
  // Deletes the recovery code with this hash; false if there is none.
  bool useRecoveryCode(int64_t userId, const std::vector<uint8_t>& codeHash);
  int recoveryCodesLeft(int64_t userId) const;

  // Login sessions, by the hash of their token.
  void addSession(const std::vector<uint8_t>& tokenHash, int64_t userId, int64_t now);
  std::optional<SessionRecord> findSession(const std::vector<uint8_t>& tokenHash) const;
  void touchSession(const std::vector<uint8_t>& tokenHash, int64_t now);
  void deleteSession(const std::vector<uint8_t>& tokenHash);
  // All sessions of the user but `keep` (pass an empty hash to end them all).
  void deleteSessionsOfUser(int64_t userId, const std::vector<uint8_t>& keep);
  // The user's sessions, oldest first (the token hashes are not read).
  std::vector<SessionRecord> sessionsOf(int64_t userId) const;
  // Sessions idle since before `idleBefore` or created before `createdBefore`; returns how many.
  int purgeSessions(int64_t idleBefore, int64_t createdBefore);

  // Persistent rooms.
  void addRoom(std::string_view roomId, int64_t ownerId, std::string_view name, std::string_view settings, int64_t now);
  std::optional<RoomRecord> findRoom(std::string_view roomId) const;
  // Rooms the user owns, then rooms the user moderates.
  std::vector<RoomRecord> roomsOf(int64_t userId) const;
  std::vector<RoomRecord> listRooms() const;
  bool deleteRoom(std::string_view roomId);
  void setRoomSettings(std::string_view roomId, std::string_view settings);
  void setRoomModerators(std::string_view roomId, const std::vector<int64_t>& userIds);
  size_t roomCountOf(int64_t userId) const;

  // GDPR Art. 17 (`conclave admin erase-user`): in one transaction, the user's row, sessions and
  // recovery codes, the persistent rooms they own with those rooms' meetings and security_log
  // rows, and their place as moderator of others' rooms. Nothing is transferred to anyone.
  ErasedRows eraseUser(int64_t userId);

 private:
  std::vector<RoomRecord> readRooms(Statement& stmt) const;

  const Database& mDb;
};

}  // namespace conclave::store
