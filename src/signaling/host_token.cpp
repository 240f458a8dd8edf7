#include "signaling/host_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "common/base64.h"

namespace conclave::signaling {

HostTokens::HostTokens(std::vector<uint8_t> key) : mKey(std::move(key)) {
  if (mKey.size() < 32) throw std::invalid_argument("host token key must have at least 32 bytes");
}

std::string HostTokens::tokenFor(std::string_view label, std::string_view roomId) const {
  std::string data(label);
  data += roomId;
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), mKey.data(), static_cast<int>(mKey.size()), reinterpret_cast<const uint8_t*>(data.data()),
       data.size(), mac, &len);
  return common::base64UrlEncode(std::span<const uint8_t>(mac, len));
}

std::string HostTokens::hostToken(std::string_view roomId) const { return tokenFor("conclave host v1", roomId); }

std::string HostTokens::moderatorToken(std::string_view roomId) const {
  return tokenFor("conclave moderator v1", roomId);
}

std::optional<Role> HostTokens::roleOf(std::string_view roomId, std::string_view token) const {
  if (token.size() != kHostTokenLength) return std::nullopt;
  auto host = hostToken(roomId);
  auto moderator = moderatorToken(roomId);
  // Both compared, in constant time: the answer's timing says nothing about either token.
  bool isHost = CRYPTO_memcmp(host.data(), token.data(), kHostTokenLength) == 0;
  bool isModerator = CRYPTO_memcmp(moderator.data(), token.data(), kHostTokenLength) == 0;
  if (isHost) return Role::Host;
  if (isModerator) return Role::Moderator;
  return std::nullopt;
}

}  // namespace conclave::signaling
