#include "srtp/libsrtp_oracle.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <climits>
#include <mutex>
#include <stdexcept>
#include <string>

namespace conclave::test {
namespace {

constexpr size_t kRtpHeaderLength = 12;
constexpr size_t kRtcpHeaderLength = 8;

// srtp_init() must run once per process before any session; it is never undone because other
// sessions may still exist at exit.
void initLibsrtpOnce() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  if (status != srtp_err_status_ok) throw std::runtime_error("srtp_init failed with status " + std::to_string(status));
}

SrtpResult fromStatus(srtp_err_status_t status) {
  switch (status) {
    case srtp_err_status_ok:
      return SrtpResult::Ok;
    case srtp_err_status_auth_fail:
      return SrtpResult::AuthFailed;
    case srtp_err_status_replay_fail:
      return SrtpResult::ReplayDuplicate;
    case srtp_err_status_replay_old:
      return SrtpResult::ReplayOld;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      return SrtpResult::Malformed;
    default:
      return SrtpResult::Failed;
  }
}

srtp_t createContext(SrtpProfile profile, const SrtpKeyMaterial& keys, srtp_ssrc_type_t direction,
                     const LibsrtpSession::Options& options) {
  const auto params = srtpProfileParams(profile);
  if (keys.keyLength != params.masterKeyLength || keys.saltLength != params.masterSaltLength)
    throw std::invalid_argument("SRTP key material does not fit " + std::string(params.name));

  srtp_policy_t policy{};
  if (profile == SrtpProfile::AeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  // libsrtp takes the master key followed directly by the master salt.
  uint8_t keyAndSalt[SrtpKeyMaterial::kMaxKeyLength + SrtpKeyMaterial::kMaxSaltLength] = {};
  std::copy(keys.key.begin(), keys.key.begin() + keys.keyLength, keyAndSalt);
  std::copy(keys.salt.begin(), keys.salt.begin() + keys.saltLength, keyAndSalt + keys.keyLength);
  policy.key = keyAndSalt;
  policy.ssrc.type = direction;
  policy.window_size = options.replayWindow;
  policy.allow_repeat_tx = options.allowRepeatTx ? 1 : 0;
  policy.next = nullptr;

  srtp_t context = nullptr;
  const srtp_err_status_t status = srtp_create(&context, &policy);
  OPENSSL_cleanse(keyAndSalt, sizeof keyAndSalt);
  if (status != srtp_err_status_ok)
    throw std::runtime_error("srtp_create failed with status " + std::to_string(status));
  return context;
}

// Checks shared by all four operations; returns Ok when libsrtp may run on the packet.
SrtpResult checkBuffer(std::span<uint8_t> buffer, size_t length, size_t minimum, size_t room) {
  if (length > buffer.size() || length < minimum) return SrtpResult::Malformed;
  if (buffer.size() - length < room) return SrtpResult::BufferTooSmall;
  if (length + room > static_cast<size_t>(INT_MAX)) return SrtpResult::Malformed;
  return SrtpResult::Ok;
}

template <typename Operation>
SrtpResult run(Operation operation, srtp_t context, std::span<uint8_t> buffer, size_t& length) {
  int len = static_cast<int>(length);
  const SrtpResult result = fromStatus(operation(context, buffer.data(), &len));
  if (result == SrtpResult::Ok) length = static_cast<size_t>(len);
  return result;
}

}  // namespace

LibsrtpSession::LibsrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote,
                               const Options& options)
    : mProfile(profile) {
  initLibsrtpOnce();
  mOutbound = createContext(profile, local, ssrc_any_outbound, options);
  try {
    mInbound = createContext(profile, remote, ssrc_any_inbound, options);
  } catch (...) {
    destroy();
    throw;
  }
}

LibsrtpSession::~LibsrtpSession() { destroy(); }

LibsrtpSession::LibsrtpSession(LibsrtpSession&& other) noexcept
    : mProfile(other.mProfile), mOutbound(other.mOutbound), mInbound(other.mInbound) {
  other.mOutbound = nullptr;
  other.mInbound = nullptr;
}

LibsrtpSession& LibsrtpSession::operator=(LibsrtpSession&& other) noexcept {
  if (this != &other) {
    destroy();
    mProfile = other.mProfile;
    mOutbound = other.mOutbound;
    mInbound = other.mInbound;
    other.mOutbound = nullptr;
    other.mInbound = nullptr;
  }
  return *this;
}

void LibsrtpSession::destroy() {
  if (mOutbound) srtp_dealloc(mOutbound);
  if (mInbound) srtp_dealloc(mInbound);
  mOutbound = nullptr;
  mInbound = nullptr;
}

SrtpResult LibsrtpSession::protectRtp(std::span<uint8_t> buffer, size_t& length) {
  if (!mOutbound) return SrtpResult::Failed;
  const SrtpResult check = checkBuffer(buffer, length, kRtpHeaderLength, rtpTrailer());
  if (check != SrtpResult::Ok) return check;
  return run(srtp_protect, mOutbound, buffer, length);
}

SrtpResult LibsrtpSession::unprotectRtp(std::span<uint8_t> buffer, size_t& length) {
  if (!mInbound) return SrtpResult::Failed;
  const SrtpResult check = checkBuffer(buffer, length, kRtpHeaderLength + rtpTrailer(), 0);
  if (check != SrtpResult::Ok) return check;
  return run(srtp_unprotect, mInbound, buffer, length);
}

SrtpResult LibsrtpSession::protectRtcp(std::span<uint8_t> buffer, size_t& length) {
  if (!mOutbound) return SrtpResult::Failed;
  const SrtpResult check = checkBuffer(buffer, length, kRtcpHeaderLength, rtcpTrailer());
  if (check != SrtpResult::Ok) return check;
  return run(srtp_protect_rtcp, mOutbound, buffer, length);
}

SrtpResult LibsrtpSession::unprotectRtcp(std::span<uint8_t> buffer, size_t& length) {
  if (!mInbound) return SrtpResult::Failed;
  const SrtpResult check = checkBuffer(buffer, length, kRtcpHeaderLength + rtcpTrailer(), 0);
  if (check != SrtpResult::Ok) return check;
  return run(srtp_unprotect_rtcp, mInbound, buffer, length);
}

void LibsrtpSession::removeOutboundSsrc(uint32_t ssrc) {
  if (mOutbound) (void)srtp_remove_stream(mOutbound, htonl(ssrc));
}

void LibsrtpSession::removeInboundSsrc(uint32_t ssrc) {
  if (mInbound) (void)srtp_remove_stream(mInbound, htonl(ssrc));
}

}  // namespace conclave::test
