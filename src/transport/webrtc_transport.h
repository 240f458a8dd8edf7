// One WebRTC transport (one RTCPeerConnection's BUNDLE transport) on a media worker's shared UDP
// port: ICE-lite, then DTLS-SRTP, then SRTP/SRTCP. Datagrams of its 5-tuple come in through
// receive(); decrypted RTP and RTCP go to the Listener; what it sends goes into the worker's
// PacketSink (the send batch). No sockets here, so the whole chain runs in tests over memory.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "dtls/dtls_context.h"
#include "dtls/dtls_transport.h"
#include "ice/ice_server.h"
#include "net/endpoint.h"
#include "rtp/packet.h"
#include "srtp/srtp_session.h"
#include "transport/media_transport.h"

namespace conclave::transport {

using common::TimePoint;

// Where datagrams go out: the worker's batch. slot() gives a buffer to write one datagram into;
// commit() queues it.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual std::span<uint8_t> slot() = 0;
  virtual void commit(size_t length, const net::Endpoint& to) = 0;
};

class WebRtcTransport final : public MediaTransport,
                              private ice::IceServer::Listener,
                              private dtls::DtlsTransport::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // DTLS is up and SRTP keys are in place: media can flow.
    virtual void onTransportConnected(WebRtcTransport& transport) = 0;
    // `endpoint` passed an ICE check for this transport: the worker routes its datagrams here.
    virtual void onTransportEndpoint(WebRtcTransport& transport, const net::Endpoint& endpoint) = 0;
    // `endpoint` is no longer a candidate of this transport (evicted or expired): stop routing it
    // here, so the routing table holds at most IceServer::Config::maxPairs entries per transport.
    virtual void onTransportEndpointRemoved(WebRtcTransport& transport, const net::Endpoint& endpoint) = 0;
    virtual void onTransportRtp(WebRtcTransport& transport, rtp::RtpPacket& packet, TimePoint now) = 0;
    virtual void onTransportRtcp(WebRtcTransport& transport, std::span<uint8_t> compound, TimePoint now) = 0;
    // ICE consent expired (or no nomination came): media stops until the peer restarts ICE. The
    // DTLS association and SRTP keys are kept, since an ICE restart does not redo DTLS.
    virtual void onTransportIceDisconnected(WebRtcTransport& transport, std::string_view reason) = 0;
    // After onTransportIceDisconnected: a pair is selected again (the peer nominated one after an
    // ICE restart, or with the same credentials), so media flows again.
    virtual void onTransportIceReconnected(WebRtcTransport& transport) = 0;
    // DTLS failed or was closed: the transport is dead. The owner destroys it later (not from
    // inside this callback).
    virtual void onTransportClosed(WebRtcTransport& transport, std::string_view reason) = 0;
  };

  struct Params {
    uint64_t id = 0;
    ice::IceCredentials localIce;
    std::optional<ice::IceCredentials> remoteIce;
    std::optional<RemoteFingerprint> remoteFingerprint;
    dtls::DtlsRole dtlsRole = dtls::DtlsRole::Server;
  };

  struct Stats {
    uint64_t rtpReceived = 0;
    uint64_t rtcpReceived = 0;
    uint64_t rtpSent = 0;
    uint64_t rtcpSent = 0;
    uint64_t srtpErrors = 0;
    uint64_t dropped = 0;  // not from a validated address, not parseable, or before keys
  };

  WebRtcTransport(Listener& listener, PacketSink& sink, const dtls::DtlsContext& dtls, Params params, TimePoint now);
  ~WebRtcTransport() override;
  WebRtcTransport(const WebRtcTransport&) = delete;
  WebRtcTransport& operator=(const WebRtcTransport&) = delete;

  // Packet path: one datagram of this transport.
  void receive(std::span<uint8_t> datagram, const net::Endpoint& from, TimePoint now);

  // Sends an RTP packet (MediaTransport::sendRtpWith): the room is a slot of the worker's batch
  // with space left for the SRTP trailer; the packet is protected in place there and queued.
  // Nothing is sent when not connected or when protection fails.
  std::span<uint8_t> beginRtp() override;
  bool commitRtp(size_t length) override;
  bool sendRtp(std::span<const uint8_t> plain);
  bool sendRtcp(std::span<const uint8_t> plain) override;
  // A stream we no longer send: SRTP forgets its state.
  void forgetOutboundSsrc(uint32_t ssrc) override {
    if (mSrtp) mSrtp->removeOutboundSsrc(ssrc);
  }

  // From the remote description (may come after checks started).
  void setRemoteParameters(const ice::IceCredentials& ice, const RemoteFingerprint& fingerprint) override;
  // ICE restart: new credentials on both sides; DTLS and SRTP carry on.
  void restartIce(const ice::IceCredentials& local, const ice::IceCredentials& remote) override;
  // Consent and DTLS timers; call every few hundred milliseconds.
  void tick(TimePoint now) override;
  void close() override;

  uint64_t id() const override { return mId; }
  bool connected() const override { return mSrtp != nullptr; }
  // The name of the SRTP protection profile DTLS negotiated ("SRTP_AEAD_AES_128_GCM"), or ""
  // before DTLS is up.
  std::string_view srtpProfileName() const override {
    return mSrtp ? srtp::srtpProfileParams(mSrtp->profile()).name : std::string_view();
  }
  bool closed() const override { return mClosed; }
  const ice::IceCredentials& localIce() const override { return mIce.localCredentials(); }
  const std::optional<net::Endpoint>& selectedEndpoint() const { return mIce.selectedEndpoint(); }
  const ice::IceServer& ice() const { return mIce; }
  const Stats& stats() const { return mStats; }

 private:
  static constexpr size_t kSrtpRoom = 32;  // room left for the SRTP/SRTCP trailer
  // DTLS datagrams written before any pair is selected wait here (at most one handshake flight),
  // since nothing goes to an address whose return path is not proven.
  static constexpr size_t kMaxHeldDtls = 8;

  bool protectAndCommit(std::span<uint8_t> buf, size_t len, bool rtcp);
  void markClosed(std::string_view reason);

  // ice::IceServer::Listener
  void onIceSelectedEndpoint(ice::IceServer& server, const net::Endpoint& endpoint) override;
  void onIceDisconnected(ice::IceServer& server, ice::IceServer::DisconnectReason reason) override;
  void onIceSendRequest(ice::IceServer& server, std::span<const uint8_t> request, const net::Endpoint& to) override;
  void onIceEndpointRemoved(ice::IceServer& server, const net::Endpoint& endpoint) override;
  // dtls::DtlsTransport::Listener
  void onDtlsSend(std::span<const uint8_t> datagram) override;
  void onDtlsConnected(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& local,
                       const srtp::SrtpKeyMaterial& remote) override;
  void onDtlsClosed() override;
  void onDtlsFailed(std::string_view reason) override;

  uint64_t mId;
  Listener& mListener;
  PacketSink& mSink;
  ice::IceServer mIce;
  dtls::DtlsTransport mDtls;
  std::unique_ptr<srtp::SrtpSession> mSrtp;
  std::vector<std::vector<uint8_t>> mHeldDtls;  // see kMaxHeldDtls
  std::span<uint8_t> mRtpSlot;                  // the send slot beginRtp() handed out
  TimePoint mNow{};                             // of the datagram or tick being handled, for callbacks that need it
  bool mDtlsStarted = false;
  bool mClosed = false;
  bool mIceLost = false;  // onTransportIceDisconnected was told, and no pair is selected since
  Stats mStats;
};

}  // namespace conclave::transport
