// Random SRTP master keys for the SRTP tests.
#pragma once

#include <cstdint>
#include <vector>

#include "common/random.h"
#include "srtp/srtp_profile.h"

namespace conclave::srtp::test {

inline SrtpKeyMaterial randomKeys(SrtpProfile profile) {
  const auto params = srtpProfileParams(profile);
  std::vector<uint8_t> key(params.masterKeyLength), salt(params.masterSaltLength);
  common::randomBytes(key);
  common::randomBytes(salt);
  return *SrtpKeyMaterial::make(profile, key, salt);
}

}  // namespace conclave::srtp::test
