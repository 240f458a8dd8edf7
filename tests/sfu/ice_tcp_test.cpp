// ICE-TCP (RFC 6544, RFC 4571 framing) on a real MediaWorker over loopback sockets: a publisher and
// a subscriber that reach the worker only over TCP, and one over UDP, do real ICE, DTLS and SRTP
// and get each other's media. Then hostile clients against IceTcpServer's budgets (many
// connections, garbage, huge length prefixes, silence, a subscriber that never reads), with the
// worker's buffer totals and the process RSS measured.
#include "sfu/ice_tcp.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/certificate.h"
#include "net/stream_framing.h"
#include "net/udp_socket.h"
#include "rtp/captured_packets.h"
#include "sfu/sfu_test_util.h"
#include "sfu/worker.h"

using namespace conclave;
using namespace conclave::sfu;
using namespace std::chrono_literals;
using common::TimePoint;
using transport::test::BrowserPeer;

namespace {

constexpr uint32_t kVideoSsrc = 0xfc91b0bd;

long rssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// A TCP client socket connected to 127.0.0.1:`port`, from `source` (127.0.0.x), non-blocking.
int connectTcp(uint16_t port, const char* source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  if (::bind(fd, reinterpret_cast<::sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  ::sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::connect(fd, reinterpret_cast<::sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  int small = 4096;  // so a client that does not read stops the server's writes soon
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

net::Endpoint localEndpointOf(int fd) {
  ::sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<::sockaddr*>(&ss), &len);
  return *net::Endpoint::fromSockaddr(ss);
}

std::vector<uint8_t> frame(std::span<const uint8_t> bytes) {
  // Sized once and copied into: g++ 12 -O2 warns (array-bounds) about inserting after a 2-byte list.
  std::vector<uint8_t> out(2 + bytes.size());
  out[0] = static_cast<uint8_t>(bytes.size() >> 8);
  out[1] = static_cast<uint8_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.begin() + 2);
  return out;
}

// True once the server closed `fd` (read returns 0 or an error), within `limit`.
bool closedByServer(int fd, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 20);
    uint8_t buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
  return false;
}

// One browser side: a BrowserPeer and how its datagrams travel.
struct Side {
  virtual ~Side() = default;
  virtual void flush() = 0;
  virtual void drain() = 0;
  virtual int fd() const = 0;
  void timers() {
    const TimePoint now = std::chrono::steady_clock::now();
    if (auto t = peer().dtls().nextTimeout(); t && *t <= now) peer().dtls().handleTimeout(now);
  }
  virtual BrowserPeer& peer() = 0;
};

struct UdpSide final : Side {
  UdpSide(const dtls::DtlsContext& browser, const dtls::DtlsContext& server, const net::Endpoint& sfu)
      : mPeer(browser, transport::test::loopback(socket.localPort()), transport::test::fingerprintOf(server)),
        mTarget(sfu) {}
  void flush() override {
    for (auto& d : mPeer.takeOutbox()) mSend.send(d, mTarget);
    mSend.flush();
  }
  void drain() override {
    while (size_t n = mReceive.receive(socket))
      for (size_t i = 0; i < n; ++i) mPeer.receive(mReceive.data(i), std::chrono::steady_clock::now());
  }
  int fd() const override { return socket.fd(); }
  BrowserPeer& peer() override { return mPeer; }

  net::UdpSocket socket{"127.0.0.1", 0};
  BrowserPeer mPeer;
  net::Endpoint mTarget;
  net::SendBatch mSend{socket, 16};
  net::ReceiveBatch mReceive{32};
};

// A browser whose UDP is blocked: its ICE-TCP active candidate connects to the worker's port.
struct TcpSide final : Side {
  TcpSide(const dtls::DtlsContext& browser, const dtls::DtlsContext& server, uint16_t port)
      : mFd(connectTcp(port)), mPeer(browser, localEndpointOf(mFd), transport::test::fingerprintOf(server)) {}
  ~TcpSide() override { ::close(mFd); }
  void flush() override {
    for (auto& d : mPeer.takeOutbox()) {
      auto f = frame(d);
      mOut.insert(mOut.end(), f.begin(), f.end());
    }
    while (!mOut.empty()) {
      ssize_t n = ::send(mFd, mOut.data(), mOut.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) break;
      mOut.erase(mOut.begin(), mOut.begin() + n);
    }
  }
  void drain() override {
    if (!reading) return;
    while (true) {
      auto space = mReader.space();
      ssize_t n = ::recv(mFd, space.data(), space.size(), MSG_DONTWAIT);
      if (n <= 0) return;
      bytesReceived += static_cast<size_t>(n);
      mReader.commit(static_cast<size_t>(n));
      std::span<uint8_t> f;
      while (mReader.next(f) == net::FrameReader::Status::Frame) mPeer.receive(f, std::chrono::steady_clock::now());
    }
  }
  int fd() const override { return mFd; }
  BrowserPeer& peer() override { return mPeer; }

  int mFd;
  BrowserPeer mPeer;
  net::FrameReader mReader{net::kMaxDatagram};
  std::vector<uint8_t> mOut;
  bool reading = true;
  size_t bytesReceived = 0;
};

template <typename Done>
bool runUntil(const std::vector<Side*>& sides, Done done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    for (auto* s : sides) {
      s->timers();
      s->flush();
    }
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::vector<pollfd> fds;
    for (auto* s : sides) fds.push_back({s->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 10);
    for (auto* s : sides) s->drain();
  }
}

void pause(const std::vector<Side*>& sides, std::chrono::milliseconds time) {
  runUntil(
      sides, [] { return false; }, time);
}

struct NullObserver final : RouterObserver {
  void onTransportFailed(const std::string&, TransportRole, std::string_view) override { ++failures; }
  std::atomic<int> failures{0};
};

class IceTcpWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override { worker.start(); }
  void TearDown() override { worker.stop(); }

  void onWorker(std::function<void(MediaWorker&)> task) {
    std::promise<void> done;
    worker.post([&](MediaWorker& w) {
      task(w);
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }

  // Alice publishes over TCP; Bob subscribes over TCP, Carol over UDP (as MediaRoom sets it up).
  void setUpRoom() {
    const auto browserFingerprint = transport::test::fingerprintOf(browserContext);
    pub.localIce = ice::IceCredentials::generate();
    pub.remoteIce = alice.peer().ice();
    pub.remoteFingerprint = browserFingerprint;
    bobSpec.localIce = ice::IceCredentials::generate();
    bobSpec.remoteIce = bob.peer().ice();
    bobSpec.remoteFingerprint = browserFingerprint;
    carolSpec.localIce = ice::IceCredentials::generate();
    carolSpec.remoteIce = carol.peer().ice();
    carolSpec.remoteFingerprint = browserFingerprint;
    ProducerSpec video;
    video.id = 1;
    video.kind = MediaKind::Video;
    video.ssrc = kVideoSsrc;
    video.payloadType = 96;
    video.clockRate = 90000;
    video.extensionMap = {{2, 2}, {3, 0}, {4, 0}};
    onWorker([&](MediaWorker& w) {
      Router& r = w.router("room");
      for (auto id : {"alice", "bob", "carol"}) r.addParticipant(id);
      r.setTransport("alice", TransportRole::Publish, pub);
      r.addProducer("alice", video);
      r.setTransport("bob", TransportRole::Subscribe, bobSpec);
      r.setTransport("carol", TransportRole::Subscribe, carolSpec);
      r.addConsumer("bob", ConsumerSpec{11, 1, kBobSsrc, 98});
      r.addConsumer("carol", ConsumerSpec{12, 1, kCarolSsrc, 98});
    });
  }

  void connectAll() {
    alice.peer().sendCheck(pub.localIce, true);
    bob.peer().sendCheck(bobSpec.localIce, true);
    carol.peer().sendCheck(carolSpec.localIce, true);
    ASSERT_TRUE(runUntil(
        all,
        [&] {
          return !alice.peer().stunAnswers.empty() && !bob.peer().stunAnswers.empty() &&
                 !carol.peer().stunAnswers.empty();
        },
        5s));
    for (auto* s : all) {
      ASSERT_EQ(s->peer().stunAnswers[0].cls, ice::StunClass::SuccessResponse);
      EXPECT_TRUE(s->peer().stunAnswers[0].integrityOk);
      // Over TCP too, XOR-MAPPED-ADDRESS is the address the connection comes from.
      EXPECT_EQ(s->peer().stunAnswers[0].mappedAddress, s->peer().address());
      s->peer().startDtls(std::chrono::steady_clock::now());
    }
    ASSERT_TRUE(runUntil(
        all, [&] { return alice.peer().dtlsConnected() && bob.peer().dtlsConnected() && carol.peer().dtlsConnected(); },
        10s));
  }

  void sendVideo(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      auto packet = sfu::test::rtpFrom(i == 0 ? std::span<const uint8_t>(testdata::kChromeVp8Key)
                                              : std::span<const uint8_t>(testdata::kChromeVp8Tid2),
                                       static_cast<uint16_t>(1000 + i), static_cast<uint32_t>(90000 + 3000 * (i / 3)));
      alice.peer().sendRtp(packet);
      if (i % 10 == 9) pause(all, 2ms);
    }
  }

  static constexpr uint32_t kBobSsrc = 0xb0b00001, kCarolSsrc = 0xca700001;
  const dtls::DtlsContext serverContext{common::Certificate::generateSelfSigned("sfu")};
  const dtls::DtlsContext browserContext{common::Certificate::generateSelfSigned("browser")};
  NullObserver observer;
  MediaWorker worker{0, "127.0.0.1", 0, serverContext, &observer};
  TcpSide alice{browserContext, serverContext, worker.tcpPort()};
  TcpSide bob{browserContext, serverContext, worker.tcpPort()};
  UdpSide carol{browserContext, serverContext, transport::test::loopback(worker.port())};
  std::vector<Side*> all{&alice, &bob, &carol};
  TransportSpec pub, bobSpec, carolSpec;
};

TEST_F(IceTcpWorkerTest, TheTcpPortIsTheUdpPortNumber) { EXPECT_EQ(worker.tcpPort(), worker.port()); }

TEST_F(IceTcpWorkerTest, ATcpPublisherReachesATcpAndAUdpSubscriberWithRealDtlsAndSrtp) {
  setUpRoom();
  connectAll();
  // The consumers' keyframe request reaches the publisher over its TCP connection.
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer()).empty(); }, 3s));
  constexpr size_t kPackets = 300;
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return bob.peer().rtp.size() >= kPackets && carol.peer().rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer().rtp.size() << ", carol " << carol.peer().rtp.size();
  for (auto [peer, ssrc] : {std::pair{&bob.peer(), kBobSsrc}, std::pair{&carol.peer(), kCarolSsrc}}) {
    EXPECT_TRUE(peer->srtpErrors.empty());
    for (size_t i = 0; i < kPackets; ++i) {
      auto p = rtp::RtpPacket::parse(peer->rtp[i]);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->ssrc(), ssrc);
    }
  }
  std::optional<net::Endpoint> aliceSelected, bobSelected, carolSelected;
  onWorker([&](MediaWorker& w) {
    aliceSelected = w.router("room").transport("alice", TransportRole::Publish)->selectedEndpoint();
    bobSelected = w.router("room").transport("bob", TransportRole::Subscribe)->selectedEndpoint();
    carolSelected = w.router("room").transport("carol", TransportRole::Subscribe)->selectedEndpoint();
  });
  ASSERT_TRUE(aliceSelected && bobSelected && carolSelected);
  EXPECT_NE(aliceSelected->connection(), 0u);
  EXPECT_NE(bobSelected->connection(), 0u);
  EXPECT_EQ(carolSelected->connection(), 0u);
  EXPECT_EQ(worker.counters().tcpConnections.load(), 2u);
  EXPECT_EQ(worker.counters().tcpFramesDropped.load(), 0u);
  EXPECT_EQ(observer.failures.load(), 0);
}

// A subscriber that connects over TCP and then never reads: the kernel buffers fill, the
// worker's queue for it fills, and the rest is dropped and counted, while the UDP subscriber
// still gets everything. The worker's buffers stay at their fixed sizes.
TEST_F(IceTcpWorkerTest, ASubscriberThatNeverReadsCostsABoundedQueueNotMemory) {
  setUpRoom();
  connectAll();
  ASSERT_TRUE(runUntil(
      all, [&] { return !sfu::test::plisOf(alice.peer()).empty(); }, 3s));
  bob.reading = false;
  const long rssBefore = rssKib();
  constexpr size_t kPackets = 3000;  // ~840 KB: more than the kernel buffers and the worker's queue hold
  sendVideo(kPackets);
  ASSERT_TRUE(runUntil(
      all, [&] { return worker.counters().tcpFramesDropped.load() > 0; }, 10s));
  pause(all, 200ms);
  const uint64_t buffers = worker.counters().tcpBufferBytes.load();
  const uint64_t dropped = worker.counters().tcpFramesDropped.load();
  const long rssAfter = rssKib();
  std::printf(
      "never-reading TCP subscriber: %zu packets sent, worker TCP buffers %llu bytes (2 connections), "
      "%llu frames dropped, process RSS %ld -> %ld KiB\n",
      kPackets, static_cast<unsigned long long>(buffers), static_cast<unsigned long long>(dropped), rssBefore,
      rssAfter);
  const IceTcpServer::Config config;
  EXPECT_LE(buffers, 2 * (2 * (2 + config.maxFrame) + config.queueBytes));
  EXPECT_GT(dropped, 0u);
}

// 600 silent connections from 20 addresses, more than the worker's 512: the newcomers replace the
// oldest silent ones, never a connection tied to a transport, so the call over TCP carries on.
TEST_F(IceTcpWorkerTest, SilentConnectionsBeyondTheLimitNeverDisplaceACall) {
  setUpRoom();
  connectAll();
  std::vector<int> silent;
  for (int source = 0; source < 20; ++source) {
    const std::string from = "127.0.2." + std::to_string(source + 1);
    for (int i = 0; i < 30; ++i)
      if (int fd = connectTcp(worker.tcpPort(), from.c_str()); fd >= 0) silent.push_back(fd);
  }
  ASSERT_EQ(silent.size(), 600u);
  const IceTcpServer::Config config;
  ASSERT_TRUE(runUntil(
      all, [&] { return worker.counters().tcpConnections.load() == config.maxConnections; }, 10s))
      << worker.counters().tcpConnections.load();
  constexpr size_t kPackets = 100;
  sendVideo(kPackets);
  EXPECT_TRUE(runUntil(
      all, [&] { return bob.peer().rtp.size() >= kPackets && carol.peer().rtp.size() >= kPackets; }, 5s))
      << "bob " << bob.peer().rtp.size();
  EXPECT_EQ(observer.failures.load(), 0);
  for (int fd : silent) ::close(fd);
}

// ---- IceTcpServer against hostile clients, on its own loop --------------------------------------

struct NoTransports final : IceTcpServer::Host {
  transport::WebRtcTransport* transportForCheck(std::span<const uint8_t>) override { return nullptr; }
};

class IceTcpBudgetTest : public ::testing::Test {
 protected:
  IceTcpBudgetTest() {
    config.maxConnections = 40;
    config.maxPerSource = 16;
    config.handshakeTimeout = 5s;  // much longer than connecting 500 sockets takes on a busy machine
    server = std::make_unique<IceTcpServer>(loop, "127.0.0.1", 0, host, config);
  }
  void SetUp() override {
    server->start();
    tick();
    thread = std::thread([this] { loop.run([this] { server->flush(); }); });
  }
  void TearDown() override {
    loop.stop();
    thread.join();
    for (int fd : clients) ::close(fd);
  }
  void tick() {
    server->tick(loop.now());
    loop.setTimer(loop.now() + 50ms, [this] { tick(); });
  }
  template <typename T>
  T onLoop(std::function<T()> task) {
    std::promise<T> result;
    loop.post([&] { result.set_value(task()); });
    return result.get_future().get();
  }
  IceTcpServer::Stats stats() {
    return onLoop<IceTcpServer::Stats>([this] { return server->stats(); });
  }
  size_t connections() {
    return onLoop<size_t>([this] { return server->connectionCount(); });
  }
  template <typename Done>
  bool waitFor(Done done, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  net::EventLoop loop;
  NoTransports host;
  IceTcpServer::Config config;
  std::unique_ptr<IceTcpServer> server;
  std::thread thread;
  std::vector<int> clients;
};

TEST_F(IceTcpBudgetTest, ConnectionsAreCappedPerSourceAndPerWorkerAndSilentOnesMakeRoom) {
  const long rssBefore = rssKib();
  // 100 connections from one address, then 100 from each of four more.
  for (const char* source : {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"})
    for (int i = 0; i < 100; ++i)
      if (int fd = connectTcp(server->port(), source); fd >= 0) clients.push_back(fd);
  ASSERT_TRUE(waitFor([&] {
    auto s = stats();
    return s.accepted + s.refused == clients.size();
  }));
  auto s = stats();
  const size_t open = connections();
  const size_t buffers = onLoop<size_t>([this] { return server->bufferBytes(); });
  std::printf(
      "500 connections from 5 addresses: %llu accepted, %llu evicted, %llu refused, %zu open, %zu buffer bytes, RSS "
      "%ld -> %ld KiB\n",
      static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.evicted),
      static_cast<unsigned long long>(s.refused), open, buffers, rssBefore, rssKib());
  // 16 per source; beyond the worker's 40, each newcomer replaced the oldest silent connection.
  EXPECT_EQ(s.accepted, 5 * 16u);
  EXPECT_EQ(s.evicted, 5 * 16u - 40);
  EXPECT_EQ(open, 40u);
  EXPECT_EQ(s.refused, clients.size() - 5 * 16);
  EXPECT_LE(buffers, 40 * (2 * (2 + config.maxFrame) + config.handshakeQueueBytes));
  // They never send a check: all are closed at the handshake timeout, and new ones get in.
  ASSERT_TRUE(waitFor([&] { return connections() == 0; }, 15s));
  EXPECT_EQ(stats().closedTimeout, 40u);
  EXPECT_EQ(onLoop<size_t>([this] { return server->bufferBytes(); }), 0u);
  int late = connectTcp(server->port());
  clients.push_back(late);
  EXPECT_TRUE(waitFor([&] { return stats().accepted == 5 * 16 + 1; }));
}

TEST_F(IceTcpBudgetTest, GarbageAndUnknownUfragsAreClosedAtTheFirstFrame) {
  int garbage = connectTcp(server->port());
  int stunForNobody = connectTcp(server->port());
  clients = {garbage, stunForNobody};
  std::vector<uint8_t> junk(100, 0x42);
  auto f = frame(junk);
  ASSERT_EQ(::send(garbage, f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  const dtls::DtlsContext context{common::Certificate::generateSelfSigned("browser")};
  BrowserPeer peer(context, net::Endpoint::v4({127, 0, 0, 1}, 1), transport::test::fingerprintOf(context));
  auto check = frame(peer.bindingRequest(ice::IceCredentials::generate(), true));
  ASSERT_EQ(::send(stunForNobody, check.data(), check.size(), 0), static_cast<ssize_t>(check.size()));
  EXPECT_TRUE(closedByServer(garbage, 2s));
  EXPECT_TRUE(closedByServer(stunForNobody, 2s));
  EXPECT_EQ(stats().closedUnrouted, 2u);
}

TEST_F(IceTcpBudgetTest, AHugeLengthPrefixClosesTheConnectionWithoutBuffering) {
  int fd = connectTcp(server->port());
  clients = {fd};
  // 0xffff announced, then 60 KiB of filler the server must not wait for or keep.
  std::vector<uint8_t> bytes{0xff, 0xff};
  bytes.resize(60 * 1024, 0x17);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(closedByServer(fd, 2s));
  EXPECT_EQ(stats().closedTooLarge, 1u);
  EXPECT_TRUE(waitFor([&] { return connections() == 0; }));
}

TEST_F(IceTcpBudgetTest, AFrameSentAByteAtATimeIsStillOneFrame) {
  int fd = connectTcp(server->port());
  clients = {fd};
  ::fcntl(fd, F_SETFL, 0);
  std::vector<uint8_t> junk(300, 0x42);  // not STUN: closes at the first complete frame
  auto f = frame(junk);
  for (size_t i = 0; i + 1 < f.size(); ++i) {
    ASSERT_EQ(::send(fd, &f[i], 1, MSG_NOSIGNAL), 1);
    if (i % 50 == 0) std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(stats().closedUnrouted, 0u);  // one byte short: still waiting
  ASSERT_EQ(::send(fd, &f.back(), 1, MSG_NOSIGNAL), 1);
  EXPECT_TRUE(closedByServer(fd, 2s));
  EXPECT_EQ(stats().framesReceived, 1u);
  EXPECT_EQ(stats().closedUnrouted, 1u);
}

}  // namespace
