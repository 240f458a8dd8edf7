#include "store/account_store.h"

namespace conclave::store {
namespace {

constexpr const char* kUserColumns =
    "SELECT id, username, password_hash, totp_secret, totp_pending, totp_last_step, created FROM users ";

UserRecord readUser(const Statement& s) {
  UserRecord u;
  u.id = s.columnInt(0);
  u.username = s.columnText(1);
  u.passwordHash = s.columnText(2);
  u.totpSecret = s.columnBlob(3);
  u.totpPending = s.columnBlob(4);
  u.totpLastStep = s.columnInt(5);
  u.created = s.columnInt(6);
  return u;
}

constexpr const char* kRoomColumns =
    "SELECT r.room_id, r.owner_id, u.username, r.name, r.settings, r.created FROM rooms r JOIN users u ON u.id = "
    "r.owner_id ";

}  // namespace

std::optional<int64_t> AccountStore::addUser(std::string_view username, std::string_view passwordHash, int64_t now) {
  auto insert = mDb.prepare(
      "INSERT INTO users (username, password_hash, created) VALUES (?1, ?2, ?3) ON CONFLICT (username) DO NOTHING");
  insert.bind(1, username).bind(2, passwordHash).bind(3, now).run();
  if (mDb.changes() == 0) return std::nullopt;
  return sqlite3_last_insert_rowid(mDb.handle());
}

std::optional<UserRecord> AccountStore::findUser(std::string_view username) const {
  auto s = mDb.prepare(std::string(kUserColumns) + "WHERE username = ?1");
  s.bind(1, username);
  if (!s.step()) return std::nullopt;
  return readUser(s);
}

std::optional<UserRecord> AccountStore::findUser(int64_t id) const {
  auto s = mDb.prepare(std::string(kUserColumns) + "WHERE id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readUser(s);
}

std::vector<UserRecord> AccountStore::listUsers() const {
  auto s = mDb.prepare(std::string(kUserColumns) + "ORDER BY username");
  std::vector<UserRecord> out;
  while (s.step()) out.push_back(readUser(s));
  return out;
}

bool AccountStore::deleteUser(std::string_view username) {
  mDb.prepare("DELETE FROM users WHERE username = ?1").bind(1, username).run();
  return mDb.changes() > 0;
}

void AccountStore::setPasswordHash(int64_t userId, std::string_view hash) {
  mDb.prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1").bind(1, userId).bind(2, hash).run();
}

void AccountStore::setTotpPending(int64_t userId, const std::vector<uint8_t>& secret) {
  auto s = mDb.prepare("UPDATE users SET totp_pending = ?2 WHERE id = ?1");
  s.bind(1, userId);
  if (secret.empty()) s.bindNull(2);
  else s.bindBlob(2, secret);
  s.run();
}

void AccountStore::enableTotp(int64_t userId, const std::vector<uint8_t>& secret, int64_t step,
                              const std::vector<std::vector<uint8_t>>& codeHashes) {
  Database::Transaction tx(mDb);
  mDb.prepare("UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_last_step = ?3 WHERE id = ?1")
      .bind(1, userId)
      .bindBlob(2, secret)
      .bind(3, step)
      .run();
  mDb.prepare("DELETE FROM recovery_codes WHERE user_id = ?1").bind(1, userId).run();
  for (const auto& hash : codeHashes)
    mDb.prepare("INSERT OR IGNORE INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)")
        .bind(1, userId)
        .bindBlob(2, hash)
        .run();
  tx.commit();
}

void AccountStore::disableTotp(int64_t userId) {
  Database::Transaction tx(mDb);
  mDb.prepare("UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1").bind(1, userId).run();
  mDb.prepare("DELETE FROM recovery_codes WHERE user_id = ?1").bind(1, userId).run();
  tx.commit();
}

bool AccountStore::advanceTotpStep(int64_t userId, int64_t step) {
  // One statement: two requests with the same code cannot both pass.
  mDb.prepare("UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2")
      .bind(1, userId)
      .bind(2, step)
      .run();
  return mDb.changes() == 1;
}

bool AccountStore::useRecoveryCode(int64_t userId, const std::vector<uint8_t>& codeHash) {
  mDb.prepare("DELETE FROM recovery_codes WHERE user_id = ?1 AND code_hash = ?2")
      .bind(1, userId)
      .bindBlob(2, codeHash)
      .run();
  return mDb.changes() == 1;
}

int AccountStore::recoveryCodesLeft(int64_t userId) const {
  auto s = mDb.prepare("SELECT count(*) FROM recovery_codes WHERE user_id = ?1");
  s.bind(1, userId);
  return s.step() ? static_cast<int>(s.columnInt(0)) : 0;
}

void AccountStore::addSession(const std::vector<uint8_t>& tokenHash, int64_t userId, int64_t now) {
  mDb.prepare("INSERT INTO sessions (token_hash, user_id, created, last_seen) VALUES (?1, ?2, ?3, ?3)")
      .bindBlob(1, tokenHash)
      .bind(2, userId)
      .bind(3, now)
      .run();
}

std::optional<SessionRecord> AccountStore::findSession(const std::vector<uint8_t>& tokenHash) const {
  auto s = mDb.prepare("SELECT user_id, created, last_seen FROM sessions WHERE token_hash = ?1");
  s.bindBlob(1, tokenHash);
  if (!s.step()) return std::nullopt;
  return SessionRecord{s.columnInt(0), s.columnInt(1), s.columnInt(2)};
}

void AccountStore::touchSession(const std::vector<uint8_t>& tokenHash, int64_t now) {
  mDb.prepare("UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1").bindBlob(1, tokenHash).bind(2, now).run();
}

void AccountStore::deleteSession(const std::vector<uint8_t>& tokenHash) {
  mDb.prepare("DELETE FROM sessions WHERE token_hash = ?1").bindBlob(1, tokenHash).run();
}

void AccountStore::deleteSessionsOfUser(int64_t userId, const std::vector<uint8_t>& keep) {
  mDb.prepare("DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2").bind(1, userId).bindBlob(2, keep).run();
}

int AccountStore::purgeSessions(int64_t idleBefore, int64_t createdBefore) {
  mDb.prepare("DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2")
      .bind(1, idleBefore)
      .bind(2, createdBefore)
      .run();
  return mDb.changes();
}

void AccountStore::addRoom(std::string_view roomId, int64_t ownerId, std::string_view name, std::string_view settings,
                           int64_t now) {
  auto s = mDb.prepare("INSERT INTO rooms (room_id, owner_id, name, settings, created) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, roomId).bind(2, ownerId);
  if (name.empty()) s.bindNull(3);
  else s.bind(3, name);
  s.bind(4, settings).bind(5, now).run();
}

std::vector<RoomRecord> AccountStore::readRooms(Statement& s) const {
  std::vector<RoomRecord> out;
  while (s.step()) {
    RoomRecord r;
    r.roomId = s.columnText(0);
    r.ownerId = s.columnInt(1);
    r.owner = s.columnText(2);
    r.name = s.columnText(3);
    r.settings = s.columnText(4);
    r.created = s.columnInt(5);
    out.push_back(std::move(r));
  }
  for (auto& r : out) {
    auto m = mDb.prepare(
        "SELECT u.username FROM room_moderators m JOIN users u ON u.id = m.user_id WHERE m.room_id = ?1 ORDER BY "
        "u.username");
    m.bind(1, r.roomId);
    while (m.step()) r.moderators.push_back(m.columnText(0));
  }
  return out;
}

std::optional<RoomRecord> AccountStore::findRoom(std::string_view roomId) const {
  auto s = mDb.prepare(std::string(kRoomColumns) + "WHERE r.room_id = ?1");
  s.bind(1, roomId);
  auto rooms = readRooms(s);
  if (rooms.empty()) return std::nullopt;
  return std::move(rooms.front());
}

std::vector<RoomRecord> AccountStore::roomsOf(int64_t userId) const {
  auto s = mDb.prepare(std::string(kRoomColumns) +
                       "WHERE r.owner_id = ?1 OR r.room_id IN (SELECT room_id FROM room_moderators WHERE user_id = "
                       "?1) ORDER BY (r.owner_id <> ?1), r.created");
  s.bind(1, userId);
  return readRooms(s);
}

std::vector<RoomRecord> AccountStore::listRooms() const {
  auto s = mDb.prepare(std::string(kRoomColumns) + "ORDER BY u.username, r.created");
  return readRooms(s);
}

bool AccountStore::deleteRoom(std::string_view roomId) {
  mDb.prepare("DELETE FROM rooms WHERE room_id = ?1").bind(1, roomId).run();
  return mDb.changes() > 0;
}

void AccountStore::setRoomSettings(std::string_view roomId, std::string_view settings) {
  mDb.prepare("UPDATE rooms SET settings = ?2 WHERE room_id = ?1").bind(1, roomId).bind(2, settings).run();
}

void AccountStore::setRoomModerators(std::string_view roomId, const std::vector<int64_t>& userIds) {
  Database::Transaction tx(mDb);
  mDb.prepare("DELETE FROM room_moderators WHERE room_id = ?1").bind(1, roomId).run();
  for (int64_t id : userIds)
    mDb.prepare("INSERT OR IGNORE INTO room_moderators (room_id, user_id) VALUES (?1, ?2)")
        .bind(1, roomId)
        .bind(2, id)
        .run();
  tx.commit();
}

size_t AccountStore::roomCountOf(int64_t userId) const {
  auto s = mDb.prepare("SELECT count(*) FROM rooms WHERE owner_id = ?1");
  s.bind(1, userId);
  return s.step() ? static_cast<size_t>(s.columnInt(0)) : 0;
}

std::vector<SessionRecord> AccountStore::sessionsOf(int64_t userId) const {
  auto s = mDb.prepare("SELECT created, last_seen FROM sessions WHERE user_id = ?1 ORDER BY created, last_seen");
  s.bind(1, userId);
  std::vector<SessionRecord> out;
  while (s.step()) out.push_back(SessionRecord{userId, s.columnInt(0), s.columnInt(1)});
  return out;
}

ErasedRows AccountStore::eraseUser(int64_t userId) {
  Database::Transaction tx(mDb);
  ErasedRows erased;
  auto run = [&](const char* sql) {
    mDb.prepare(sql).bind(1, userId).run();
    return static_cast<size_t>(mDb.changes());
  };
  // Rows keyed by the owned rooms' IDs carry no foreign key: deleted by hand, before the rooms.
  erased.securityLog = run("DELETE FROM security_log WHERE room_id IN (SELECT room_id FROM rooms WHERE owner_id = ?1)");
  erased.meetings = run("DELETE FROM meetings WHERE room_id IN (SELECT room_id FROM rooms WHERE owner_id = ?1)");
  erased.moderatorships = run(
      "DELETE FROM room_moderators WHERE user_id = ?1 AND room_id NOT IN (SELECT room_id FROM rooms WHERE owner_id = "
      "?1)");
  erased.sessions = run("DELETE FROM sessions WHERE user_id = ?1");
  erased.recoveryCodes = run("DELETE FROM recovery_codes WHERE user_id = ?1");
  // The rooms' own moderator rows go with them (ON DELETE CASCADE).
  erased.roomsOwned = run("DELETE FROM rooms WHERE owner_id = ?1");
  run("DELETE FROM users WHERE id = ?1");
  tx.commit();
  return erased;
}

}  // namespace conclave::store
