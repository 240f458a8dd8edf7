// Browser sides on real UDP sockets for tests of media workers: each a BrowserPeer (real ICE,
// DTLS, SRTP) with its own socket on 127.0.0.1 or ::1, a loop that polls them until a condition
// holds, and the three-person video room with its ICE and DTLS steps. Shared by worker_test.cpp
// and fanout_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ice/stun.h"
#include "net/udp_socket.h"
#include "rtp/captured_packets.h"
#include "sfu/sfu_test_util.h"
#include "sfu/worker.h"
#include "transport/browser_peer.h"

namespace conclave::sfu::test {

// Counts the transports that failed (on any worker's thread) and keeps what it was told.
struct NullObserver final : RouterObserver {
  void onTransportFailed(const std::string& participant, TransportRole, std::string_view reason) override {
    {
      std::lock_guard lock(mutex);
      told.push_back(participant + ": " + std::string(reason));
    }
    ++failures;
  }
  // "participant: reason", in order.
  std::vector<std::string> failed() const {
    std::lock_guard lock(mutex);
    return told;
  }
  std::atomic<int> failures{0};
  mutable std::mutex mutex;
  std::vector<std::string> told;
};

// "127.0.0.1" or "::1" with a port.
inline net::Endpoint endpointOf(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return *net::Endpoint::parse((v6 ? "[" + address + "]" : address) + ":" + std::to_string(port));
}

// A browser side on its own UDP socket (127.0.0.1 or ::1).
struct UdpBrowser {
  UdpBrowser(const dtls::DtlsContext& browser, const dtls::DtlsContext& server, const net::Endpoint& sfuAddress,
             const std::string& address = "127.0.0.1")
      : socket(std::make_unique<net::UdpSocket>(address, 0)),
        peer(browser, endpointOf(address, socket->localPort()), transport::test::fingerprintOf(server)),
        target(sfuAddress) {}

  // The browser's address changes (a NAT rebinding, or another network): from now on it sends
  // from a new socket, with the same ICE, DTLS and SRTP state. The old socket is closed, so what
  // the SFU still sends to the old address is lost.
  void moveTo(const std::string& address, const net::Endpoint& sfuAddress) {
    send.reset();
    socket = std::make_unique<net::UdpSocket>(address, 0);
    send = std::make_unique<net::SendBatch>(*socket, 16);
    peer.setAddress(endpointOf(address, socket->localPort()));
    target = sfuAddress;
  }

  void flush() {
    for (auto& d : peer.takeOutbox()) send->send(d, target);
    send->flush();
  }
  // Reads what is waiting; returns the number of datagrams.
  size_t drain() {
    size_t total = 0;
    while (size_t n = receive.receive(*socket)) {
      for (size_t i = 0; i < n; ++i) {
        bytesReceived += receive.data(i).size();
        peer.receive(receive.data(i), std::chrono::steady_clock::now());
      }
      total += n;
    }
    return total;
  }
  void timers() {
    const common::TimePoint now = std::chrono::steady_clock::now();
    if (auto t = peer.dtls().nextTimeout(); t && *t <= now) peer.dtls().handleTimeout(now);
  }

  std::unique_ptr<net::UdpSocket> socket;
  transport::test::BrowserPeer peer;
  net::Endpoint target;
  std::unique_ptr<net::SendBatch> send = std::make_unique<net::SendBatch>(*socket, 16);
  net::ReceiveBatch receive{32};
  size_t bytesReceived = 0;
};

// Polls the sockets, feeds the peers and sends what they queued until `done` or the limit.
template <typename Done>
bool runUntil(const std::vector<UdpBrowser*>& sides, Done done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    for (auto* s : sides) {
      s->timers();
      s->flush();
    }
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::vector<pollfd> fds;
    for (auto* s : sides) fds.push_back({s->socket->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 10);
    for (auto* s : sides) s->drain();
  }
}

// Alice publishes one video stream that Bob and Carol get, as MediaRoom sets it up: her publish
// transport and producer, their subscribe transports and consumers. With `repair`, the publisher
// numbers its packets (extension 3, kept for the subscribers) and sends RTX on `videoRtxSsrc`; the
// consumers get RTX streams and number what they get.
struct VideoRoom {
  ProducerSpec video;
  ConsumerSpec forBob;
  ConsumerSpec forCarol;

  VideoRoom(uint32_t videoSsrc, uint32_t videoRtxSsrc, uint32_t bobSsrc, uint32_t carolSsrc, bool repair)
      : forBob{11, 1, bobSsrc, 98}, forCarol{12, 1, carolSsrc, 98} {
    video.id = 1;
    video.kind = MediaKind::Video;
    video.ssrc = videoSsrc;
    video.payloadType = 96;
    video.clockRate = 90000;
    video.extensionMap = {{2, 2}, {3, repair ? uint8_t{3} : uint8_t{0}}, {4, 0}};
    if (!repair) return;
    video.transportCcId = 3;
    video.rtxSsrc = videoRtxSsrc;
    for (auto* c : {&forBob, &forCarol}) {
      c->transportCcId = 3;
      c->rtxSsrc = c->ssrc + 1;
      c->rtxPayloadType = 99;
    }
  }

  // On the room's worker: the participants, Alice's transport and producer, the subscribe
  // transports (before their answers) and the consumers.
  void addTo(Router& r, const TransportSpec& pub, const std::map<std::string, TransportSpec>& subs) const {
    for (auto id : {"alice", "bob", "carol"}) r.addParticipant(id);
    r.setTransport("alice", TransportRole::Publish, pub);
    r.addProducer("alice", video);
    for (const auto& [id, spec] : subs) r.setTransport(id, TransportRole::Subscribe, spec);
    r.addConsumer("bob", forBob);
    r.addConsumer("carol", forCarol);
  }

  // As MediaRoom does it, `onRoom` running each step on the room's worker and waiting for it:
  // the offers (addTo), then the browsers' answers complete the subscribe transports. Fills in
  // the credentials and fingerprints of `pub` and `subs`; what else they carry (the worker that
  // hosts a subscribe transport) the caller sets before.
  void setUp(const std::function<void(const std::function<void(Router&)>&)>& onRoom, const UdpBrowser& alice,
             const UdpBrowser& bob, const UdpBrowser& carol, const transport::RemoteFingerprint& browserFingerprint,
             TransportSpec& pub, std::map<std::string, TransportSpec>& subs) const {
    pub.localIce = ice::IceCredentials::generate();
    pub.remoteIce = alice.peer.ice();
    pub.remoteFingerprint = browserFingerprint;
    for (auto id : {"bob", "carol"}) subs[id].localIce = ice::IceCredentials::generate();
    onRoom([&](Router& r) { addTo(r, pub, subs); });
    subs["bob"].remoteIce = bob.peer.ice();
    subs["carol"].remoteIce = carol.peer.ice();
    for (auto& [id, spec] : subs) spec.remoteFingerprint = browserFingerprint;
    onRoom([&](Router& r) {
      for (auto& [id, spec] : subs) r.setTransport(id, TransportRole::Subscribe, spec);
    });
  }
};

// ICE, then DTLS, over the real sockets: each browser's check (with USE-CANDIDATE) to the server
// credentials paired with it is answered with a success, integrity and the browser's own address;
// then every DTLS handshake completes.
inline void connectBrowsers(const std::vector<std::pair<UdpBrowser*, ice::IceCredentials>>& sides) {
  std::vector<UdpBrowser*> all;
  for (const auto& [side, serverIce] : sides) {
    side->peer.sendCheck(serverIce, true);
    all.push_back(side);
  }
  ASSERT_TRUE(runUntil(
      all, [&] { return std::all_of(all.begin(), all.end(), [](auto* s) { return !s->peer.stunAnswers.empty(); }); },
      std::chrono::seconds(5)));
  for (auto* s : all) {
    ASSERT_EQ(s->peer.stunAnswers[0].cls, ice::StunClass::SuccessResponse);
    EXPECT_TRUE(s->peer.stunAnswers[0].integrityOk);
    EXPECT_EQ(s->peer.stunAnswers[0].mappedAddress, s->peer.address());
    s->peer.startDtls(std::chrono::steady_clock::now());
  }
  ASSERT_TRUE(runUntil(
      all, [&] { return std::all_of(all.begin(), all.end(), [](auto* s) { return s->peer.dtlsConnected(); }); },
      std::chrono::seconds(10)));
}

// The i-th packet of a video stream made from captured Chromium VP8: a key frame first, then
// delta frames, three packets a frame.
inline std::vector<uint8_t> videoPacket(size_t i) {
  return rtpFrom(
      i == 0 ? std::span<const uint8_t>(testdata::kChromeVp8Key) : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
      static_cast<uint16_t>(1000 + i), static_cast<uint32_t>(90000 + 3000 * (i / 3)));
}

// `count` of the publisher's video packets from `first` (videoPacket), in bursts of 10 as a
// camera sends, while the browsers in `all` are served.
inline void sendVideo(UdpBrowser& publisher, const std::vector<UdpBrowser*>& all, size_t count, size_t first = 0) {
  for (size_t i = first; i < first + count; ++i) {
    publisher.peer.sendRtp(videoPacket(i));
    if (i % 10 == 9)
      runUntil(
          all, [] { return false; }, std::chrono::milliseconds(2));
  }
}

// Bob's browser moves to a new address (`moveTo`) mid-call while Alice keeps sending video; Bob's
// browser sends a check every 500 ms from there (`nominate`: with USE-CANDIDATE). Returns how long
// it took until video reached Bob again, or nullopt after 10 s.
inline std::optional<std::chrono::milliseconds> moveAndMeasureGap(UdpBrowser& alice, UdpBrowser& bob,
                                                                  const std::vector<UdpBrowser*>& all,
                                                                  const ice::IceCredentials& bobServerIce,
                                                                  bool nominate, const std::function<void()>& move) {
  move();
  const auto movedAt = std::chrono::steady_clock::now();
  const size_t before = bob.peer.rtp.size();
  auto nextCheck = movedAt;
  auto nextFrame = movedAt;
  uint16_t seq = 5000;
  const bool flowing = runUntil(
      all,
      [&] {
        const auto now = std::chrono::steady_clock::now();
        if (now >= nextCheck) {
          bob.peer.sendCheck(bobServerIce, nominate);
          nextCheck += std::chrono::milliseconds(500);
        }
        if (now >= nextFrame) {  // a video packet every 20 ms
          alice.peer.sendRtp(rtpFrom(testdata::kChromeVp8Tid2, seq, 90000u + 3000u * seq));
          ++seq;
          nextFrame += std::chrono::milliseconds(20);
        }
        return bob.peer.rtp.size() > before;
      },
      std::chrono::seconds(10));
  if (!flowing) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - movedAt);
}

// Runs `task` on `worker`'s thread and waits for its result (MediaRoom::post, plus the wait).
template <typename T>
T runOn(MediaWorker& worker, const std::function<T(MediaWorker&)>& task) {
  std::promise<T> result;
  worker.post([&](MediaWorker& w) { result.set_value(task(w)); });
  auto f = result.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  return f.get();
}

// Which of `generations` (a transport's local ICE credentials, oldest first) a worker still routes
// checks for: a socket of its own sends one check per generation, signed as `peer` signs them, in
// order, with the last one the worker must answer; once that answer came every check before was
// read. Returns the STUN answers received (a routed check gets one, success or error) and the
// checks the worker counted as unrouted meanwhile.
struct RoutedChecks {
  size_t answers = 0;
  uint64_t unrouted = 0;
};
inline RoutedChecks probeChecks(MediaWorker& worker, transport::test::BrowserPeer& peer,
                                const std::vector<ice::IceCredentials>& generations) {
  auto unrouted = [&] {
    return runOn<uint64_t>(worker, [](MediaWorker& w) { return w.counters().datagramsUnrouted.load(); });
  };
  const uint64_t before = unrouted();
  net::UdpSocket socket{"127.0.0.1", 0};
  net::SendBatch send{socket, 16};
  net::ReceiveBatch receive{16};
  const net::Endpoint to = endpointOf("127.0.0.1", worker.port());
  std::vector<uint8_t> last;  // the transaction ID of the last check
  for (const auto& credentials : generations) {
    auto check = peer.bindingRequest(credentials, false);
    last.assign(check.begin() + 8, check.begin() + 8 + ice::kStunTransactionIdSize);
    send.send(check, to);
  }
  send.flush();
  RoutedChecks result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool lastAnswered = false;
  while (!lastAnswered && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{socket.fd(), POLLIN, 0};
    ::poll(&fd, 1, 20);
    while (size_t got = receive.receive(socket)) {
      for (size_t i = 0; i < got; ++i) {
        auto msg = ice::StunMessage::parse(receive.data(i));
        // The worker's own checks toward a new address (its return-path test) are not answers.
        if (!msg || msg->messageClass() == ice::StunClass::Request) continue;
        ++result.answers;
        const auto tid = msg->transactionId();
        lastAnswered |= std::equal(tid.begin(), tid.end(), last.begin());
      }
    }
  }
  EXPECT_TRUE(lastAnswered) << "the worker did not answer the last check";
  result.unrouted = unrouted() - before;
  return result;
}

}  // namespace conclave::sfu::test
