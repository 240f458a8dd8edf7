// The file store's budgets (issue 7, finding 6), with an injected clock.
#include "store/file_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

using namespace conclave::store;
using conclave::net::SourceKey;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

SourceKey source(uint8_t n) {
  SourceKey k{};
  k[0] = 10;
  k[3] = n;
  k[15] = 4;
  return k;
}

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("conclave-files-" + std::to_string(::getpid()));
    settings.directory = dir;
    settings.maxFileBytes = 1000;
    settings.maxRoomBytes = 3000;
    settings.maxSourceBytes = 2500;
    settings.maxTotalBytes = 5000;
    settings.maxPendingPerSource = 3;
    settings.minFreeDiskBytes = 0;
    settings.reservationTimeout = 60s;
  }
  void TearDown() override { fs::remove_all(dir); }
  FileStore::Error errorOf(const conclave::common::Result<FileStore::Upload, FileStore::Error>& r) {
    EXPECT_FALSE(r.ok());
    return r ? FileStore::Error::NotFound : r.error();
  }
  // Reserves and uploads `size` bytes.
  std::string store(FileStore& files, const std::string& room, uint64_t size, const SourceKey& from) {
    auto r = files.reserve(room, size, t0, from);
    auto up = r.value();
    auto path = files.beginUpload(up.fileId, up.token, size).value();
    { std::ofstream(path) << std::string(size, 'x'); }
    EXPECT_TRUE(files.completeUpload(up.fileId, size));
    return up.fileId;
  }
  fs::path dir;
  FileStore::Settings settings;
  conclave::common::TimePoint t0{};
};

}  // namespace

TEST_F(FileStoreTest, EachBudgetRefusesWhatWouldExceedIt) {
  FileStore files(settings);
  EXPECT_EQ(errorOf(files.reserve("room-a", 1001, t0, source(1))), FileStore::Error::TooLarge);
  EXPECT_EQ(errorOf(files.reserve("room-a", 0, t0, source(1))), FileStore::Error::TooLarge);
  store(files, "room-a", 1000, source(1));
  store(files, "room-a", 1000, source(1));
  // Source 1 has 2000 of its 2500.
  EXPECT_EQ(errorOf(files.reserve("room-b", 1000, t0, source(1))), FileStore::Error::SourceQuota);
  store(files, "room-a", 1000, source(2));
  // Room a is full at 3000.
  EXPECT_EQ(errorOf(files.reserve("room-a", 1, t0, source(3))), FileStore::Error::RoomQuota);
  store(files, "room-b", 1000, source(2));
  EXPECT_EQ(files.totalBytes(), 4000u);
  store(files, "room-c", 1000, source(3));
  // The store is full at 5000, whoever asks.
  EXPECT_EQ(errorOf(files.reserve("room-d", 1, t0, source(4))), FileStore::Error::StoreFull);
  EXPECT_EQ(files.roomBytes("room-a"), 3000u);
  EXPECT_EQ(files.sourceBytes(source(2)), 2000u);

  // A meeting that ends gives its bytes back to everyone it counted against.
  files.deleteRoom("room-a");
  EXPECT_EQ(files.totalBytes(), 2000u);
  EXPECT_EQ(files.sourceBytes(source(1)), 0u);
  EXPECT_EQ(files.sourceBytes(source(2)), 1000u);
  EXPECT_EQ(files.roomBytes("room-a"), 0u);
  EXPECT_TRUE(files.reserve("room-a", 1000, t0, source(1)).ok());
}

TEST_F(FileStoreTest, UnusedReservationsArePendingLimitedAndExpire) {
  FileStore files(settings);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(files.reserve("r", 10, t0, source(1)).ok());
  EXPECT_EQ(errorOf(files.reserve("r", 10, t0, source(1))), FileStore::Error::TooManyPending);
  EXPECT_TRUE(files.reserve("r", 10, t0, source(2)).ok());
  EXPECT_EQ(files.fileCount(), 4u);
  files.tick(t0 + 59s);
  EXPECT_EQ(files.fileCount(), 4u);
  files.tick(t0 + 60s);
  EXPECT_EQ(files.fileCount(), 0u);
  EXPECT_EQ(files.totalBytes(), 0u);
  EXPECT_EQ(files.sourceBytes(source(1)), 0u);
  EXPECT_TRUE(files.reserve("r", 10, t0 + 60s, source(1)).ok());
}

TEST_F(FileStoreTest, AnUploadInProgressIsNoLongerPendingAndAFailedOneGivesItsBytesBack) {
  FileStore files(settings);
  auto up = files.reserve("r", 500, t0, source(1)).value();
  ASSERT_TRUE(files.beginUpload(up.fileId, up.token, 500).ok());
  files.tick(t0 + 120s);
  EXPECT_EQ(files.fileCount(), 1u) << "an upload that started does not expire as unused";
  EXPECT_FALSE(files.completeUpload(up.fileId, 499));
  EXPECT_EQ(files.fileCount(), 0u);
  EXPECT_EQ(files.totalBytes(), 0u);
  EXPECT_EQ(files.sourceBytes(source(1)), 0u);
}

TEST_F(FileStoreTest, RetentionDeletesStoredFilesAndTheirBytes) {
  settings.retention = 3600s;
  FileStore files(settings);
  auto id = store(files, "r", 100, source(1));
  files.tick(t0 + 3599s);
  EXPECT_TRUE(files.download(id));
  files.tick(t0 + 3600s);
  EXPECT_FALSE(files.download(id));
  EXPECT_EQ(files.totalBytes(), 0u);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(FileStoreTest, TheDiskKeepsItsFreeMargin) {
  std::error_code ec;
  settings.maxTotalBytes = UINT64_MAX / 4;
  settings.maxRoomBytes = UINT64_MAX / 4;
  settings.maxSourceBytes = UINT64_MAX / 4;
  settings.maxFileBytes = UINT64_MAX / 4;
  fs::create_directories(dir);
  auto space = fs::space(dir, ec);
  ASSERT_FALSE(ec);
  FileStore files(settings);
  EXPECT_EQ(errorOf(files.reserve("r", space.available + 1, t0, source(1))), FileStore::Error::StoreFull);
}
