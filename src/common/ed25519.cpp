#include "common/ed25519.h"

#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace conclave::common {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
}

std::optional<std::array<uint8_t, kEd25519PublicKeyBytes>> rawPublic(EVP_PKEY* key) {
  std::array<uint8_t, kEd25519PublicKeyBytes> raw{};
  size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size()) return std::nullopt;
  return raw;
}

}  // namespace

std::optional<Ed25519PublicKey> Ed25519PublicKey::fromRaw(std::span<const uint8_t> raw) {
  if (raw.size() != kEd25519PublicKeyBytes) return std::nullopt;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (!key) return std::nullopt;
  std::array<uint8_t, kEd25519PublicKeyBytes> copy{};
  std::copy(raw.begin(), raw.end(), copy.begin());
  return Ed25519PublicKey(own(key), copy);
}

std::optional<Ed25519PublicKey> Ed25519PublicKey::fromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::nullopt;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return std::nullopt;
  auto owned = own(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) return std::nullopt;
  auto raw = rawPublic(key);
  if (!raw) return std::nullopt;
  return Ed25519PublicKey(owned, *raw);
}

bool Ed25519PublicKey::verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const {
  if (signature.size() != kEd25519SignatureBytes) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally: no digest, one-shot verification.
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, mKey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
}

std::string Ed25519PublicKey::toPem() const {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), mKey.get()) != 1) throw std::runtime_error("cannot write the public key");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string Ed25519PublicKey::fingerprint() const {
  std::array<uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(mRaw.data(), mRaw.size(), digest.data());
  return toHex(digest);
}

Ed25519PrivateKey::Ed25519PrivateKey(std::span<const uint8_t> seed) {
  if (seed.size() != kEd25519SeedBytes) throw std::runtime_error("an Ed25519 seed has 32 bytes");
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (!key) throw std::runtime_error("OpenSSL cannot make an Ed25519 key");
  mKey = own(key);
  auto raw = rawPublic(key);
  if (raw) mPublic = Ed25519PublicKey::fromRaw(*raw);
  if (!mPublic) throw std::runtime_error("OpenSSL cannot give the Ed25519 public key");
}

std::array<uint8_t, kEd25519SignatureBytes> Ed25519PrivateKey::sign(std::span<const uint8_t> message) const {
  std::array<uint8_t, kEd25519SignatureBytes> signature{};
  size_t length = signature.size();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, mKey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1 ||
      length != signature.size())
    throw std::runtime_error("Ed25519 signing failed");
  return signature;
}

std::string toHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::optional<std::string> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace conclave::common
