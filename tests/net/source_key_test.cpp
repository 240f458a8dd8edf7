#include "net/source_key.h"

#include <gtest/gtest.h>

using boost::asio::ip::make_address;
using conclave::net::sourceKeyOf;

TEST(SourceKey, Ipv6CountsPerSlash64) {
  // Every address of one /64 is one source: an attacker gets a whole /64 for free.
  EXPECT_EQ(sourceKeyOf(make_address("2001:db8:1:2::1")),
            sourceKeyOf(make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")));
  EXPECT_NE(sourceKeyOf(make_address("2001:db8:1:2::1")), sourceKeyOf(make_address("2001:db8:1:3::1")));
}

TEST(SourceKey, Ipv4AndItsMappedFormAreOneSourceDistinctFromIpv6) {
  EXPECT_EQ(sourceKeyOf(make_address("192.0.2.7")), sourceKeyOf(make_address("::ffff:192.0.2.7")));
  EXPECT_NE(sourceKeyOf(make_address("192.0.2.7")), sourceKeyOf(make_address("192.0.2.8")));
  // An IPv6 /64 whose first bytes equal an IPv4 address is still another source.
  EXPECT_NE(sourceKeyOf(make_address("c000:207::")), sourceKeyOf(make_address("192.0.2.7")));
}
