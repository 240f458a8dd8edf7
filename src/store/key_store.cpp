#include "store/key_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>

#include "common/random.h"

namespace conclave::store {
namespace {

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Stmt prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("key store: ") + sqlite3_errmsg(db));
  return Stmt(stmt);
}

}  // namespace

void ensureDirectory(const std::string& path, unsigned mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::runtime_error("cannot create directory " + path + ": " + ec.message());
  ::chmod(path.c_str(), mode);
}

KeyStore::KeyStore(const std::string& dataDir) {
  ensureDirectory(dataDir, 0700);
  std::string path = dataDir + "/conclave.db";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  mDb.reset(db);
  if (rc != SQLITE_OK)
    throw std::runtime_error("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  ::chmod(path.c_str(), 0600);
  char* err = nullptr;
  if (sqlite3_exec(mDb.get(), "CREATE TABLE IF NOT EXISTS server_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("cannot set up " + path + ": " + msg);
  }
}

std::vector<uint8_t> KeyStore::getOrCreateKey(std::string_view name, size_t size) {
  auto select = prepare(mDb.get(), "SELECT value FROM server_keys WHERE name = ?1");
  sqlite3_bind_text(select.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(select.get()) == SQLITE_ROW) {
    auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(select.get(), 0));
    int len = sqlite3_column_bytes(select.get(), 0);
    if (static_cast<size_t>(len) == size) return std::vector<uint8_t>(data, data + len);
  }
  std::vector<uint8_t> key(size);
  common::randomBytes(key);
  auto insert = prepare(mDb.get(), "INSERT OR REPLACE INTO server_keys (name, value) VALUES (?1, ?2)");
  sqlite3_bind_text(insert.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(insert.get(), 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(insert.get()) != SQLITE_DONE)
    throw std::runtime_error(std::string("key store: ") + sqlite3_errmsg(mDb.get()));
  return key;
}

}  // namespace conclave::store
