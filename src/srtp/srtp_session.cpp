#include "srtp/srtp_session.h"

namespace conclave::srtp {
namespace {

std::unique_ptr<SrtpContext> makeContext(SrtpProfile profile, const SrtpKeyMaterial& master,
                                         SrtpContext::Direction direction, const SrtpSession::Options& options) {
  const SrtpSessionKeys keys = SrtpSessionKeys::derive(profile, master);  // wiped when it goes
  const bool outbound = direction == SrtpContext::Direction::Outbound;
  return std::make_unique<SrtpContext>(
      profile, keys, direction,
      SrtpContext::Options{.replayWindow = options.replayWindow,
                           .allowRepeatTx = options.allowRepeatTx,
                           .maxStreams = outbound ? options.maxOutboundSsrcs : options.maxInboundSsrcs});
}

}  // namespace

SrtpSession::SrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote)
    : SrtpSession(profile, local, remote, Options{}) {}

SrtpSession::SrtpSession(SrtpProfile profile, const SrtpKeyMaterial& local, const SrtpKeyMaterial& remote,
                         const Options& options)
    : mProfile(profile),
      mOutbound(makeContext(profile, local, SrtpContext::Direction::Outbound, options)),
      mInbound(makeContext(profile, remote, SrtpContext::Direction::Inbound, options)) {}

SrtpSession::~SrtpSession() = default;
SrtpSession::SrtpSession(SrtpSession&& other) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&& other) noexcept = default;

SrtpResult SrtpSession::protectRtp(std::span<uint8_t> buffer, size_t& length) {
  return mOutbound ? mOutbound->protectRtp(buffer, length) : SrtpResult::Failed;
}

SrtpResult SrtpSession::unprotectRtp(std::span<uint8_t> buffer, size_t& length) {
  return mInbound ? mInbound->unprotectRtp(buffer, length) : SrtpResult::Failed;
}

SrtpResult SrtpSession::protectRtcp(std::span<uint8_t> buffer, size_t& length) {
  return mOutbound ? mOutbound->protectRtcp(buffer, length) : SrtpResult::Failed;
}

SrtpResult SrtpSession::unprotectRtcp(std::span<uint8_t> buffer, size_t& length) {
  return mInbound ? mInbound->unprotectRtcp(buffer, length) : SrtpResult::Failed;
}

void SrtpSession::removeOutboundSsrc(uint32_t ssrc) {
  if (mOutbound) mOutbound->removeStream(ssrc);
}

void SrtpSession::removeInboundSsrc(uint32_t ssrc) {
  if (mInbound) mInbound->removeStream(ssrc);
}

}  // namespace conclave::srtp
