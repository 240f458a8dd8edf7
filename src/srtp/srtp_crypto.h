// The cryptographic building blocks under SRTP: RFC 3711's key derivation, AES-128 in counter
// mode, AES-128-GCM (RFC 7714) and HMAC-SHA1.
//
// Each object is keyed once, when a session starts, and then reused for every packet without
// allocating: the AES contexts are OpenSSL 3 EVP contexts that get only a new IV per packet,
// and HMAC-SHA1 copies precomputed inner and outer SHA-1 states (OpenSSL 3.0's EVP digests
// allocate a provider context on every init or copy, EVP_MAC on every init).
// Not thread-safe: each belongs to one SrtpContext. Constructors throw std::runtime_error when
// OpenSSL fails; the packet functions return false instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "srtp/srtp_profile.h"

struct evp_cipher_ctx_st;

namespace conclave::srtp {

inline constexpr size_t kAesKeyLength = 16;
inline constexpr size_t kAesBlockLength = 16;
inline constexpr size_t kGcmIvLength = 12;
inline constexpr size_t kGcmTagLength = 16;
inline constexpr size_t kHmacSha1Length = 20;

// AES-128-CTR: XORs the keystream that starts at counter block `iv` into data, in place.
class AesCtr {
 public:
  explicit AesCtr(std::span<const uint8_t, kAesKeyLength> key);
  ~AesCtr();
  AesCtr(const AesCtr&) = delete;
  AesCtr& operator=(const AesCtr&) = delete;

  [[nodiscard]] bool apply(const std::array<uint8_t, kAesBlockLength>& iv, std::span<uint8_t> data);

 private:
  evp_cipher_ctx_st* mCtx = nullptr;
};

// AES-128-GCM with a 16-byte tag. The associated data comes in two pieces (SRTCP authenticates
// its header and its trailer, which are not adjacent); either may be empty.
class AesGcm {
 public:
  explicit AesGcm(std::span<const uint8_t, kAesKeyLength> key);
  ~AesGcm();
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  // Encrypts `data` in place and writes the tag.
  [[nodiscard]] bool seal(const std::array<uint8_t, kGcmIvLength>& iv, std::span<const uint8_t> aad1,
                          std::span<const uint8_t> aad2, std::span<uint8_t> data,
                          std::span<uint8_t, kGcmTagLength> tag);
  // Decrypts `data` in place; false when the tag does not match (data is then unspecified).
  [[nodiscard]] bool open(const std::array<uint8_t, kGcmIvLength>& iv, std::span<const uint8_t> aad1,
                          std::span<const uint8_t> aad2, std::span<uint8_t> data,
                          std::span<const uint8_t, kGcmTagLength> tag);

 private:
  evp_cipher_ctx_st* mCtx = nullptr;
};

// HMAC-SHA1 (RFC 2104) with a fixed key of at most 64 bytes.
class HmacSha1 {
 public:
  explicit HmacSha1(std::span<const uint8_t> key);
  ~HmacSha1();
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  // The MAC of part1 || part2.
  void compute(std::span<const uint8_t> part1, std::span<const uint8_t> part2,
               std::span<uint8_t, kHmacSha1Length> out) const;

 private:
  struct States;
  std::unique_ptr<States> mStates;
};

// RFC 3711 §4.3.1 with key_derivation_rate 0 (DTLS-SRTP's): `out` is the AES-CM keystream of the
// master key at IV = (master salt || 0x0000) XOR (label << 64). A shorter master salt (AES-GCM's
// 12 bytes, RFC 7714 §11) is padded with zeros to the 14 bytes the PRF takes.
inline constexpr uint8_t kLabelRtpEncryption = 0;
inline constexpr uint8_t kLabelRtpAuthentication = 1;
inline constexpr uint8_t kLabelRtpSalt = 2;
inline constexpr uint8_t kLabelRtcpEncryption = 3;
inline constexpr uint8_t kLabelRtcpAuthentication = 4;
inline constexpr uint8_t kLabelRtcpSalt = 5;
void deriveSessionKey(std::span<const uint8_t, kAesKeyLength> masterKey, std::span<const uint8_t> masterSalt,
                      uint8_t label, std::span<uint8_t> out);

// One direction's session keys, derived once from its master key and salt. Wiped on destruction.
struct SrtpSessionKeys {
  static constexpr size_t kSaltLength = 14;  // AES-CM's; AES-GCM uses the first 12 bytes

  std::array<uint8_t, kAesKeyLength> rtpKey{};
  std::array<uint8_t, kSaltLength> rtpSalt{};
  std::array<uint8_t, kHmacSha1Length> rtpAuthKey{};  // AES-CM only
  std::array<uint8_t, kAesKeyLength> rtcpKey{};
  std::array<uint8_t, kSaltLength> rtcpSalt{};
  std::array<uint8_t, kHmacSha1Length> rtcpAuthKey{};  // AES-CM only

  SrtpSessionKeys() = default;
  ~SrtpSessionKeys();
  SrtpSessionKeys(const SrtpSessionKeys&) = default;
  SrtpSessionKeys& operator=(const SrtpSessionKeys&) = default;

  // Throws std::invalid_argument when the lengths do not fit the profile.
  static SrtpSessionKeys derive(SrtpProfile profile, const SrtpKeyMaterial& master);
};

}  // namespace conclave::srtp
