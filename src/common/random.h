// Cryptographically secure randomness (OpenSSL's DRBG) and identifiers built from it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace conclave::common {

// Fills `out` from the CSPRNG; aborts the process if the CSPRNG fails (never returns weak bytes).
void randomBytes(std::span<uint8_t> out);
uint32_t randomU32();
uint64_t randomU64();

// `bytes` random bytes, base64url without padding.
std::string randomToken(size_t bytes);

}  // namespace conclave::common
