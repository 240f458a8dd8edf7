// Encrypted files shared in meetings. The server holds only ciphertext (the browser encrypts
// before upload; the key travels in an end-to-end encrypted chat message), under a random
// 128-bit file ID that is the capability to download it. Files are deleted when their meeting
// ends, or earlier after the configured retention; leftovers are wiped at start.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "common/clock.h"

namespace conclave::signaling {

class FileStore {
 public:
  struct Settings {
    std::filesystem::path directory;
    uint64_t maxFileBytes = 100ull * 1024 * 1024;
    uint64_t maxRoomBytes = 1024ull * 1024 * 1024;
    common::Duration retention{};  // zero: until the meeting ends
  };
  struct Upload {
    std::string fileId;
    std::string token;
  };
  enum class Error { TooLarge, RoomQuota, NotFound, BadToken, AlreadyUploaded };

  explicit FileStore(Settings settings);

  // Reserves a file of `size` bytes (ciphertext) for a room.
  std::variant<Upload, Error> reserve(const std::string& roomId, uint64_t size, common::TimePoint now);
  // Checks an upload's token; gives the path to write `size` bytes to.
  std::variant<std::filesystem::path, Error> beginUpload(const std::string& fileId, const std::string& token,
                                                         uint64_t contentLength);
  // The body has been written; a size other than the reserved one discards the file.
  bool completeUpload(const std::string& fileId, uint64_t written);
  // A complete file's path, or nullopt.
  std::optional<std::filesystem::path> download(const std::string& fileId) const;

  void deleteRoom(const std::string& roomId);
  // Retention: deletes files older than Settings::retention.
  void tick(common::TimePoint now);

  uint64_t maxFileBytes() const { return mSettings.maxFileBytes; }
  size_t fileCount() const { return mFiles.size(); }

 private:
  struct Entry {
    std::string roomId;
    std::string token;
    uint64_t size = 0;
    bool uploading = false;
    bool complete = false;
    common::TimePoint created;
  };
  std::filesystem::path pathOf(const std::string& fileId) const;
  void erase(std::map<std::string, Entry>::iterator it);

  Settings mSettings;
  std::map<std::string, Entry> mFiles;
};

}  // namespace conclave::signaling
