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

TEST_F(FileStoreTest, OnlyTheReservationsOwnTokenOpensItsUpload) {
  FileStore files(settings);
  auto a = files.reserve("r", 100, t0, source(1)).value();
  auto b = files.reserve("r", 100, t0, source(1)).value();
  EXPECT_NE(a.fileId, b.fileId);
  EXPECT_NE(a.token, b.token);
  auto errorOfBegin = [&](const std::string& id, const std::string& token, uint64_t length) {
    auto r = files.beginUpload(id, token, length);
    EXPECT_FALSE(r.ok());
    return r ? FileStore::Error::TooLarge : r.error();
  };
  EXPECT_EQ(errorOfBegin(a.fileId, b.token, 100), FileStore::Error::BadToken);  // another file's token
  EXPECT_EQ(errorOfBegin(a.fileId, a.token.substr(1), 100), FileStore::Error::BadToken);
  EXPECT_EQ(errorOfBegin(a.fileId, "", 100), FileStore::Error::BadToken);
  EXPECT_EQ(errorOfBegin("no-such-file", a.token, 100), FileStore::Error::NotFound);
  EXPECT_EQ(errorOfBegin(a.fileId, a.token, 101), FileStore::Error::TooLarge);  // not the reserved size
  ASSERT_TRUE(files.beginUpload(a.fileId, a.token, 100).ok());
  EXPECT_EQ(errorOfBegin(a.fileId, a.token, 100), FileStore::Error::AlreadyUploaded);
  EXPECT_FALSE(files.download(a.fileId)) << "not downloadable before the upload completes";
  EXPECT_TRUE(files.completeUpload(a.fileId, 100));
  EXPECT_EQ(errorOfBegin(a.fileId, a.token, 100), FileStore::Error::AlreadyUploaded);
  EXPECT_TRUE(files.download(a.fileId));
  EXPECT_FALSE(files.download(b.fileId));
  EXPECT_FALSE(files.download("../" + a.fileId));  // only file IDs name files
  EXPECT_FALSE(files.completeUpload("no-such-file", 100));
}

TEST_F(FileStoreTest, AStartedUploadFreesItsPendingSlot) {
  FileStore files(settings);  // 3 pending reservations per source
  std::vector<FileStore::Upload> ups;
  for (int i = 0; i < 3; ++i) ups.push_back(files.reserve("r", 10, t0, source(1)).value());
  EXPECT_EQ(errorOf(files.reserve("r", 10, t0, source(1))), FileStore::Error::TooManyPending);
  ASSERT_TRUE(files.beginUpload(ups[0].fileId, ups[0].token, 10).ok());
  EXPECT_TRUE(files.reserve("r", 10, t0, source(1)).ok());
}

TEST_F(FileStoreTest, AMeetingThatEndsTakesItsFilesOffTheDiskAndNoOneElses) {
  FileStore files(settings);
  auto a1 = store(files, "room-a", 100, source(1));
  auto a2 = store(files, "room-a", 200, source(2));
  auto b = store(files, "room-b", 300, source(1));
  auto pending = files.reserve("room-a", 50, t0, source(3)).value();
  files.deleteRoom("room-a");
  EXPECT_FALSE(files.download(a1));
  EXPECT_FALSE(files.download(a2));
  EXPECT_FALSE(fs::exists(dir / a1));
  EXPECT_FALSE(fs::exists(dir / a2));
  auto late = files.beginUpload(pending.fileId, pending.token, 50);  // its reservation went too
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error(), FileStore::Error::NotFound);
  ASSERT_TRUE(files.download(b));
  EXPECT_TRUE(fs::exists(*files.download(b)));
  EXPECT_EQ(files.fileCount(), 1u);
  EXPECT_EQ(files.totalBytes(), 300u);
  EXPECT_EQ(files.sourceBytes(source(3)), 0u);
  files.deleteRoom("room-b");
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(files.totalBytes(), 0u);
}

TEST_F(FileStoreTest, RetentionWaitsForAnUploadInProgressAndCountsFromTheReservation) {
  settings.retention = 10s;
  FileStore files(settings);
  auto up = files.reserve("r", 100, t0, source(1)).value();
  auto path = files.beginUpload(up.fileId, up.token, 100).value();
  { std::ofstream(path) << std::string(100, 'x'); }
  files.tick(t0 + 20s);
  EXPECT_EQ(files.fileCount(), 1u) << "an upload in progress is not cut off";
  ASSERT_TRUE(files.completeUpload(up.fileId, 100));
  files.tick(t0 + 20s);
  EXPECT_FALSE(files.download(up.fileId)) << "retention counts from the reservation";
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(FileStoreTest, WithoutRetentionStoredFilesLastUntilTheMeetingEnds) {
  FileStore files(settings);  // retention zero
  auto id = store(files, "r", 100, source(1));
  files.tick(t0 + 24h * 30);
  EXPECT_TRUE(files.download(id));
}

TEST_F(FileStoreTest, AStartWipesWhatAPreviousRunLeft) {
  fs::create_directories(dir);
  { std::ofstream(dir / "leftover") << "ciphertext"; }
  FileStore files(settings);
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(fs::status(dir).permissions() & fs::perms::all, fs::perms::owner_all);
}

namespace {

// Uploads `data` through the sealing writer, as the HTTP front does.
std::string storeSealed(FileStore& files, const std::string& room, const std::string& data, const SourceKey& from,
                        conclave::common::TimePoint at = {}) {
  auto up = files.reserve(room, data.size(), at, from).value();
  auto writer = files.openUpload(up.fileId, up.token, data.size());
  EXPECT_TRUE(writer.ok());
  EXPECT_TRUE(writer->write({reinterpret_cast<const uint8_t*>(data.data()), data.size()}).ok());
  EXPECT_TRUE(writer->complete());
  EXPECT_TRUE(files.completeUpload(up.fileId, writer->written()));
  return up.fileId;
}

std::string readAll(SealedReader& reader) {
  std::string out;
  for (;;) {
    auto chunk = reader.next();
    EXPECT_TRUE(chunk.ok());
    if (!chunk || chunk.value().empty()) return out;
    out.append(reinterpret_cast<const char*>(chunk.value().data()), chunk.value().size());
  }
}

std::string fileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_F(FileStoreTest, ASealedUploadDownloadsAsItCameWhileTheDiskHoldsOtherBytes) {
  FileStore files(settings);
  std::string data(900, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13);
  auto id = storeSealed(files, "r", data, source(1));
  auto reader = files.openDownload(id);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(readAll(reader.value()), data);
  auto disk = fileBytes(dir / id);
  EXPECT_EQ(disk.size(), sealedSize(data.size()));
  EXPECT_EQ(disk.find(data.substr(100, 32)), std::string::npos);
  // The quotas count the uploaded bytes; the disk's share of the sealing is reported apart.
  EXPECT_EQ(files.totalBytes(), 900u);
  EXPECT_EQ(files.roomBytes("r"), 900u);
  EXPECT_EQ(files.storedBytes(), sealedSize(900));
  EXPECT_FALSE(files.openDownload("no-such-file").ok());
}

TEST_F(FileStoreTest, AMeetingsKeyComesWithItsFirstFileAndGoesWithItsLastOrItsEnd) {
  settings.retention = 100s;
  FileStore files(settings);
  EXPECT_FALSE(files.hasKey("r"));
  auto first = storeSealed(files, "r", "one", source(1), t0);
  EXPECT_TRUE(files.hasKey("r"));
  auto second = storeSealed(files, "r", "two", source(1), t0 + 50s);
  const auto secondOnDisk = fileBytes(dir / second);
  files.tick(t0 + 100s);  // the first file's retention ends; the meeting still has a file
  EXPECT_FALSE(files.download(first));
  EXPECT_TRUE(files.hasKey("r"));
  files.tick(t0 + 150s);  // its last file goes: so does its key
  EXPECT_FALSE(files.hasKey("r"));
  EXPECT_EQ(files.keyCount(), 0u);
  // What was on the disk (a copy, say, from a backup) is unreadable now: the meeting's next file
  // gets a new key, and nothing else holds the old one.
  storeSealed(files, "r", "three", source(1), t0 + 150s);
  { std::ofstream(dir / "copy", std::ios::binary) << secondOnDisk; }
  auto copy = SealedReader::open(dir / "copy", std::make_shared<const FileKey>(), second, 3);
  ASSERT_TRUE(copy.ok());
  EXPECT_FALSE(copy->next().ok());
  files.deleteRoom("r");
  EXPECT_FALSE(files.hasKey("r")) << "the meeting ended";
}

TEST_F(FileStoreTest, ADamagedFileOnDiskIsRefusedNotServed) {
  FileStore files(settings);
  auto cut = storeSealed(files, "r", std::string(500, 'a'), source(1));
  auto changed = storeSealed(files, "r", std::string(500, 'b'), source(1));
  fs::resize_file(dir / cut, fs::file_size(dir / cut) - 1);
  auto truncated = files.openDownload(cut);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error(), FileStore::Error::Damaged);
  {
    std::fstream f(dir / changed, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  auto reader = files.openDownload(changed);
  ASSERT_TRUE(reader.ok()) << "its size is right: the tag finds the change";
  EXPECT_TRUE(reader->checkAhead().has_value());
}

TEST_F(FileStoreTest, TheListingGivesEachFilesSizeAndDeletionTime) {
  settings.retention = 3600s;
  FileStore files(settings);
  auto id = storeSealed(files, "r", std::string(700, 'x'), source(1), t0 + 5s);
  auto pending = files.reserve("r", 300, t0 + 6s, source(1)).value();
  storeSealed(files, "other", "y", source(1));
  auto list = files.files("r");
  ASSERT_EQ(list.size(), 2u);
  auto stored = std::find_if(list.begin(), list.end(), [&](const auto& f) { return f.fileId == id; });
  ASSERT_NE(stored, list.end());
  EXPECT_EQ(stored->size, 700u);
  EXPECT_EQ(stored->storedBytes, sealedSize(700));
  EXPECT_TRUE(stored->complete);
  EXPECT_EQ(stored->deleteAt, t0 + 5s + 3600s);
  auto reserved = std::find_if(list.begin(), list.end(), [&](const auto& f) { return f.fileId == pending.fileId; });
  ASSERT_NE(reserved, list.end());
  EXPECT_FALSE(reserved->complete);
  EXPECT_EQ(reserved->storedBytes, 0u);
  settings.retention = {};
  FileStore untilTheEnd(settings);
  storeSealed(untilTheEnd, "r", "z", source(1));
  EXPECT_FALSE(untilTheEnd.files("r").at(0).deleteAt.has_value()) << "deleted when the meeting ends";
}

TEST_F(FileStoreTest, APurgeRemovesExactlyWhatIsPastRetentionAndOrphansAndCountsThem) {
  settings.retention = 3600s;
  FileStore files(settings);
  auto old = storeSealed(files, "r", "old", source(1), t0);
  auto young = storeSealed(files, "r", "young", source(1), t0 + 10s);
  auto unused = files.reserve("r", 10, t0, source(2)).value();
  auto uploading = files.reserve("r", 10, t0, source(2)).value();
  auto writer = files.openUpload(uploading.fileId, uploading.token, 10);
  ASSERT_TRUE(writer.ok());
  { std::ofstream(dir / "stray") << "left here"; }
  fs::create_directories(dir / "stray-dir");
  files.tick(t0 + 61s);  // the unused reservation expires at a tick; the purge counts it
  auto counts = files.purge(t0 + 3600s);
  EXPECT_EQ(counts.expiredFiles, 1u);
  EXPECT_EQ(counts.expiredReservations, 1u);
  EXPECT_EQ(counts.orphans, 2u);
  EXPECT_EQ(counts.orphanBytes, 9u);
  EXPECT_FALSE(files.download(old));
  EXPECT_TRUE(files.download(young));
  EXPECT_FALSE(files.beginUpload(unused.fileId, unused.token, 10).ok());
  EXPECT_TRUE(fs::exists(dir / uploading.fileId)) << "an upload in progress is no orphan";
  EXPECT_FALSE(fs::exists(dir / "stray"));
  EXPECT_FALSE(fs::exists(dir / "stray-dir"));
  auto again = files.purge(t0 + 3601s);
  EXPECT_EQ(again.expiredFiles + again.expiredReservations + again.orphans, 0u) << "counted once";
}

TEST_F(FileStoreTest, AStartRemovesEverythingACrashedServerLeftAndNoneOfItWasReadable) {
  std::string secretBytes(900, 's');
  std::string id, sealedCopy;
  {
    FileStore crashed(settings);  // its process dies: the directory stays, the key does not
    id = storeSealed(crashed, "gone-meeting", secretBytes, source(1));
    auto partial = crashed.reserve("gone-meeting", 100, t0, source(1)).value();
    auto w = crashed.openUpload(partial.fileId, partial.token, 100);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->write({reinterpret_cast<const uint8_t*>(secretBytes.data()), 40}).ok());
    sealedCopy = fileBytes(dir / id);
  }
  EXPECT_EQ(sealedCopy.find(secretBytes.substr(0, 32)), std::string::npos) << "nothing readable on the disk";
  { std::ofstream(dir / "upload.tmp") << "temp"; }
  fs::create_directories(dir / "sub");
  { std::ofstream(dir / "sub" / "x") << "x"; }
  FileStore restarted(settings);
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(restarted.startPurge().orphans, 4u);  // the file, the partial upload, the temp file, sub/x
  EXPECT_EQ(restarted.startPurge().orphanBytes, sealedSize(900) + 16 + 4 + 1);
  EXPECT_FALSE(restarted.download(id));
}
