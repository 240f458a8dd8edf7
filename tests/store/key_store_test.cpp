#include "store/key_store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

using conclave::store::Database;
using conclave::store::KeyStore;

TEST(KeyStore, KeysPersistAcrossOpensAndFilesArePrivate) {
  auto dir = std::filesystem::temp_directory_path() / ("conclave-keys-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::vector<uint8_t> first;
  {
    Database db(dir.string());
    KeyStore store(db);
    first = store.getOrCreateKey("room-id", 32);
    EXPECT_EQ(first.size(), 32u);
    EXPECT_NE(store.getOrCreateKey("log-hash", 32), first);
  }
  Database db(dir.string());
  KeyStore again(db);
  EXPECT_EQ(again.getOrCreateKey("room-id", 32), first);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "conclave.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::filesystem::remove_all(dir);
}
