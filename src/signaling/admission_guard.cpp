#include "signaling/admission_guard.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "common/random.h"

namespace conclave::signaling {

size_t AdmissionGuard::KeyHash::operator()(const Key& k) const {
  // The key is already a keyed hash: its first bytes are as good as any hash of it.
  size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

AdmissionGuard::AdmissionGuard(Limits limits) : mLimits(limits) { common::randomBytes(mSalt); }

void AdmissionGuard::rotateIfDue(common::TimePoint now) {
  if (!mSaltSince) mSaltSince = now;
  if (now - *mSaltSince < mLimits.saltLifetime) return;
  mPreviousSalt = mSalt;
  mHasPrevious = true;
  common::randomBytes(mSalt);
  mSaltSince = now;
  ++mGeneration;
  // Counters start over under the new salt; bans older than the previous salt go.
  mSources.clear();
  mSourceOrder.clear();
  for (auto it = mBans.begin(); it != mBans.end();) {
    std::erase_if(it->second, [&](const auto& ban) { return ban.second + 1 < mGeneration; });
    it = it->second.empty() ? mBans.erase(it) : std::next(it);
  }
}

AdmissionGuard::Key AdmissionGuard::keyOf(const net::SourceKey& source, const std::array<uint8_t, 32>& salt) const {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()), source.data(), source.size(), mac, &len);
  Key key{};
  std::copy_n(mac, key.size(), key.begin());
  return key;
}

common::Duration AdmissionGuard::blockedFor(const std::string& roomId, const net::SourceKey& source,
                                            common::TimePoint now) {
  rotateIfDue(now);
  common::Duration wait = common::Duration::zero();
  if (auto it = mSources.find(keyOf(source, mSalt)); it != mSources.end())
    wait = std::max(wait, it->second.blockedUntil - now);
  if (auto it = mMeetings.find(roomId); it != mMeetings.end()) wait = std::max(wait, it->second.blockedUntil - now);
  return std::max(wait, common::Duration::zero());
}

void AdmissionGuard::recordFailure(const std::string& roomId, const net::SourceKey& source, common::TimePoint now) {
  rotateIfDue(now);
  Key key = keyOf(source, mSalt);
  auto it = mSources.find(key);
  if (it == mSources.end()) {
    if (mSources.size() >= mLimits.maxSources) {
      mSources.erase(mSourceOrder.front());
      mSourceOrder.pop_front();
    }
    it = mSources.emplace(key, SourceEntry{}).first;
    it->second.order = mSourceOrder.insert(mSourceOrder.end(), key);
  } else {
    mSourceOrder.splice(mSourceOrder.end(), mSourceOrder, it->second.order);
  }
  SourceEntry& s = it->second;
  if (s.failures > 0 && now - s.lastFailure >= mLimits.decay) s.failures = 0;
  ++s.failures;
  s.lastFailure = now;
  if (s.failures >= mLimits.freeFailures) {
    int doublings = std::min(s.failures - mLimits.freeFailures, 30);
    auto block = std::min<common::Duration>(mLimits.firstBlock * (int64_t{1} << doublings), mLimits.maxBlock);
    s.blockedUntil = now + block;
  }

  auto m = mMeetings.find(roomId);
  if (m == mMeetings.end()) {
    if (mMeetings.size() >= mLimits.maxMeetings) {
      mMeetings.erase(mMeetingOrder.front());
      mMeetingOrder.pop_front();
    }
    m = mMeetings.emplace(roomId, MeetingEntry{}).first;
    m->second.windowStart = now;
    m->second.order = mMeetingOrder.insert(mMeetingOrder.end(), roomId);
  } else {
    mMeetingOrder.splice(mMeetingOrder.end(), mMeetingOrder, m->second.order);
  }
  MeetingEntry& meeting = m->second;
  if (now - meeting.windowStart >= std::chrono::minutes(1)) {
    meeting.windowStart = now;
    meeting.failures = 0;
  }
  if (++meeting.failures > mLimits.meetingFailuresPerMinute)
    meeting.blockedUntil = meeting.windowStart + std::chrono::minutes(1);
}

void AdmissionGuard::ban(const std::string& roomId, const net::SourceKey& source, common::TimePoint now) {
  rotateIfDue(now);
  auto it = mBans.find(roomId);
  if (it == mBans.end()) {
    if (mBans.size() >= mLimits.maxMeetings) return;  // never reached in practice: rooms are fewer
    it = mBans.emplace(roomId, std::map<Key, uint64_t>{}).first;
  }
  if (it->second.size() >= mLimits.maxBansPerMeeting) return;
  it->second[keyOf(source, mSalt)] = mGeneration;
}

bool AdmissionGuard::isBanned(const std::string& roomId, const net::SourceKey& source, common::TimePoint now) {
  rotateIfDue(now);
  auto it = mBans.find(roomId);
  if (it == mBans.end()) return false;
  if (it->second.contains(keyOf(source, mSalt))) return true;
  return mHasPrevious && it->second.contains(keyOf(source, mPreviousSalt));
}

void AdmissionGuard::forgetMeeting(const std::string& roomId) {
  mBans.erase(roomId);
  if (auto m = mMeetings.find(roomId); m != mMeetings.end()) {
    mMeetingOrder.erase(m->second.order);
    mMeetings.erase(m);
  }
}

}  // namespace conclave::signaling
