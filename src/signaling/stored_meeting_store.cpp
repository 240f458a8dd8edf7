#include "signaling/stored_meeting_store.h"

#include "common/log.h"
#include "signaling/protocol.h"

namespace conclave::signaling {
namespace {

int64_t toMs(MeetingStore::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Settings as stored (settingsJson, or a persistent room's settings from the account page): what
// does not pass set-settings' schema is ignored, field by field falling back to the defaults.
MeetingSettings parseSettings(const std::string& text, int serverMax) {
  MeetingSettings settings;
  settings.maxParticipants = serverMax;
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return settings;
  json.erase("pinSet");
  json.erase("pin");
  if (auto problem = settingsChangeProblem(json)) {
    common::logger("store")->warn("ignoring stored meeting settings: {}", *problem);
    return settings;
  }
  SettingsChange::fromJson(json).applyTo(settings, serverMax);
  return settings;
}

}  // namespace

std::optional<MeetingRecord> StoredMeetingStore::get(const std::string& roomId) {
  auto persistent = mTable.persistentSettings(roomId);
  if (auto row = mTable.get(roomId))
    return MeetingRecord{parseSettings(row->settings, mServerMax), row->pinHash, row->ended, row->moved,
                         persistent.has_value()};
  if (persistent) return MeetingRecord{parseSettings(*persistent, mServerMax), "", false, false, true};
  return std::nullopt;
}

bool StoredMeetingStore::put(const std::string& roomId, const MeetingRecord& record, WallTime now) {
  auto settings = settingsJson(record.settings, false);
  settings.erase("pinSet");
  std::string text = settings.dump();
  if (mTable.persistentSettings(roomId)) mTable.setPersistentSettings(roomId, text);
  return mTable.put(roomId, store::MeetingRow{text, record.pinHash, record.ended, record.moved}, toMs(now));
}

void StoredMeetingStore::touch(const std::string& roomId, WallTime now) { mTable.touch(roomId, toMs(now)); }

size_t StoredMeetingStore::purgeUnused(WallTime cutoff) { return mTable.purge(toMs(cutoff)); }

}  // namespace conclave::signaling
