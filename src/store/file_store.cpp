#include "store/file_store.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/base64.h"
#include "common/log.h"
#include "common/random.h"
#include "store/key_store.h"

namespace conclave::store {

FileStore::FileStore(Settings settings) : mSettings(std::move(settings)) {
  std::error_code ec;
  // Nothing survives a restart: files of meetings that were running are gone with them.
  std::filesystem::remove_all(mSettings.directory, ec);
  store::ensureDirectory(mSettings.directory.string(), 0700);
}

std::filesystem::path FileStore::pathOf(const std::string& fileId) const { return mSettings.directory / fileId; }

common::Result<FileStore::Upload, FileStore::Error> FileStore::reserve(const std::string& roomId, uint64_t size,
                                                                       common::TimePoint now,
                                                                       const net::SourceKey& source) {
  if (size == 0 || size > mSettings.maxFileBytes) return Error::TooLarge;
  if (roomBytes(roomId) + size > mSettings.maxRoomBytes) return Error::RoomQuota;
  SourceUsage existing = mSources.count(source) ? mSources.at(source) : SourceUsage{};
  if (existing.pending >= mSettings.maxPendingPerSource) return Error::TooManyPending;
  if (existing.bytes + size > mSettings.maxSourceBytes) return Error::SourceQuota;
  if (mTotalBytes + size > mSettings.maxTotalBytes) return Error::StoreFull;
  // Reserved bytes are not on the disk yet: they count against its free space as well.
  std::error_code ec;
  auto space = std::filesystem::space(mSettings.directory, ec);
  if (ec || space.available < mSettings.minFreeDiskBytes + (mTotalBytes - mWrittenBytes) + size)
    return Error::StoreFull;
  auto& usage = mSources[source];
  Upload up{common::randomToken(16), common::randomToken(16)};
  mFiles[up.fileId] = Entry{roomId, source, up.token, size, false, false, now};
  usage.bytes += size;
  ++usage.pending;
  mRoomBytes[roomId] += size;
  mTotalBytes += size;
  return up;
}

uint64_t FileStore::roomBytes(const std::string& roomId) const {
  auto it = mRoomBytes.find(roomId);
  return it == mRoomBytes.end() ? 0 : it->second;
}

uint64_t FileStore::sourceBytes(const net::SourceKey& source) const {
  auto it = mSources.find(source);
  return it == mSources.end() ? 0 : it->second.bytes;
}

common::Result<std::filesystem::path, FileStore::Error> FileStore::beginUpload(const std::string& fileId,
                                                                               const std::string& token,
                                                                               uint64_t contentLength) {
  auto it = mFiles.find(fileId);
  if (it == mFiles.end()) return Error::NotFound;
  const auto& expected = it->second.token;
  if (token.size() != expected.size() || CRYPTO_memcmp(token.data(), expected.data(), token.size()) != 0)
    return Error::BadToken;
  if (it->second.uploading || it->second.complete) return Error::AlreadyUploaded;
  if (contentLength != it->second.size) return Error::TooLarge;
  it->second.uploading = true;
  settle(it->second);
  return pathOf(fileId);
}

bool FileStore::completeUpload(const std::string& fileId, uint64_t written) {
  auto it = mFiles.find(fileId);
  if (it == mFiles.end()) return false;
  if (written != it->second.size) {
    erase(it);
    return false;
  }
  it->second.uploading = false;
  it->second.complete = true;
  mWrittenBytes += it->second.size;
  return true;
}

std::optional<std::filesystem::path> FileStore::download(const std::string& fileId) const {
  if (!common::isBase64Url(fileId)) return std::nullopt;
  auto it = mFiles.find(fileId);
  if (it == mFiles.end() || !it->second.complete) return std::nullopt;
  return pathOf(fileId);
}

void FileStore::settle(Entry& e) {
  auto it = mSources.find(e.source);
  if (it != mSources.end() && it->second.pending > 0) --it->second.pending;
}

void FileStore::erase(std::map<std::string, Entry>::iterator it) {
  std::error_code ec;
  std::filesystem::remove(pathOf(it->first), ec);
  Entry& e = it->second;
  if (!e.uploading && !e.complete) settle(e);
  if (e.complete) mWrittenBytes -= e.size;
  if (auto source = mSources.find(e.source); source != mSources.end()) {
    source->second.bytes -= e.size;
    if (source->second.bytes == 0 && source->second.pending == 0) mSources.erase(source);
  }
  if (auto room = mRoomBytes.find(e.roomId); room != mRoomBytes.end()) {
    room->second -= e.size;
    if (room->second == 0) mRoomBytes.erase(room);
  }
  mTotalBytes -= e.size;
  mFiles.erase(it);
}

std::vector<FileStore::StoredFile> FileStore::files(const std::string& roomId, size_t limit) const {
  std::vector<StoredFile> out;
  for (const auto& [id, e] : mFiles) {
    if (e.roomId != roomId || !e.complete) continue;
    StoredFile f{e.size, e.created, std::nullopt};
    if (mSettings.retention != common::Duration::zero()) f.deleteAt = e.created + mSettings.retention;
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(), [](const StoredFile& a, const StoredFile& b) { return a.created < b.created; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

size_t FileStore::fileCount(const std::string& roomId) const {
  return static_cast<size_t>(std::count_if(mFiles.begin(), mFiles.end(), [&](const auto& entry) {
    return entry.second.roomId == roomId && entry.second.complete;
  }));
}

uint64_t FileStore::storedBytes(const std::string& roomId) const {
  uint64_t total = 0;
  for (const auto& [id, e] : mFiles)
    if (e.roomId == roomId && e.complete) total += e.size;
  return total;
}

void FileStore::deleteRoom(const std::string& roomId) {
  size_t n = 0;
  for (auto it = mFiles.begin(); it != mFiles.end();) {
    if (it->second.roomId == roomId) {
      auto next = std::next(it);
      erase(it);
      it = next;
      ++n;
    } else {
      ++it;
    }
  }
  if (n) common::logger("files")->info("room {}: {} files deleted", common::logId(roomId), n);
}

void FileStore::tick(common::TimePoint now) {
  const bool retention = mSettings.retention != common::Duration::zero();
  size_t expired = 0;
  for (auto it = mFiles.begin(); it != mFiles.end();) {
    const Entry& e = it->second;
    bool unused = !e.uploading && !e.complete && now - e.created >= mSettings.reservationTimeout;
    bool old = retention && !e.uploading && now - e.created >= mSettings.retention;
    auto next = std::next(it);
    if (unused || old) {
      expired += unused;
      erase(it);
    }
    it = next;
  }
  if (expired) common::logger("files")->debug("{} unused upload reservations expired", expired);
}

}  // namespace conclave::store
