// The server's own secrets, kept in an SQLite file in the data directory (mode 0600).
//
// Nothing about rooms, participants or content is stored: only keys that must survive a restart
// (the key that authenticates room IDs, the key for log hashes).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::store {

class KeyStore {
 public:
  // Opens (or creates) <dataDir>/conclave.db, creating dataDir with mode 0700 if needed.
  // Throws std::runtime_error with a readable message on failure.
  explicit KeyStore(const std::string& dataDir);

  // The key stored under `name`; created from the CSPRNG with `size` bytes the first time.
  std::vector<uint8_t> getOrCreateKey(std::string_view name, size_t size);

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::unique_ptr<sqlite3, Closer> mDb;
};

// Creates `path` and missing parents with `mode`; throws std::runtime_error on failure.
void ensureDirectory(const std::string& path, unsigned mode);

}  // namespace conclave::store
