#include "store/meeting_table.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/account_store.h"

using namespace conclave::store;

namespace {

class MeetingTableTest : public ::testing::Test {
 protected:
  static std::filesystem::path freshDir() {
    auto dir = std::filesystem::temp_directory_path() / ("conclave-meetings-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir = freshDir();
  Database db{dir.string()};
};

}  // namespace

TEST_F(MeetingTableTest, KeepsAMeetingsRecordUntilItIsPurgedAfterItsLastUse) {
  MeetingTable meetings(db, 10);
  EXPECT_FALSE(meetings.get("room-a"));
  ASSERT_TRUE(meetings.put("room-a", MeetingRow{R"({"lobby":true})", "$argon2id$x", false, false}, 1000));
  ASSERT_TRUE(meetings.put("room-b", MeetingRow{"{}", "", true, false}, 1000));
  auto a = meetings.get("room-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->settings, R"({"lobby":true})");
  EXPECT_EQ(a->pinHash, "$argon2id$x");
  EXPECT_FALSE(a->ended);
  EXPECT_TRUE(meetings.get("room-b")->ended);
  ASSERT_TRUE(meetings.put("room-a", MeetingRow{"{}", "", false, true}, 2000));
  EXPECT_TRUE(meetings.get("room-a")->moved);
  meetings.touch("room-b", 3000);
  EXPECT_EQ(meetings.purge(2500), 1u);  // room-a, last used at 2000
  EXPECT_FALSE(meetings.get("room-a"));
  EXPECT_TRUE(meetings.get("room-b"));
}

TEST_F(MeetingTableTest, AFullTableRefusesNewMeetingsButUpdatesKnownOnes) {
  MeetingTable meetings(db, 2);
  EXPECT_TRUE(meetings.put("a", MeetingRow{"{}"}, 1));
  EXPECT_TRUE(meetings.put("b", MeetingRow{"{}"}, 1));
  EXPECT_FALSE(meetings.put("c", MeetingRow{"{}"}, 1));
  EXPECT_TRUE(meetings.put("a", MeetingRow{R"({"locked":true})"}, 2));
  EXPECT_EQ(meetings.size(), 2u);
}

TEST_F(MeetingTableTest, APersistentRoomsSettingsLiveWithTheRoom) {
  AccountStore accounts(db);
  auto owner = *accounts.addUser("alice", "hash", 1);
  accounts.addRoom("persistent", owner, "", R"({"lobby":true})", 1);
  MeetingTable meetings(db, 10);
  EXPECT_EQ(meetings.persistentSettings("persistent"), R"({"lobby":true})");
  EXPECT_FALSE(meetings.persistentSettings("ordinary"));
  meetings.setPersistentSettings("persistent", R"({"locked":true})");
  EXPECT_EQ(accounts.findRoom("persistent")->settings, R"({"locked":true})");
}
