#include "net/udp_socket.h"

#include <gtest/gtest.h>

#include <poll.h>

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

TEST(UdpSocket, BadAddressIsAClearError) { EXPECT_THROW(UdpSocket("not-an-ip", 0), std::runtime_error); }
