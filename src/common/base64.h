// Base64url (RFC 4648 §5) without padding, and hex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::common {

std::string base64UrlEncode(std::span<const uint8_t> data);
// Accepts only the URL-safe alphabet without padding; nullopt on anything else.
std::optional<std::vector<uint8_t>> base64UrlDecode(std::string_view text);
bool isBase64Url(std::string_view text);

std::string hexEncode(std::span<const uint8_t> data);

}  // namespace conclave::common
