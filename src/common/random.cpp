#include "common/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/base64.h"

namespace conclave::common {

void randomBytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fputs("conclave: the CSPRNG failed; refusing to continue\n", stderr);
    std::abort();
  }
}

uint32_t randomU32() {
  uint8_t b[4];
  randomBytes(b);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

uint64_t randomU64() { return (uint64_t{randomU32()} << 32) | randomU32(); }

std::string randomToken(size_t bytes) {
  std::vector<uint8_t> b(bytes);
  randomBytes(b);
  return base64UrlEncode(b);
}

}  // namespace conclave::common
