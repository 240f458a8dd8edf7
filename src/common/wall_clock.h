// Calendar time as a parameter, for what is stored with a date (retention counted in days,
// across restarts): code takes a WallClock, tests set and move a ManualWallClock by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "common/clock.h"

namespace conclave::common {

using WallTime = std::chrono::system_clock::time_point;

class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual WallTime now() const = 0;
};

class SystemWallClock final : public WallClock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
};

// A wall clock tests set and move by hand.
class ManualWallClock final : public WallClock {
 public:
  explicit ManualWallClock(WallTime start = WallTime{}) : mNow(start) {}
  WallTime now() const override { return mNow; }
  void advance(Duration d) { mNow += std::chrono::duration_cast<WallTime::duration>(d); }

 private:
  WallTime mNow;
};

// Unix milliseconds, as the database stores times.
inline int64_t unixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Unix milliseconds as ISO 8601 UTC to the second ("2026-12-03T17:05:09Z"), as exports and the
// admin commands show them.
inline std::string isoUtc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace conclave::common
