// GDPR Art. 15/17/20 for host accounts: `conclave admin export-user` and `erase-user`.
#include "app/account_rights.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/admin.h"
#include "store/event_log_table.h"
#include "store/meeting_table.h"

using namespace conclave;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPasswordHash = "$argon2id$v=19$m=262144,t=3,p=1$c2FsdHNhbHQ$secret-password-hash";
const std::vector<uint8_t> kTotpSecret = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};

class AccountRightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice = *accounts.addUser("alice", kPasswordHash, 1'700'000'000'000);
    bob = *accounts.addUser("bob", "bob-hash", 1'700'000'000'000);
    accounts.enableTotp(alice, kTotpSecret, 56'666'667, {{1, 1, 1}, {2, 2, 2}});
    accounts.addSession({9, 9, 9}, alice, 1'700'000'100'000);
    accounts.touchSession({9, 9, 9}, 1'700'000'200'000);
    accounts.addSession({8, 8, 8}, alice, 1'700'000'300'000);
    accounts.addSession({7, 7, 7}, bob, 1'700'000'300'000);
    accounts.addRoom("alice-room-0001", alice, "Team", R"({"lobby":true})", 1'700'000'400'000);
    accounts.setRoomModerators("alice-room-0001", {bob});
    accounts.addRoom("bob-room-00001", bob, "Bob's", "{}", 1'700'000'400'000);
    accounts.setRoomModerators("bob-room-00001", {alice});
    store::MeetingTable meetings(db, 100);
    meetings.put("alice-room-0001", {R"({"lobby":true})", "pin-hash-of-alice-room", false, false}, 1'700'000'500'000);
    meetings.put("bob-room-00001", {"{}", "", false, false}, 1'700'000'500'000);
    store::EventLogTable log(db, {});
    log.append("alice-room-0001", {1'700'000'600'000, "kick", "p-host", "p-guest", ""});
    log.append("bob-room-00001", {1'700'000'600'000, "join", "p-1", "", ""});
  }
  void TearDown() override { fs::remove_all(dir); }

  static fs::path freshDir() {
    auto d = fs::temp_directory_path() / ("conclave-rights-" + std::to_string(::getpid()));
    fs::remove_all(d);
    return d;
  }

  // Every row of every table, each cell as text (blobs as hex), "table: a | b | c".
  std::vector<std::string> everyRow() const {
    std::vector<std::string> rows;
    auto tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    std::vector<std::string> names;
    while (tables.step()) names.push_back(tables.columnText(0));
    EXPECT_GE(names.size(), 8u);  // server_keys, users, recovery_codes, sessions, rooms, room_moderators, ...
    for (const auto& table : names) {
      sqlite3_stmt* raw = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db.handle(), ("SELECT * FROM " + table).c_str(), -1, &raw, nullptr), SQLITE_OK);
      while (sqlite3_step(raw) == SQLITE_ROW) {
        std::string row = table + ":";
        for (int c = 0; c < sqlite3_column_count(raw); ++c) {
          if (sqlite3_column_type(raw, c) == SQLITE_BLOB) {
            const auto* bytes = static_cast<const uint8_t*>(sqlite3_column_blob(raw, c));
            for (int i = 0; i < sqlite3_column_bytes(raw, c); ++i) row += " " + std::to_string(bytes[i]);
          } else if (const unsigned char* text = sqlite3_column_text(raw, c)) {
            row += " " + std::string(reinterpret_cast<const char*>(text));
          }
          row += " |";
        }
        rows.push_back(row);
      }
      sqlite3_finalize(raw);
    }
    return rows;
  }

  fs::path dir = freshDir();
  store::Database db{dir.string()};
  store::AccountStore accounts{db};
  int64_t alice = 0, bob = 0;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_F(AccountRightsTest, TheExportHoldsWhatIsKeptAboutTheAccount) {
  auto exported = app::exportAccount(db, "alice", 1'700'000'900'000);
  ASSERT_TRUE(exported);
  const auto& e = *exported;
  EXPECT_EQ(e["format"], "conclave-account-export/1");
  EXPECT_EQ(e["account"]["username"], "alice");
  EXPECT_EQ(e["account"]["created"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(e["account"]["twoStepLogin"], "on");
  EXPECT_EQ(e["account"]["recoveryCodesLeft"], 2);
  EXPECT_EQ(e["account"]["lastTwoStepCodeTime"], "2023-11-14T22:13:30Z");  // step 56666667 × 30 s
  ASSERT_EQ(e["sessions"].size(), 2u);
  EXPECT_EQ(e["sessions"][0]["created"], "2023-11-14T22:15:00Z");
  EXPECT_EQ(e["sessions"][0]["lastUsed"], "2023-11-14T22:16:40Z");
  ASSERT_EQ(e["roomsOwned"].size(), 1u);
  const auto& room = e["roomsOwned"][0];
  EXPECT_EQ(room["roomId"], "alice-room-0001");
  EXPECT_EQ(room["name"], "Team");
  EXPECT_EQ(room["settings"]["lobby"], true);
  EXPECT_EQ(room["moderators"], nlohmann::json::array({"bob"}));
  EXPECT_EQ(room["meeting"]["hasPin"], true);
  ASSERT_EQ(room["securityLog"].size(), 1u);
  EXPECT_EQ(room["securityLog"][0]["type"], "kick");
  ASSERT_EQ(e["roomsModerated"].size(), 1u);
  EXPECT_EQ(e["roomsModerated"][0]["roomId"], "bob-room-00001");
  // Another account's room is named, not its owner's data; bob's meetings' logs are not alice's.
  EXPECT_FALSE(e["roomsModerated"][0].contains("securityLog"));
}

TEST_F(AccountRightsTest, TheExportWithholdsSecretsAndSaysWhich) {
  std::string text = app::exportAccount(db, "alice", 1'700'000'900'000)->dump();
  EXPECT_FALSE(has(text, "argon2id"));
  EXPECT_FALSE(has(text, "secret-password-hash"));
  EXPECT_FALSE(has(text, "pin-hash-of-alice-room"));
  EXPECT_FALSE(has(text, "deadbeef"));
  EXPECT_FALSE(has(text, "3q2+7"));  // base64 of the TOTP secret
  EXPECT_FALSE(has(text, "3q2-7"));
  EXPECT_FALSE(has(text, "32W353"));  // base32 of the TOTP secret's start
  EXPECT_FALSE(has(text, "bob-hash"));
  std::vector<std::string> withheld;
  auto parsed = nlohmann::json::parse(text);
  for (const auto& w : parsed["withheld"]) {
    withheld.push_back(w["field"]);
    EXPECT_FALSE(w["why"].get<std::string>().empty());
  }
  for (const char* field : {"users.password_hash", "users.totp_secret", "users.totp_pending",
                            "recovery_codes.code_hash", "sessions.token_hash", "meetings.pin_hash"})
    EXPECT_NE(std::find(withheld.begin(), withheld.end(), field), withheld.end()) << field;
  EXPECT_FALSE(app::exportAccount(db, "nobody", 1));
}

TEST_F(AccountRightsTest, AfterErasureNoRowOfAnyTableReferencesTheAccount) {
  std::string aliceId = std::to_string(alice);
  // The check can see alice's rows before.
  int before = 0;
  for (const auto& row : everyRow()) before += has(row, "alice") || has(row, " 9 9 9 ") ? 1 : 0;
  EXPECT_GE(before, 6);

  auto erased = app::eraseAccount(db, "alice");
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->sessions, 2u);
  EXPECT_EQ(erased->recoveryCodes, 2u);
  EXPECT_EQ(erased->roomsOwned, 1u);
  EXPECT_EQ(erased->moderatorships, 1u);
  EXPECT_EQ(erased->meetings, 1u);
  EXPECT_EQ(erased->securityLog, 1u);

  for (const auto& row : everyRow()) {
    SCOPED_TRACE(row);
    EXPECT_FALSE(has(row, "alice"));
    EXPECT_FALSE(has(row, kPasswordHash));
    EXPECT_FALSE(has(row, "pin-hash-of-alice-room"));
    EXPECT_FALSE(has(row, " 222 173 190 239"));  // the TOTP secret's bytes
  }
  // Columns that hold account IDs hold none of alice's.
  for (const char* sql :
       {"SELECT count(*) FROM users WHERE id = ?1", "SELECT count(*) FROM sessions WHERE user_id = ?1",
        "SELECT count(*) FROM recovery_codes WHERE user_id = ?1", "SELECT count(*) FROM rooms WHERE owner_id = ?1",
        "SELECT count(*) FROM room_moderators WHERE user_id = ?1"}) {
    auto s = db.prepare(sql);
    s.bind(1, alice);
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.columnInt(0), 0) << sql;
  }
  // Bob keeps everything of his.
  EXPECT_TRUE(accounts.findUser("bob"));
  EXPECT_TRUE(accounts.findRoom("bob-room-00001"));
  EXPECT_EQ(accounts.sessionsOf(bob).size(), 1u);
  EXPECT_TRUE(store::MeetingTable(db, 100).get("bob-room-00001"));
  EXPECT_EQ(store::EventLogTable(db, {}).list("bob-room-00001", std::nullopt, 10).size(), 1u);
  EXPECT_FALSE(app::eraseAccount(db, "alice"));
}

namespace {

std::string readAll(std::FILE* f) {
  std::rewind(f);
  std::string out;
  int c;
  while ((c = std::fgetc(f)) != EOF) out += static_cast<char>(c);
  return out;
}

}  // namespace

TEST_F(AccountRightsTest, EraseUserAsksForYesAndExportUserWritesAPrivateFile) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  std::string d = dir.string();
  EXPECT_EQ(app::runAdmin({"--data-dir", d, "erase-user", "alice"}, {}, stdin, out, err), 1);
  EXPECT_TRUE(has(readAll(err), "--yes"));
  EXPECT_TRUE(accounts.findUser("alice"));

  fs::path file = dir / "alice.json";
  EXPECT_EQ(app::runAdmin({"--data-dir", d, "export-user", "alice", "--out", file.string()}, {}, stdin, out, err), 0);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(nlohmann::json::parse(text.str())["account"]["username"], "alice");

  EXPECT_EQ(app::runAdmin({"--data-dir", d, "erase-user", "alice", "--yes"}, {}, stdin, out, err), 0);
  EXPECT_TRUE(has(readAll(out), "erased user alice: 2 sessions, 2 recovery codes, 1 persistent rooms"));
  EXPECT_FALSE(accounts.findUser("alice"));
  EXPECT_EQ(app::runAdmin({"--data-dir", d, "export-user", "alice"}, {}, stdin, out, err), 1);
  std::fclose(out);
  std::fclose(err);
}
