#include "signaling/bans.h"

#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>

#include "common/random.h"

namespace conclave::signaling {

SourceHasher::SourceHasher() : mKey(32) { common::randomBytes(mKey); }

BanKey SourceHasher::hash(const net::SourceKey& source) const {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!HMAC(EVP_sha256(), mKey.data(), static_cast<int>(mKey.size()), source.data(), source.size(), mac, &len))
    std::abort();  // OpenSSL without SHA-256 HMAC: the build is broken, not the input
  BanKey out{};
  std::copy_n(mac, out.size(), out.begin());
  return out;
}

void BanList::add(const BanKey& key) {
  if (!mKeys.insert(key).second) return;
  mOrder.push_back(key);
  if (mOrder.size() > kMaxBans) {
    mKeys.erase(mOrder.front());
    mOrder.erase(mOrder.begin());
  }
}

}  // namespace conclave::signaling
