// SRTP protection profiles negotiated by DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2) and the
// master key material each side derives from the DTLS handshake.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace conclave::srtp {

// Values are the DTLS-SRTP protection profile identifiers of the use_srtp extension.
enum class SrtpProfile : uint16_t {
  AesCm128HmacSha1_80 = 0x0001,  // SRTP_AES128_CM_HMAC_SHA1_80
  AeadAes128Gcm = 0x0007,        // SRTP_AEAD_AES_128_GCM
};

struct SrtpProfileParams {
  size_t masterKeyLength;
  size_t masterSaltLength;
  size_t rtpTrailerLength;   // bytes srtp protect adds to an RTP packet (auth tag)
  size_t rtcpTrailerLength;  // bytes added to an RTCP packet (tag + E flag and SRTCP index)
  std::string_view name;     // the OpenSSL / RFC name
};

constexpr SrtpProfileParams srtpProfileParams(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::AeadAes128Gcm:
      return {16, 12, 16, 16 + 4, "SRTP_AEAD_AES_128_GCM"};
    case SrtpProfile::AesCm128HmacSha1_80:
      break;
  }
  return {16, 14, 10, 10 + 4, "SRTP_AES128_CM_SHA1_80"};
}

// The most bytes any supported profile appends; packet buffers need this much spare room.
inline constexpr size_t kSrtpMaxRtpTrailer = 16;
inline constexpr size_t kSrtpMaxRtcpTrailer = 20;

// The profile for a use_srtp identifier, or nullopt for one we do not support.
constexpr std::optional<SrtpProfile> srtpProfileFromId(uint16_t id) {
  switch (id) {
    case 0x0001:
      return SrtpProfile::AesCm128HmacSha1_80;
    case 0x0007:
      return SrtpProfile::AeadAes128Gcm;
    default:
      return std::nullopt;
  }
}

// One direction's SRTP master key and salt.
struct SrtpKeyMaterial {
  static constexpr size_t kMaxKeyLength = 16;
  static constexpr size_t kMaxSaltLength = 14;

  std::array<uint8_t, kMaxKeyLength> key{};
  std::array<uint8_t, kMaxSaltLength> salt{};
  uint8_t keyLength = 0;
  uint8_t saltLength = 0;

  // Nullopt when the lengths do not match the profile.
  static std::optional<SrtpKeyMaterial> make(SrtpProfile profile, std::span<const uint8_t> masterKey,
                                             std::span<const uint8_t> masterSalt) {
    const auto params = srtpProfileParams(profile);
    if (masterKey.size() != params.masterKeyLength || masterSalt.size() != params.masterSaltLength) return std::nullopt;
    SrtpKeyMaterial out;
    std::copy(masterKey.begin(), masterKey.end(), out.key.begin());
    std::copy(masterSalt.begin(), masterSalt.end(), out.salt.begin());
    out.keyLength = static_cast<uint8_t>(masterKey.size());
    out.saltLength = static_cast<uint8_t>(masterSalt.size());
    return out;
  }

  std::span<const uint8_t> masterKey() const { return std::span(key).first(keyLength); }
  std::span<const uint8_t> masterSalt() const { return std::span(salt).first(saltLength); }
  bool operator==(const SrtpKeyMaterial&) const = default;
};

}  // namespace conclave::srtp
