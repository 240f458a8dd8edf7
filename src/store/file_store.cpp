#include "store/file_store.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/base64.h"
#include "common/log.h"
#include "common/random.h"
#include "store/key_store.h"

namespace conclave::store {

namespace {

// Regular files under `dir` and their bytes (symbolic links are not followed).
FileStore::PurgeCounts countFiles(const std::filesystem::path& dir) {
  FileStore::PurgeCounts counts;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    ++counts.orphans;
    counts.orphanBytes += it->file_size(ec);
  }
  return counts;
}

}  // namespace

FileStore::FileStore(Settings settings) : mSettings(std::move(settings)) {
  // Nothing survives a restart: files of meetings that were running are gone with them, and so
  // are partial uploads and anything else a crashed process left here. None of it was readable
  // any more (the keys lived in that process's memory); now it is not on the disk either.
  std::error_code ec;
  if (std::filesystem::is_directory(std::filesystem::symlink_status(mSettings.directory, ec)))
    mStartPurge = countFiles(mSettings.directory);
  std::filesystem::remove_all(mSettings.directory, ec);
  store::ensureDirectory(mSettings.directory.string(), 0700);
  common::logger("purge")->info("files at start: {} left by the previous run removed ({} bytes, unreadable)",
                                mStartPurge.orphans, mStartPurge.orphanBytes);
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
  // The at-rest sealing adds a header and a tag per chunk (0.03 %): the disk check counts them.
  if (ec || space.available < mSettings.minFreeDiskBytes + sealedSize(mTotalBytes - mWrittenBytes) + sealedSize(size))
    return Error::StoreFull;
  auto& usage = mSources[source];
  Upload up{common::randomToken(16), common::randomToken(16)};
  mFiles[up.fileId] = Entry{roomId, source, up.token, size, false, false, now};
  auto& key = mKeys[roomId];
  if (!key.key) key.key = std::make_shared<const FileKey>();  // the meeting's first file
  ++key.files;
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

common::Result<SealedWriter, FileStore::Error> FileStore::openUpload(const std::string& fileId,
                                                                     const std::string& token, uint64_t contentLength) {
  auto path = beginUpload(fileId, token, contentLength);
  if (!path) return path.error();
  const Entry& e = mFiles.at(fileId);
  auto writer = SealedWriter::create(path.value(), mKeys.at(e.roomId).key, fileId, e.size);
  if (!writer) {
    completeUpload(fileId, 0);  // gives the reservation back
    return Error::Io;
  }
  return std::move(writer).value();
}

common::Result<SealedReader, FileStore::Error> FileStore::openDownload(const std::string& fileId) const {
  auto path = download(fileId);
  if (!path) return Error::NotFound;
  const Entry& e = mFiles.at(fileId);
  auto key = mKeys.find(e.roomId);
  auto reader = SealedReader::open(*path, key == mKeys.end() ? nullptr : key->second.key, fileId, e.size);
  if (!reader) return reader.error() == SealError::Damaged ? Error::Damaged : Error::Io;
  return std::move(reader).value();
}

std::optional<common::TimePoint> FileStore::deleteAt(const Entry& e) const {
  if (mSettings.retention == common::Duration::zero()) return std::nullopt;
  return e.created + mSettings.retention;
}

std::vector<FileStore::FileInfo> FileStore::files(const std::string& roomId) const {
  std::vector<FileInfo> out;
  for (const auto& [id, e] : mFiles) {
    if (e.roomId != roomId) continue;
    out.push_back(FileInfo{id, e.size, e.complete ? sealedSize(e.size) : 0, e.complete, e.created, deleteAt(e)});
  }
  return out;
}

uint64_t FileStore::storedBytes() const {
  uint64_t total = 0;
  for (const auto& [id, e] : mFiles)
    if (e.complete) total += sealedSize(e.size);
  return total;
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
  // The meeting's last file: its key goes with it, and with the key whatever of it is on disk.
  if (auto key = mKeys.find(e.roomId); key != mKeys.end() && --key->second.files == 0) mKeys.erase(key);
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
  mKeys.erase(roomId);  // the meeting ended: its key goes even if a file is still being read
  if (n) common::logger("files")->info("room {}: {} files deleted", common::logId(roomId), n);
}

void FileStore::tick(common::TimePoint now) { expire(now); }

void FileStore::expire(common::TimePoint now) {
  const bool retention = mSettings.retention != common::Duration::zero();
  size_t expired = 0;
  for (auto it = mFiles.begin(); it != mFiles.end();) {
    const Entry& e = it->second;
    bool unused = !e.uploading && !e.complete && now - e.created >= mSettings.reservationTimeout;
    bool old = retention && !e.uploading && now - e.created >= mSettings.retention;
    auto next = std::next(it);
    if (unused || old) {
      expired += unused;
      mSincePurge.expiredFiles += !unused;
      erase(it);
    }
    it = next;
  }
  mSincePurge.expiredReservations += expired;
  if (expired) common::logger("files")->debug("{} unused upload reservations expired", expired);
}

FileStore::PurgeCounts FileStore::purge(common::TimePoint now) {
  expire(now);
  PurgeCounts counts = std::exchange(mSincePurge, PurgeCounts{});
  // Whatever is in the directory and not in the store: nothing writes there but this store, so
  // such a file was left behind (an upload cut off by a failed erase, a file put there by hand).
  std::error_code ec;
  std::vector<std::filesystem::path> orphans;
  for (auto it = std::filesystem::directory_iterator(mSettings.directory, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (mFiles.count(it->path().filename().string())) continue;
    std::error_code sizeError;
    if (it->is_regular_file(sizeError)) counts.orphanBytes += it->file_size(sizeError);
    orphans.push_back(it->path());
  }
  for (const auto& path : orphans) {
    std::error_code removeError;
    counts.orphans += std::filesystem::remove_all(path, removeError) > 0;
  }
  return counts;
}

}  // namespace conclave::store
