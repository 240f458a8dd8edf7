// SrtpSession: SRTP/SRTCP protection for one DTLS-SRTP association, over libsrtp2.
//
// One outbound context (protect, keyed with the local key material, any SSRC) and one inbound
// context (unprotect, keyed with the remote key material, any SSRC). libsrtp creates the state of
// a new SSRC on its first packet (inbound: only after the packet authenticated); removeSsrc()
// drops it when a stream ends.
//
// Packet path: the functions never throw and never allocate except when an SSRC is first seen.
// Not thread-safe: one session belongs to one worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "srtp/srtp_profile.h"

struct srtp_ctx_t_;

namespace conclave::srtp {

enum class SrtpResult : uint8_t {
  Ok,
  BufferTooSmall,   // protect: no room for the trailer after `length`
  Malformed,        // too short, or a header libsrtp refuses
  AuthFailed,       // the tag does not match (tampered, or keys differ)
  ReplayDuplicate,  // this index was already received
  ReplayOld,        // the index is older than the replay window
  Failed,           // anything else libsrtp reports
};

std::string_view toString(SrtpResult result);

class SrtpSession {
 public:
  struct Options {
    // Replay window in packets (libsrtp accepts 64..32767). 1024 lets video bursts and NACK
    // retransmissions that arrive late still pass.
    unsigned replayWindow = 1024;
    // Lets the outbound side protect the same RTP sequence number again, so that a NACK can be
    // answered by re-protecting the stored plaintext. Only identical packets may be re-sent
    // under one sequence number.
    bool allowRepeatTx = true;
  };

  // `local` keys the packets we send, `remote` the packets we receive (as DtlsTransport
  // delivers them). Throws std::invalid_argument for key material that does not fit the
  // profile and std::runtime_error if libsrtp refuses the policy.
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

  // Forgets the per-SSRC state (rollover counter, replay window) of a stream that ended.
  void removeOutboundSsrc(uint32_t ssrc);
  void removeInboundSsrc(uint32_t ssrc);

 private:
  void destroy();

  SrtpProfile mProfile;
  srtp_ctx_t_* mOutbound = nullptr;
  srtp_ctx_t_* mInbound = nullptr;
};

}  // namespace conclave::srtp
