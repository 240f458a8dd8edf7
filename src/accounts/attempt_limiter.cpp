#include "accounts/attempt_limiter.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "common/random.h"

namespace conclave::accounts {

int64_t AttemptLimiter::retryAfterMs(const std::string& key, int64_t nowMs) const {
  auto it = mEntries.find(key);
  if (it == mEntries.end() || it->second.blockedUntil <= nowMs) return 0;
  return it->second.blockedUntil - nowMs;
}

void AttemptLimiter::failure(const std::string& key, int64_t nowMs) {
  auto it = mEntries.find(key);
  if (it == mEntries.end()) {
    if (mEntries.size() >= mSettings.maxKeys) makeRoom(nowMs);
    it = mEntries.emplace(key, Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures > 0 && nowMs - e.lastFailure >= mSettings.decayMs) e = Entry{};
  ++e.failures;
  e.lastFailure = nowMs;
  if (e.failures >= mSettings.freeFailures) {
    int doublings = std::min(e.failures - mSettings.freeFailures, 30);
    int64_t block = std::min(mSettings.maxBlockMs, mSettings.firstBlockMs << doublings);
    e.blockedUntil = nowMs + block;
  }
}

size_t AttemptLimiter::purge(int64_t nowMs) {
  return std::erase_if(mEntries, [&](const auto& kv) {
    return nowMs - kv.second.lastFailure >= mSettings.decayMs && kv.second.blockedUntil <= nowMs;
  });
}

void AttemptLimiter::makeRoom(int64_t nowMs) {
  purge(nowMs);
  if (mEntries.size() < mSettings.maxKeys) return;
  // Still full: forget the key whose last failure is oldest (one scan; this happens only under a
  // flood of distinct keys, each of which already cost the sender a request).
  auto oldest = std::min_element(mEntries.begin(), mEntries.end(), [](const auto& a, const auto& b) {
    return a.second.lastFailure < b.second.lastFailure;
  });
  mEntries.erase(oldest);
}

bool SourceHasher::rotateIfDue(int64_t nowMs) {
  constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
  if (mRotatedAt >= 0 && nowMs - mRotatedAt < kDayMs) return false;
  common::randomBytes(mSalt);
  bool replaced = mRotatedAt >= 0;
  mRotatedAt = nowMs;
  return replaced;
}

std::string SourceHasher::keyOf(const net::SourceKey& source) const {
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned length = 0;
  HMAC(EVP_sha256(), mSalt.data(), static_cast<int>(mSalt.size()), source.data(), source.size(), mac.data(), &length);
  return std::string(reinterpret_cast<const char*>(mac.data()), 16);
}

}  // namespace conclave::accounts
