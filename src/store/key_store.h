// The server's own secrets, kept in the server_keys table of the database.
//
// Nothing about rooms, participants or content is stored here: only keys that must survive a
// restart (the key that authenticates room IDs, the key for log hashes, the host-token key).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace conclave::store {

class KeyStore {
 public:
  explicit KeyStore(const Database& db) : mDb(db) {}

  // The key stored under `name`; created from the CSPRNG with `size` bytes the first time.
  std::vector<uint8_t> getOrCreateKey(std::string_view name, size_t size);

 private:
  const Database& mDb;
};

}  // namespace conclave::store
