#include "signaling/host_token.h"

#include <openssl/crypto.h>

#include <stdexcept>

#include "common/room_token.h"

namespace conclave::signaling {

HostTokens::HostTokens(std::vector<uint8_t> key) : mKey(std::move(key)) {
  if (mKey.size() < 32) throw std::invalid_argument("host token key must have at least 32 bytes");
}

// The one scheme of common/room_token.h, shared with the persistent rooms of the accounts.
std::string HostTokens::hostToken(std::string_view roomId) const {
  return common::roomToken(mKey, common::kHostTokenPurpose, roomId);
}

std::string HostTokens::moderatorToken(std::string_view roomId) const {
  return common::roomToken(mKey, common::kModeratorTokenPurpose, roomId);
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
