// LibsrtpSession: libsrtp2 (Debian's, on NSS) behind SrtpSession's interface, the oracle that
// tests, benchmarks and the differential fuzz target hold Conclave's own SRTP to. It is what
// SrtpSession was before Conclave did SRTP itself; the product no longer links libsrtp2.
//
// Same contract as SrtpSession (srtp/srtp_session.h): one outbound context (local keys, any
// SSRC), one inbound context (remote keys, any SSRC), in-place operations, the same length
// checks before libsrtp sees a packet, libsrtp's statuses mapped onto SrtpResult.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "srtp/srtp_profile.h"
#include "srtp/srtp_session.h"

struct srtp_ctx_t_;

namespace conclave::test {

using srtp::SrtpKeyMaterial;
using srtp::SrtpProfile;
using srtp::SrtpResult;

class LibsrtpSession {
 public:
  using Options = srtp::SrtpSession::Options;  // the SSRC limits do not apply: libsrtp has none

  // Throws std::invalid_argument for key material that does not fit the profile and
  // std::runtime_error if libsrtp refuses the policy.
  LibsrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote,
                 const Options& options = {});
  ~LibsrtpSession();
  LibsrtpSession(LibsrtpSession&& other) noexcept;
  LibsrtpSession& operator=(LibsrtpSession&& other) noexcept;
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;

  SrtpProfile profile() const { return mProfile; }
  size_t rtpTrailer() const { return srtpProfileParams(mProfile).rtpTrailerLength; }
  size_t rtcpTrailer() const { return srtpProfileParams(mProfile).rtcpTrailerLength; }

  [[nodiscard]] SrtpResult protectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult protectRtcp(std::span<uint8_t> buffer, size_t& length);
  [[nodiscard]] SrtpResult unprotectRtcp(std::span<uint8_t> buffer, size_t& length);

  void removeOutboundSsrc(uint32_t ssrc);
  void removeInboundSsrc(uint32_t ssrc);

 private:
  void destroy();

  SrtpProfile mProfile;
  srtp_ctx_t_* mOutbound = nullptr;
  srtp_ctx_t_* mInbound = nullptr;
};

}  // namespace conclave::test
