// Encrypted files shared in meetings. The server holds only ciphertext (the browser encrypts
// before upload; the key travels in an end-to-end encrypted chat message), under a random
// 128-bit file ID that is the capability to download it. Files are deleted when their meeting
// ends, or earlier after the configured retention; leftovers are wiped at start.
//
// At rest each file is sealed once more (store/sealed_file.h) with its meeting's key: 256 random
// bits made with the meeting's first file, held only here in memory, destroyed when the meeting
// ends or its last file goes. A crash or restart loses every key, so nothing a dead process left
// on the disk is readable even before the start-up purge removes it (crypto-shredding).
//
// Every byte is budgeted before it is written (issue 7, finding 6): per file, per meeting, per
// source (IPv4 address or IPv6 /64 of the connection that reserved it), for the whole store, and
// against the free space of the disk. A reservation whose upload does not start in time expires.
// All accounting is O(1) or O(log n) per operation.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "net/source_key.h"
#include "store/sealed_file.h"

namespace conclave::store {

class FileStore {
 public:
  struct Settings {
    std::filesystem::path directory;
    uint64_t maxFileBytes = 100ull * 1024 * 1024;
    uint64_t maxRoomBytes = 1024ull * 1024 * 1024;
    uint64_t maxTotalBytes = 10ull * 1024 * 1024 * 1024;
    uint64_t maxSourceBytes = 1024ull * 1024 * 1024;
    size_t maxPendingPerSource = 8;                    // reservations not yet uploaded
    uint64_t minFreeDiskBytes = 512ull * 1024 * 1024;  // never fill the disk past this
    common::Duration reservationTimeout = std::chrono::seconds(60);
    common::Duration retention{};  // zero: until the meeting ends
  };
  struct Upload {
    std::string fileId;
    std::string token;
  };
  enum class Error {
    TooLarge,
    RoomQuota,
    SourceQuota,
    StoreFull,
    TooManyPending,
    NotFound,
    BadToken,
    AlreadyUploaded,
    Damaged,  // the file on disk fails authentication (truncated, altered) or its key is gone
    Io,
  };
  // One file of a meeting, for whoever reports what the server holds (the privacy receipt).
  struct FileInfo {
    std::string fileId;
    uint64_t size = 0;         // the uploaded bytes (what a download gives back)
    uint64_t storedBytes = 0;  // on disk, with the at-rest sealing
    bool complete = false;     // false: reserved or being uploaded
    common::TimePoint created;
    std::optional<common::TimePoint> deleteAt;  // nullopt: when the meeting ends
  };
  // What one purge removed (counts only).
  struct PurgeCounts {
    size_t expiredFiles = 0;         // past `retention`
    size_t expiredReservations = 0;  // never uploaded
    size_t orphans = 0;              // on disk but unknown to the store
    uint64_t orphanBytes = 0;
  };

  explicit FileStore(Settings settings);

  // Reserves a file of `size` bytes (ciphertext) for a room, on behalf of `source`.
  common::Result<Upload, Error> reserve(const std::string& roomId, uint64_t size, common::TimePoint now,
                                        const net::SourceKey& source = {});
  // Checks an upload's token; gives the path to write `size` bytes to.
  common::Result<std::filesystem::path, Error> beginUpload(const std::string& fileId, const std::string& token,
                                                           uint64_t contentLength);
  // The body has been written; a size other than the reserved one discards the file.
  bool completeUpload(const std::string& fileId, uint64_t written);
  // A complete file's path, or nullopt.
  std::optional<std::filesystem::path> download(const std::string& fileId) const;

  // A stored (completely uploaded) file, as the privacy receipt lists it: no ID, no source.
  struct StoredFile {
    uint64_t size = 0;
    common::TimePoint created;                  // when its upload was reserved
    std::optional<common::TimePoint> deleteAt;  // retention; nullopt: when the meeting ends
  };
  // The room's stored files, oldest first, at most `limit` (reservations and uploads under way
  // are not files yet). O(files in the store).
  std::vector<StoredFile> files(const std::string& roomId, size_t limit) const;
  size_t fileCount(const std::string& roomId) const;
  // Bytes of the room's stored files (roomBytes() also counts reservations and uploads).
  uint64_t storedBytes(const std::string& roomId) const;
  common::Duration retention() const { return mSettings.retention; }
  // beginUpload, then a writer that seals the body into place as it comes (one chunk in memory).
  // Give completeUpload the writer's written() once it is complete().
  common::Result<SealedWriter, Error> openUpload(const std::string& fileId, const std::string& token,
                                                 uint64_t contentLength);
  // A reader of a complete file's uploaded bytes. Damaged: the file on disk was truncated or
  // altered (checked for its size now, for each chunk's tag as it is read).
  common::Result<SealedReader, Error> openDownload(const std::string& fileId) const;

  void deleteRoom(const std::string& roomId);
  // Retention and expiry of reservations that were never used (every second; counted for purge).
  void tick(common::TimePoint now);
  // tick, plus files on disk the store does not know (orphans); returns what this and the ticks
  // since the last purge removed (the retention job logs it).
  PurgeCounts purge(common::TimePoint now);
  // What the start wiped: everything a previous process left (its keys died with it).
  const PurgeCounts& startPurge() const { return mStartPurge; }

  // The room's files (reserved, uploading and complete), by file ID.
  std::vector<FileInfo> files(const std::string& roomId) const;
  // Whether the room has a key in memory (it has at least one file).
  bool hasKey(const std::string& roomId) const { return mKeys.count(roomId) != 0; }
  size_t keyCount() const { return mKeys.size(); }
  uint64_t storedBytes() const;

  uint64_t maxFileBytes() const { return mSettings.maxFileBytes; }
  size_t fileCount() const { return mFiles.size(); }
  uint64_t totalBytes() const { return mTotalBytes; }
  uint64_t roomBytes(const std::string& roomId) const;
  uint64_t sourceBytes(const net::SourceKey& source) const;

 private:
  struct Entry {
    std::string roomId;
    net::SourceKey source{};
    std::string token;
    uint64_t size = 0;
    bool uploading = false;
    bool complete = false;
    common::TimePoint created;
  };
  struct RoomKey {
    FileKeyRef key;
    size_t files = 0;
  };
  struct SourceUsage {
    uint64_t bytes = 0;
    size_t pending = 0;
  };
  std::filesystem::path pathOf(const std::string& fileId) const;
  void erase(std::map<std::string, Entry>::iterator it);
  void settle(Entry& e);  // a reservation stops being pending
  void expire(common::TimePoint now);
  std::optional<common::TimePoint> deleteAt(const Entry& e) const;

  Settings mSettings;
  std::map<std::string, Entry> mFiles;
  std::map<std::string, uint64_t> mRoomBytes;
  std::map<net::SourceKey, SourceUsage> mSources;
  uint64_t mTotalBytes = 0;    // reserved, uploading and stored
  uint64_t mWrittenBytes = 0;  // stored (complete) only
  std::map<std::string, RoomKey> mKeys;
  PurgeCounts mSincePurge;  // what ticks removed since the last purge
  PurgeCounts mStartPurge;
};

}  // namespace conclave::store
