#include "store/sealed_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/random.h"

namespace conclave::store {
namespace {

constexpr std::array<uint8_t, 8> kMagic = {'C', 'N', 'C', 'L', 'S', 'E', 'A', 'L'};

bool writeAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool readAll(int fd, uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::array<uint8_t, 12> nonceOf(const std::array<uint8_t, 8>& prefix, uint32_t chunk) {
  std::array<uint8_t, 12> nonce{};
  std::copy(prefix.begin(), prefix.end(), nonce.begin());
  nonce[8] = static_cast<uint8_t>(chunk >> 24);
  nonce[9] = static_cast<uint8_t>(chunk >> 16);
  nonce[10] = static_cast<uint8_t>(chunk >> 8);
  nonce[11] = static_cast<uint8_t>(chunk);
  return nonce;
}

// The chunk's place: the file it belongs to, its index, and whether it is the last one.
std::vector<uint8_t> aadOf(const std::string& fileId, uint32_t chunk, bool last) {
  std::vector<uint8_t> aad(fileId.begin(), fileId.end());
  for (int shift = 24; shift >= 0; shift -= 8) aad.push_back(static_cast<uint8_t>(chunk >> shift));
  aad.push_back(last ? 1 : 0);
  return aad;
}

// Starts one chunk: cipher, key and nonce, then the additional data.
bool beginChunk(EVP_CIPHER_CTX* ctx, bool encrypt, const FileKey& key, const std::array<uint8_t, 8>& prefix,
                const std::string& fileId, uint32_t chunk, bool last) {
  auto nonce = nonceOf(prefix, chunk);
  auto aad = aadOf(fileId, chunk, last);
  int len = 0;
  return EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.bytes.data(), nonce.data(), encrypt ? 1 : 0) == 1 &&
         EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
}

}  // namespace

FileKey::FileKey() { common::randomBytes(bytes); }
FileKey::~FileKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

uint64_t sealedSize(uint64_t plainBytes) {
  uint64_t chunks = std::max<uint64_t>(1, (plainBytes + kSealChunkBytes - 1) / kSealChunkBytes);
  return kSealHeaderBytes + plainBytes + chunks * kSealTagBytes;
}

const char* toString(SealError e) {
  switch (e) {
    case SealError::Io:
      return "cannot read or write the file";
    case SealError::Damaged:
      return "the stored file is damaged or was altered";
    case SealError::TooLong:
      return "more bytes than reserved";
  }
  return "unknown";
}

// --- SealedHandle ---

SealedHandle::SealedHandle(SealedHandle&& o) noexcept
    : fd(std::exchange(o.fd, -1)), ctx(std::exchange(o.ctx, nullptr)) {}

SealedHandle& SealedHandle::operator=(SealedHandle&& o) noexcept {
  if (this == &o) return *this;
  if (fd >= 0) ::close(fd);
  if (ctx) EVP_CIPHER_CTX_free(ctx);
  fd = std::exchange(o.fd, -1);
  ctx = std::exchange(o.ctx, nullptr);
  return *this;
}

SealedHandle::~SealedHandle() {
  if (fd >= 0) ::close(fd);
  if (ctx) EVP_CIPHER_CTX_free(ctx);
}

// --- SealedWriter ---

common::Result<SealedWriter, SealError> SealedWriter::create(const std::filesystem::path& path, FileKeyRef key,
                                                             std::string fileId, uint64_t total) {
  SealedWriter w;
  w.mKey = std::move(key);
  w.mFileId = std::move(fileId);
  w.mTotal = total;
  w.mIo.ctx = EVP_CIPHER_CTX_new();
  if (!w.mIo.ctx) return SealError::Io;
  common::randomBytes(w.mPrefix);
  w.mIo.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (w.mIo.fd < 0) return SealError::Io;
  std::array<uint8_t, kSealHeaderBytes> header{};
  std::copy(kMagic.begin(), kMagic.end(), header.begin());
  std::copy(w.mPrefix.begin(), w.mPrefix.end(), header.begin() + 8);
  if (!writeAll(w.mIo.fd, header.data(), header.size())) return SealError::Io;
  w.mBuffer.reserve(std::min<uint64_t>(total, kSealChunkBytes) + kSealTagBytes);
  if (total == 0 && !w.sealChunk()) return SealError::Io;
  return w;
}

common::Result<size_t, SealError> SealedWriter::write(std::span<const uint8_t> data) {
  size_t used = 0;
  while (used < data.size()) {
    if (mWritten == mTotal) return SealError::TooLong;
    size_t take = std::min({kSealChunkBytes - mBuffer.size(), data.size() - used, mTotal - mWritten});
    mBuffer.insert(mBuffer.end(), data.begin() + static_cast<ptrdiff_t>(used),
                   data.begin() + static_cast<ptrdiff_t>(used + take));
    used += take;
    mWritten += take;
    if ((mBuffer.size() == kSealChunkBytes || mWritten == mTotal) && !sealChunk()) return SealError::Io;
  }
  return used;
}

bool SealedWriter::sealChunk() {
  if (mIo.fd < 0 || !mKey) return false;
  const bool last = mWritten == mTotal;
  int len = 0, finalLen = 0;
  const int size = static_cast<int>(mBuffer.size());
  std::array<uint8_t, kSealTagBytes> tag{};
  bool ok = beginChunk(mIo.ctx, true, *mKey, mPrefix, mFileId, mChunk, last) &&
            EVP_CipherUpdate(mIo.ctx, mBuffer.data(), &len, mBuffer.data(), size) == 1 &&
            EVP_CipherFinal_ex(mIo.ctx, mBuffer.data() + len, &finalLen) == 1 &&
            EVP_CIPHER_CTX_ctrl(mIo.ctx, EVP_CTRL_GCM_GET_TAG, kSealTagBytes, tag.data()) == 1;
  if (!ok) return false;
  mBuffer.insert(mBuffer.end(), tag.begin(), tag.end());
  ok = writeAll(mIo.fd, mBuffer.data(), mBuffer.size());
  mBuffer.clear();
  ++mChunk;
  if (ok && last) {
    ok = ::close(mIo.fd) == 0;
    mIo.fd = -1;
  }
  return ok;
}

// --- SealedReader ---

common::Result<SealedReader, SealError> SealedReader::open(const std::filesystem::path& path, FileKeyRef key,
                                                           std::string fileId, uint64_t plainBytes) {
  SealedReader r;
  r.mKey = std::move(key);
  r.mFileId = std::move(fileId);
  r.mTotal = plainBytes;
  if (!r.mKey) return SealError::Damaged;  // no key: nothing on disk can be read
  r.mIo.ctx = EVP_CIPHER_CTX_new();
  if (!r.mIo.ctx) return SealError::Io;
  r.mIo.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.mIo.fd < 0) return SealError::Io;
  struct stat st {};
  if (::fstat(r.mIo.fd, &st) != 0) return SealError::Io;
  // A truncated (or extended) file is refused before anything is served.
  if (static_cast<uint64_t>(st.st_size) != sealedSize(plainBytes)) return SealError::Damaged;
  std::array<uint8_t, kSealHeaderBytes> header{};
  if (!readAll(r.mIo.fd, header.data(), header.size())) return SealError::Io;
  if (!std::equal(kMagic.begin(), kMagic.end(), header.begin())) return SealError::Damaged;
  std::copy(header.begin() + 8, header.end(), r.mPrefix.begin());
  r.mBuffer.resize(std::min<uint64_t>(plainBytes, kSealChunkBytes) + kSealTagBytes);
  return r;
}

std::optional<SealError> SealedReader::checkAhead() {
  if (mHeld) return std::nullopt;
  auto chunk = next();
  if (!chunk) return chunk.error();
  mHeld = chunk.value().size();
  return std::nullopt;
}

common::Result<std::span<const uint8_t>, SealError> SealedReader::next() {
  if (mHeld) return std::span<const uint8_t>(mBuffer.data(), *std::exchange(mHeld, std::nullopt));
  // Every file has at least one chunk; after the last one, nothing more.
  if (mChunk > 0 && mRead == mTotal) return std::span<const uint8_t>();
  const size_t size = static_cast<size_t>(std::min<uint64_t>(kSealChunkBytes, mTotal - mRead));
  const bool last = mRead + size == mTotal;
  if (!readAll(mIo.fd, mBuffer.data(), size + kSealTagBytes)) return SealError::Io;
  int len = 0, finalLen = 0;
  bool ok = beginChunk(mIo.ctx, false, *mKey, mPrefix, mFileId, mChunk, last) &&
            EVP_CipherUpdate(mIo.ctx, mBuffer.data(), &len, mBuffer.data(), static_cast<int>(size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(mIo.ctx, EVP_CTRL_GCM_SET_TAG, kSealTagBytes, mBuffer.data() + size) == 1 &&
            EVP_CipherFinal_ex(mIo.ctx, mBuffer.data() + len, &finalLen) == 1;
  if (!ok) {
    // Not one byte of a chunk that fails authentication leaves this function.
    OPENSSL_cleanse(mBuffer.data(), mBuffer.size());
    return SealError::Damaged;
  }
  mRead += size;
  ++mChunk;
  return std::span<const uint8_t>(mBuffer.data(), size);
}

}  // namespace conclave::store
