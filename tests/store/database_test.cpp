// The database file: schema migrations from nothing and from version 1, and the refusals that keep
// a database this binary cannot use untouched.
#include "store/database.h"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/key_store.h"

using conclave::store::Database;
using conclave::store::DatabaseError;
using conclave::store::KeyStore;

namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("conclave-db-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string fileBytes() const {
    std::ifstream in(dir / "conclave.db", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Runs SQL on the file with plain SQLite, as another program (or an older conclave) would.
  void rawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "conclave.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::vector<std::string> tables(const Database& db) {
    std::vector<std::string> out;
    auto s = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    while (s.step()) out.push_back(s.columnText(0));
    return out;
  }

  std::filesystem::path dir;
};

}  // namespace

TEST_F(DatabaseTest, AnEmptyDirectoryGetsTheWholeSchemaInWalModeWithForeignKeys) {
  Database db(dir.string());
  EXPECT_EQ(db.schemaVersion(), Database::kSchemaVersion);
  auto names = tables(db);
  for (const char* t : {"server_keys", "schema_version", "users", "sessions", "recovery_codes", "rooms",
                        "room_moderators", "security_log", "meetings"})
    EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << t;
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.columnText(0), "wal");
  auto fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.columnInt(0), 1);
}

TEST_F(DatabaseTest, AVersionOneDatabaseFromBeforeTheVersionTableIsMigratedKeepingItsKeys) {
  // What conclave wrote before accounts: server_keys only, no version table.
  rawExec(
      "CREATE TABLE server_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
      "INSERT INTO server_keys VALUES ('room-id', x'" +
      std::string(64, 'a') + "');");
  Database db(dir.string());
  EXPECT_EQ(db.schemaVersion(), Database::kSchemaVersion);
  KeyStore keys(db);
  EXPECT_EQ(keys.getOrCreateKey("room-id", 32), std::vector<uint8_t>(32, 0xaa));
  auto users = db.prepare("SELECT count(*) FROM users");
  ASSERT_TRUE(users.step());
  EXPECT_EQ(users.columnInt(0), 0);
}

TEST_F(DatabaseTest, AVersionOneDatabaseWithItsVersionTableIsMigratedOnTheNextOpen) {
  {
    Database old(dir.string(), 1);
    EXPECT_EQ(old.schemaVersion(), 1);
    KeyStore(old).getOrCreateKey("log-hash", 32);
    EXPECT_EQ(tables(old).size(), 2u);  // server_keys, schema_version
  }
  Database db(dir.string());
  EXPECT_EQ(db.schemaVersion(), Database::kSchemaVersion);
  auto version = db.prepare("SELECT version FROM schema_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.columnInt(0), Database::kSchemaVersion);
}

TEST_F(DatabaseTest, ADatabaseFromANewerConclaveIsRefusedAndLeftAsItWas) {
  { Database db(dir.string()); }
  rawExec("UPDATE schema_version SET version = 99; PRAGMA wal_checkpoint(TRUNCATE);");
  std::string before = fileBytes();
  try {
    Database db(dir.string());
    FAIL() << "a newer schema was accepted";
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99, newer than this conclave (3)"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(fileBytes(), before);
}

TEST_F(DatabaseTest, AFileThatIsNotADatabaseIsRefusedWithAClearMessageAndNotOverwritten) {
  std::string garbage(8192, 'x');
  std::ofstream(dir / "conclave.db", std::ios::binary) << garbage;
  try {
    Database db(dir.string());
    FAIL() << "garbage was accepted";
  } catch (const DatabaseError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("unreadable or damaged"), std::string::npos) << message;
    EXPECT_NE(message.find("restore it from a backup"), std::string::npos) << message;
  }
  EXPECT_EQ(fileBytes(), garbage);
}

TEST_F(DatabaseTest, ADamagedDatabaseIsRefused) {
  {
    Database db(dir.string());
    KeyStore keys(db);
    for (int i = 0; i < 200; ++i) keys.getOrCreateKey("key-" + std::to_string(i), 32);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // Overwrite the start of every page but the first (which holds the schema): damaged b-trees.
  std::string bytes = fileBytes();
  ASSERT_GT(bytes.size(), 3u * 4096);
  {
    std::fstream f(dir / "conclave.db", std::ios::binary | std::ios::in | std::ios::out);
    std::string junk(64, '\x5a');
    for (size_t page = 1; page < bytes.size() / 4096; ++page) {
      f.seekp(static_cast<std::streamoff>(page * 4096));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
  }
  EXPECT_THROW(Database db(dir.string()), DatabaseError);
}

TEST_F(DatabaseTest, AFailedMigrationLeavesTheOldVersion) {
  // A table in the way of migration 2 makes it fail: the database must stay at version 1.
  { Database old(dir.string(), 1); }
  rawExec("CREATE TABLE users (x INTEGER);");
  EXPECT_THROW(Database db(dir.string()), DatabaseError);
  Database old(dir.string(), 1);
  EXPECT_EQ(old.schemaVersion(), 1);
}
