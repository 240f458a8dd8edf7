#include "sfu/proxy_transport.h"

#include <cstring>
#include <utility>

#include "sfu/fanout.h"

namespace conclave::sfu {

ProxyTransport::ProxyTransport(Fanout& fanout, FanoutLink& link, bool& mediaWritten, FanoutHandle handle, uint64_t id,
                               const ice::IceCredentials& localIce, Listener& listener)
    : mFanout(fanout),
      mLink(link),
      mMediaWritten(mediaWritten),
      mHandle(handle),
      mId(id),
      mLocalIce(localIce),
      mListener(listener) {}

ProxyTransport::~ProxyTransport() { close(); }

std::span<uint8_t> ProxyTransport::beginRtp() {
  mClaim = {};
  if (!sendable()) return {};
  auto record = mLink.media().claim(FanoutRecord::kHeaderBytes + kMaxPacket);
  if (record.empty()) {
    FanoutLink::bump(mLink.home().mediaRefused);
    return {};
  }
  mClaim = record;
  return record.subspan(FanoutRecord::kHeaderBytes, kMaxPacket);
}

bool ProxyTransport::commitRtp(size_t length) {
  auto record = std::exchange(mClaim, {});
  if (record.empty() || length == 0 || length > kMaxPacket) return false;
  FanoutRecord::writeHeader(record, mHandle, FanoutRecordKind::Rtp, mFanout.batchMicros());
  mLink.media().commit(FanoutRecord::kHeaderBytes + length);
  FanoutLink::bump(mLink.home().mediaRecords);
  mMediaWritten = true;
  return true;
}

bool ProxyTransport::writeRecord(FanoutRecordKind kind, std::span<const uint8_t> bytes) {
  if (!(kind == FanoutRecordKind::ForgetSsrc ? connected() : sendable())) return false;
  if (bytes.empty() || bytes.size() > kMaxPacket) return false;
  auto record = mLink.media().claim(FanoutRecord::kHeaderBytes + bytes.size());
  if (record.empty()) {
    FanoutLink::bump(mLink.home().mediaRefused);
    return false;
  }
  FanoutRecord::writeHeader(record, mHandle, kind, mFanout.batchMicros());
  std::memcpy(record.data() + FanoutRecord::kHeaderBytes, bytes.data(), bytes.size());
  mLink.media().commit(FanoutRecord::kHeaderBytes + bytes.size());
  FanoutLink::bump(mLink.home().mediaRecords);
  mMediaWritten = true;
  return true;
}

bool ProxyTransport::sendRtcp(std::span<const uint8_t> plain) { return writeRecord(FanoutRecordKind::Rtcp, plain); }

void ProxyTransport::forgetOutboundSsrc(uint32_t ssrc) {
  // Through the ring, behind that SSRC's last packets. Dropped with a full ring, the SSRC's
  // state stays until the session's bound on outbound SSRCs evicts it.
  uint8_t bytes[sizeof ssrc];
  std::memcpy(bytes, &ssrc, sizeof ssrc);
  writeRecord(FanoutRecordKind::ForgetSsrc, bytes);
}

void ProxyTransport::setRemoteParameters(const ice::IceCredentials& ice,
                                         const transport::RemoteFingerprint& fingerprint) {
  if (!mReleased) mFanout.postRemoteParameters(*this, ice, fingerprint);
}

void ProxyTransport::restartIce(const ice::IceCredentials& local, const ice::IceCredentials& remote) {
  if (mReleased) return;
  mLocalIce = local;
  mFanout.postIceRestart(*this, local, remote);
}

void ProxyTransport::close() {
  if (mReleased) return;
  mReleased = true;
  mClaim = {};
  mFanout.releaseProxy(*this);
}

void ProxyTransport::onConnected(std::string srtpProfile) {
  if (closed()) return;
  mSrtpProfile = std::move(srtpProfile);
  mConnected = true;
  mListener.onProxyConnected(*this);
}

void ProxyTransport::onRtcp(std::span<uint8_t> compound, common::TimePoint now) {
  if (!closed()) mListener.onProxyRtcp(*this, compound, now);
}

void ProxyTransport::onIceDisconnected(std::string_view reason) {
  if (closed()) return;
  mIceLost = true;
  mListener.onProxyIceDisconnected(*this, reason);
}

void ProxyTransport::onIceReconnected() {
  if (closed() || !mIceLost) return;
  mIceLost = false;
  mListener.onProxyIceReconnected(*this);
}

void ProxyTransport::onClosed(std::string_view reason) {
  if (closed()) return;
  mClosedThere = true;
  mListener.onProxyClosed(*this, reason);
}

}  // namespace conclave::sfu
