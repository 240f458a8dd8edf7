#include "store/account_store.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace conclave::store;

namespace {

class AccountStoreTest : public ::testing::Test {
 protected:
  static std::filesystem::path freshDir() {
    auto dir = std::filesystem::temp_directory_path() / ("conclave-accounts-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir = freshDir();
  Database db{dir.string()};
  AccountStore store{db};
};

}  // namespace

TEST_F(AccountStoreTest, UsernamesAreUniqueWhateverTheirCase) {
  ASSERT_TRUE(store.addUser("Alice", "hash", 1));
  EXPECT_FALSE(store.addUser("alice", "hash", 2));
  auto found = store.findUser("ALICE");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "Alice");
}

TEST_F(AccountStoreTest, ATotpStepIsAcceptedOnceAndNeverAnEarlierOne) {
  auto id = *store.addUser("alice", "hash", 1);
  store.enableTotp(id, {1, 2, 3}, 100, {});
  EXPECT_FALSE(store.advanceTotpStep(id, 100));
  EXPECT_TRUE(store.advanceTotpStep(id, 101));
  EXPECT_FALSE(store.advanceTotpStep(id, 101));
  EXPECT_FALSE(store.advanceTotpStep(id, 99));
}

TEST_F(AccountStoreTest, ARecoveryCodeWorksOnceAndDisablingDropsTheRest) {
  auto id = *store.addUser("alice", "hash", 1);
  store.enableTotp(id, {1}, 1, {{1, 1}, {2, 2}});
  EXPECT_EQ(store.recoveryCodesLeft(id), 2);
  EXPECT_TRUE(store.useRecoveryCode(id, {1, 1}));
  EXPECT_FALSE(store.useRecoveryCode(id, {1, 1}));
  store.disableTotp(id);
  EXPECT_EQ(store.recoveryCodesLeft(id), 0);
  EXPECT_TRUE(store.findUser(id)->totpSecret.empty());
}

TEST_F(AccountStoreTest, DeletingAUserDeletesItsSessionsRoomsAndModeratorships) {
  auto alice = *store.addUser("alice", "hash", 1);
  auto bob = *store.addUser("bob", "hash", 1);
  store.addSession({9, 9}, alice, 1);
  store.addRoom("room-a", alice, "", "{}", 1);
  store.addRoom("room-b", bob, "Team", "{}", 1);
  store.setRoomModerators("room-b", {alice});
  EXPECT_EQ(store.roomsOf(alice).size(), 2u);
  EXPECT_EQ(store.findRoom("room-b")->moderators, std::vector<std::string>{"alice"});
  ASSERT_TRUE(store.deleteUser("alice"));
  EXPECT_FALSE(store.findSession({9, 9}));
  EXPECT_FALSE(store.findRoom("room-a"));
  EXPECT_TRUE(store.findRoom("room-b")->moderators.empty());
}

TEST_F(AccountStoreTest, SessionsArePurgedWhenIdleOrTooOld) {
  auto id = *store.addUser("alice", "hash", 1);
  store.addSession({1}, id, 1000);
  store.addSession({2}, id, 5000);
  store.touchSession({1}, 9000);
  EXPECT_EQ(store.purgeSessions(/*idleBefore=*/6000, /*createdBefore=*/0), 1);  // {2} idle since 5000
  EXPECT_TRUE(store.findSession({1}));
  EXPECT_EQ(store.purgeSessions(0, /*createdBefore=*/2000), 1);  // {1} created at 1000
  EXPECT_FALSE(store.findSession({1}));
}
