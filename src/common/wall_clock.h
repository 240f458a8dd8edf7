// Calendar time as a parameter, for what is stored with a date (retention counted in days,
// across restarts): code takes a WallClock, tests set and move a ManualWallClock by hand.
#pragma once

#include <chrono>
#include <cstdint>

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

}  // namespace conclave::common
