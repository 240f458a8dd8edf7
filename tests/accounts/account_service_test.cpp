// AccountService with a real database, real hashing (at libsodium's minimum cost, to be quick) and
// a clock moved by hand.
#include "accounts/account_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "accounts/totp.h"
#include "common/room_token.h"

using namespace conclave;
using namespace conclave::accounts;

namespace {

class AccountServiceTest : public ::testing::Test {
 protected:
  static std::filesystem::path freshDir() {
    auto dir = std::filesystem::temp_directory_path() / ("conclave-account-service-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
  }
  static AccountSettings quick() {
    AccountSettings s;
    s.hashOpsLimit = 1;
    s.hashMemLimit = 8192;
    return s;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  Outcome<LoginResult> login(const std::string& user, const std::string& password, net::SourceKey source = {1}) {
    std::optional<Outcome<LoginResult>> out;
    service.login(user, password, source, [&](Outcome<LoginResult> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(out);  // the inline offload answers at once
    return std::move(*out);
  }
  Session signIn(const std::string& user = "alice", const std::string& password = "correct horse") {
    auto r = login(user, password);
    EXPECT_TRUE(r.ok());
    EXPECT_FALSE(r->totpRequired);
    return *service.session(r->token);
  }
  // Turns on 2-step login for alice; returns the TOTP secret and her recovery codes.
  std::pair<std::vector<uint8_t>, std::vector<std::string>> enableTotp(const Session& s) {
    auto setup = service.setupTotp(s);
    EXPECT_TRUE(setup.ok());
    auto secret = store.findUser(s.userId)->totpPending;
    EXPECT_EQ(base32Encode(secret), setup->secret);
    auto codes = service.confirmTotp(s, totpCode(secret, totpStep(nowMs / 1000)));
    EXPECT_TRUE(codes.ok());
    return {secret, codes.value()};
  }
  std::string currentCode(const std::vector<uint8_t>& secret) const { return totpCode(secret, totpStep(nowMs / 1000)); }

  std::filesystem::path dir = freshDir();
  store::Database db{dir.string()};
  store::AccountStore store{db};
  int64_t nowMs = 1'700'000'000'000;
  int roomCounter = 0;
  std::vector<uint8_t> tokenKey = std::vector<uint8_t>(32, 7);
  AccountService service{store,
                         tokenKey,
                         std::vector<uint8_t>(32, 8),
                         [this] { return "room" + std::to_string(++roomCounter); },
                         quick(),
                         [](const std::function<void()>& work, const std::function<void()>& then) {
                           work();
                           then();
                         },
                         [this] { return nowMs; }};

  void SetUp() override { ASSERT_TRUE(service.addUser("alice", "correct horse").ok()); }
};

}  // namespace

TEST_F(AccountServiceTest, PasswordsAreStoredAsArgon2idHashes) {
  auto user = store.findUser("alice");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->passwordHash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(user->passwordHash.find("correct horse"), std::string::npos);
  EXPECT_EQ(service.addUser("ALICE", "another password").error().code, "username-taken");
  EXPECT_EQ(service.addUser("bob", "short").error().code, "weak-password");
  EXPECT_EQ(service.addUser("bad name", "long enough").error().code, "invalid");
}

TEST_F(AccountServiceTest, ARightPasswordGivesASessionWithACsrfTokenAndAWrongOneDoesNot) {
  EXPECT_EQ(login("alice", "wrong horse").error().code, "bad-credentials");
  EXPECT_EQ(login("nobody", "correct horse").error().code, "bad-credentials");
  auto r = login("alice", "correct horse");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token.size(), 43u);
  auto session = service.session(r->token);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->username, "alice");
  EXPECT_EQ(session->csrf, r->session.csrf);
  EXPECT_TRUE(service.csrfMatches(*session, r->session.csrf));
  EXPECT_FALSE(service.csrfMatches(*session, ""));
  EXPECT_FALSE(service.csrfMatches(*session, std::string(43, 'A')));
  EXPECT_FALSE(service.session("made-up-token"));
  service.logout(*session);
  EXPECT_FALSE(service.session(r->token));
}

TEST_F(AccountServiceTest, SessionsExpireWhenIdleFor12HoursAndAfter7DaysInAll) {
  auto r = login("alice", "correct horse");
  ASSERT_TRUE(r.ok());
  nowMs += 11LL * 3600 * 1000;
  ASSERT_TRUE(service.session(r->token));  // used: the idle time restarts
  nowMs += 11LL * 3600 * 1000;
  ASSERT_TRUE(service.session(r->token));
  nowMs += 12LL * 3600 * 1000 + 1;
  EXPECT_FALSE(service.session(r->token)) << "idle for more than 12 h";

  auto again = login("alice", "correct horse");
  for (int hours = 0; hours < 7 * 24 - 10; hours += 10) {
    nowMs += 10LL * 3600 * 1000;
    ASSERT_TRUE(service.session(again->token)) << hours;
  }
  nowMs += 10LL * 3600 * 1000;
  EXPECT_FALSE(service.session(again->token)) << "older than 7 days";
}

TEST_F(AccountServiceTest, FailedLoginsAreBlockedPerUsernameAndPerSourceWithBackoff) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login("alice", "wrong", {1}).error().code, "bad-credentials");
  auto blocked = login("alice", "correct horse", {2});
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, "blocked");
  EXPECT_EQ(blocked.error().status, 429u);
  EXPECT_EQ(blocked.error().retryAfterMs, 1000);
  nowMs += 1000;
  EXPECT_EQ(login("alice", "wrong", {1}).error().code, "bad-credentials");
  EXPECT_EQ(login("alice", "correct horse", {2}).error().retryAfterMs, 2000);
  // The source that guessed is blocked for other names too; another source and name are not.
  ASSERT_TRUE(service.addUser("bob", "bob's password").ok());
  EXPECT_EQ(login("bob", "bob's password", {1}).error().code, "blocked");
  EXPECT_TRUE(login("bob", "bob's password", {3}).ok());
  nowMs += 2000;
  EXPECT_TRUE(login("alice", "correct horse", {2}).ok());
}

TEST_F(AccountServiceTest, TwoStepLoginRefusesAWrongCodeAndAReplayedOne) {
  auto [secret, codes] = enableTotp(signIn());
  EXPECT_EQ(codes.size(), 10u);
  auto first = login("alice", "correct horse");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->totpRequired);
  EXPECT_TRUE(first->token.empty());
  // The code used to confirm the setup is spent already.
  EXPECT_EQ(service.loginTotp(first->ticket, currentCode(secret), {1}).error().code, "bad-code");
  nowMs += 30'000;
  std::string wrong = currentCode(secret) == "000000" ? "111111" : "000000";
  EXPECT_EQ(service.loginTotp(first->ticket, wrong, {1}).error().code, "bad-code");
  std::string code = currentCode(secret);
  auto ok = service.loginTotp(first->ticket, code, {1});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(service.session(ok->token));
  EXPECT_TRUE(service.session(ok->token)->totp);
  // The same code again, within its 90 s window: refused.
  auto second = login("alice", "correct horse");
  EXPECT_EQ(service.loginTotp(second->ticket, code, {1}).error().code, "bad-code");
  EXPECT_EQ(service.loginTotp("no-such-ticket", code, {1}).error().code, "bad-ticket");
}

TEST_F(AccountServiceTest, ARecoveryCodeSignsInOnce) {
  auto [secret, codes] = enableTotp(signIn());
  auto r = login("alice", "correct horse");
  auto ok = service.loginTotp(r->ticket, codes[3], {1});
  ASSERT_TRUE(ok.ok());
  auto again = login("alice", "correct horse");
  EXPECT_EQ(service.loginTotp(again->ticket, codes[3], {1}).error().code, "bad-code");
  // Case, dashes and blanks do not matter.
  std::string typed = codes[4];
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(service.loginTotp(again->ticket, " " + typed.substr(0, 5) + typed.substr(6), {1}).ok());
  EXPECT_EQ(store.recoveryCodesLeft(store.findUser("alice")->id), 8);
}

TEST_F(AccountServiceTest, ATicketAllowsFiveCodesAndExpires) {
  auto [secret, codes] = enableTotp(signIn());
  auto r = login("alice", "correct horse");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(service.loginTotp(r->ticket, "999999x", {static_cast<uint8_t>(i + 10)}).error().code, "bad-code");
  EXPECT_EQ(service.loginTotp(r->ticket, codes[0], {20}).error().code, "bad-ticket");
  nowMs += 60 * 60 * 1000;  // the username's backoff has decayed
  auto late = login("alice", "correct horse", {21});
  ASSERT_TRUE(late.ok());
  nowMs += 5 * 60 * 1000;
  EXPECT_EQ(service.loginTotp(late->ticket, codes[0], {21}).error().code, "bad-ticket");
}

TEST_F(AccountServiceTest, DisablingTwoStepLoginNeedsThePasswordAndACode) {
  auto session = signIn();
  auto [secret, codes] = enableTotp(session);
  EXPECT_EQ(service.setupTotp(session).error().code, "totp-enabled");
  std::optional<Outcome<Done>> out;
  nowMs += 30'000;
  service.disableTotp(session, "wrong", currentCode(secret), [&](const Outcome<Done>& r) { out.emplace(r); });
  EXPECT_EQ(out->error().code, "bad-credentials");
  service.disableTotp(session, "correct horse", "123", [&](const Outcome<Done>& r) { out.emplace(r); });
  EXPECT_EQ(out->error().code, "bad-code");
  service.disableTotp(session, "correct horse", currentCode(secret), [&](const Outcome<Done>& r) { out.emplace(r); });
  EXPECT_TRUE(out->ok());
  EXPECT_TRUE(login("alice", "correct horse").ok());
  EXPECT_FALSE(login("alice", "correct horse")->totpRequired);
}

TEST_F(AccountServiceTest, ChangingThePasswordEndsTheOtherSessions) {
  auto here = login("alice", "correct horse");
  auto elsewhere = login("alice", "correct horse");
  auto session = *service.session(here->token);
  std::optional<Outcome<Done>> out;
  service.changePassword(session, "wrong", "a new password", [&](const Outcome<Done>& r) { out.emplace(r); });
  EXPECT_EQ(out->error().code, "bad-credentials");
  service.changePassword(session, "correct horse", "a new password", [&](const Outcome<Done>& r) { out.emplace(r); });
  ASSERT_TRUE(out->ok());
  EXPECT_TRUE(service.session(here->token));
  EXPECT_FALSE(service.session(elsewhere->token));
  EXPECT_FALSE(login("alice", "correct horse").ok());
  EXPECT_TRUE(login("alice", "a new password").ok());
}

TEST_F(AccountServiceTest, PersistentRoomsHaveHostTokensModeratorsAndSettings) {
  auto alice = signIn();
  ASSERT_TRUE(service.addUser("bob", "bob's password").ok());
  auto bob = signIn("bob", "bob's password");
  auto roomId = service.createRoom(alice, "Team");
  ASSERT_TRUE(roomId.ok());
  auto token = service.hostToken(alice, roomId.value());
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token.value(), common::roomToken(tokenKey, common::kHostTokenPurpose, roomId.value()));
  EXPECT_EQ(token.value().size(), 43u);
  // Bob is nobody in this room yet: it does not exist for him.
  EXPECT_EQ(service.hostToken(bob, roomId.value()).error().status, 404u);
  EXPECT_EQ(service.moderatorToken(bob, roomId.value()).error().status, 404u);
  EXPECT_TRUE(service.rooms(bob).empty());

  auto updated =
      service.updateRoom(alice, roomId.value(), nlohmann::json{{"lobby", true}}, std::vector<std::string>{"bob"});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->room.moderators, std::vector<std::string>{"bob"});
  EXPECT_EQ(service.updateRoom(alice, roomId.value(), std::nullopt, std::vector<std::string>{"carol"}).error().code,
            "unknown-user");
  EXPECT_EQ(service.updateRoom(alice, roomId.value(), nlohmann::json::array(), std::nullopt).error().code, "invalid");
  EXPECT_EQ(service.updateRoom(bob, roomId.value(), nlohmann::json::object(), std::nullopt).error().status, 404u);
  auto moderatorToken = service.moderatorToken(bob, roomId.value());
  ASSERT_TRUE(moderatorToken.ok());
  EXPECT_EQ(moderatorToken.value(), common::roomToken(tokenKey, common::kModeratorTokenPurpose, roomId.value()));
  EXPECT_EQ(service.hostToken(bob, roomId.value()).error().status, 404u) << "a moderator is not a host";
  auto bobs = service.rooms(bob);
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_FALSE(bobs[0].owner);
  EXPECT_EQ(nlohmann::json::parse(store.findRoom(roomId.value())->settings), (nlohmann::json{{"lobby", true}}));

  EXPECT_EQ(service.deleteRoom(bob, roomId.value()).error().status, 404u);
  EXPECT_TRUE(service.deleteRoom(alice, roomId.value()).ok());
  EXPECT_TRUE(service.rooms(alice).empty());
}

TEST_F(AccountServiceTest, ASettingsCheckRefusesSettingsItDoesNotAccept) {
  auto alice = signIn();
  auto roomId = service.createRoom(alice, "").value();
  service.setSettingsCheck([](const nlohmann::json& s) -> std::optional<std::string> {
    if (s.contains("bogus")) return "bogus is not a setting";
    return std::nullopt;
  });
  auto r = service.updateRoom(alice, roomId, nlohmann::json{{"bogus", 1}}, std::nullopt);
  EXPECT_EQ(r.error().message, "bogus is not a setting");
  nlohmann::json big = {{"x", std::string(9000, 'a')}};
  EXPECT_EQ(service.updateRoom(alice, roomId, big, std::nullopt).error().code, "invalid");
}

// The control thread runs these statements itself: they must stay far below a millisecond.
TEST_F(AccountServiceTest, ASessionLookupTakesWellUnderAMillisecond) {
  auto r = login("alice", "correct horse");
  constexpr int kLookups = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLookups; ++i) ASSERT_TRUE(service.session(r->token));
  auto perLookup = (std::chrono::steady_clock::now() - start) / kLookups;
  std::printf("session lookup: %lld us\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(perLookup).count()));
  EXPECT_LT(perLookup, std::chrono::milliseconds(1));
}
