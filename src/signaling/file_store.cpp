#include "signaling/file_store.h"

#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/log.h"
#include "common/random.h"
#include "store/key_store.h"

namespace conclave::signaling {

FileStore::FileStore(Settings settings) : mSettings(std::move(settings)) {
  std::error_code ec;
  // Nothing survives a restart: files of meetings that were running are gone with them.
  std::filesystem::remove_all(mSettings.directory, ec);
  store::ensureDirectory(mSettings.directory.string(), 0700);
}

std::filesystem::path FileStore::pathOf(const std::string& fileId) const { return mSettings.directory / fileId; }

std::variant<FileStore::Upload, FileStore::Error> FileStore::reserve(const std::string& roomId, uint64_t size,
                                                                     common::TimePoint now) {
  if (size == 0 || size > mSettings.maxFileBytes) return Error::TooLarge;
  uint64_t used = 0;
  for (const auto& [id, e] : mFiles)
    if (e.roomId == roomId) used += e.size;
  if (used + size > mSettings.maxRoomBytes) return Error::RoomQuota;
  Upload up{common::randomToken(16), common::randomToken(16)};
  mFiles[up.fileId] = Entry{roomId, up.token, size, false, false, now};
  return up;
}

std::variant<std::filesystem::path, FileStore::Error> FileStore::beginUpload(const std::string& fileId,
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
  return true;
}

std::optional<std::filesystem::path> FileStore::download(const std::string& fileId) const {
  if (!common::isBase64Url(fileId)) return std::nullopt;
  auto it = mFiles.find(fileId);
  if (it == mFiles.end() || !it->second.complete) return std::nullopt;
  return pathOf(fileId);
}

void FileStore::erase(std::map<std::string, Entry>::iterator it) {
  std::error_code ec;
  std::filesystem::remove(pathOf(it->first), ec);
  mFiles.erase(it);
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
  if (mSettings.retention == common::Duration::zero()) return;
  for (auto it = mFiles.begin(); it != mFiles.end();) {
    if (now - it->second.created >= mSettings.retention && !it->second.uploading) {
      auto next = std::next(it);
      erase(it);
      it = next;
    } else {
      ++it;
    }
  }
}

}  // namespace conclave::signaling
