#include "net/endpoint.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <set>
#include <unordered_set>

using namespace conclave::net;

TEST(Endpoint, ParsesAndPrintsIpv4AndIpv6) {
  auto v4 = Endpoint::parse("192.0.2.1:32853");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->isV4());
  EXPECT_EQ(v4->port(), 32853);
  EXPECT_EQ(v4->addressBytes().size(), 4u);
  EXPECT_EQ(v4->addressBytes()[0], 192);
  EXPECT_EQ(v4->toString(), "192.0.2.1:32853");

  auto v6 = Endpoint::parse("[2001:db8::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->isV6());
  EXPECT_EQ(v6->port(), 443);
  EXPECT_EQ(v6->toString(), "[2001:db8::1]:443");

  auto scoped = Endpoint::parse("[fe80::1%3]:5000");
  ASSERT_TRUE(scoped);
  EXPECT_EQ(scoped->scopeId(), 3u);
  EXPECT_EQ(scoped->toString(), "[fe80::1%3]:5000");

  for (const char* bad :
       {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.256:1", "2001:db8::1:80", "[2001:db8::1]",
        "[2001:db8::1]80", "[::1]:x", "[fe80::1%]:1", "host:80", "1.2.3.4:-1", "1.2.3.4:+1"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
  EXPECT_EQ(Endpoint().toString(), "-");
  EXPECT_TRUE(Endpoint().empty());
}

TEST(Endpoint, SockaddrRoundTrip) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(5004);
  inet_pton(AF_INET, "198.51.100.7", &in.sin_addr);
  std::memset(in.sin_zero, 0xAB, sizeof(in.sin_zero));  // garbage must not matter
  auto e = Endpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, *Endpoint::parse("198.51.100.7:5004"));
  EXPECT_EQ(e->sockaddrLength(), sizeof(sockaddr_in));
  sockaddr_in back;
  std::memcpy(&back, e->sockaddr(), sizeof(back));
  EXPECT_EQ(back.sin_family, AF_INET);
  EXPECT_EQ(back.sin_port, in.sin_port);
  EXPECT_EQ(back.sin_addr.s_addr, in.sin_addr.s_addr);

  sockaddr_storage storage{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(3478);
  in6->sin6_flowinfo = htonl(0x12345);  // flow label is not part of the identity
  inet_pton(AF_INET6, "2001:db8::42", &in6->sin6_addr);
  auto e6 = Endpoint::fromSockaddr(storage);
  ASSERT_TRUE(e6);
  EXPECT_EQ(*e6, *Endpoint::parse("[2001:db8::42]:3478"));
  auto again = Endpoint::fromSockaddr(e6->toSockaddrStorage());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *e6);

  sockaddr bad{};
  bad.sa_family = AF_UNIX;
  EXPECT_FALSE(Endpoint::fromSockaddr(&bad, sizeof(bad)));
  EXPECT_FALSE(Endpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(&in), 4));
  EXPECT_FALSE(Endpoint::fromSockaddr(nullptr, 0));
}

TEST(Endpoint, EqualityOrderingAndHashing) {
  auto a = *Endpoint::parse("10.0.0.1:1000");
  auto b = *Endpoint::parse("10.0.0.1:1001");
  auto c = *Endpoint::parse("10.0.0.2:1000");
  auto d = *Endpoint::parse("[::a00:1]:1000");
  EXPECT_EQ(a, *Endpoint::parse("10.0.0.1:1000"));
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_LT(a, b);
  EXPECT_LT(a, c);
  EXPECT_LT(a, d);  // IPv4 sorts before IPv6
  EXPECT_EQ(a.hash(), Endpoint::parse("10.0.0.1:1000")->hash());

  std::unordered_set<Endpoint> set{a, b, c, d, *Endpoint::parse("10.0.0.1:1000")};
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.contains(c));
  std::set<Endpoint> ordered{d, c, b, a};
  EXPECT_EQ(*ordered.begin(), a);

  // Hashes of many nearby endpoints spread out.
  std::unordered_set<size_t> hashes;
  for (uint16_t port = 1000; port < 1100; ++port) {
    hashes.insert(Endpoint::v4({10, 0, 0, 1}, port).hash());
  }
  EXPECT_EQ(hashes.size(), 100u);
}

TEST(Endpoint, Ipv4MappedIpv6IsUnmapped) {
  auto mapped = *Endpoint::parse("[::ffff:192.0.2.9]:4000");
  EXPECT_TRUE(mapped.isV6());
  EXPECT_TRUE(mapped.isV4Mapped());
  auto plain = mapped.unmapped();
  EXPECT_TRUE(plain.isV4());
  EXPECT_EQ(plain.toString(), "192.0.2.9:4000");
  EXPECT_NE(mapped, plain);  // different sockets: not the same endpoint
  auto v6 = *Endpoint::parse("[2001:db8::1]:1");
  EXPECT_FALSE(v6.isV4Mapped());
  EXPECT_EQ(v6.unmapped(), v6);
  EXPECT_EQ(plain.unmapped(), plain);
}

TEST(Endpoint, TheSameAddressOverATcpConnectionIsAnotherPath) {
  auto udp = *Endpoint::parse("192.0.2.1:5000");
  auto tcp1 = udp.overConnection(1);
  auto tcp2 = udp.overConnection(2);
  EXPECT_NE(udp, tcp1);
  EXPECT_NE(tcp1, tcp2);
  EXPECT_EQ(tcp1, udp.overConnection(1));
  EXPECT_EQ(tcp1.overConnection(0), udp);
  EXPECT_EQ(tcp1.connection(), 1u);
  EXPECT_EQ(udp.connection(), 0u);
  EXPECT_NE(std::hash<Endpoint>{}(udp), std::hash<Endpoint>{}(tcp1));
  EXPECT_EQ(tcp1.port(), 5000);
  EXPECT_EQ(tcp1.toString(), "192.0.2.1:5000 tcp");
  // What a dual-stack socket reports keeps its connection when unmapped (XOR-MAPPED-ADDRESS).
  auto mapped = Endpoint::parse("[::ffff:192.0.2.1]:5000")->overConnection(7);
  EXPECT_EQ(mapped.unmapped(), udp.overConnection(7));
}
