#include "signaling/room_id.h"

#include <gtest/gtest.h>

#include <set>

#include "common/base64.h"

using conclave::signaling::RoomIdIssuer;

namespace {
std::vector<uint8_t> key(uint8_t fill) { return std::vector<uint8_t>(32, fill); }
}  // namespace

TEST(RoomId, IssuedIdsAreUrlSafeLongAndVerify) {
  RoomIdIssuer issuer(key(1));
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    auto id = issuer.issue();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(conclave::common::isBase64Url(id));
    EXPECT_TRUE(issuer.verify(id));
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(RoomId, MadeUpOrForeignIdsAreRefused) {
  RoomIdIssuer issuer(key(1));
  RoomIdIssuer other(key(2));
  auto id = issuer.issue();
  EXPECT_FALSE(other.verify(id));
  std::string tampered = id;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(issuer.verify(tampered));
  EXPECT_FALSE(issuer.verify(std::string(32, 'A')));
  EXPECT_FALSE(issuer.verify(id.substr(0, 31)));
  EXPECT_FALSE(issuer.verify(""));
  EXPECT_FALSE(issuer.verify(std::string(32, '*')));
}

TEST(RoomId, ShortKeyIsRefused) { EXPECT_THROW(RoomIdIssuer(std::vector<uint8_t>(8, 0)), std::invalid_argument); }
