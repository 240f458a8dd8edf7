// How often one source may start meetings (POST /api/rooms). Starting one is cheap for the
// client but not for the server: a PIN in the first settings costs ~80 ms of the PIN hasher's
// thread (which real joins wait for) and every meeting with settings takes a row of the bounded
// meetings table. A person starts a handful; a flood from one source is refused with a wait.
#pragma once

#include <cstddef>
#include <map>

#include "common/clock.h"
#include "common/token_bucket.h"
#include "net/source_key.h"

namespace conclave::http {

class CreationLimiter {
 public:
  struct Limits {
    double perSecond = 0.5;  // 30 a minute once the burst is used
    double burst = 20;
    size_t maxSources = 10000;  // past it, the source idle the longest is forgotten
  };
  explicit CreationLimiter(Limits limits) : mLimits(limits) {}

  bool allow(const net::SourceKey& source, common::TimePoint now) {
    auto it = mSources.find(source);
    if (it == mSources.end()) {
      if (mSources.size() >= mLimits.maxSources) forgetOldest();
      it = mSources.emplace(source, Entry{common::TokenBucket(mLimits.perSecond, mLimits.burst, now), now}).first;
    }
    it->second.last = now;
    return it->second.bucket.take(now);
  }

  size_t sourceCount() const { return mSources.size(); }

 private:
  struct Entry {
    common::TokenBucket bucket;
    common::TimePoint last;
  };
  // A scan, but only when the table is full: a source that is refused costs nothing more.
  void forgetOldest() {
    auto oldest = mSources.begin();
    for (auto it = mSources.begin(); it != mSources.end(); ++it)
      if (it->second.last < oldest->second.last) oldest = it;
    if (oldest != mSources.end()) mSources.erase(oldest);
  }

  Limits mLimits;
  // Ordered, not hashed: a client picks its addresses (an IPv6 /64 holds many), so no collisions to aim at.
  std::map<net::SourceKey, Entry> mSources;
};

}  // namespace conclave::http
