#include "transport/webrtc_transport.h"

#include <array>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "ice/demux.h"

namespace conclave::transport {

WebRtcTransport::WebRtcTransport(Listener& listener, PacketSink& sink, const dtls::DtlsContext& dtls, Params params,
                                 TimePoint now)
    : mId(params.id),
      mListener(listener),
      mSink(sink),
      mIce(*this, params.localIce, params.remoteIce, now),
      mDtls(dtls, params.dtlsRole, *this) {
  if (params.remoteFingerprint)
    mDtls.setRemoteFingerprint(params.remoteFingerprint->algorithm,
                               std::span<const uint8_t>(params.remoteFingerprint->digest));
}

WebRtcTransport::~WebRtcTransport() = default;

void WebRtcTransport::receive(std::span<uint8_t> datagram, const net::Endpoint& from, TimePoint now) {
  if (mClosed) return;
  mNow = now;
  switch (ice::classifyPacket(datagram)) {
    case ice::PacketKind::Stun: {
      std::array<uint8_t, ice::IceServer::kMaxResponseSize> response{};
      auto result = mIce.handleStun(datagram, from, now, response);
      if (!result.response.empty()) {
        auto buf = mSink.slot();
        std::memcpy(buf.data(), result.response.data(), result.response.size());
        mSink.commit(result.response.size(), from);
      }
      if (result.outcome == ice::IceServer::Outcome::Success) mListener.onTransportEndpoint(*this, from);
      return;
    }
    case ice::PacketKind::Dtls:
      if (!mIce.isValidated(from)) break;
      if (!mDtlsStarted) {
        mDtlsStarted = true;
        mDtls.start(now);
      }
      mDtls.feed(datagram, now);
      return;
    case ice::PacketKind::RtpRtcp: {
      if (!mSrtp || !mIce.isValidated(from)) break;
      size_t len = datagram.size();
      if (ice::isRtcp(datagram)) {
        auto r = mSrtp->unprotectRtcp(datagram, len);
        if (r != srtp::SrtpResult::Ok) {
          ++mStats.srtpErrors;
          return;
        }
        ++mStats.rtcpReceived;
        mListener.onTransportRtcp(*this, datagram.first(len), now);
        return;
      }
      auto r = mSrtp->unprotectRtp(datagram, len);
      if (r != srtp::SrtpResult::Ok) {
        ++mStats.srtpErrors;
        return;
      }
      auto packet = rtp::RtpPacket::parse(datagram.first(len));
      if (!packet) break;
      ++mStats.rtpReceived;
      mListener.onTransportRtp(*this, *packet, now);
      return;
    }
    case ice::PacketKind::Other:
      break;
  }
  ++mStats.dropped;
}

bool WebRtcTransport::protectAndCommit(std::span<uint8_t> buf, size_t len, bool rtcp) {
  auto r = rtcp ? mSrtp->protectRtcp(buf, len) : mSrtp->protectRtp(buf, len);
  if (r != srtp::SrtpResult::Ok) {
    ++mStats.srtpErrors;
    return false;
  }
  mSink.commit(len, *mIce.selectedEndpoint());
  ++(rtcp ? mStats.rtcpSent : mStats.rtpSent);
  return true;
}

std::span<uint8_t> WebRtcTransport::beginRtp() {
  mRtpSlot = {};
  if (mClosed || !mSrtp || !mIce.selectedEndpoint()) return {};
  mRtpSlot = mSink.slot();
  return mRtpSlot.first(mRtpSlot.size() - kSrtpRoom);
}

bool WebRtcTransport::commitRtp(size_t length) {
  auto slot = std::exchange(mRtpSlot, {});
  if (slot.empty() || length == 0 || length > slot.size() - kSrtpRoom) return false;
  return protectAndCommit(slot, length, false);
}

bool WebRtcTransport::sendRtp(std::span<const uint8_t> plain) {
  return sendRtpWith([&](std::span<uint8_t> out) -> size_t {
    if (plain.size() > out.size()) return 0;
    std::memcpy(out.data(), plain.data(), plain.size());
    return plain.size();
  });
}

bool WebRtcTransport::sendRtcp(std::span<const uint8_t> plain) {
  if (mClosed || !mSrtp || !mIce.selectedEndpoint()) return false;
  auto buf = mSink.slot();
  if (plain.size() + kSrtpRoom > buf.size()) return false;
  std::memcpy(buf.data(), plain.data(), plain.size());
  return protectAndCommit(buf, plain.size(), true);
}

void WebRtcTransport::setRemoteParameters(const ice::IceCredentials& ice, const RemoteFingerprint& fingerprint) {
  mIce.setRemoteCredentials(ice);
  mDtls.setRemoteFingerprint(fingerprint.algorithm, std::span<const uint8_t>(fingerprint.digest));
}

void WebRtcTransport::restartIce(const ice::IceCredentials& local, const ice::IceCredentials& remote) {
  mIce.restart(remote, local);
}

void WebRtcTransport::tick(TimePoint now) {
  if (mClosed) return;
  mNow = now;
  mIce.tick(now);
  if (mClosed) return;
  if (auto t = mDtls.nextTimeout(); t && *t <= now) mDtls.handleTimeout(now);
}

void WebRtcTransport::close() {
  if (mClosed) return;
  mDtls.close();
  mClosed = true;
}

void WebRtcTransport::markClosed(std::string_view reason) {
  if (mClosed) return;
  mClosed = true;
  mListener.onTransportClosed(*this, reason);
}

void WebRtcTransport::onIceSelectedEndpoint(ice::IceServer&, const net::Endpoint& endpoint) {
  common::logger("ice")->debug("transport {}: pair selected ({})", mId, common::logAddress(endpoint.toString()));
  // The confirmed peer may now be sent to: first what DTLS wrote while we waited.
  for (const auto& datagram : mHeldDtls) {
    auto buf = mSink.slot();
    if (datagram.size() > buf.size()) continue;
    std::memcpy(buf.data(), datagram.data(), datagram.size());
    mSink.commit(datagram.size(), endpoint);
  }
  mHeldDtls = {};  // and its memory
  if (std::exchange(mIceLost, false)) mListener.onTransportIceReconnected(*this);
  // As DTLS client we speak first, once a nominated pair has answered.
  if (!mDtlsStarted && mDtls.role() == dtls::DtlsRole::Client) {
    mDtlsStarted = true;
    mDtls.start(mNow);
  }
}

void WebRtcTransport::onIceSendRequest(ice::IceServer&, std::span<const uint8_t> request, const net::Endpoint& to) {
  auto buf = mSink.slot();
  if (request.size() > buf.size()) return;
  std::memcpy(buf.data(), request.data(), request.size());
  mSink.commit(request.size(), to);
}

void WebRtcTransport::onIceEndpointRemoved(ice::IceServer&, const net::Endpoint& endpoint) {
  mListener.onTransportEndpointRemoved(*this, endpoint);
}

void WebRtcTransport::onIceDisconnected(ice::IceServer&, ice::IceServer::DisconnectReason reason) {
  mIceLost = true;
  mListener.onTransportIceDisconnected(*this, reason == ice::IceServer::DisconnectReason::ConsentExpired
                                                  ? "ice consent expired"
                                                  : "ice connect timeout");
}

void WebRtcTransport::onDtlsSend(std::span<const uint8_t> datagram) {
  // Only to the selected pair, whose return path answered our check: a ClientHello from a spoofed
  // source must not make us send a certificate flight to a third party.
  const auto& to = mIce.selectedEndpoint();
  if (!to) {
    if (mHeldDtls.size() < kMaxHeldDtls) mHeldDtls.emplace_back(datagram.begin(), datagram.end());
    return;
  }
  auto buf = mSink.slot();
  if (datagram.size() > buf.size()) return;
  std::memcpy(buf.data(), datagram.data(), datagram.size());
  mSink.commit(datagram.size(), *to);
}

void WebRtcTransport::onDtlsConnected(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& local,
                                      const srtp::SrtpKeyMaterial& remote) {
  try {
    mSrtp = std::make_unique<srtp::SrtpSession>(profile, local, remote);
  } catch (const std::exception& e) {
    common::logger("dtls")->warn("transport {}: SRTP setup failed: {}", mId, e.what());
    markClosed("srtp setup failed");
    return;
  }
  common::logger("dtls")->debug("transport {}: DTLS connected", mId);
  mListener.onTransportConnected(*this);
}

void WebRtcTransport::onDtlsClosed() { markClosed("dtls closed by peer"); }

void WebRtcTransport::onDtlsFailed(std::string_view reason) {
  common::logger("dtls")->info("transport {}: DTLS failed: {}", mId, reason);
  markClosed("dtls failed");
}

}  // namespace conclave::transport
