#include "common/base64.h"

#include <gtest/gtest.h>

using namespace conclave::common;

namespace {
std::vector<uint8_t> bytesOf(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(base64UrlEncode(bytesOf("")), "");
  EXPECT_EQ(base64UrlEncode(bytesOf("f")), "Zg");
  EXPECT_EQ(base64UrlEncode(bytesOf("fo")), "Zm8");
  EXPECT_EQ(base64UrlEncode(bytesOf("foo")), "Zm9v");
  EXPECT_EQ(base64UrlEncode(bytesOf("foobar")), "Zm9vYmFy");
  const std::vector<uint8_t> urlChars{0xfb, 0xff};
  EXPECT_EQ(base64UrlEncode(urlChars), "-_8");
}

TEST(Base64Url, RoundTripsAndRefusesBadInput) {
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
    auto decoded = base64UrlDecode(base64UrlEncode(data));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, data);
  }
  EXPECT_FALSE(base64UrlDecode("Zm9v="));
  EXPECT_FALSE(base64UrlDecode("Zm+v"));
  EXPECT_FALSE(base64UrlDecode("Z"));
  EXPECT_FALSE(base64UrlDecode("Zh"));  // non-canonical: leftover bits set
}

TEST(Hex, Encodes) {
  const std::vector<uint8_t> data{0x00, 0xab, 0x10};
  EXPECT_EQ(hexEncode(data), "00ab10");
}
