// Backoff for password and second-factor attempts, counted per key (a username, or a salted hash
// of the client's network). In memory only: after `freeFailures` failures a key is blocked for
// `firstBlock`, doubling with each further failure up to `maxBlock`; its count is forgotten after
// `decay` without failures. Time is a parameter (milliseconds) so tests drive it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "net/source_key.h"

namespace conclave::accounts {

class AttemptLimiter {
 public:
  struct Settings {
    int freeFailures = 5;
    int64_t firstBlockMs = 1000;
    int64_t maxBlockMs = 15 * 60 * 1000;
    int64_t decayMs = 60 * 60 * 1000;
    // Keys held at most; when full, forgotten counts go first, then the oldest failures.
    size_t maxKeys = 100000;
  };

  AttemptLimiter() = default;
  explicit AttemptLimiter(Settings settings) : mSettings(settings) {}

  // Milliseconds until `key` may try again; 0 if it may try now.
  int64_t retryAfterMs(const std::string& key, int64_t nowMs) const;
  void failure(const std::string& key, int64_t nowMs);
  void success(const std::string& key) { mEntries.erase(key); }
  void clear() { mEntries.clear(); }
  // Forgets counts past `decay` that block nothing any more; returns how many.
  size_t purge(int64_t nowMs);
  size_t size() const { return mEntries.size(); }

 private:
  struct Entry {
    int failures = 0;
    int64_t lastFailure = 0;
    int64_t blockedUntil = 0;
  };
  void makeRoom(int64_t nowMs);

  Settings mSettings;
  std::unordered_map<std::string, Entry> mEntries;
};

// The key a client's network is counted under: HMAC-SHA256(salt, source key) truncated to 16
// bytes. The salt is random, held in memory and replaced every 24 h, so no stored or logged value
// can be linked back to an address, nor across days.
class SourceHasher {
 public:
  // True when the salt was replaced: counts under the old salt are meaningless from now on.
  bool rotateIfDue(int64_t nowMs);
  std::string keyOf(const net::SourceKey& source) const;

 private:
  std::array<uint8_t, 32> mSalt{};
  int64_t mRotatedAt = -1;
};

}  // namespace conclave::accounts
