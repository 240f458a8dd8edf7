// What the SFU's Router uses of a subscriber's connection: sending RTP and RTCP, its state, and
// its control (remote parameters, ICE restart, timers, close). A WebRtcTransport on the room's
// own worker is one; sfu::ProxyTransport, for a connection another worker hosts, is the other
// (docs/fanout.md). No sockets here either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "ice/ice_server.h"

namespace conclave::transport {

struct RemoteFingerprint {
  std::string algorithm;  // "sha-256", ...
  std::vector<uint8_t> digest;
};

class MediaTransport {
 public:
  virtual ~MediaTransport() = default;

  virtual uint64_t id() const = 0;
  // SRTP keys are in place: media can flow.
  virtual bool connected() const = 0;
  // Dead (DTLS failed or closed, or close() was called); its owner destroys it.
  virtual bool closed() const = 0;

  // ---- packet path: no allocation, no lock ----
  // Room for one plain RTP packet, or an empty span when nothing can be sent now (not connected,
  // no room). What commitRtp(length) then sends is the first `length` bytes written there; a
  // begin without a commit sends nothing.
  virtual std::span<uint8_t> beginRtp() = 0;
  virtual bool commitRtp(size_t length) = 0;
  // `fill` writes the plain packet into the room it gets and returns its length (0: nothing to
  // send). False if nothing was sent.
  template <typename Fill>
  bool sendRtpWith(Fill&& fill) {
    auto room = beginRtp();
    if (room.empty()) return false;
    const size_t length = fill(room);
    return length > 0 && commitRtp(length);
  }
  virtual bool sendRtcp(std::span<const uint8_t> plain) = 0;
  // A stream we no longer send: SRTP forgets its state (after the packets sent before this).
  virtual void forgetOutboundSsrc(uint32_t ssrc) = 0;

  // ---- control path ----
  virtual const ice::IceCredentials& localIce() const = 0;
  // From the remote description (may come after checks started).
  virtual void setRemoteParameters(const ice::IceCredentials& ice, const RemoteFingerprint& fingerprint) = 0;
  // ICE restart: new credentials on both sides; DTLS and SRTP carry on.
  virtual void restartIce(const ice::IceCredentials& local, const ice::IceCredentials& remote) = 0;
  // Consent and DTLS timers; call every few hundred milliseconds.
  virtual void tick(common::TimePoint now) = 0;
  virtual void close() = 0;
  // The SRTP protection profile DTLS negotiated ("SRTP_AEAD_AES_128_GCM"), or "" before.
  virtual std::string_view srtpProfileName() const = 0;
};

}  // namespace conclave::transport
