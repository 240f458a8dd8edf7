#include "net/udp_socket.h"

#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <thread>

#include "net/event_loop.h"

using namespace conclave::net;
using conclave::net::Endpoint;

TEST(UdpSocket, BatchedSendAndReceiveOverLoopback) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0);
  ASSERT_NE(a.localPort(), 0);
  auto toB = *Endpoint::parse("127.0.0.1:" + std::to_string(b.localPort()));
  SendBatch out(a, 8);
  for (uint8_t i = 0; i < 20; ++i) {
    std::vector<uint8_t> payload(100 + i, i);
    out.send(payload, toB);
  }
  out.flush();
  EXPECT_EQ(out.sentCount(), 20u);

  ReceiveBatch in(16);
  size_t total = 0;
  std::vector<bool> seen(20);
  while (total < 20) {
    pollfd p{b.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    size_t n = in.receive(b);
    for (size_t i = 0; i < n; ++i) {
      auto d = in.data(i);
      ASSERT_GE(d.size(), 100u);
      uint8_t tag = d[0];
      EXPECT_EQ(d.size(), 100u + tag);
      EXPECT_EQ(in.from(i).port(), a.localPort());
      seen[tag] = true;
    }
    total += n;
  }
  for (bool s : seen) EXPECT_TRUE(s);
}

namespace {
// Reads `count` datagrams from `socket` into (tag, length) pairs per source port.
std::vector<std::pair<uint8_t, size_t>> receiveAll(const UdpSocket& socket, size_t count) {
  std::vector<std::pair<uint8_t, size_t>> got;
  ReceiveBatch in(32);
  while (got.size() < count) {
    pollfd p{socket.fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    size_t n = in.receive(socket);
    for (size_t i = 0; i < n; ++i) got.emplace_back(in.data(i)[0], in.data(i).size());
  }
  return got;
}
}  // namespace

TEST(UdpSocket, SegmentedSendsArriveAsSeparateDatagramsInOrderPerDestination) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0), c("127.0.0.1", 0);
  auto toB = *Endpoint::parse("127.0.0.1:" + std::to_string(b.localPort()));
  auto toC = *Endpoint::parse("127.0.0.1:" + std::to_string(c.localPort()));
  SendBatch out(a, 256);
  if (!out.enableSegmentation(true)) GTEST_SKIP() << "no UDP GSO in this kernel";
  // Interleaved as a fan-out makes them: a burst of equal sizes with a shorter last packet for
  // each destination, sizes that change mid-burst, and more than one message can carry.
  std::vector<size_t> sizesB, sizesC;
  for (size_t i = 0; i < 150; ++i) {
    const size_t sizeB = i % 10 == 9 ? 300 : (i < 70 ? 1100 : 900);
    const size_t sizeC = 200 + (i % 3);
    sizesB.push_back(sizeB);
    sizesC.push_back(sizeC);
    out.send(std::vector<uint8_t>(sizeB, static_cast<uint8_t>(i)), toB);
    out.send(std::vector<uint8_t>(sizeC, static_cast<uint8_t>(i)), toC);
  }
  out.flush();
  EXPECT_EQ(out.sentCount(), 300u);
  EXPECT_EQ(out.dropCount(), 0u);
  EXPECT_LT(out.messageCount(), 300u) << "bursts to one destination leave as fewer messages";

  const auto gotB = receiveAll(b, 150), gotC = receiveAll(c, 150);
  ASSERT_EQ(gotB.size(), 150u);
  ASSERT_EQ(gotC.size(), 150u);
  for (size_t i = 0; i < 150; ++i) {
    EXPECT_EQ(gotB[i].first, static_cast<uint8_t>(i));
    EXPECT_EQ(gotB[i].second, sizesB[i]);
    EXPECT_EQ(gotC[i].first, static_cast<uint8_t>(i));
    EXPECT_EQ(gotC[i].second, sizesC[i]);
  }
}

TEST(UdpSocket, SegmentationCanBeTurnedOffAgain) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0);
  auto toB = *Endpoint::parse("127.0.0.1:" + std::to_string(b.localPort()));
  SendBatch out(a, 16);
  out.enableSegmentation(true);
  out.send(std::vector<uint8_t>(500, 1), toB);  // queued while on, sent when turned off
  EXPECT_FALSE(out.enableSegmentation(false));
  for (uint8_t i = 2; i < 6; ++i) out.send(std::vector<uint8_t>(500, i), toB);
  out.flush();
  EXPECT_EQ(out.sentCount(), 5u);
  const auto got = receiveAll(b, 5);
  ASSERT_EQ(got.size(), 5u);
  for (uint8_t i = 0; i < 5; ++i) EXPECT_EQ(got[i].first, i + 1);
}

TEST(UdpSocket, BadAddressIsAClearError) { EXPECT_THROW(UdpSocket("not-an-ip", 0), std::runtime_error); }

// Waits for one datagram on `socket` and returns its source (empty endpoint on timeout).
static Endpoint receiveOne(const UdpSocket& socket, ReceiveBatch& in, std::vector<uint8_t>& payload) {
  pollfd p{socket.fd(), POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1 || in.receive(socket) == 0) return {};
  payload.assign(in.data(0).begin(), in.data(0).end());
  return in.from(0);
}

TEST(UdpSocket, DualStackSocketReachesIpv4AndIpv6PeersOnOnePort) {
  UdpSocket server("::", 0);
  ASSERT_EQ(server.family(), AF_INET6);
  UdpSocket v4("127.0.0.1", 0), v6("::1", 0);
  SendBatch fromV4(v4, 2), fromV6(v6, 2), fromServer(server, 4);
  ReceiveBatch in(4);
  std::vector<uint8_t> got;

  fromV4.send(std::vector<uint8_t>{4}, *Endpoint::parse("127.0.0.1:" + std::to_string(server.localPort())));
  fromV4.flush();
  const Endpoint mapped = receiveOne(server, in, got);
  ASSERT_TRUE(mapped.isV4Mapped()) << mapped.toString();  // IPv4 arrives as ::ffff:127.0.0.1
  EXPECT_EQ(mapped.unmapped(), *Endpoint::parse("127.0.0.1:" + std::to_string(v4.localPort())));
  EXPECT_EQ(got, std::vector<uint8_t>{4});

  fromV6.send(std::vector<uint8_t>{6}, *Endpoint::parse("[::1]:" + std::to_string(server.localPort())));
  fromV6.flush();
  const Endpoint native = receiveOne(server, in, got);
  EXPECT_EQ(native, *Endpoint::parse("[::1]:" + std::to_string(v6.localPort())));
  EXPECT_EQ(got, std::vector<uint8_t>{6});

  // Answers to both go out of the same socket, to the addresses exactly as they were received.
  fromServer.send(std::vector<uint8_t>{44}, mapped);
  fromServer.send(std::vector<uint8_t>{66}, native);
  fromServer.flush();
  EXPECT_EQ(fromServer.sentCount(), 2u);
  EXPECT_EQ(receiveOne(v4, in, got).port(), server.localPort());
  EXPECT_EQ(got, std::vector<uint8_t>{44});
  EXPECT_EQ(receiveOne(v6, in, got).port(), server.localPort());
  EXPECT_EQ(got, std::vector<uint8_t>{66});
}

TEST(UdpSocket, SpecificAddressesBindTheirFamily) {
  EXPECT_EQ(UdpSocket("127.0.0.1", 0).family(), AF_INET);
  EXPECT_EQ(UdpSocket("::1", 0).family(), AF_INET6);
  EXPECT_EQ(UdpSocket("0.0.0.0", 0).family(), AF_INET);
}

// With receive timestamps on, each datagram of one batch keeps the time it reached the host:
// two sent 30 ms apart and read together are at least 30 ms apart, and the first is not later
// than its sending (transport-cc feedback reports these times to the sender's estimator).
// Linux turns the stamping on for the whole host a little after the first socket asks (a
// deferred static key): until then datagrams are stamped when read, so a few rounds may pass
// before the times are the arrival times.
TEST(UdpSocket, DatagramsReadInOneBatchKeepTheirOwnArrivalTimes) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0);
  ASSERT_TRUE(b.enableReceiveTimestamps());
  auto toB = *Endpoint::parse("127.0.0.1:" + std::to_string(b.localPort()));
  SendBatch out(a, 2);
  ReceiveBatch in(4);
  std::vector<uint8_t> payload(100, 1);
  using std::chrono::milliseconds;
  for (int round = 0; round < 50; ++round) {
    payload[0] = 1;
    out.send(payload, toB);
    out.flush();
    const auto firstSent = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(milliseconds(30));
    payload[0] = 2;
    out.send(payload, toB);
    out.flush();
    size_t n = 0;
    while (n < 2) {
      pollfd p{b.fd(), POLLIN, 0};
      ASSERT_EQ(::poll(&p, 1, 2000), 1);
      n += in.receive(b);
      ASSERT_TRUE(n == 0 || n == 2) << "both datagrams wait in the socket and come in one batch";
    }
    const auto read = std::chrono::steady_clock::now();
    ASSERT_EQ(in.data(0)[0], 1);
    EXPECT_LE(in.arrival(1), read);
    if (in.arrival(1) - in.arrival(0) < milliseconds(29)) continue;  // not stamped on arrival yet
    EXPECT_LE(in.arrival(0), firstSent + milliseconds(1));
    return;
  }
  FAIL() << "datagrams read together never had their own arrival times";
}

// A reader that fell behind by more than a second still sees how long a datagram waited: the
// media worker drops RTP that waited too long by this age, and conclave-load separates its own
// backlog from the server's with it. (The stamps were once believed only up to 1 s, so a worker
// queueing seconds saw every datagram as fresh.)
TEST(UdpSocket, ADatagramThatWaitedOverASecondKeepsItsArrivalTime) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0);
  ASSERT_TRUE(b.enableReceiveTimestamps());
  auto toB = *Endpoint::parse("127.0.0.1:" + std::to_string(b.localPort()));
  SendBatch out(a, 1);
  ReceiveBatch in(1);
  std::vector<uint8_t> payload(100, 1);
  auto receiveOne = [&] {
    pollfd p{b.fd(), POLLIN, 0};
    return ::poll(&p, 1, 2000) == 1 && in.receive(b) == 1;
  };
  // Until the host stamps on arrival (see above), a datagram's arrival is the read itself.
  bool stamped = false;
  for (int round = 0; round < 200 && !stamped; ++round) {
    out.send(payload, toB);
    out.flush();
    ASSERT_TRUE(receiveOne());
    stamped = in.arrival(0) < in.readTime();
  }
  ASSERT_TRUE(stamped) << "no kernel receive timestamps";
  out.send(payload, toB);
  out.flush();
  const auto sent = std::chrono::steady_clock::now();
  // The age is what is tested: the datagram waits in the socket until it is 1.2 s old.
  std::this_thread::sleep_until(sent + std::chrono::milliseconds(1200));
  ASSERT_TRUE(receiveOne());
  EXPECT_LE(in.arrival(0), sent);
  EXPECT_GE(in.readTime() - in.arrival(0), std::chrono::milliseconds(1200));
}
