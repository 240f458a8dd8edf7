// SrtpSession: SRTP/SRTCP protection for one DTLS-SRTP association (RFC 3711, RFC 7714), on
// OpenSSL 3.
//
// One outbound context (protect, keyed with the local key material, any SSRC) and one inbound
// context (unprotect, keyed with the remote key material, any SSRC), each an SrtpContext. Session
// keys are derived once here; the cipher and MAC contexts are created once and reused. The state
// of a new SSRC is created on its first packet (inbound: only after the packet authenticated);
// removeSsrc() drops it when a stream ends.
//
// Packet path: the functions never throw, take no lock and never allocate except when an SSRC
// is first seen (bench/srtp counts). Not thread-safe: one session belongs to one worker thread.
//
// Every accept/reject decision and every protected byte are those of libsrtp 2.5 as Debian builds
// it (on NSS), which tests/srtp and fuzz/srtp check against the library itself, including its
// quirks: a packet index is guessed with ROC 0 until the stream's highest index passes 0x8000;
// the sender keeps a replay window too and refuses (ReplayOld) an index older than it, whatever
// allowRepeatTx says; the replay window is rounded up to a multiple of 32; AES-GCM refuses (Failed) an RTP header, or an
// unencrypted SRTCP packet, of more than 2048 bytes of associated data (NSS's limit in libsrtp);
// AES-GCM SRTCP accepts packets with the E flag clear (authenticated only), AES-CM refuses them.
// Deliberate differences:
//   - SSRCs are bounded (Options::maxOutboundSsrcs, maxInboundSsrcs); libsrtp grows without
//     bound. Beyond the bound protect fails (Failed) and unprotect forgets the least recently
//     used inbound stream.
//   - libsrtp on NSS keeps the associated data of an SRTCP packet that failed the 2048-byte
//     limit half way (an unencrypted one of 2045..2048 bytes before its trailer) and then fails
//     every later SRTCP packet of that direction; here only that packet fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "srtp/srtp_context.h"
#include "srtp/srtp_profile.h"
#include "srtp/srtp_result.h"

namespace conclave::srtp {

class SrtpSession {
 public:
  struct Options {
    // Replay window in packets (64..32767; libsrtp's bounds). 1024 lets video bursts and NACK
    // retransmissions that arrive late still pass.
    unsigned replayWindow = 1024;
    // Lets the outbound side protect the same RTP sequence number again, so that a NACK can be
    // answered by re-protecting the stored plaintext. Only identical packets may be re-sent
    // under one sequence number.
    bool allowRepeatTx = true;
    // SSRCs whose state a session keeps. Outbound ones are the SFU's own (a subscriber's
    // consumers with their RTX streams, and RTCP senders); inbound ones are what a browser sends
    // (its simulcast layers and RTX, and an RTCP sender SSRC per receiving transceiver). About
    // 180 bytes each with the default window.
    size_t maxOutboundSsrcs = 8192;
    size_t maxInboundSsrcs = 1024;
  };

  // `local` keys the packets we send, `remote` the packets we receive (as DtlsTransport
  // delivers them). Throws std::invalid_argument for key material that does not fit the
  // profile and std::runtime_error for a replay window out of range or when OpenSSL fails.
  SrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote);
  SrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote, const Options& options);
  ~SrtpSession();
  SrtpSession(SrtpSession&& other) noexcept;
  SrtpSession& operator=(SrtpSession&& other) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  SrtpProfile profile() const { return mProfile; }
  // Bytes protect adds; `buffer` must have this much room after the packet.
  size_t rtpTrailer() const { return srtpProfileParams(mProfile).rtpTrailerLength; }
  size_t rtcpTrailer() const { return srtpProfileParams(mProfile).rtcpTrailerLength; }

  // In place: `buffer` holds the packet in its first `length` bytes and has room after it;
  // on Ok `length` is the new length. On any error `length` is unchanged and the buffer
  // contents are unspecified (unprotect may have decrypted in place before failing).
  [[nodiscard]] SrtpResult protectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult protectRtcp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtcp(std::span<uint8_t> buffer, size_t& length);

  // Forgets the per-SSRC state (rollover counter, replay windows) of a stream that ended.
  void removeOutboundSsrc(uint32_t ssrc);
  void removeInboundSsrc(uint32_t ssrc);

 private:
  SrtpProfile mProfile;
  std::unique_ptr<SrtpContext> mOutbound;
  std::unique_ptr<SrtpContext> mInbound;
};

}  // namespace conclave::srtp
