// SrtpContext: one direction of an SRTP association (libsrtp's srtp_t with an "any SSRC"
// template): the session keys' cipher and MAC contexts, created once, and the per-SSRC streams.
//
// An outbound context protects; it creates a stream's state on the stream's first packet and
// refuses (Failed) a new SSRC beyond its limit: the SFU picks those SSRCs, and forgetting the
// state of one still in use would reuse its keystream. An inbound context unprotects; it creates
// a stream's state only once the stream's first packet authenticated, and beyond its limit
// evicts the least recently used stream (only the peer, who holds the keys, can make streams,
// and the state it pushes out is its own).
//
// The accept/reject decisions, the bytes and their order of checks are libsrtp 2.5's (Debian's
// build, on NSS), but for the deliberate differences srtp_session.h lists.
// Packet functions never throw and never allocate except when a stream is first seen.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "srtp/srtp_crypto.h"
#include "srtp/srtp_profile.h"
#include "srtp/srtp_result.h"
#include "srtp/srtp_streams.h"

namespace conclave::srtp {

class SrtpContext {
 public:
  enum class Direction : uint8_t { Outbound, Inbound };
  struct Options {
    unsigned replayWindow = 1024;  // 0 means libsrtp's default, 128; otherwise 64..32767
    bool allowRepeatTx = true;
    size_t maxStreams = 1024;
  };

  // Throws std::runtime_error for a replay window libsrtp would refuse or when OpenSSL fails.
  SrtpContext(SrtpProfile profile, const SrtpSessionKeys& keys, Direction direction, const Options& options);
  ~SrtpContext();
  SrtpContext(const SrtpContext&) = delete;
  SrtpContext& operator=(const SrtpContext&) = delete;

  SrtpProfile profile() const { return mProfile; }
  size_t rtpTrailer() const { return srtpProfileParams(mProfile).rtpTrailerLength; }
  size_t rtcpTrailer() const { return srtpProfileParams(mProfile).rtcpTrailerLength; }
  size_t streamCount() const { return mStreams.size(); }

  // As SrtpSession's; protect* on an inbound context and unprotect* on an outbound one fail.
  [[nodiscard]] SrtpResult protectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult protectRtcp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtcp(std::span<uint8_t> buffer, size_t& length);
  void removeStream(uint32_t ssrc) { mStreams.remove(ssrc); }

 private:
  size_t inboundStream(uint32_t ssrc, std::optional<size_t> slot);
  // Counts one SRTP packet against the key's limit; false once the key is used up.
  bool useKey();

  SrtpProfile mProfile;
  Direction mDirection;
  bool mAllowRepeatTx;
  uint64_t mKeyUsesLeft;
  std::array<uint8_t, SrtpSessionKeys::kSaltLength> mRtpSalt{};
  std::array<uint8_t, SrtpSessionKeys::kSaltLength> mRtcpSalt{};
  std::optional<AesGcm> mRtpGcm, mRtcpGcm;
  std::optional<AesCtr> mRtpCtr, mRtcpCtr;
  std::optional<HmacSha1> mRtpMac, mRtcpMac;
  SrtpStreams mStreams;
};

}  // namespace conclave::srtp
