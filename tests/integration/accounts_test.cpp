// Host accounts through the real binary over HTTPS: sessions, CSRF, 2-step login, rate limits,
// persistent rooms across a restart, who_may_create, `conclave admin`, and a database it cannot use.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "accounts/totp.h"
#include "server_process.h"

using namespace conclave::testing;
using nlohmann::json;
namespace http = boost::beast::http;

namespace {

std::filesystem::path freshDataDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("conclave-acc-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

struct AdminResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

// `conclave admin --data-dir DIR ARGS...` with `input` on stdin (not a terminal).
AdminResult admin(const std::filesystem::path& dataDir, const std::string& args, const std::string& input = "") {
  auto inputFile = dataDir.parent_path() / (dataDir.filename().string() + ".stdin");
  std::ofstream(inputFile) << input;
  std::string command = quoted(CONCLAVE_BIN) + " admin --data-dir " + quoted(dataDir.string()) + " " + args + " < " +
                        quoted(inputFile.string()) + " 2>&1";
  AdminResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove(inputFile);
  return r;
}

std::vector<uint8_t> base32Decode(const std::string& text) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c - '2' + 26;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A signed-in browser: its cookie and CSRF token.
struct Browser {
  uint16_t port = 0;
  std::string cookie;
  std::string csrf;
  std::string source = "127.0.0.1";

  HttpResult call(http::verb method, const std::string& target, const json& body = nullptr, bool withCsrf = true,
                  const std::string& origin = "") const {
    std::map<std::string, std::string> headers;
    if (!cookie.empty()) headers["Cookie"] = cookie;
    if (withCsrf && !csrf.empty()) headers["X-Conclave-CSRF"] = csrf;
    if (!origin.empty()) headers["Origin"] = origin;
    if (!body.is_null()) headers["Content-Type"] = "application/json";
    return httpsRequest(port, method, target, headers, body.is_null() ? std::string() : body.dump(), source);
  }
  // POST /api/account/login; on success keeps the cookie and the CSRF token.
  HttpResult login(const std::string& username, const std::string& password) {
    auto r = call(http::verb::post, "/api/account/login", {{"username", username}, {"password", password}});
    adopt(r);
    return r;
  }
  void adopt(const HttpResult& r) {
    if (r.status != 200) return;
    auto body = json::parse(r.body);
    if (!body.contains("csrf")) return;
    csrf = body["csrf"];
    auto setCookie = r.headers.at("set-cookie");
    cookie = setCookie.substr(0, setCookie.find(';'));
  }
};

std::string errorCode(const HttpResult& r) {
  auto body = json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
}

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataDir = freshDataDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto r = admin(dataDir, "user add alice", "correct horse battery\n");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  void TearDown() override { std::filesystem::remove_all(dataDir); }
  std::unique_ptr<ServerProcess> start(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--data-dir", dataDir.string()});
    return std::make_unique<ServerProcess>(args);
  }
  std::filesystem::path dataDir;
};

}  // namespace

TEST_F(AccountsTest, AccountsSessionsAndPersistentRoomsSurviveARestart) {
  auto server = start();
  Browser alice{server->port()};
  auto login = alice.login("alice", "correct horse battery");
  ASSERT_EQ(login.status, 200u) << login.body;
  const auto& setCookie = login.headers.at("set-cookie");
  EXPECT_EQ(setCookie.rfind("conclave_session=", 0), 0u);
  for (const char* attribute : {"; HttpOnly", "; Secure", "; SameSite=Strict", "; Path=/"})
    EXPECT_NE(setCookie.find(attribute), std::string::npos) << setCookie;
  EXPECT_EQ(json::parse(login.body)["user"], (json{{"username", "alice"}, {"totp", false}}));

  auto created = alice.call(http::verb::post, "/api/account/rooms", json{{"name", "Team"}});
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string roomId = json::parse(created.body)["roomId"];
  std::string hostToken = json::parse(created.body)["hostToken"];
  EXPECT_EQ(roomId.size(), 32u);
  EXPECT_EQ(hostToken.size(), 43u);
  auto patched = alice.call(http::verb::patch, "/api/account/rooms/" + roomId,
                            json{{"settings", {{"lobby", true}}}, {"moderators", json::array()}});
  ASSERT_EQ(patched.status, 200u) << patched.body;
  for (const json& bad : {json{{"bogus", true}}, json{{"lobby", "yes"}}, json{{"pin", "123456"}}}) {
    auto refused = alice.call(http::verb::patch, "/api/account/rooms/" + roomId, json{{"settings", bad}});
    EXPECT_EQ(refused.status, 400u) << bad.dump();
    EXPECT_EQ(errorCode(refused), "invalid");
  }

  EXPECT_EQ(server->stop(SIGTERM), 0);
  server = start();
  alice.port = server->port();
  auto account = alice.call(http::verb::get, "/api/account");
  ASSERT_EQ(account.status, 200u) << "the session survives a restart: " << account.body;
  EXPECT_EQ(json::parse(account.body)["csrf"], alice.csrf);
  auto rooms = alice.call(http::verb::get, "/api/account/rooms");
  ASSERT_EQ(rooms.status, 200u);
  auto list = json::parse(rooms.body)["rooms"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["roomId"], roomId);
  EXPECT_EQ(list[0]["name"], "Team");
  EXPECT_EQ(list[0]["settings"], (json{{"lobby", true}}));
  auto token = alice.call(http::verb::get, "/api/account/rooms/" + roomId + "/host-token");
  ASSERT_EQ(token.status, 200u);
  EXPECT_EQ(json::parse(token.body)["hostToken"], hostToken) << "host tokens are stable";
  // The persistent room's ID is one the signaling server accepts.
  WsClient ws(server->port());
  ws.hello();
  ws.sendJson({{"type", "join"}, {"roomId", roomId}, {"profile", "p"}});
  auto joined = ws.read();
  ASSERT_TRUE(joined);
  EXPECT_NE((*joined)["type"], "error") << joined->dump();

  auto logout = alice.call(http::verb::post, "/api/account/logout");
  EXPECT_EQ(logout.status, 204u);
  EXPECT_NE(logout.headers.at("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(alice.call(http::verb::get, "/api/account").status, 401u);
}

TEST_F(AccountsTest, AStateChangingRequestWithoutTheCsrfTokenOrFromAnotherOriginIsRefused) {
  auto server = start();
  Browser alice{server->port()};
  ASSERT_EQ(alice.login("alice", "correct horse battery").status, 200u);
  auto noCsrf = alice.call(http::verb::post, "/api/account/rooms", json::object(), /*withCsrf=*/false);
  EXPECT_EQ(noCsrf.status, 403u);
  EXPECT_EQ(errorCode(noCsrf), "csrf");
  Browser forged = alice;
  forged.csrf = std::string(43, 'A');
  EXPECT_EQ(errorCode(forged.call(http::verb::post, "/api/account/rooms", json::object())), "csrf");
  EXPECT_EQ(errorCode(alice.call(http::verb::post, "/api/account/logout", nullptr, false)), "csrf");
  auto otherOrigin = alice.call(http::verb::post, "/api/account/rooms", json::object(), true, "https://evil.example");
  EXPECT_EQ(otherOrigin.status, 403u);
  EXPECT_EQ(errorCode(otherOrigin), "forbidden-origin");
  // Starting an ordinary meeting while signed in needs the token as well.
  EXPECT_EQ(errorCode(alice.call(http::verb::post, "/api/rooms", nullptr, false)), "csrf");
  EXPECT_EQ(alice.call(http::verb::post, "/api/rooms").status, 201u);
  EXPECT_EQ(alice.call(http::verb::get, "/api/account/rooms").body, R"({"rooms":[]})");
  EXPECT_EQ(alice.call(http::verb::post, "/api/account/rooms", json::object(), true, "https://localhost").status, 201u);
  Browser stranger{server->port()};
  EXPECT_EQ(errorCode(stranger.call(http::verb::get, "/api/account")), "login-required");
}

TEST_F(AccountsTest, TwoStepLoginRefusesAWrongCodeAndAReplayedOne) {
  auto server = start();
  Browser alice{server->port()};
  ASSERT_EQ(alice.login("alice", "correct horse battery").status, 200u);
  auto setup = alice.call(http::verb::post, "/api/account/totp/setup");
  ASSERT_EQ(setup.status, 200u) << setup.body;
  auto secret = base32Decode(json::parse(setup.body)["secret"]);
  EXPECT_EQ(json::parse(setup.body)["uri"].get<std::string>().rfind("otpauth://totp/Conclave:alice?secret=", 0), 0u);
  auto code = [&] { return conclave::accounts::totpCode(secret, conclave::accounts::totpStep(unixNow())); };
  auto confirm = alice.call(http::verb::post, "/api/account/totp/confirm", {{"code", code()}});
  ASSERT_EQ(confirm.status, 200u) << confirm.body;
  auto recovery = json::parse(confirm.body)["recoveryCodes"];
  ASSERT_EQ(recovery.size(), 10u);

  Browser phone{server->port()};
  auto first = phone.login("alice", "correct horse battery");
  ASSERT_EQ(first.status, 200u);
  ASSERT_EQ(json::parse(first.body)["totpRequired"], true);
  EXPECT_FALSE(first.headers.count("set-cookie")) << "no session before the second factor";
  std::string ticket = json::parse(first.body)["ticket"];
  std::string current = code();
  std::string wrong = current == "000000" ? "111111" : "000000";
  auto refused = phone.call(http::verb::post, "/api/account/login/totp", {{"ticket", ticket}, {"code", wrong}});
  EXPECT_EQ(refused.status, 401u);
  EXPECT_EQ(errorCode(refused), "bad-code");
  // The code that confirmed the setup may still be current: it is spent. Wait for a fresh step.
  int64_t confirmedStep = conclave::accounts::totpStep(unixNow());
  while (conclave::accounts::totpStep(unixNow()) == confirmedStep)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  current = code();
  auto ok = phone.call(http::verb::post, "/api/account/login/totp", {{"ticket", ticket}, {"code", current}});
  ASSERT_EQ(ok.status, 200u) << ok.body;
  phone.adopt(ok);
  EXPECT_EQ(json::parse(ok.body)["user"]["totp"], true);

  Browser thief{server->port(), "", "", "127.0.0.2"};
  auto again = thief.login("alice", "correct horse battery");
  std::string ticket2 = json::parse(again.body)["ticket"];
  auto replay = thief.call(http::verb::post, "/api/account/login/totp", {{"ticket", ticket2}, {"code", current}});
  EXPECT_EQ(replay.status, 401u) << "a code works once";
  EXPECT_EQ(errorCode(replay), "bad-code");
  auto byRecovery =
      thief.call(http::verb::post, "/api/account/login/totp", {{"ticket", ticket2}, {"code", recovery[0]}});
  EXPECT_EQ(byRecovery.status, 200u) << byRecovery.body;
}

TEST_F(AccountsTest, LoginAttemptsAreRateLimitedWithBackoff) {
  auto server = start();
  ASSERT_EQ(admin(dataDir, "user add bob", "bob's long password\n").status, 0);
  Browser guesser{server->port()};
  for (int i = 0; i < 5; ++i) {
    auto r = guesser.login("alice", "guess " + std::to_string(i));
    EXPECT_EQ(r.status, 401u) << i;
    EXPECT_EQ(errorCode(r), "bad-credentials");
  }
  auto blocked = guesser.login("alice", "correct horse battery");
  EXPECT_EQ(blocked.status, 429u);
  EXPECT_EQ(errorCode(blocked), "blocked");
  int64_t retry = json::parse(blocked.body)["error"]["retryAfterMs"];
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 1000);
  // The guessing source is blocked for every name; another source with another name is not.
  EXPECT_EQ(guesser.login("bob", "bob's long password").status, 429u);
  Browser other{server->port(), "", "", "127.0.0.3"};
  EXPECT_EQ(other.login("bob", "bob's long password").status, 200u);
}

TEST_F(AccountsTest, WhoMayCreateAccountsNeedsASignedInUserToStartAMeeting) {
  auto server = start({"--who-may-create", "accounts"});
  auto anonymous = httpsRequest(server->port(), http::verb::post, "/api/rooms");
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_EQ(errorCode(anonymous), "login-required");
  Browser alice{server->port()};
  ASSERT_EQ(alice.login("alice", "correct horse battery").status, 200u);
  EXPECT_EQ(errorCode(alice.call(http::verb::post, "/api/rooms", nullptr, false)), "csrf");
  EXPECT_EQ(alice.call(http::verb::post, "/api/rooms").status, 201u);
}

TEST_F(AccountsTest, AdminCommandsManageUsersAndRooms) {
  auto duplicate = admin(dataDir, "user add ALICE", "another password\n");
  EXPECT_EQ(duplicate.status, 1);
  EXPECT_NE(duplicate.output.find("exists already"), std::string::npos) << duplicate.output;
  EXPECT_EQ(admin(dataDir, "user add bob", "short\n").status, 1);
  EXPECT_EQ(admin(dataDir, "user frobnicate").status, 2);
  std::string roomId;
  {
    auto server = start();
    Browser alice{server->port()};
    ASSERT_EQ(alice.login("alice", "correct horse battery").status, 200u);
    roomId = json::parse(alice.call(http::verb::post, "/api/account/rooms").body)["roomId"];
    // While the server runs.
    auto rooms = admin(dataDir, "room list");
    EXPECT_EQ(rooms.status, 0);
    EXPECT_NE(rooms.output.find(roomId + "\towner alice"), std::string::npos) << rooms.output;
    auto users = admin(dataDir, "user list");
    EXPECT_NE(users.output.find("alice\t2-step off"), std::string::npos) << users.output;
    EXPECT_NE(users.output.find("rooms 1"), std::string::npos) << users.output;
    EXPECT_EQ(admin(dataDir, "room delete " + roomId).status, 0);
    EXPECT_EQ(alice.call(http::verb::get, "/api/account/rooms").body, R"({"rooms":[]})");
    EXPECT_EQ(admin(dataDir, "room delete " + roomId).status, 1);
    EXPECT_EQ(admin(dataDir, "user reset-2fa alice").status, 0);
    EXPECT_EQ(admin(dataDir, "user delete alice").status, 0);
    EXPECT_EQ(alice.call(http::verb::get, "/api/account").status, 401u) << "a deleted user's session ends";
  }
  EXPECT_EQ(admin(dataDir, "user list").output, "");
  EXPECT_EQ(admin(dataDir, "user delete alice").status, 1);
}

TEST_F(AccountsTest, ADatabaseFileItCannotReadStopsTheServerWithAClearError) {
  std::filesystem::remove_all(dataDir);
  std::filesystem::create_directories(dataDir);
  std::string garbage(4096, 'z');
  std::ofstream(dataDir / "conclave.db", std::ios::binary) << garbage;
  auto [status, err] = runConclave({"--port", "0", "--listen", "127.0.0.1", "--data-dir", dataDir.string(),
                                    "--media-port", "0", "--media-workers", "1"});
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("conclave.db is unreadable or damaged"), std::string::npos) << err;
  std::ifstream in(dataDir / "conclave.db", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str(), garbage) << "the file is left as it was";
  auto r = admin(dataDir, "user list");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unreadable or damaged"), std::string::npos) << r.output;
}

TEST_F(AccountsTest, AMeetingsPinAndSettingsSurviveARestart) {
  auto server = start();
  auto created = httpsRequest(server->port(), http::verb::post, "/api/rooms", {{"Content-Type", "application/json"}},
                              json{{"pin", "246810"}, {"lobby", true}}.dump());
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string roomId = json::parse(created.body)["roomId"];
  EXPECT_EQ(server->stop(SIGTERM), 0);
  server = start();
  WsClient ws(server->port());
  ws.hello();
  ws.sendJson({{"type", "join"}, {"roomId", roomId}, {"profile", "p"}});
  auto answer = ws.read();
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["type"], "error") << answer->dump();
  EXPECT_EQ((*answer)["code"], "pin-required") << "the PIN outlived the restart";
}
