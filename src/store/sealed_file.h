// Shared files at rest: each file is sealed again on the server, with a per-meeting key that exists
// only in this process's memory (crypto-shredding). When the key goes (the meeting ends, its last
// file goes, the process stops or crashes) nothing left on the disk can be read, even before the
// purge removes it. The browser's end-to-end encryption is untouched: what is sealed here is
// already ciphertext, and a download gives back exactly the bytes that were uploaded.
//
// Layout: a 16-byte header ("CNCLSEAL", 8 random bytes: the file's nonce prefix), then chunks of
// kChunkBytes plaintext (the last one shorter) sealed with AES-256-GCM, each followed by its
// 16-byte tag. Chunk i's nonce is prefix || big-endian u32 i; its additional data is the file ID,
// i and a last-chunk flag, so a chunk moved to another position or file, a chunk dropped from the
// end (truncation) or a changed byte all fail authentication. Streaming in both directions: at
// most one chunk is held in memory per upload or download.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace conclave::store {

// A 256-bit key, wiped when the last holder lets go.
struct FileKey {
  std::array<uint8_t, 32> bytes{};
  FileKey();  // random
  ~FileKey();
  FileKey(const FileKey&) = delete;
  FileKey& operator=(const FileKey&) = delete;
};
using FileKeyRef = std::shared_ptr<const FileKey>;

inline constexpr size_t kSealChunkBytes = 64 * 1024;
inline constexpr size_t kSealHeaderBytes = 16;
inline constexpr size_t kSealTagBytes = 16;

// Bytes on disk for `plainBytes` uploaded bytes (at least one chunk).
uint64_t sealedSize(uint64_t plainBytes);

enum class SealError { Io, Damaged, TooLong };

// The open file and the cipher context a sealed writer or reader owns, closed and freed once.
struct SealedHandle {
  int fd = -1;
  EVP_CIPHER_CTX* ctx = nullptr;

  SealedHandle() = default;
  SealedHandle(SealedHandle&& o) noexcept;
  SealedHandle& operator=(SealedHandle&& o) noexcept;
  ~SealedHandle();
};
const char* toString(SealError e);

// Writes `total` bytes, as they come, into a new sealed file.
class SealedWriter {
 public:
  static common::Result<SealedWriter, SealError> create(const std::filesystem::path& path, FileKeyRef key,
                                                        std::string fileId, uint64_t total);
  SealedWriter(SealedWriter&&) noexcept = default;
  SealedWriter& operator=(SealedWriter&&) noexcept = default;
  ~SealedWriter() = default;

  // Takes the next bytes; TooLong past `total`, Io when the disk refuses.
  common::Result<size_t, SealError> write(std::span<const uint8_t> data);
  uint64_t written() const { return mWritten; }
  // All `total` bytes were written and sealed.
  bool complete() const { return mWritten == mTotal && mBuffer.empty(); }

 private:
  SealedWriter() = default;
  bool sealChunk();

  SealedHandle mIo;
  FileKeyRef mKey;
  std::string mFileId;
  std::array<uint8_t, 8> mPrefix{};
  uint64_t mTotal = 0;
  uint64_t mWritten = 0;
  uint32_t mChunk = 0;
  std::vector<uint8_t> mBuffer;  // plaintext of the chunk being filled, then its ciphertext
};

// Reads a sealed file back chunk by chunk; any chunk that fails authentication is an error,
// never output.
class SealedReader {
 public:
  // Checks the header and that the file has exactly the size `plainBytes` seal to.
  static common::Result<SealedReader, SealError> open(const std::filesystem::path& path, FileKeyRef key,
                                                      std::string fileId, uint64_t plainBytes);
  SealedReader(SealedReader&&) noexcept = default;
  SealedReader& operator=(SealedReader&&) noexcept = default;
  ~SealedReader() = default;

  // The next chunk's plaintext (valid until the next call); empty at the end.
  common::Result<std::span<const uint8_t>, SealError> next();
  // Reads and checks the next chunk now; next() then returns it. Lets a server refuse a damaged
  // file with an error status before it sends a header (the whole file, when it is one chunk).
  std::optional<SealError> checkAhead();
  uint64_t size() const { return mTotal; }
  uint64_t remaining() const { return mTotal - mRead + mHeld.value_or(0); }

 private:
  SealedReader() = default;

  SealedHandle mIo;
  FileKeyRef mKey;
  std::string mFileId;
  std::array<uint8_t, 8> mPrefix{};
  uint64_t mTotal = 0;
  uint64_t mRead = 0;
  uint32_t mChunk = 0;
  std::vector<uint8_t> mBuffer;
  std::optional<size_t> mHeld;  // a chunk checked ahead, this many bytes
};

}  // namespace conclave::store
