// Test helper: the "browser side" of a WebRTC transport, built from Conclave's own pieces, and an
// in-memory wire between such peers and the SFU side.
//
// BrowserPeer is what a browser's RTCPeerConnection does on the wire, minus SDP: it sends ICE
// connectivity checks as the controlling agent (USERNAME serverUfrag:clientUfrag, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY with the server password, FINGERPRINT),
// runs a dtls::DtlsTransport (client by default, as Chromium answers a=setup:active) and keys an
// srtp::SrtpSession from the handshake. Datagrams it sends wait in outbox(); datagrams from the
// SFU go in through receive() and are sorted into STUN answers, DTLS and decrypted RTP/RTCP.
//
// Header-only and free of gtest so that the benchmarks can use it too (bench/clients: the
// synthetic browsers of sfu_room_bench and conclave-load).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "dtls/dtls_context.h"
#include "dtls/dtls_transport.h"
#include "ice/demux.h"
#include "ice/ice_server.h"
#include "ice/stun.h"
#include "net/endpoint.h"
#include "srtp/srtp_profile.h"
#include "srtp/srtp_session.h"
#include "transport/webrtc_transport.h"

namespace conclave::transport::test {

using common::TimePoint;

// One datagram as it travelled: bytes, source and destination.
struct Datagram {
  std::vector<uint8_t> bytes;
  net::Endpoint from;
  net::Endpoint to;
};

inline RemoteFingerprint fingerprintOf(const dtls::DtlsContext& context) {
  const auto digest = context.localFingerprint();
  return RemoteFingerprint{"sha-256", std::vector<uint8_t>(digest.begin(), digest.end())};
}

inline net::Endpoint loopback(uint16_t port, uint8_t lastOctet = 1) {
  return net::Endpoint::v4({127, 0, 0, lastOctet}, port);
}

class BrowserPeer final : private dtls::DtlsTransport::Listener {
 public:
  struct StunAnswer {
    std::vector<uint8_t> bytes;
    ice::StunClass cls = ice::StunClass::Request;
    uint16_t errorCode = 0;
    bool integrityOk = false;  // MESSAGE-INTEGRITY valid for the password the request used
    std::optional<net::Endpoint> mappedAddress;
  };

  // `context` holds the browser's certificate; `serverFingerprint` is the SFU's.
  BrowserPeer(const dtls::DtlsContext& context, net::Endpoint address, RemoteFingerprint serverFingerprint,
              dtls::DtlsRole role = dtls::DtlsRole::Client)
      : mAddress(address), mIce(ice::IceCredentials::generate()), mDtls(context, role, *this) {
    mDtls.setRemoteFingerprint(serverFingerprint.algorithm, std::span<const uint8_t>(serverFingerprint.digest));
    common::randomBytes(std::span(reinterpret_cast<uint8_t*>(&mTieBreaker), sizeof mTieBreaker));
  }

  const net::Endpoint& address() const { return mAddress; }
  void setAddress(const net::Endpoint& address) { mAddress = address; }
  const ice::IceCredentials& ice() const { return mIce; }
  void setIce(ice::IceCredentials credentials) { mIce = std::move(credentials); }

  // ---- ICE ---------------------------------------------------------------------------------
  // Controlling (the default) against an ICE-lite server or when we offered; a full ICE server
  // that offered (Janus toward its subscribers) controls, and our checks then say ICE-CONTROLLED
  // and nominate nothing (RFC 8445 6.1.1, 7.1.1).
  void setControlling(bool controlling) { mControlling = controlling; }
  bool controlling() const { return mControlling; }
  // A Binding request for the SFU whose credentials are `server` (signed with `password`, by
  // default the server's). The password used is remembered to check the answer.
  std::vector<uint8_t> bindingRequest(const ice::IceCredentials& server, bool useCandidate,
                                      const std::optional<std::string>& password = std::nullopt) {
    ice::StunTransactionId tid{};
    common::randomBytes(tid);
    std::array<uint8_t, 512> buf{};
    ice::StunBuilder b(buf, ice::kStunMethodBinding, ice::StunClass::Request, tid);
    b.addUsername(server.ufrag + ":" + mIce.ufrag);
    b.addPriority(0x6e7f1eff);  // a host candidate's priority as Chromium computes it
    if (mControlling) b.addIceControlling(mTieBreaker);
    else b.addIceControlled(mTieBreaker);
    if (useCandidate && mControlling) b.addUseCandidate();
    mCheckPassword = password.value_or(server.pwd);
    b.addMessageIntegrity(mCheckPassword);
    b.addFingerprint();
    auto bytes = b.bytes();
    return {bytes.begin(), bytes.end()};
  }
  // Queues a check in the outbox.
  void sendCheck(const ice::IceCredentials& server, bool useCandidate) {
    mOutbox.push_back(bindingRequest(server, useCandidate));
  }

  // ---- DTLS --------------------------------------------------------------------------------
  void startDtls(TimePoint now) { mDtls.start(now); }
  dtls::DtlsTransport& dtls() { return mDtls; }
  bool dtlsConnected() const { return mSrtp != nullptr; }
  const std::optional<std::string>& dtlsFailed() const { return mFailed; }
  std::optional<srtp::SrtpProfile> profile() const { return mProfile; }

  // ---- SRTP --------------------------------------------------------------------------------
  srtp::SrtpSession& srtp() { return *mSrtp; }
  // The SRTP form of a plain RTP / RTCP packet (empty if not connected or protect failed).
  std::vector<uint8_t> protectRtp(std::span<const uint8_t> plain) { return protect(plain, false); }
  std::vector<uint8_t> protectRtcp(std::span<const uint8_t> plain) { return protect(plain, true); }
  void sendRtp(std::span<const uint8_t> plain) { mOutbox.push_back(protectRtp(plain)); }
  void sendRtcp(std::span<const uint8_t> plain) { mOutbox.push_back(protectRtcp(plain)); }

  // ---- wire --------------------------------------------------------------------------------
  // A datagram from the SFU.
  void receive(std::span<const uint8_t> datagram, TimePoint now) {
    switch (ice::classifyPacket(datagram)) {
      case ice::PacketKind::Stun:
        onStun(datagram);
        return;
      case ice::PacketKind::Dtls:
        mDtls.feed(datagram, now);
        return;
      case ice::PacketKind::RtpRtcp:
        onSrtp(datagram);
        return;
      case ice::PacketKind::Other:
        ++mUnknown;
        return;
    }
  }
  std::vector<std::vector<uint8_t>> takeOutbox() { return std::exchange(mOutbox, {}); }
  bool hasOutput() const { return !mOutbox.empty(); }

  // Whether checks from the SFU get an answer (a third party or a vanished browser gives none).
  bool answerChecks = true;
  size_t checksReceived = 0;

  // What arrived (decrypted), in order. stunAnswers: answers to our checks.
  std::vector<StunAnswer> stunAnswers;
  std::vector<std::vector<uint8_t>> rtp;
  std::vector<std::vector<uint8_t>> rtcp;
  std::vector<srtp::SrtpResult> srtpErrors;
  size_t dtlsDatagramsReceived() const { return mDtls.stats().datagramsReceived; }

 private:
  std::vector<uint8_t> protect(std::span<const uint8_t> plain, bool isRtcp) {
    if (!mSrtp) return {};
    std::vector<uint8_t> buf(plain.begin(), plain.end());
    buf.resize(plain.size() + srtp::kSrtpMaxRtcpTrailer);
    size_t len = plain.size();
    auto r = isRtcp ? mSrtp->protectRtcp(buf, len) : mSrtp->protectRtp(buf, len);
    if (r != srtp::SrtpResult::Ok) return {};
    buf.resize(len);
    return buf;
  }

  void onStun(std::span<const uint8_t> datagram) {
    auto msg = ice::StunMessage::parse(datagram);
    if (!msg) return;
    if (msg->messageClass() == ice::StunClass::Request) {
      answerCheck(*msg);
      return;
    }
    StunAnswer a;
    a.bytes.assign(datagram.begin(), datagram.end());
    a.cls = msg->messageClass();
    if (auto e = msg->errorCode()) a.errorCode = e->code;
    a.integrityOk = msg->hasMessageIntegrity() && ice::checkIntegrity(*msg, std::string_view(mCheckPassword));
    a.mappedAddress = msg->xorMappedAddress();
    stunAnswers.push_back(std::move(a));
  }

  // A check from the SFU (return-path or consent check): answered as a browser does, with
  // USERNAME "ourUfrag:theirUfrag" and our password, unless answerChecks is off.
  void answerCheck(const ice::StunMessage& request) {
    ++checksReceived;
    auto user = request.username();
    if (!answerChecks || !user || user->substr(0, user->find(':')) != mIce.ufrag ||
        !ice::checkIntegrity(request, std::string_view(mIce.pwd)))
      return;
    std::array<uint8_t, 256> buf{};
    auto b = ice::StunBuilder::responseTo(request, ice::StunClass::SuccessResponse, buf);
    b.addXorMappedAddress(mAddress);
    b.addMessageIntegrity(mIce.pwd);
    b.addFingerprint();
    if (b.ok()) mOutbox.emplace_back(b.bytes().begin(), b.bytes().end());
  }

  void onSrtp(std::span<const uint8_t> datagram) {
    if (!mSrtp) {
      srtpErrors.push_back(srtp::SrtpResult::Failed);
      return;
    }
    std::vector<uint8_t> buf(datagram.begin(), datagram.end());
    size_t len = buf.size();
    const bool isRtcp = ice::isRtcp(datagram);
    auto r = isRtcp ? mSrtp->unprotectRtcp(buf, len) : mSrtp->unprotectRtp(buf, len);
    if (r != srtp::SrtpResult::Ok) {
      srtpErrors.push_back(r);
      return;
    }
    buf.resize(len);
    (isRtcp ? rtcp : rtp).push_back(std::move(buf));
  }

  // dtls::DtlsTransport::Listener
  void onDtlsSend(std::span<const uint8_t> datagram) override {
    mOutbox.emplace_back(datagram.begin(), datagram.end());
  }
  void onDtlsConnected(srtp::SrtpProfile profile, const srtp::SrtpKeyMaterial& local,
                       const srtp::SrtpKeyMaterial& remote) override {
    mProfile = profile;
    mSrtp = std::make_unique<srtp::SrtpSession>(profile, local, remote);
  }
  void onDtlsClosed() override { mFailed = "closed"; }
  void onDtlsFailed(std::string_view reason) override { mFailed = std::string(reason); }

  net::Endpoint mAddress;
  ice::IceCredentials mIce;
  uint64_t mTieBreaker = 0;
  bool mControlling = true;
  std::string mCheckPassword;
  dtls::DtlsTransport mDtls;
  std::unique_ptr<srtp::SrtpSession> mSrtp;
  std::optional<srtp::SrtpProfile> mProfile;
  std::optional<std::string> mFailed;
  std::vector<std::vector<uint8_t>> mOutbox;
  size_t mUnknown = 0;
};

// The SFU side's output: a PacketSink that keeps every datagram committed to it.
class RecordingSink final : public PacketSink {
 public:
  std::span<uint8_t> slot() override { return mBuffer; }
  void commit(size_t length, const net::Endpoint& to) override {
    sent.push_back(Datagram{std::vector<uint8_t>(mBuffer.begin(), mBuffer.begin() + length), {}, to});
  }
  std::vector<Datagram> take() { return std::exchange(sent, {}); }

  std::vector<Datagram> sent;

 private:
  std::array<uint8_t, 2048> mBuffer{};
};

// Moves datagrams between the SFU side (its sink and a receive function) and browser peers, by
// address, until nothing moves. A filter may drop datagrams (return false).
class Wire {
 public:
  using Deliver = std::function<void(std::span<uint8_t> datagram, const net::Endpoint& from, TimePoint now)>;
  using Filter = std::function<bool(const Datagram&)>;

  Wire(RecordingSink& sink, Deliver toServer) : mSink(sink), mToServer(std::move(toServer)) {}

  void attach(BrowserPeer& peer) { mPeers.push_back(&peer); }
  void detach(BrowserPeer& peer) { std::erase(mPeers, &peer); }
  void setFilter(Filter filter) { mFilter = std::move(filter); }

  // Returns the number of datagrams delivered.
  size_t pump(TimePoint now) {
    size_t delivered = 0;
    for (int round = 0; round < 200; ++round) {
      bool moved = false;
      for (auto& d : mSink.take()) {
        moved = true;
        if (mFilter && !mFilter(d)) continue;
        if (BrowserPeer* peer = find(d.to)) {
          peer->receive(d.bytes, now);
          ++delivered;
        } else {
          ++undeliverable;
        }
      }
      for (BrowserPeer* peer : std::vector<BrowserPeer*>(mPeers)) {
        for (auto& bytes : peer->takeOutbox()) {
          moved = true;
          Datagram d{std::move(bytes), peer->address(), {}};
          if (mFilter && !mFilter(d)) continue;
          mToServer(d.bytes, d.from, now);
          ++delivered;
        }
      }
      if (!moved) break;
    }
    return delivered;
  }

  size_t undeliverable = 0;

 private:
  BrowserPeer* find(const net::Endpoint& to) {
    for (BrowserPeer* p : mPeers)
      if (p->address() == to) return p;
    return nullptr;
  }

  RecordingSink& mSink;
  Deliver mToServer;
  Filter mFilter;
  std::vector<BrowserPeer*> mPeers;
};

}  // namespace conclave::transport::test
