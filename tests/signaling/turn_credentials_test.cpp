// TURN REST API credentials: the password a TURN server (coturn use-auth-secret) recomputes, the
// expiry it checks, and a username that says nothing about who asked.
#include "signaling/turn_credentials.h"

#include <gtest/gtest.h>

#include <set>

using namespace conclave::signaling;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(int64_t unixSeconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unixSeconds));
}

TurnSettings settings(std::chrono::seconds lifetime = 3600s) {
  return {{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"}, "north", lifetime};
}

}  // namespace

TEST(TurnCredentials, ThePasswordIsBase64OfHmacSha1OfTheUsername) {
  // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") =
  // effcdf6ae5eb2fa2d27416d5f184df9c259a7c79, in standard base64 with padding.
  EXPECT_EQ(turnPassword("Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
  EXPECT_EQ(turnPassword("north", "1700086400:abc"), "rdRes6D4AdS5DA7lyYxp56skEtQ=");
}

TEST(TurnCredentials, TheUsernameIsTheExpiryFromTheInjectedClockAndAnOpaqueId) {
  TurnIssuer issuer(settings(3600s), [] { return at(1700000000); });
  TurnCredential c = issuer.issue();
  ASSERT_EQ(c.username.substr(0, 11), "1700003600:");
  std::string id = c.username.substr(11);
  EXPECT_EQ(id.size(), 12u);
  EXPECT_EQ(id.find(':'), std::string::npos);
  EXPECT_EQ(c.credential, turnPassword("north", c.username));
  EXPECT_EQ(c.ttl, 3600s);
  EXPECT_EQ(c.urls, settings().urls);
}

TEST(TurnCredentials, TheExpiryFollowsTheClock) {
  int64_t now = 1700000000;
  TurnIssuer issuer(settings(600s), [&] { return at(now); });
  EXPECT_EQ(issuer.issue().username.substr(0, 11), "1700000600:");
  now += 86400;
  EXPECT_EQ(issuer.issue().username.substr(0, 11), "1700087000:");
}

TEST(TurnCredentials, EveryIssueHasANewIdSoTheTurnServerCannotLinkThem) {
  TurnIssuer issuer(settings(), [] { return at(1700000000); });
  std::set<std::string> usernames;
  for (int i = 0; i < 100; ++i) usernames.insert(issuer.issue().username);
  EXPECT_EQ(usernames.size(), 100u);
}

TEST(TurnCredentials, OnlyTurnAndTurnsUrlsAreTurnUrls) {
  EXPECT_TRUE(isTurnUrl("turn:10.0.0.1:3478?transport=udp"));
  EXPECT_TRUE(isTurnUrl("turns:turn.example.org:443?transport=tcp"));
  EXPECT_FALSE(isTurnUrl("turn:"));
  EXPECT_FALSE(isTurnUrl("stun:turn.example.org"));
  EXPECT_FALSE(isTurnUrl("https://example.org/"));
  EXPECT_FALSE(isTurnUrl("turn:a b"));
  EXPECT_FALSE(isTurnUrl("turn:a\"b"));
  EXPECT_FALSE(isTurnUrl("turn:" + std::string(300, 'a')));
}
