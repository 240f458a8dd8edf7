#include "common/random.h"

#include <gtest/gtest.h>

#include <set>

#include "common/base64.h"

using namespace conclave::common;

TEST(Random, TokensAreUrlSafeSizedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = randomToken(16);
    EXPECT_EQ(t.size(), 22u);
    EXPECT_TRUE(isBase64Url(t));
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(Random, BytesAreNotConstant) {
  std::array<uint8_t, 64> a{}, b{};
  randomBytes(a);
  randomBytes(b);
  EXPECT_NE(a, b);
}
