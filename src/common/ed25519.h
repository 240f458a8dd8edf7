// Ed25519 signatures (RFC 8032) through OpenSSL's EVP interface: the server's long-term key that
// signs privacy receipts, and the public half that verifies them.
//
// The private key is its 32-byte seed (RFC 8032 §5.1.5); the public key is 32 raw bytes. Its
// fingerprint is the SHA-256 of those 32 bytes, as 64 lowercase hex digits.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace conclave::common {

inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

class Ed25519PublicKey {
 public:
  // Nullopt unless `raw` is 32 bytes OpenSSL accepts as a public key.
  static std::optional<Ed25519PublicKey> fromRaw(std::span<const uint8_t> raw);
  // A SubjectPublicKeyInfo PEM block (what toPem() writes); nullopt if it is not an Ed25519 key.
  static std::optional<Ed25519PublicKey> fromPem(std::string_view pem);

  // True only if `signature` is a valid signature of exactly `message`.
  bool verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const;
  const std::array<uint8_t, kEd25519PublicKeyBytes>& raw() const { return mRaw; }
  std::string toPem() const;
  // SHA-256 of raw(), lowercase hex.
  std::string fingerprint() const;

 private:
  Ed25519PublicKey(std::shared_ptr<EVP_PKEY> key, std::array<uint8_t, kEd25519PublicKeyBytes> raw)
      : mKey(std::move(key)), mRaw(raw) {}
  std::shared_ptr<EVP_PKEY> mKey;
  std::array<uint8_t, kEd25519PublicKeyBytes> mRaw;
};

class Ed25519PrivateKey {
 public:
  // The key of a 32-byte seed (from the server's key store). Throws std::runtime_error if the
  // seed has another length or OpenSSL fails.
  explicit Ed25519PrivateKey(std::span<const uint8_t> seed);

  std::array<uint8_t, kEd25519SignatureBytes> sign(std::span<const uint8_t> message) const;
  const Ed25519PublicKey& publicKey() const { return *mPublic; }

 private:
  std::shared_ptr<EVP_PKEY> mKey;
  std::optional<Ed25519PublicKey> mPublic;  // always set once constructed
};

// Lowercase hex, and its strict inverse (lowercase only, even length): nullopt otherwise.
std::string toHex(std::span<const uint8_t> bytes);
std::optional<std::string> fromHex(std::string_view hex);

}  // namespace conclave::common
