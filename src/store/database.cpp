#include "store/database.h"

#include <sys/stat.h>

#include <filesystem>

namespace conclave::store {
namespace {

// Migration i (1-based) brings the schema from version i-1 to i. Append, never edit: a database
// in the field has run the old text.
constexpr const char* kMigrations[] = {
    // 1: the server's own keys.
    "CREATE TABLE IF NOT EXISTS server_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);",
    // 2: host accounts and their persistent rooms. Times are Unix milliseconds.
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT NOT NULL,"
    "  totp_secret BLOB,"
    "  totp_pending BLOB,"
    "  totp_last_step INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE recovery_codes ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  code_hash BLOB NOT NULL,"
    "  PRIMARY KEY (user_id, code_hash)) WITHOUT ROWID;"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  created INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TABLE rooms ("
    "  room_id TEXT PRIMARY KEY,"
    "  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX rooms_owner ON rooms(owner_id);"
    "CREATE TABLE room_moderators ("
    "  room_id TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX room_moderators_user ON room_moderators(user_id);",
    // 3: meetings' settings, and their security event log (participant IDs only, no addresses,
    // no names).
    "CREATE TABLE meetings ("
    "  room_id TEXT PRIMARY KEY,"
    "  settings TEXT NOT NULL,"
    "  pin_hash TEXT NOT NULL DEFAULT '',"
    "  ended INTEGER NOT NULL DEFAULT 0,"
    "  moved INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX meetings_last_used ON meetings(last_used);"
    "CREATE TABLE security_log ("
    "  room_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  actor TEXT NOT NULL DEFAULT '',"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX security_log_room_at ON security_log(room_id, at);"
    "CREATE INDEX security_log_at ON security_log(at);",
};
static_assert(std::size(kMigrations) == Database::kSchemaVersion);

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

void ensureDirectory(const std::string& path, unsigned mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::runtime_error("cannot create directory " + path + ": " + ec.message());
  ::chmod(path.c_str(), mode);
}

// --- Statement ---

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(mStmt.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(mStmt.get(), index, value);
  return *this;
}

Statement& Statement::bindBlob(int index, std::span<const uint8_t> data) {
  sqlite3_bind_blob(mStmt.get(), index, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bindNull(int index) {
  sqlite3_bind_null(mStmt.get(), index);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(mStmt.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw DatabaseError(std::string("database: ") + sqlite3_errmsg(mDb));
}

void Statement::run() {
  while (step()) {
  }
}

int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(mStmt.get(), column); }

std::string Statement::columnText(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(mStmt.get(), column));
  return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(mStmt.get(), column))) : std::string();
}

std::vector<uint8_t> Statement::columnBlob(int column) const {
  auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(mStmt.get(), column));
  int length = sqlite3_column_bytes(mStmt.get(), column);
  return data ? std::vector<uint8_t>(data, data + length) : std::vector<uint8_t>();
}

bool Statement::columnIsNull(int column) const { return sqlite3_column_type(mStmt.get(), column) == SQLITE_NULL; }

// --- Database ---

Database::Database(const std::string& dataDir) : Database(dataDir, kSchemaVersion) {}

Database::Database(const std::string& dataDir, int targetVersion) { open(dataDir, targetVersion); }

void Database::open(const std::string& dataDir, int targetVersion) {
  ensureDirectory(dataDir, 0700);
  mPath = dataDir + "/conclave.db";
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(mPath.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  mDb.reset(db);
  if (rc != SQLITE_OK) throw DatabaseError("cannot open " + mPath + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  ::chmod(mPath.c_str(), 0600);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  // The first read of the file: a file that is not a database (or a damaged one) stops here,
  // before anything could be written to it.
  try {
    auto check = prepare("PRAGMA quick_check");
    std::string result = check.step() ? check.columnText(0) : "no answer";
    if (result != "ok") throw DatabaseError(result);
  } catch (const DatabaseError& e) {
    throw DatabaseError(mPath + " is unreadable or damaged (" + e.what() +
                        "). Conclave does not change it: restore it from a backup, or move it away to start "
                        "with an empty database (accounts and persistent rooms are then gone).");
  }
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA synchronous = NORMAL");
  exec("PRAGMA foreign_keys = ON");
  mVersion = readVersion();
  if (mVersion > kSchemaVersion)
    throw DatabaseError(mPath + " has schema version " + std::to_string(mVersion) + ", newer than this conclave (" +
                        std::to_string(kSchemaVersion) +
                        ") understands: run the newer conclave, or restore a backup made for this version.");
  migrate(targetVersion);
}

Statement Database::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(mDb.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
    throw DatabaseError(std::string("database: ") + sqlite3_errmsg(mDb.get()));
  return Statement(mDb.get(), stmt);
}

void Database::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(mDb.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errmsg(mDb.get());
    sqlite3_free(err);
    throw DatabaseError("database: " + message);
  }
}

int Database::readVersion() const {
  auto table = prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_version', "
      "'server_keys')");
  bool hasVersionTable = false, hasKeys = false;
  while (table.step()) {
    auto name = table.columnText(0);
    hasVersionTable = hasVersionTable || name == "schema_version";
    hasKeys = hasKeys || name == "server_keys";
  }
  if (!hasVersionTable) return hasKeys ? 1 : 0;  // before the version table: server_keys was version 1
  auto version = prepare("SELECT version FROM schema_version");
  if (!version.step()) throw DatabaseError(mPath + ": the schema_version table is empty; restore a backup");
  return static_cast<int>(version.columnInt(0));
}

void Database::migrate(int targetVersion) {
  while (mVersion < targetVersion) {
    Transaction tx(*this);
    exec(kMigrations[mVersion]);
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    exec("DELETE FROM schema_version");
    prepare("INSERT INTO schema_version (version) VALUES (?1)").bind(1, int64_t{mVersion + 1}).run();
    tx.commit();
    ++mVersion;
  }
}

Database::Transaction::Transaction(const Database& db) : mDb(db) { mDb.exec("BEGIN IMMEDIATE"); }

Database::Transaction::~Transaction() {
  if (!mDone) sqlite3_exec(mDb.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Database::Transaction::commit() {
  mDb.exec("COMMIT");
  mDone = true;
}

}  // namespace conclave::store
