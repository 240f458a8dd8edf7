#include "dtls/dtls_context.h"

#include <openssl/err.h>

#include <stdexcept>
#include <string>

namespace conclave::dtls {
namespace {

// ECDHE only (forward secrecy). Our own certificate is ECDSA, so as a server only the ECDSA
// suites can be chosen; the RSA ones let us be a client of a peer with an RSA certificate.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA";
constexpr const char* kGroups = "X25519:P-256:P-384";
// In preference order: as a DTLS server OpenSSL picks the first of ours the client offers.
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

[[noreturn]] void fail(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error(std::string("DTLS context: ") + what + ": " + buf);
}

}  // namespace

void DtlsContext::restrictSrtpProfile(srtp::SrtpProfile profile) {
  const std::string name(srtp::srtpProfileParams(profile).name);
  if (SSL_CTX_set_tlsext_use_srtp(mContext.get(), name.c_str()) != 0) fail("use_srtp profile");
}

DtlsContext::DtlsContext(const common::Certificate& certificate)
    : mCertificate(certificate), mContext(SSL_CTX_new(DTLS_method())) {
  SSL_CTX* ctx = mContext.get();
  if (!ctx) fail("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1)
    fail("protocol version");
  if (SSL_CTX_use_certificate(ctx, mCertificate.x509()) != 1) fail("certificate");
  if (SSL_CTX_use_PrivateKey(ctx, mCertificate.privateKey()) != 1) fail("private key");
  if (SSL_CTX_check_private_key(ctx) != 1) fail("key does not match the certificate");
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) fail("cipher list");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) fail("groups");
  // Unusually, 0 means success here.
  if (SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) != 0) fail("use_srtp profiles");

  // No path-MTU probing (the transport sets a fixed MTU), no renegotiation, no session
  // resumption (every association is new and keyed by the SDP fingerprints).
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // The peer must present a certificate; the transport installs the callback that checks it
  // against the SDP fingerprint (self-signed certificates are the norm in WebRTC).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(ctx, 4);
}

}  // namespace conclave::dtls
