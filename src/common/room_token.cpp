#include "common/room_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

#include "common/base64.h"

namespace conclave::common {

std::string roomToken(std::span<const uint8_t> key, std::string_view purpose, std::string_view roomId) {
  std::string message(purpose);
  message += roomId;
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const uint8_t*>(message.data()),
       message.size(), mac.data(), &length);
  return base64UrlEncode(std::span<const uint8_t>(mac.data(), length));
}

bool roomTokenMatches(std::span<const uint8_t> key, std::string_view purpose, std::string_view roomId,
                      std::string_view token) {
  std::string expected = roomToken(key, purpose, roomId);
  return token.size() == expected.size() && CRYPTO_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

}  // namespace conclave::common
