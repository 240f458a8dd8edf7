#include "accounts/totp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace conclave::accounts;

namespace {
std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

// RFC 6238 Appendix B (SHA-1 rows), the last 6 of the 8 digits.
TEST(Totp, MatchesTheRfc6238TestVectors) {
  auto secret = bytes("12345678901234567890");
  EXPECT_EQ(totpCode(secret, totpStep(59)), "287082");
  EXPECT_EQ(totpCode(secret, totpStep(1111111109)), "081804");
  EXPECT_EQ(totpCode(secret, totpStep(1111111111)), "050471");
  EXPECT_EQ(totpCode(secret, totpStep(1234567890)), "005924");
  EXPECT_EQ(totpCode(secret, totpStep(2000000000)), "279037");
  EXPECT_EQ(totpCode(secret, totpStep(20000000000)), "353130");
}

TEST(Totp, AcceptsOneStepOfDriftEitherWayAndNoMore) {
  auto secret = bytes("12345678901234567890");
  int64_t now = 1234567890;
  int64_t step = totpStep(now);
  EXPECT_EQ(matchTotp(secret, totpCode(secret, step), now), step);
  EXPECT_EQ(matchTotp(secret, totpCode(secret, step - 1), now), step - 1);
  EXPECT_EQ(matchTotp(secret, totpCode(secret, step + 1), now), step + 1);
  EXPECT_FALSE(matchTotp(secret, totpCode(secret, step - 2), now));
  EXPECT_FALSE(matchTotp(secret, totpCode(secret, step + 2), now));
  EXPECT_FALSE(matchTotp(secret, "12345", now));
  EXPECT_FALSE(matchTotp(secret, "12345a", now));
}

TEST(Totp, Base32AndTheOtpauthUri) {
  EXPECT_EQ(base32Encode(bytes("foobar")), "MZXW6YTBOI");  // RFC 4648 §10, without padding
  EXPECT_EQ(base32Encode(bytes("f")), "MY");
  EXPECT_EQ(otpauthUri("Conclave", "a b", bytes("foobar")),
            "otpauth://totp/Conclave:a%20b?secret=MZXW6YTBOI&issuer=Conclave&algorithm=SHA1&digits=6&period=30");
}
