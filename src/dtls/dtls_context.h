// DtlsContext: the OpenSSL SSL_CTX shared by every DtlsTransport of a server process.
//
// Built once at start from the server's DTLS certificate (one ECDSA P-256 certificate per server
// start, advertised in every SDP as a=fingerprint:sha-256). DTLS 1.2 only, ECDHE with AEAD
// ciphers preferred, use_srtp offering SRTP_AEAD_AES_128_GCM then SRTP_AES128_CM_SHA1_80, and a
// client certificate required from the peer (its fingerprint is checked by the transport).
// Creating SSL objects from it is thread-safe; the context itself is immutable after
// construction.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/certificate.h"
#include "srtp/srtp_profile.h"

namespace conclave::dtls {

class DtlsContext {
 public:
  // Throws std::runtime_error if OpenSSL refuses the certificate or a setting.
  explicit DtlsContext(const common::Certificate& certificate);

  // Offers (as a DTLS client) or accepts (as a server) `profile` alone, instead of AES-GCM
  // before AES-CM: for benchmarks and tests that measure one profile. Throws std::runtime_error
  // if OpenSSL refuses it.
  void restrictSrtpProfile(srtp::SrtpProfile profile);

  SSL_CTX* native() const { return mContext.get(); }
  const common::Certificate& certificate() const { return mCertificate; }
  // For a=fingerprint:sha-256 in our SDP.
  std::array<uint8_t, 32> localFingerprint() const { return mCertificate.sha256Fingerprint(); }

 private:
  struct CtxFree {
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  };
  common::Certificate mCertificate;
  std::unique_ptr<SSL_CTX, CtxFree> mContext;
};

}  // namespace conclave::dtls
