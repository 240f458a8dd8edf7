// Logging: spdlog, one line per event, tagged by subsystem ("http", "ws", "room", "ice", ...).
//
// Privacy rules (docs/security.md): no IP addresses unless the operator turned `log_ips` on, no
// display names or profiles, no full room IDs (use logId(), a short keyed hash), no secrets.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace conclave::common {

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error, off
  bool logIps = false;
};

// Sets up the shared sink and level; safe to call more than once (the last call wins).
void initLogging(const LogSettings& settings);

// The logger of one subsystem; created on first use with the shared sink and level.
std::shared_ptr<spdlog::logger> logger(std::string_view subsystem);

// A short keyed hash of an identifier (8 hex characters), stable for one server key, so that
// logs can follow a room without naming it. setLogKey() sets the key once at start.
void setLogKey(std::span<const uint8_t> key);
std::string logId(std::string_view id);

// The address as it may appear in logs: "-" unless the operator chose to log addresses.
std::string logAddress(std::string_view address);

}  // namespace conclave::common
