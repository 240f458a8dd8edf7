// An X.509 certificate with its private key: generated (ECDSA P-256, self-signed) or loaded from
// PEM. Used for HTTPS (TLS) and, one per server start, for DTLS-SRTP.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace conclave::common {

class Certificate {
 public:
  // A fresh ECDSA P-256 key and a self-signed certificate for `commonName` (also put in the
  // subjectAltName as a DNS name; "localhost" also gets 127.0.0.1 and ::1), valid from an hour
  // ago for `validity`. Throws std::runtime_error if OpenSSL fails.
  static Certificate generateSelfSigned(std::string_view commonName,
                                        std::chrono::hours validity = std::chrono::hours(24 * 365));
  // Throws std::runtime_error with a readable message when the PEM does not parse or the key
  // does not belong to the certificate.
  static Certificate fromPem(std::string_view certPem, std::string_view keyPem);

  std::string certPem() const;
  std::string keyPem() const;
  std::array<uint8_t, 32> sha256Fingerprint() const;
  // "AB:CD:..." as in SDP's a=fingerprint:sha-256.
  std::string sha256FingerprintText() const;

  X509* x509() const { return mCert.get(); }
  EVP_PKEY* privateKey() const { return mKey.get(); }

 private:
  struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
  };
  struct KeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  Certificate(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key)
      : mCert(std::move(cert)), mKey(std::move(key)) {}

  std::shared_ptr<X509> mCert;
  std::shared_ptr<EVP_PKEY> mKey;
};

// Formats 32 bytes as upper-case hex pairs separated by colons.
std::string fingerprintText(const std::array<uint8_t, 32>& digest);

}  // namespace conclave::common
