#include "dtls/dtls_transport.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include "common/log.h"

namespace conclave::dtls {
namespace {

constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";  // RFC 5764 §4.2
constexpr size_t kDtlsRecordHeaderLength = 13;
constexpr size_t kMaxRecordPlaintext = 16384;
// Flight retransmission timeouts handed to OpenSSL (in microseconds) stay within 1 ms..60 s; RFC
// 6347 §4.2.4.1's own values (1 s, doubling up to 60 s) apply to an SSL without a transport.
constexpr auto kMinRetransmitTimeout = std::chrono::milliseconds(1);
constexpr auto kMaxRetransmitTimeout = std::chrono::seconds(60);
constexpr auto kRfcInitialRetransmitTimeout = std::chrono::seconds(1);

// RFC 8122 hash function names.
const EVP_MD* digestByName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "sha-256") return EVP_sha256();
  if (lower == "sha-384") return EVP_sha384();
  if (lower == "sha-512") return EVP_sha512();
  if (lower == "sha-224") return EVP_sha224();
  if (lower == "sha-1") return EVP_sha1();
  return nullptr;
}

unsigned int toMicros(Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<unsigned int>(std::clamp<int64_t>(us, std::chrono::microseconds(kMinRetransmitTimeout).count(),
                                                       std::chrono::microseconds(kMaxRetransmitTimeout).count()));
}

std::shared_ptr<spdlog::logger> dtlsLog() { return common::logger("dtls"); }

}  // namespace

std::string_view toString(DtlsState state) {
  switch (state) {
    case DtlsState::New:
      return "new";
    case DtlsState::Connecting:
      return "connecting";
    case DtlsState::Connected:
      return "connected";
    case DtlsState::Closed:
      return "closed";
    case DtlsState::Failed:
      break;
  }
  return "failed";
}

DtlsTransport::DtlsTransport(const DtlsContext& context, DtlsRole role, Listener& listener)
    : DtlsTransport(context, role, listener, Options{}) {}

DtlsTransport::DtlsTransport(const DtlsContext& context, DtlsRole role, Listener& listener, const Options& options)
    : mRole(role), mListener(listener), mOptions(options), mBuffer(options.mtu), mSsl(SSL_new(context.native())) {
  SSL* ssl = mSsl.get();
  if (!ssl) throw std::runtime_error("SSL_new failed");
  SSL_set_app_data(ssl, this);
  BIO* bio = newDatagramBio(mBuffer);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO (one reference for both directions)
  SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verifyCallback);
  if (SSL_set_mtu(ssl, static_cast<long>(options.mtu)) <= 0)
    throw std::invalid_argument("DTLS MTU too small: " + std::to_string(options.mtu));
  DTLS_set_timer_cb(ssl, timerCallback);
  if (role == DtlsRole::Client) SSL_set_connect_state(ssl);
  else SSL_set_accept_state(ssl);
}

DtlsTransport::~DtlsTransport() {
  OPENSSL_cleanse(&mLocalKeys, sizeof mLocalKeys);
  OPENSSL_cleanse(&mRemoteKeys, sizeof mRemoteKeys);
}

bool DtlsTransport::setRemoteFingerprint(std::string_view algorithm, std::span<const uint8_t> digest) {
  const EVP_MD* md = digestByName(algorithm);
  if (!md || digest.size() != static_cast<size_t>(EVP_MD_get_size(md))) return false;
  mRemoteDigest = md;
  mRemoteFingerprint.assign(digest.begin(), digest.end());
  // The handshake may have finished while we waited for the SDP.
  if (mState == DtlsState::Connecting && mHandshakeDone) {
    verifyPeerAndConnect();
    flushOutgoing();
    emitEvents();
  }
  return true;
}

void DtlsTransport::start(TimePoint now) {
  if (mState != DtlsState::New) return;
  beginHandshake(now);
  if (mRole == DtlsRole::Client) driveHandshake();
  finish(now);
}

void DtlsTransport::beginHandshake(TimePoint now) {
  mState = DtlsState::Connecting;
  mHandshakeDeadline = now + mOptions.handshakeTimeout;
}

void DtlsTransport::feed(std::span<const uint8_t> datagram, TimePoint now) {
  const bool open = mState == DtlsState::Connecting || mState == DtlsState::Connected ||
                    (mState == DtlsState::New && mRole == DtlsRole::Server);
  if (!open || datagram.size() < kDtlsRecordHeaderLength) {
    ++mStats.datagramsDropped;
    return;
  }
  ++mStats.datagramsReceived;
  if (mState == DtlsState::New) beginHandshake(now);
  mBuffer.setIncoming(datagram);
  if (!mHandshakeDone) {
    driveHandshake();
    // Report the connection before any application data that followed in the datagram.
    flushOutgoing();
    emitEvents();
  }
  if (mHandshakeDone) readRecords();
  mBuffer.clearIncoming();
  finish(now);
}

std::optional<TimePoint> DtlsTransport::nextTimeout() const {
  if (mState != DtlsState::Connecting) return std::nullopt;
  if (mRetransmitAt && *mRetransmitAt < mHandshakeDeadline) return mRetransmitAt;
  return mHandshakeDeadline;
}

void DtlsTransport::handleTimeout(TimePoint now) {
  if (mState != DtlsState::Connecting) return;
  if (now >= mHandshakeDeadline) {
    fail(mHandshakeDone ? "handshake done but the remote fingerprint never arrived" : "handshake timed out");
  } else if (!mHandshakeDone) {
    // OpenSSL keeps its own (wall-clock) timer: this re-sends the last flight only if it expired.
    ERR_clear_error();
    const int result = DTLSv1_handle_timeout(mSsl.get());
    if (result > 0) {
      ++mStats.retransmissions;
    } else if (result < 0) {
      fail(lastSslError("retransmission", SSL_ERROR_SSL));
    }
  }
  finish(now);
}

bool DtlsTransport::sendApplicationData(std::span<const uint8_t> data) {
  if (mState != DtlsState::Connected || data.empty() || data.size() > kMaxRecordPlaintext) return false;
  ERR_clear_error();
  const int written = SSL_write(mSsl.get(), data.data(), static_cast<int>(data.size()));
  if (written <= 0) ERR_clear_error();
  flushOutgoing();
  return written == static_cast<int>(data.size());
}

void DtlsTransport::close() {
  if (mState == DtlsState::Closed || mState == DtlsState::Failed) return;
  if (mHandshakeDone) {
    ERR_clear_error();
    SSL_shutdown(mSsl.get());  // queues close_notify
    ERR_clear_error();
  }
  mState = DtlsState::Closed;
  mRetransmitAt.reset();
  mConnectedPending = false;
  flushOutgoing();
}

void DtlsTransport::driveHandshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(mSsl.get());
  if (result == 1) {
    onHandshakeDone();
    return;
  }
  const int error = SSL_get_error(mSsl.get(), result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  if (error == SSL_ERROR_ZERO_RETURN) {
    mState = DtlsState::Closed;
    mClosedPending = true;
    return;
  }
  if (mFingerprintMismatch) {
    ERR_clear_error();
    fail("the peer certificate does not match the SDP fingerprint");
    return;
  }
  fail(lastSslError("handshake", error));
}

void DtlsTransport::onHandshakeDone() {
  mHandshakeDone = true;
  mRetransmitAt.reset();
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(mSsl.get());
  const auto profile = selected ? srtp::srtpProfileFromId(static_cast<uint16_t>(selected->id)) : std::nullopt;
  if (!profile) {
    fail("no SRTP protection profile negotiated");
    return;
  }
  if (!exportKeys(*profile)) {
    fail("exporting the SRTP keying material failed");
    return;
  }
  mProfile = profile;
  dtlsLog()->debug("handshake done as {}, {}, {}", mRole == DtlsRole::Client ? "client" : "server",
                   SSL_get_cipher_name(mSsl.get()), srtp::srtpProfileParams(*profile).name);
  verifyPeerAndConnect();
}

// RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
bool DtlsTransport::exportKeys(srtp::SrtpProfile profile) {
  const auto params = srtp::srtpProfileParams(profile);
  const size_t keyLength = params.masterKeyLength;
  const size_t saltLength = params.masterSaltLength;
  std::array<uint8_t, 2 * (srtp::SrtpKeyMaterial::kMaxKeyLength + srtp::SrtpKeyMaterial::kMaxSaltLength)> material{};
  const size_t total = 2 * (keyLength + saltLength);
  if (SSL_export_keying_material(mSsl.get(), material.data(), total, kExporterLabel, std::strlen(kExporterLabel),
                                 nullptr, 0, 0) != 1) {
    ERR_clear_error();
    return false;
  }
  const std::span<const uint8_t> m(material.data(), total);
  const auto client =
      srtp::SrtpKeyMaterial::make(profile, m.subspan(0, keyLength), m.subspan(2 * keyLength, saltLength));
  const auto server = srtp::SrtpKeyMaterial::make(profile, m.subspan(keyLength, keyLength),
                                                  m.subspan(2 * keyLength + saltLength, saltLength));
  OPENSSL_cleanse(material.data(), material.size());
  if (!client || !server) return false;
  mLocalKeys = mRole == DtlsRole::Client ? *client : *server;
  mRemoteKeys = mRole == DtlsRole::Client ? *server : *client;
  return true;
}

void DtlsTransport::verifyPeerAndConnect() {
  if (mState != DtlsState::Connecting) return;
  if (!mRemoteDigest) {
    dtlsLog()->debug("handshake done; waiting for the remote fingerprint");
    return;
  }
  X509* cert = SSL_get0_peer_certificate(mSsl.get());
  if (!cert) {
    fail("the peer sent no certificate");
    return;
  }
  if (!fingerprintMatches(cert)) {
    ERR_clear_error();
    SSL_shutdown(mSsl.get());  // the association is sound, so tell the peer we are leaving
    ERR_clear_error();
    fail("the peer certificate does not match the SDP fingerprint");
    return;
  }
  mState = DtlsState::Connected;
  mConnectedPending = true;
}

bool DtlsTransport::fingerprintMatches(X509* cert) const {
  if (!mRemoteDigest || !cert) return false;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert, mRemoteDigest, digest.data(), &length) != 1) return false;
  return length == mRemoteFingerprint.size() && CRYPTO_memcmp(digest.data(), mRemoteFingerprint.data(), length) == 0;
}

void DtlsTransport::readRecords() {
  // One buffer per thread, not per transport (16 KiB each of thousands of connections): the
  // listener gets the data synchronously and keeps no view of it.
  thread_local std::array<uint8_t, kMaxRecordPlaintext> readBuffer;
  while (mState == DtlsState::Connecting || mState == DtlsState::Connected) {
    ERR_clear_error();
    const int n = SSL_read(mSsl.get(), readBuffer.data(), static_cast<int>(readBuffer.size()));
    if (n > 0) {
      // Data before the fingerprint check passed is not trusted, so it is dropped.
      if (mState == DtlsState::Connected) mListener.onDtlsApplicationData({readBuffer.data(), static_cast<size_t>(n)});
      continue;
    }
    const int error = SSL_get_error(mSsl.get(), n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
    if (error == SSL_ERROR_ZERO_RETURN) {
      SSL_shutdown(mSsl.get());  // answer with our close_notify
      ERR_clear_error();
      mState = DtlsState::Closed;
      mConnectedPending = false;
      mClosedPending = true;
      return;
    }
    fail(lastSslError("read", error));
  }
}

void DtlsTransport::fail(std::string reason) {
  if (mState == DtlsState::Failed || mState == DtlsState::Closed) return;
  dtlsLog()->debug("failed: {}", reason);
  mState = DtlsState::Failed;
  mRetransmitAt.reset();
  mConnectedPending = false;
  mFailurePending = std::move(reason);
}

std::string DtlsTransport::lastSslError(std::string_view what, int sslError) {
  std::string out(what);
  const unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out += ": ";
    out += text;
  } else {
    out += ": SSL error " + std::to_string(sslError);
  }
  ERR_clear_error();
  return out;
}

void DtlsTransport::finish(TimePoint now) {
  flushOutgoing();
  updateRetransmitTimer(now);
  emitEvents();
}

void DtlsTransport::flushOutgoing() {
  mBuffer.drain([this](std::span<const uint8_t> datagram) {
    ++mStats.datagramsSent;
    mListener.onDtlsSend(datagram);
  });
}

void DtlsTransport::updateRetransmitTimer(TimePoint now) {
  mRetransmitAt.reset();
  if (mState != DtlsState::Connecting || mHandshakeDone) return;
  timeval remaining{};
  if (DTLSv1_get_timeout(mSsl.get(), &remaining) == 1)
    mRetransmitAt = now + std::chrono::seconds(remaining.tv_sec) + std::chrono::microseconds(remaining.tv_usec);
}

void DtlsTransport::emitEvents() {
  if (mConnectedPending) {
    mConnectedPending = false;
    mListener.onDtlsConnected(*mProfile, mLocalKeys, mRemoteKeys);
  }
  if (mClosedPending) {
    mClosedPending = false;
    mListener.onDtlsClosed();
  }
  if (mFailurePending) {
    const std::string reason = std::move(*mFailurePending);
    mFailurePending.reset();
    mListener.onDtlsFailed(reason);
  }
}

int DtlsTransport::verifyCallback(int /*preverifyOk*/, X509_STORE_CTX* store) {
  // Self-signed certificates are expected: the SDP fingerprint is the only trust anchor, so
  // chain errors are ignored and the leaf is compared with the fingerprint if we have it
  // (otherwise verifyPeerAndConnect() checks it once the SDP arrives).
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl ? static_cast<DtlsTransport*>(SSL_get_app_data(ssl)) : nullptr;
  if (!self) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0 || !self->mRemoteDigest) return 1;
  if (self->fingerprintMatches(X509_STORE_CTX_get_current_cert(store))) return 1;
  self->mFingerprintMismatch = true;
  return 0;
}

unsigned int DtlsTransport::timerCallback(SSL* ssl, unsigned int previousUs) {
  const auto* self = static_cast<const DtlsTransport*>(SSL_get_app_data(ssl));
  const unsigned int initial = toMicros(self ? self->mOptions.initialRetransmitTimeout : kRfcInitialRetransmitTimeout);
  const unsigned int maximum = toMicros(self ? self->mOptions.maxRetransmitTimeout : kMaxRetransmitTimeout);
  if (previousUs == 0) return initial;
  return std::min(previousUs * 2, std::max(maximum, initial));
}

}  // namespace conclave::dtls
