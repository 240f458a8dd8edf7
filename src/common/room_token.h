// Room credentials: base64url(HMAC-SHA256(server key, purpose ‖ roomId)), 43 characters. They are
// stateless (nothing stored, they survive restarts) and are compared in constant time. The one
// place that computes them, for ordinary meetings (host token) and persistent rooms (host and
// moderator tokens) alike.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace conclave::common {

inline constexpr std::string_view kHostTokenPurpose = "conclave host v1";
inline constexpr std::string_view kModeratorTokenPurpose = "conclave moderator v1";

std::string roomToken(std::span<const uint8_t> key, std::string_view purpose, std::string_view roomId);

// True when `token` is the room token; the comparison takes the same time wherever it differs.
bool roomTokenMatches(std::span<const uint8_t> key, std::string_view purpose, std::string_view roomId,
                      std::string_view token);

}  // namespace conclave::common
