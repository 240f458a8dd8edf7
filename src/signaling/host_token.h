// Host and moderator credentials of a meeting: stateless tokens the server recognises without
// storing them (they survive restarts and need no table).
//
//   hostToken      = base64url(HMAC-SHA256(key, "conclave host v1"      || roomId))   43 characters
//   moderatorToken = base64url(HMAC-SHA256(key, "conclave moderator v1" || roomId))
//
// The creator's browser gets the host token from POST /api/rooms and keeps it (never in the
// invite link). Whoever joins with it is a host. Comparison is in constant time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/meeting_settings.h"

namespace conclave::signaling {

inline constexpr size_t kHostTokenLength = 43;

class HostTokens {
 public:
  // `key`: at least 32 bytes (the server's "host-token" key).
  explicit HostTokens(std::vector<uint8_t> key);

  std::string hostToken(std::string_view roomId) const;
  std::string moderatorToken(std::string_view roomId) const;
  // The role `token` gives in `roomId` (Host or Moderator), or nullopt when it is neither token.
  std::optional<Role> roleOf(std::string_view roomId, std::string_view token) const;

 private:
  std::vector<uint8_t> mKey;
};

}  // namespace conclave::signaling
