// Anti-hijacking: failed attempts to get into meetings (room-not-found, wrong-pin, pin-required,
// meeting-locked, banned, a made-up host token) are counted per source and per meeting, with
// exponential backoff; and the meetings' ban tables.
//
// A source is never held as its address: its key is HMAC-SHA256(salt, net::SourceKey) cut to 16
// bytes, under a random salt that lives in memory only and is replaced every 24 hours (which also
// drops every counter). Bans use the same keys; a ban made under the previous salt is still
// checked, so it lasts at least 24 hours (or the meeting's life, when shorter): a meeting longer
// than that should be moved to a new secret anyway. People behind one NAT share a key.
//
// Per source: the first `freeFailures` failures cost nothing; then the source is blocked for
// `firstBlock`, doubling with every further failure up to `maxBlock`; an hour (`decay`) without a
// failure starts it over. Attempts while blocked are answered `blocked` and not counted.
// Per meeting: when more than `meetingFailuresPerMinute` failures from all sources fall into one
// minute, joins to that meeting (without a host token) are blocked until the minute is over;
// other meetings are unaffected.
//
// Memory is bounded: at most `maxSources` and `maxMeetings` counters (the least recently failed
// are forgotten first) and `maxBansPerMeeting` bans per meeting in at most `maxMeetings` meetings.
// Time is a parameter (steady clock), so tests drive it by hand.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "net/source_key.h"

namespace conclave::signaling {

class AdmissionGuard {
 public:
  struct Limits {
    int freeFailures = 5;
    common::Duration firstBlock = std::chrono::seconds(1);
    common::Duration maxBlock = std::chrono::minutes(15);
    common::Duration decay = std::chrono::hours(1);
    int meetingFailuresPerMinute = 50;
    size_t maxSources = 100000;
    size_t maxMeetings = 10000;
    size_t maxBansPerMeeting = 1000;
    common::Duration saltLifetime = std::chrono::hours(24);
  };
  using Key = std::array<uint8_t, 16>;

  explicit AdmissionGuard(Limits limits);

  // How long `source` must wait before it may try `roomId` again (zero: it may try now).
  common::Duration blockedFor(const std::string& roomId, const net::SourceKey& source, common::TimePoint now);
  void recordFailure(const std::string& roomId, const net::SourceKey& source, common::TimePoint now);

  // The ban table (issue 10, `remove`): a banned source gets `banned` when it joins or knocks.
  void ban(const std::string& roomId, const net::SourceKey& source, common::TimePoint now);
  bool isBanned(const std::string& roomId, const net::SourceKey& source, common::TimePoint now);
  // The meeting is over (its room closed): its bans and counter go.
  void forgetMeeting(const std::string& roomId);

  size_t sourceCount() const { return mSources.size(); }
  size_t meetingCount() const { return mMeetings.size(); }
  size_t bannedMeetingCount() const { return mBans.size(); }

 private:
  struct SourceEntry {
    int failures = 0;
    common::TimePoint lastFailure{};
    common::TimePoint blockedUntil{};
    std::list<Key>::iterator order;
  };
  struct MeetingEntry {
    common::TimePoint windowStart{};
    int failures = 0;
    common::TimePoint blockedUntil{};
    std::list<std::string>::iterator order;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };

  void rotateIfDue(common::TimePoint now);
  Key keyOf(const net::SourceKey& source, const std::array<uint8_t, 32>& salt) const;

  Limits mLimits;
  std::array<uint8_t, 32> mSalt{};
  std::array<uint8_t, 32> mPreviousSalt{};
  bool mHasPrevious = false;
  uint64_t mGeneration = 0;
  std::optional<common::TimePoint> mSaltSince;  // set by the first call
  std::unordered_map<Key, SourceEntry, KeyHash> mSources;
  std::list<Key> mSourceOrder;  // least recently failed first
  std::unordered_map<std::string, MeetingEntry> mMeetings;
  std::list<std::string> mMeetingOrder;
  // Per meeting: banned keys with the salt generation they were made under.
  std::map<std::string, std::map<Key, uint64_t>> mBans;
};

}  // namespace conclave::signaling
