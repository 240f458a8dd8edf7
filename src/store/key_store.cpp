#include "store/key_store.h"

#include "common/random.h"

namespace conclave::store {

std::vector<uint8_t> KeyStore::getOrCreateKey(std::string_view name, size_t size) {
  auto select = mDb.prepare("SELECT value FROM server_keys WHERE name = ?1");
  select.bind(1, name);
  if (select.step()) {
    auto value = select.columnBlob(0);
    if (value.size() == size) return value;
  }
  std::vector<uint8_t> key(size);
  common::randomBytes(key);
  mDb.prepare("INSERT OR REPLACE INTO server_keys (name, value) VALUES (?1, ?2)").bind(1, name).bindBlob(2, key).run();
  return key;
}

}  // namespace conclave::store
