#include "signaling/stored_security_log.h"

namespace conclave::signaling {
namespace {

std::optional<SecurityEventType> parseEventType(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(SecurityEventType::MeetingMoved); ++i) {
    auto type = static_cast<SecurityEventType>(i);
    if (securityEventName(type) == name) return type;
  }
  return std::nullopt;
}

}  // namespace

void StoredSecurityLog::append(const std::string& roomId, SecurityEvent event) {
  mTable.append(roomId, store::EventLogRow{event.at, std::string(securityEventName(event.type)), std::move(event.actor),
                                           std::move(event.subject), std::move(event.detail)});
}

std::vector<SecurityEvent> StoredSecurityLog::list(const std::string& roomId, std::optional<int64_t> before,
                                                   size_t limit) const {
  std::vector<SecurityEvent> out;
  for (auto& row : mTable.list(roomId, before, limit)) {
    auto type = parseEventType(row.type);
    if (!type) continue;  // written by a newer conclave: not shown by this one
    out.push_back(SecurityEvent{row.at, *type, std::move(row.actor), std::move(row.subject), std::move(row.detail)});
  }
  return out;
}

}  // namespace conclave::signaling
