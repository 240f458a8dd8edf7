// Browser sides on real UDP sockets for tests of the media worker: each a BrowserPeer (real ICE,
// DTLS, SRTP) with its own socket on 127.0.0.1 or ::1, and a loop that polls them until a
// condition holds. Shared by worker_test.cpp and fanout_test.cpp.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/udp_socket.h"
#include "sfu/router.h"
#include "transport/browser_peer.h"

namespace conclave::sfu::test {

struct NullObserver final : RouterObserver {
  void onTransportFailed(const std::string&, TransportRole, std::string_view) override { ++failures; }
  std::atomic<int> failures{0};
};

// "127.0.0.1" or "::1" with a port.
inline net::Endpoint endpointOf(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return *net::Endpoint::parse((v6 ? "[" + address + "]" : address) + ":" + std::to_string(port));
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
};

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

}  // namespace conclave::sfu::test
