// SHA1_Init/Update/Final are deprecated in OpenSSL 3.0 but present in every 3.x; they are used
// here because they keep their state in a plain struct that can be copied per packet, where the
// EVP digest API allocates on every init or copy (measured with OpenSSL 3.0).
#define OPENSSL_SUPPRESS_DEPRECATED

#include "srtp/srtp_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace conclave::srtp {
namespace {

constexpr size_t kSha1BlockLength = 64;

EVP_CIPHER_CTX* newKeyedContext(const EVP_CIPHER* cipher, std::span<const uint8_t, kAesKeyLength> key,
                                const char* what) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr || EVP_CipherInit_ex(ctx, cipher, nullptr, key.data(), nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    throw std::runtime_error(std::string("OpenSSL refused to key ") + what);
  }
  return ctx;
}

bool addAad(EVP_CIPHER_CTX* ctx, std::span<const uint8_t> aad) {
  int outLength = 0;
  return aad.empty() || EVP_CipherUpdate(ctx, nullptr, &outLength, aad.data(), static_cast<int>(aad.size())) == 1;
}

bool crypt(EVP_CIPHER_CTX* ctx, std::span<uint8_t> data) {
  if (data.empty()) return true;
  if (data.size() > static_cast<size_t>(INT_MAX)) return false;
  int outLength = 0;
  return EVP_CipherUpdate(ctx, data.data(), &outLength, data.data(), static_cast<int>(data.size())) == 1 &&
         static_cast<size_t>(outLength) == data.size();
}

}  // namespace

AesCtr::AesCtr(std::span<const uint8_t, kAesKeyLength> key)
    : mCtx(newKeyedContext(EVP_aes_128_ctr(), key, "AES-128-CTR")) {}

AesCtr::~AesCtr() { EVP_CIPHER_CTX_free(mCtx); }

bool AesCtr::apply(const std::array<uint8_t, kAesBlockLength>& iv, std::span<uint8_t> data) {
  return EVP_CipherInit_ex(mCtx, nullptr, nullptr, nullptr, iv.data(), 1) == 1 && crypt(mCtx, data);
}

AesGcm::AesGcm(std::span<const uint8_t, kAesKeyLength> key)
    : mCtx(newKeyedContext(EVP_aes_128_gcm(), key, "AES-128-GCM")) {}

AesGcm::~AesGcm() { EVP_CIPHER_CTX_free(mCtx); }

bool AesGcm::seal(const std::array<uint8_t, kGcmIvLength>& iv, std::span<const uint8_t> aad1,
                  std::span<const uint8_t> aad2, std::span<uint8_t> data, std::span<uint8_t, kGcmTagLength> tag) {
  int finalLength = 0;
  // The tag through a parameter (EVP_CIPHER_CTX_ctrl makes one of its own each time).
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
                         OSSL_PARAM_construct_end()};
  return EVP_CipherInit_ex(mCtx, nullptr, nullptr, nullptr, iv.data(), 1) == 1 && addAad(mCtx, aad1) &&
         addAad(mCtx, aad2) && crypt(mCtx, data) && EVP_CipherFinal_ex(mCtx, nullptr, &finalLength) == 1 &&
         EVP_CIPHER_CTX_get_params(mCtx, params) == 1;
}

bool AesGcm::open(const std::array<uint8_t, kGcmIvLength>& iv, std::span<const uint8_t> aad1,
                  std::span<const uint8_t> aad2, std::span<uint8_t> data, std::span<const uint8_t, kGcmTagLength> tag) {
  // OpenSSL takes the expected tag through a non-const pointer but only reads it.
  std::array<uint8_t, kGcmTagLength> expected;
  std::copy(tag.begin(), tag.end(), expected.begin());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, expected.data(), expected.size()),
      OSSL_PARAM_construct_end()};
  int finalLength = 0;
  return EVP_CipherInit_ex(mCtx, nullptr, nullptr, nullptr, iv.data(), 0) == 1 && addAad(mCtx, aad1) &&
         addAad(mCtx, aad2) && crypt(mCtx, data) && EVP_CIPHER_CTX_set_params(mCtx, params) == 1 &&
         EVP_CipherFinal_ex(mCtx, nullptr, &finalLength) == 1;
}

// The SHA-1 states after absorbing one block of key XOR ipad and of key XOR opad (RFC 2104).
struct HmacSha1::States {
  SHA_CTX inner;
  SHA_CTX outer;
};

HmacSha1::HmacSha1(std::span<const uint8_t> key) : mStates(std::make_unique<States>()) {
  if (key.size() > kSha1BlockLength) throw std::invalid_argument("HMAC-SHA1 keys longer than a block are not used");
  std::array<uint8_t, kSha1BlockLength> pad{};
  auto absorb = [&](SHA_CTX& state, uint8_t fill) {
    pad.fill(fill);
    for (size_t i = 0; i < key.size(); ++i) pad[i] ^= key[i];
    if (SHA1_Init(&state) != 1 || SHA1_Update(&state, pad.data(), pad.size()) != 1)
      throw std::runtime_error("OpenSSL refused SHA-1");
  };
  absorb(mStates->inner, 0x36);
  absorb(mStates->outer, 0x5c);
  OPENSSL_cleanse(pad.data(), pad.size());
}

HmacSha1::~HmacSha1() {
  if (mStates) OPENSSL_cleanse(mStates.get(), sizeof(States));
}

void HmacSha1::compute(std::span<const uint8_t> part1, std::span<const uint8_t> part2,
                       std::span<uint8_t, kHmacSha1Length> out) const {
  SHA_CTX state = mStates->inner;
  std::array<uint8_t, kHmacSha1Length> innerDigest;
  SHA1_Update(&state, part1.data(), part1.size());
  SHA1_Update(&state, part2.data(), part2.size());
  SHA1_Final(innerDigest.data(), &state);
  state = mStates->outer;
  SHA1_Update(&state, innerDigest.data(), innerDigest.size());
  SHA1_Final(out.data(), &state);
  OPENSSL_cleanse(&state, sizeof state);
}

void deriveSessionKey(std::span<const uint8_t, kAesKeyLength> masterKey, std::span<const uint8_t> masterSalt,
                      uint8_t label, std::span<uint8_t> out) {
  if (masterSalt.size() > SrtpSessionKeys::kSaltLength) throw std::invalid_argument("SRTP master salt too long");
  std::array<uint8_t, kAesBlockLength> iv{};
  std::copy(masterSalt.begin(), masterSalt.end(), iv.begin());
  iv[7] ^= label;
  std::fill(out.begin(), out.end(), uint8_t{0});
  AesCtr prf(masterKey);
  if (!prf.apply(iv, out)) throw std::runtime_error("SRTP key derivation failed");
}

SrtpSessionKeys::~SrtpSessionKeys() { OPENSSL_cleanse(this, sizeof *this); }

SrtpSessionKeys SrtpSessionKeys::derive(SrtpProfile profile, const SrtpKeyMaterial& master) {
  const auto params = srtpProfileParams(profile);
  if (master.keyLength != params.masterKeyLength || master.saltLength != params.masterSaltLength ||
      params.masterKeyLength != kAesKeyLength)
    throw std::invalid_argument("SRTP key material does not fit " + std::string(params.name));
  const auto key = std::span<const uint8_t, kAesKeyLength>(master.key.data(), kAesKeyLength);
  const auto salt = master.masterSalt();
  const size_t saltLength = params.masterSaltLength;  // session salts are as long as the master salt
  const bool gcm = profile == SrtpProfile::AeadAes128Gcm;

  SrtpSessionKeys keys;
  deriveSessionKey(key, salt, kLabelRtpEncryption, keys.rtpKey);
  deriveSessionKey(key, salt, kLabelRtpSalt, std::span(keys.rtpSalt).first(saltLength));
  deriveSessionKey(key, salt, kLabelRtcpEncryption, keys.rtcpKey);
  deriveSessionKey(key, salt, kLabelRtcpSalt, std::span(keys.rtcpSalt).first(saltLength));
  if (!gcm) {
    deriveSessionKey(key, salt, kLabelRtpAuthentication, keys.rtpAuthKey);
    deriveSessionKey(key, salt, kLabelRtcpAuthentication, keys.rtcpAuthKey);
  }
  return keys;
}

}  // namespace conclave::srtp
