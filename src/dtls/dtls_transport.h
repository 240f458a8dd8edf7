// DtlsTransport: one DTLS 1.2 association for DTLS-SRTP (RFC 5764) between the SFU and a peer.
//
// Does no I/O: datagrams that arrived on the ICE 5-tuple go in through feed(); datagrams to
// send come out through Listener::onDtlsSend() (records packed into datagrams of at most
// Options::mtu bytes). Time is a parameter: the caller arms a timer for nextTimeout() and calls
// handleTimeout() when it fires. `now` drives the handshake deadline; OpenSSL decides flight
// retransmissions on its own wall clock, which nextTimeout() maps onto the caller's clock.
//
//   role      from SDP a=setup (the SFU answers "passive" to a browser's "actpass", so it is
//             usually the DTLS server; both roles work). The DTLS server picks the SRTP profile:
//             we pick AEAD_AES_128_GCM whenever offered, but Chromium 156 as DTLS server picks
//             AES128_CM_SHA1_80 (first in its list), which costs about twice the CPU per 1200-byte
//             packet (HMAC-SHA1 is slower than GCM; bench/srtp) — so keep the SFU the DTLS server
//             where the SDP allows it.
//   identity  the shared DtlsContext certificate; the peer's certificate is trusted only if its
//             digest matches the SDP a=fingerprint given to setRemoteFingerprint(). The
//             fingerprint may arrive after the handshake started (the answer can race the
//             ClientHello); connection is then reported once it is known and checked.
//   result    onDtlsConnected() with the negotiated SRTP profile and both directions' SRTP
//             master keys, exported with label "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2).
//
// Callbacks run after OpenSSL has returned, from within start/feed/handleTimeout/
// setRemoteFingerprint/sendApplicationData. A listener must not destroy the transport from a
// callback. Not thread-safe: one transport belongs to one worker thread.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "dtls/datagram_bio.h"
#include "dtls/dtls_context.h"
#include "srtp/srtp_profile.h"

namespace conclave::dtls {

using common::Duration;
using common::TimePoint;

enum class DtlsRole : uint8_t { Client, Server };

enum class DtlsState : uint8_t { New, Connecting, Connected, Closed, Failed };

std::string_view toString(DtlsState state);

class DtlsTransport {
 public:
  class Listener {
   public:
    // One datagram to send to the peer (valid only during the call). Must not call back into
    // the transport.
    virtual void onDtlsSend(std::span<const uint8_t> datagram) = 0;
    // Handshake complete and the peer's fingerprint verified. `local` keys what we send,
    // `remote` what we receive.
    virtual void onDtlsConnected(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& local,
                                 const srtp::SrtpKeyMaterial& remote) = 0;
    // The peer sent close_notify (we answered with ours).
    virtual void onDtlsClosed() = 0;
    // Handshake failure, fingerprint mismatch, fatal alert or handshake timeout.
    virtual void onDtlsFailed(std::string_view reason) = 0;
    // Application data (e.g. SCTP for data channels); one DTLS record per call, valid during it.
    virtual void onDtlsApplicationData(std::span<const uint8_t> /*data*/) {}

   protected:
    ~Listener() = default;
  };

  struct Options {
    // Largest datagram we send. 1200 fits any path WebRTC supports, TURN included; there is
    // no path-MTU discovery.
    size_t mtu = 1200;
    // Failure if not connected (fingerprint included) this long after start.
    Duration handshakeTimeout = std::chrono::seconds(30);
    // Flight retransmission: first timeout, doubled on each retransmission up to the maximum.
    // RFC 6347 suggests 1 s; WebRTC stacks start lower because ICE already proved the path.
    Duration initialRetransmitTimeout = std::chrono::milliseconds(100);
    Duration maxRetransmitTimeout = std::chrono::seconds(4);
  };

  struct Stats {
    uint64_t datagramsReceived = 0;
    uint64_t datagramsSent = 0;
    uint64_t datagramsDropped = 0;  // not DTLS, or arrived while closed/failed
    uint64_t retransmissions = 0;   // flights re-sent after a timeout
  };

  // Throws std::runtime_error if OpenSSL cannot create the connection.
  DtlsTransport(const DtlsContext& context, DtlsRole role, Listener& listener);
  DtlsTransport(const DtlsContext& context, DtlsRole role, Listener& listener, const Options& options);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // From the peer's SDP a=fingerprint, as bytes (sdp::parseFingerprint reads the text form;
  // algorithm as in RFC 8122: "sha-256", "sha-1", "sha-384", ...; case does not matter).
  // Returns false for an unknown algorithm or a digest of the wrong size.
  bool setRemoteFingerprint(std::string_view algorithm, std::span<const uint8_t> digest);

  // Starts the handshake (a client sends its ClientHello). A server also starts on the first
  // datagram fed to it.
  void start(TimePoint now);
  // One datagram received from the peer, already demultiplexed as DTLS by the caller
  // (WebRtcTransport, with ice::classifyPacket: RFC 7983). One shorter than a record header is
  // dropped and counted; OpenSSL discards anything else that is not a valid record.
  void feed(std::span<const uint8_t> datagram, TimePoint now);
  // When handleTimeout() must be called next, or nullopt if no timer is needed.
  std::optional<TimePoint> nextTimeout() const;
  void handleTimeout(TimePoint now);

  // Sends application data in one record once connected; false otherwise.
  bool sendApplicationData(std::span<const uint8_t> data);
  // Sends close_notify (if the handshake finished) and closes; no callback follows.
  void close();

  DtlsRole role() const { return mRole; }
  DtlsState state() const { return mState; }
  const Stats& stats() const { return mStats; }
  // The negotiated SRTP profile once connected.
  std::optional<srtp::SrtpProfile> srtpProfile() const { return mProfile; }

 private:
  struct SslFree {
    void operator()(SSL* p) const { SSL_free(p); }
  };

  static int verifyCallback(int preverifyOk, X509_STORE_CTX* store);
  static unsigned int timerCallback(SSL* ssl, unsigned int previousUs);

  void beginHandshake(TimePoint now);
  void driveHandshake();
  void onHandshakeDone();
  bool exportKeys(srtp::SrtpProfile profile);
  void verifyPeerAndConnect();
  bool fingerprintMatches(X509* cert) const;
  void readRecords();
  void fail(std::string reason);
  std::string lastSslError(std::string_view what, int sslError);
  void finish(TimePoint now);
  void flushOutgoing();
  void emitEvents();
  void updateRetransmitTimer(TimePoint now);

  DtlsRole mRole;
  Listener& mListener;
  Options mOptions;
  DatagramBuffer mBuffer;
  std::unique_ptr<SSL, SslFree> mSsl;
  DtlsState mState = DtlsState::New;
  Stats mStats;

  const EVP_MD* mRemoteDigest = nullptr;
  std::vector<uint8_t> mRemoteFingerprint;
  bool mFingerprintMismatch = false;  // set by the verify callback

  TimePoint mHandshakeDeadline{};
  std::optional<TimePoint> mRetransmitAt;
  bool mHandshakeDone = false;
  std::optional<srtp::SrtpProfile> mProfile;
  srtp::SrtpKeyMaterial mLocalKeys;
  srtp::SrtpKeyMaterial mRemoteKeys;

  // Events waiting for OpenSSL to return.
  bool mConnectedPending = false;
  bool mClosedPending = false;
  std::optional<std::string> mFailurePending;
};

}  // namespace conclave::dtls
