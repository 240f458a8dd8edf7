#include "signaling/turn_credentials.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "common/random.h"

namespace conclave::signaling {

std::string turnPassword(std::string_view secret, std::string_view username) {
  std::array<unsigned char, 20> mac{};
  size_t macLength = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(username.data()), username.size(), mac.data(), mac.size(),
                &macLength) == nullptr ||
      macLength != mac.size())
    std::abort();  // OpenSSL without SHA-1 HMAC: the build is broken, not the input
  // 20 bytes → 28 characters and a NUL.
  std::array<unsigned char, 29> text{};
  int length = EVP_EncodeBlock(text.data(), mac.data(), static_cast<int>(mac.size()));
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<size_t>(length));
}

bool isTurnUrl(std::string_view url) {
  if (url.size() > 256) return false;
  std::string_view rest;
  if (url.starts_with("turn:")) rest = url.substr(5);
  else if (url.starts_with("turns:")) rest = url.substr(6);
  else return false;
  if (rest.empty()) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
}

TurnIssuer::TurnIssuer(TurnSettings settings, WallClock clock)
    : mSettings(std::move(settings)), mClock(std::move(clock)) {}

TurnCredential TurnIssuer::issue() const {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(mClock().time_since_epoch());
  int64_t expiry = (now + mSettings.lifetime).count();
  // 9 random bytes: 12 characters, and no ':' (the separator) in base64url.
  std::string username = std::to_string(expiry) + ":" + common::randomToken(9);
  std::string password = turnPassword(mSettings.secret, username);
  return TurnCredential{mSettings.urls, std::move(username), std::move(password), mSettings.lifetime};
}

}  // namespace conclave::signaling
