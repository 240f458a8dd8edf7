// Time as a parameter: code that needs "now" takes a Clock (or a time value), so tests can
// drive time by hand instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace conclave::common {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return mNow; }
  void advance(Duration d) { mNow += d; }

 private:
  TimePoint mNow{};
};

inline int64_t toMillis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace conclave::common
