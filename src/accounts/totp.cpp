#include "accounts/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace conclave::accounts {
namespace {

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string base32Encode(std::span<const uint8_t> data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string totpCode(std::span<const uint8_t> secret, int64_t step) {
  std::array<uint8_t, 8> counter{};
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<size_t>(i)] = static_cast<uint8_t>(step & 0xff);
    step >>= 8;
  }
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned length = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter.data(), counter.size(), mac.data(), &length);
  size_t offset = mac[length - 1] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

std::optional<int64_t> matchTotp(std::span<const uint8_t> secret, std::string_view code, int64_t unixSeconds) {
  if (code.size() != 6) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  int64_t now = totpStep(unixSeconds);
  std::optional<int64_t> found;
  for (int64_t step = now - 1; step <= now + 1; ++step) {
    std::string expected = totpCode(secret, step);
    if (CRYPTO_memcmp(expected.data(), code.data(), 6) == 0 && !found) found = step;
  }
  return found;
}

std::string otpauthUri(std::string_view issuer, std::string_view account, std::span<const uint8_t> secret) {
  return "otpauth://totp/" + percentEncode(issuer) + ":" + percentEncode(account) + "?secret=" + base32Encode(secret) +
         "&issuer=" + percentEncode(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace conclave::accounts
