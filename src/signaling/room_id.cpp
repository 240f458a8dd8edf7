#include "signaling/room_id.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "common/base64.h"
#include "common/random.h"

namespace conclave::signaling {
namespace {

constexpr size_t kRandomBytes = 16;
constexpr size_t kTagBytes = 8;

std::array<uint8_t, kTagBytes> tagOf(const std::vector<uint8_t>& key, const uint8_t* data) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, kRandomBytes, mac, &len);
  std::array<uint8_t, kTagBytes> tag{};
  std::copy_n(mac, kTagBytes, tag.begin());
  return tag;
}

}  // namespace

RoomIdIssuer::RoomIdIssuer(std::vector<uint8_t> key) : mKey(std::move(key)) {
  if (mKey.size() < 32) throw std::invalid_argument("room ID key must have at least 32 bytes");
}

std::string RoomIdIssuer::issue() const {
  std::array<uint8_t, kRandomBytes + kTagBytes> raw{};
  common::randomBytes(std::span(raw).first(kRandomBytes));
  auto tag = tagOf(mKey, raw.data());
  std::copy(tag.begin(), tag.end(), raw.begin() + kRandomBytes);
  return common::base64UrlEncode(raw);
}

bool RoomIdIssuer::verify(std::string_view roomId) const {
  if (roomId.size() != 32) return false;
  auto raw = common::base64UrlDecode(roomId);
  if (!raw || raw->size() != kRandomBytes + kTagBytes) return false;
  auto tag = tagOf(mKey, raw->data());
  return CRYPTO_memcmp(tag.data(), raw->data() + kRandomBytes, kTagBytes) == 0;
}

}  // namespace conclave::signaling
