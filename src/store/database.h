// The server's one SQLite database, <data_dir>/conclave.db (mode 0600): WAL journal, foreign keys,
// a busy timeout (the `conclave admin` commands may write while the server runs), and a schema
// brought up to date at open by migrations applied in order, each in its own transaction.
//
// A database this binary cannot use is never touched: a file that is not SQLite or fails
// `PRAGMA quick_check`, or a schema version newer than this binary knows, throws DatabaseError
// with a message that says what to do. The caller reports it and exits.
//
// Version history (the `schema_version` table holds one row):
//   1  server_keys (the tables of releases before the version table existed count as 1)
//   2  users, recovery_codes, sessions, rooms, room_moderators (host accounts)
//   3  meetings (settings of ordinary meetings), security_log (the security event log of meetings)
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::store {

class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One prepared statement; bind() takes 1-based parameter indexes, column() 0-based ones.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : mDb(db), mStmt(stmt) {}
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bindBlob(int index, std::span<const uint8_t> data);
  Statement& bindNull(int index);
  // True while there is a row; false when done. Throws DatabaseError on an error.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  int64_t columnInt(int column) const;
  std::string columnText(int column) const;
  std::vector<uint8_t> columnBlob(int column) const;
  bool columnIsNull(int column) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* mDb;
  std::unique_ptr<sqlite3_stmt, Finalizer> mStmt;
};

class Database {
 public:
  // The schema version this binary writes.
  static constexpr int kSchemaVersion = 3;

  // Opens (or creates) <dataDir>/conclave.db, creating dataDir with mode 0700 if needed, and
  // migrates it to kSchemaVersion. Throws DatabaseError.
  explicit Database(const std::string& dataDir);
  // As above, but migrates only up to `targetVersion` (tests build old databases with it).
  Database(const std::string& dataDir, int targetVersion);

  const std::string& path() const { return mPath; }
  int schemaVersion() const { return mVersion; }
  sqlite3* handle() const { return mDb.get(); }

  Statement prepare(std::string_view sql) const;
  void exec(const char* sql) const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const { return sqlite3_changes(mDb.get()); }

  // BEGIN IMMEDIATE ... COMMIT, rolled back if destroyed without commit().
  class Transaction {
   public:
    explicit Transaction(const Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

   private:
    const Database& mDb;
    bool mDone = false;
  };

 private:
  void open(const std::string& dataDir, int targetVersion);
  int readVersion() const;
  void migrate(int targetVersion);

  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::unique_ptr<sqlite3, Closer> mDb;
  std::string mPath;
  int mVersion = 0;
};

// Creates `path` and missing parents with `mode`; throws std::runtime_error on failure.
void ensureDirectory(const std::string& path, unsigned mode);

}  // namespace conclave::store
