// Meetings' settings in the database: they survive a restart, a persistent room's settings live
// with the room, and records go after their retention.
#include "signaling/stored_meeting_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/account_store.h"

using namespace conclave;
using namespace conclave::signaling;

namespace {

class StoredMeetingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("conclave-meetingstore-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  MeetingStore::WallTime at(int64_t seconds) { return MeetingStore::WallTime(std::chrono::seconds(seconds)); }
};

}  // namespace

TEST_F(StoredMeetingStoreTest, SettingsPinAndMarksSurviveARestart) {
  MeetingRecord record;
  record.settings.lobby = true;
  record.settings.maxParticipants = 50;
  record.settings.policies.screen = Allowed::Moderators;
  record.pinHash = "$argon2id$v=19$m=65536,t=2,p=1$abc$def";
  record.ended = true;
  {
    store::Database db(dir.string());
    StoredMeetingStore meetings(db, 100, 100);
    EXPECT_FALSE(meetings.get("room-a"));
    ASSERT_TRUE(meetings.put("room-a", record, at(1000)));
  }
  store::Database db(dir.string());
  StoredMeetingStore meetings(db, 100, 100);
  auto back = meetings.get("room-a");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->settings, record.settings);
  EXPECT_EQ(back->pinHash, record.pinHash);
  EXPECT_TRUE(back->ended);
  EXPECT_FALSE(back->moved);
}

TEST_F(StoredMeetingStoreTest, RecordsGoAfterTheirLastUseAndAFullStoreRefusesNewOnes) {
  store::Database db(dir.string());
  StoredMeetingStore meetings(db, 2, 100);
  ASSERT_TRUE(meetings.put("old", MeetingRecord{}, at(1000)));
  ASSERT_TRUE(meetings.put("used", MeetingRecord{}, at(1000)));
  EXPECT_FALSE(meetings.put("third", MeetingRecord{}, at(1000)));
  meetings.touch("used", at(5000));
  meetings.purge(at(3000));
  EXPECT_FALSE(meetings.get("old"));
  EXPECT_TRUE(meetings.get("used"));
}

TEST_F(StoredMeetingStoreTest, APersistentRoomStartsFromItsStoredSettingsAndKeepsChanges) {
  store::Database db(dir.string());
  store::AccountStore accounts(db);
  auto owner = *accounts.addUser("alice", "hash", 1);
  accounts.addRoom("persistent", owner, "", R"({"lobby":true,"policies":{"chat":"moderators"}})", 1);
  StoredMeetingStore meetings(db, 100, 80);
  auto first = meetings.get("persistent");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->settings.lobby);
  EXPECT_EQ(first->settings.policies.chat, Allowed::Moderators);
  EXPECT_EQ(first->settings.maxParticipants, 80) << "the server's limit when the room sets none";

  MeetingRecord changed = *first;
  changed.settings.locked = true;
  ASSERT_TRUE(meetings.put("persistent", changed, at(10)));
  meetings.purge(at(1'000'000));  // the meetings row goes; the room keeps the change
  auto later = meetings.get("persistent");
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->settings.locked);
  EXPECT_TRUE(later->settings.lobby);
  auto stored = nlohmann::json::parse(accounts.findRoom("persistent")->settings);
  EXPECT_EQ(stored["locked"], true);
  EXPECT_FALSE(stored.contains("pinSet"));
}

TEST_F(StoredMeetingStoreTest, StoredSettingsThatDoNotPassTheSchemaGiveTheDefaults) {
  store::Database db(dir.string());
  store::AccountStore accounts(db);
  auto owner = *accounts.addUser("alice", "hash", 1);
  accounts.addRoom("odd", owner, "", R"({"lobby":"yes"})", 1);
  StoredMeetingStore meetings(db, 100, 100);
  auto record = meetings.get("odd");
  ASSERT_TRUE(record);
  EXPECT_FALSE(record->settings.lobby);
  EXPECT_EQ(record->settings.maxParticipants, 100);
}
