// Shared files sealed at rest with a per-meeting key (crypto-shredding): round trips at every
// chunk boundary, and every way a file on disk can be wrong is refused, never served as garbage.
#include "store/sealed_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>

using namespace conclave::store;
namespace fs = std::filesystem;

namespace {

class SealedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("conclave-sealed-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  static std::vector<uint8_t> pattern(size_t size) {
    std::vector<uint8_t> data(size);
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>((i * 131) ^ (i >> 9));
    return data;
  }
  // Writes `data` in pieces of `piece` bytes.
  void seal(const fs::path& path, const FileKeyRef& with, const std::string& id, const std::vector<uint8_t>& data,
            size_t piece = 7000) {
    auto w = SealedWriter::create(path, with, id, data.size());
    ASSERT_TRUE(w.ok());
    for (size_t at = 0; at < data.size(); at += piece) {
      size_t n = std::min(piece, data.size() - at);
      auto r = w->write({data.data() + at, n});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r.value(), n);
    }
    EXPECT_TRUE(w->complete());
  }
  // Everything the reader gives, or the first error.
  static conclave::common::Result<std::vector<uint8_t>, SealError> unseal(const fs::path& path, const FileKeyRef& with,
                                                                          const std::string& id, uint64_t size) {
    auto r = SealedReader::open(path, with, id, size);
    if (!r) return r.error();
    std::vector<uint8_t> out;
    for (;;) {
      auto chunk = r->next();
      if (!chunk) return chunk.error();
      if (chunk.value().empty()) return out;
      out.insert(out.end(), chunk.value().begin(), chunk.value().end());
    }
  }
  static std::vector<uint8_t> readBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void writeBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  fs::path dir;
  FileKeyRef key = std::make_shared<const FileKey>();
};

}  // namespace

TEST_F(SealedFileTest, GivesBackExactlyTheUploadedBytesAtEveryChunkBoundary) {
  for (size_t size : {size_t{1}, kSealChunkBytes - 1, kSealChunkBytes, kSealChunkBytes + 1, 3 * kSealChunkBytes + 5}) {
    auto data = pattern(size);
    auto path = dir / ("f" + std::to_string(size));
    seal(path, key, "file-id", data);
    EXPECT_EQ(fs::file_size(path), sealedSize(size)) << size;
    auto back = unseal(path, key, "file-id", size);
    ASSERT_TRUE(back.ok()) << size;
    EXPECT_EQ(back.value(), data) << size;
  }
  EXPECT_EQ(sealedSize(1), kSealHeaderBytes + 1 + kSealTagBytes);
  EXPECT_EQ(sealedSize(2 * kSealChunkBytes), kSealHeaderBytes + 2 * kSealChunkBytes + 2 * kSealTagBytes);
}

TEST_F(SealedFileTest, TheDiskHoldsOtherBytesThanTheUploadAndNoOtherKeyOpensThem) {
  auto data = pattern(100000);
  seal(dir / "f", key, "file-id", data);
  auto disk = readBytes(dir / "f");
  // Not one 32-byte run of the upload appears on the disk.
  for (size_t at = 0; at + 32 <= data.size(); at += 4096)
    EXPECT_EQ(std::search(disk.begin(), disk.end(), data.begin() + static_cast<ptrdiff_t>(at),
                          data.begin() + static_cast<ptrdiff_t>(at + 32)),
              disk.end());
  // The key is dropped (a restart, the meeting's end): a new key, or none, reads nothing.
  auto other = unseal(dir / "f", std::make_shared<const FileKey>(), "file-id", data.size());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error(), SealError::Damaged);
  auto none = unseal(dir / "f", nullptr, "file-id", data.size());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), SealError::Damaged);
}

TEST_F(SealedFileTest, AChangedByteAnywhereIsRefusedAndTheChunksBeforeItAreAllThatCameOut) {
  auto data = pattern(3 * kSealChunkBytes);
  seal(dir / "f", key, "file-id", data);
  const auto sealed = readBytes(dir / "f");
  for (size_t at : {size_t{3}, size_t{12}, kSealHeaderBytes + 10, kSealHeaderBytes + kSealChunkBytes + 2,
                    kSealHeaderBytes + 2 * (kSealChunkBytes + kSealTagBytes) + 100, sealed.size() - 1}) {
    auto bad = sealed;
    bad[at] ^= 0x01;
    writeBytes(dir / "f", bad);
    auto back = unseal(dir / "f", key, "file-id", data.size());
    ASSERT_FALSE(back.ok()) << "byte " << at;
    EXPECT_EQ(back.error(), SealError::Damaged) << "byte " << at;
  }
  // Streaming: a reader gives the chunks that authenticate, then the error, never the bad chunk.
  auto bad = sealed;
  bad[kSealHeaderBytes + kSealChunkBytes + kSealTagBytes + 5] ^= 0x80;  // the second chunk
  writeBytes(dir / "f", bad);
  auto r = SealedReader::open(dir / "f", key, "file-id", data.size());
  ASSERT_TRUE(r.ok());
  auto first = r->next();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(std::equal(first.value().begin(), first.value().end(), data.begin()));
  auto second = r->next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error(), SealError::Damaged);
}

TEST_F(SealedFileTest, ATruncatedFileIsRefusedEvenWhenItsSizeIsMadeToFit) {
  auto data = pattern(2 * kSealChunkBytes);
  seal(dir / "f", key, "file-id", data);
  auto sealed = readBytes(dir / "f");
  fs::resize_file(dir / "f", sealed.size() - 1);
  auto cut = SealedReader::open(dir / "f", key, "file-id", data.size());
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error(), SealError::Damaged) << "the size no longer fits the upload's";
  // Cut to exactly its first chunk and asked for as a file of one chunk: the last-chunk flag in
  // the additional data refuses it.
  fs::resize_file(dir / "f", sealedSize(kSealChunkBytes));
  auto first = unseal(dir / "f", key, "file-id", kSealChunkBytes);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error(), SealError::Damaged);
}

TEST_F(SealedFileTest, AFileUnderAnotherIdIsRefused) {
  auto data = pattern(1000);
  seal(dir / "f", key, "file-a", data);
  auto moved = unseal(dir / "f", key, "file-b", data.size());
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error(), SealError::Damaged);
}

TEST_F(SealedFileTest, AWriterTakesNoMoreThanItsTotalAndHoldsOneChunkAtMost) {
  auto w = SealedWriter::create(dir / "f", key, "file-id", 10);
  ASSERT_TRUE(w.ok());
  std::vector<uint8_t> more(11, 'x');
  auto r = w->write(more);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), SealError::TooLong);
  EXPECT_TRUE(w->complete()) << "the ten bytes it took are sealed";
  // A large write goes to the disk chunk by chunk as it comes.
  auto big = SealedWriter::create(dir / "g", key, "file-id", 10 * kSealChunkBytes);
  ASSERT_TRUE(big.ok());
  auto data = pattern(3 * kSealChunkBytes + 10);
  ASSERT_TRUE(big->write(data).ok());
  EXPECT_EQ(fs::file_size(dir / "g"), kSealHeaderBytes + 3 * (kSealChunkBytes + kSealTagBytes));
  EXPECT_FALSE(big->complete());
}
