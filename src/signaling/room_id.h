// Room IDs: 16 random bytes followed by an 8-byte truncated HMAC-SHA256 under a server key,
// base64url (32 characters). The server recognises IDs it issued without storing them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::signaling {

class RoomIdIssuer {
 public:
  explicit RoomIdIssuer(std::vector<uint8_t> key);

  std::string issue() const;
  bool verify(std::string_view roomId) const;

 private:
  std::vector<uint8_t> mKey;
};

}  // namespace conclave::signaling
