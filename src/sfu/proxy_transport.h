// A subscriber's transport as the room's home worker sees it when another worker hosts it
// (docs/fanout.md): the Router sends through it exactly as through a local WebRtcTransport.
//
// Packet path: beginRtp() claims a record in the link's media ring and hands out its packet
// room; the Router's fill writes the rewritten plain packet there and commitRtp() publishes it.
// The transport worker protects and sends it. A full ring refuses the claim, so the packet is
// dropped before fill runs (nothing stamped, nothing charged) and counted (mediaRefused). No
// lock, no allocation, no system call (the wake-up comes once per flush, from Fanout).
//
// Control path: remote parameters, ICE restarts and close are posted to the transport worker
// (Fanout). Events come back from there as posted tasks (connected with its SRTP profile, ICE
// consent lost, a pair selected again, closed) and RTCP through the link's other ring; Fanout
// hands them to the proxy, which hands them to its Listener (the Router). Everything here runs on
// the home worker.
//
// States as a local WebRtcTransport has them: connected() from "connected" (SRTP keys in place
// there) until closed. Between "ICE consent lost" and "a pair selected again" (an ICE restart, or
// a new nomination) it stays connected() but sends nothing, as a local transport without a
// selected pair: beginRtp() gives no room (the fill never runs, nothing is stamped) and
// sendRtcp() refuses, so no record is written that the transport worker could only drop; a
// ForgetSsrc record still goes, as a local transport's SRTP still forgets.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "net/udp_socket.h"
#include "sfu/fanout_link.h"
#include "transport/media_transport.h"

namespace conclave::sfu {

class Fanout;

class ProxyTransport final : public transport::MediaTransport {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onProxyConnected(ProxyTransport& transport) = 0;
    virtual void onProxyRtcp(ProxyTransport& transport, std::span<uint8_t> compound, common::TimePoint now) = 0;
    virtual void onProxyIceDisconnected(ProxyTransport& transport, std::string_view reason) = 0;
    virtual void onProxyIceReconnected(ProxyTransport& transport) = 0;
    virtual void onProxyClosed(ProxyTransport& transport, std::string_view reason) = 0;
  };

  // Room for a plain RTP packet: what a local transport's fill gets (a send slot less the room
  // WebRtcTransport keeps for the SRTP trailer), so a packet that fits one fits the other.
  static constexpr size_t kMaxPacket = net::kMaxDatagram - 32;

  // Made by Fanout::createProxy, which has asked the transport worker to host the transport.
  ProxyTransport(Fanout& fanout, FanoutLink& link, bool& mediaWritten, FanoutHandle handle, uint64_t id,
                 const ice::IceCredentials& localIce, Listener& listener);
  ~ProxyTransport() override;
  ProxyTransport(const ProxyTransport&) = delete;
  ProxyTransport& operator=(const ProxyTransport&) = delete;

  // transport::MediaTransport
  uint64_t id() const override { return mId; }
  bool connected() const override { return mConnected && !closed(); }
  bool closed() const override { return mReleased || mClosedThere; }
  std::span<uint8_t> beginRtp() override;
  bool commitRtp(size_t length) override;
  bool sendRtcp(std::span<const uint8_t> plain) override;
  void forgetOutboundSsrc(uint32_t ssrc) override;
  const ice::IceCredentials& localIce() const override { return mLocalIce; }
  void setRemoteParameters(const ice::IceCredentials& ice, const transport::RemoteFingerprint& fingerprint) override;
  void restartIce(const ice::IceCredentials& local, const ice::IceCredentials& remote) override;
  void tick(common::TimePoint /*now*/) override {}  // the transport worker runs the timers
  // Stops sending and asks the transport worker to destroy the transport.
  void close() override;
  std::string_view srtpProfileName() const override { return mSrtpProfile; }

  FanoutHandle handle() const { return mHandle; }
  int transportWorker() const { return mLink.transportWorker(); }

  // From Fanout, on the home worker.
  void onConnected(std::string srtpProfile);
  void onRtcp(std::span<uint8_t> compound, common::TimePoint now);
  void onIceDisconnected(std::string_view reason);
  void onIceReconnected();
  void onClosed(std::string_view reason);

 private:
  // Media and RTCP may be written: connected, and the transport there has a selected pair.
  bool sendable() const { return connected() && !mIceLost; }
  bool writeRecord(FanoutRecordKind kind, std::span<const uint8_t> bytes);

  Fanout& mFanout;
  FanoutLink& mLink;
  bool& mMediaWritten;  // the home side's "wrote since the last flush" of this link
  FanoutHandle mHandle;
  uint64_t mId;
  ice::IceCredentials mLocalIce;
  Listener& mListener;
  std::string mSrtpProfile;
  std::span<uint8_t> mClaim;  // the record beginRtp() claimed
  bool mConnected = false;
  bool mIceLost = false;      // "ICE consent lost" came, and no "a pair selected again" since
  bool mClosedThere = false;  // the transport worker said it closed
  bool mReleased = false;     // close() ran: the handle is given back
};

}  // namespace conclave::sfu
