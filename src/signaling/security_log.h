// The security event log of each meeting (docs/security.md, "Security event log"): who joined,
// left, knocked, was admitted, denied or removed, and what the hosts changed. Hosts and
// moderators read it with `get-security-log`.
//
// Entries name participants only by their per-join IDs (pseudonymous) and hold no addresses and
// no names. They are kept `security_log_retention_days` and purged by the retention job
// (app/retention.h: at start, then hourly).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conclave::signaling {

enum class SecurityEventType {
  Joined,
  Left,
  Knocked,
  Admitted,
  Denied,
  Removed,
  Locked,
  Unlocked,
  LobbyOn,
  LobbyOff,
  PinFailed,
  PinSet,
  PinCleared,
  RoleChanged,    // detail: the new role
  PolicyChanged,  // detail: which policy, and its value ("screen=moderators")
  MeetingEnded,
  MeetingMoved,
};

// The wire name: "joined", "lobby-on", ...
std::string_view securityEventName(SecurityEventType type);

struct SecurityEvent {
  int64_t at = 0;  // milliseconds since the Unix epoch
  SecurityEventType type = SecurityEventType::Joined;
  std::string actor;    // participant ID of who did it, "" when none
  std::string subject;  // participant ID of whom it concerns, "" when none
  std::string detail;   // "" when none
};

// Milliseconds since the Unix epoch; tests inject their own.
using MillisClock = std::function<int64_t()>;
int64_t systemClockMs();

// Where entries are kept. The in-memory one below until the SQLite store takes over.
class SecurityLog {
 public:
  static constexpr size_t kMaxListed = 200;

  virtual ~SecurityLog() = default;
  virtual void append(const std::string& roomId, SecurityEvent event) = 0;
  // The room's entries older than `before` (all when nullopt), newest first, at most `limit`.
  virtual std::vector<SecurityEvent> list(const std::string& roomId, std::optional<int64_t> before,
                                          size_t limit) const = 0;
  // Drops every entry older than `olderThan` (ms since the epoch); gives how many went.
  virtual size_t purge(int64_t olderThan) = 0;
};

class MemorySecurityLog final : public SecurityLog {
 public:
  struct Limits {
    size_t perRoom = 1000;  // the oldest entries of a room give way to new ones
    // Across rooms: past it, the log of the room written to least recently goes.
    size_t total = 100000;
  };
  MemorySecurityLog() : MemorySecurityLog(Limits{}) {}
  explicit MemorySecurityLog(Limits limits) : mLimits(limits) {}

  void append(const std::string& roomId, SecurityEvent event) override;
  std::vector<SecurityEvent> list(const std::string& roomId, std::optional<int64_t> before,
                                  size_t limit) const override;
  size_t purge(int64_t olderThan) override;

  size_t size() const { return mTotal; }

 private:
  struct RoomLog {
    std::deque<SecurityEvent> entries;  // oldest first
    uint64_t lastWrite = 0;             // order of the last append, for eviction
  };
  void evictLeastRecentRoom(const std::string& except);

  Limits mLimits;
  std::map<std::string, RoomLog, std::less<>> mRooms;
  size_t mTotal = 0;
  uint64_t mWrites = 0;
};

}  // namespace conclave::signaling
