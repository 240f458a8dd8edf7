// Meetings' settings in the server's database (h10-admission's MeetingStore over the meetings
// table), so that settings, PINs and the ended/moved marks of ordinary meetings survive a restart
// until `meeting_retention_days` after their last use. A persistent room's settings live with the
// room (rooms.settings, edited on the account page too): a change in the meeting is written there
// as well, and a persistent room without a meetings row starts from them.
#pragma once

#include "signaling/meeting_store.h"
#include "store/meeting_table.h"

namespace conclave::signaling {

class StoredMeetingStore final : public MeetingStore {
 public:
  // `serverMaxParticipants` caps maxParticipants read back (as set-settings does).
  StoredMeetingStore(const store::Database& db, size_t maxMeetings, int serverMaxParticipants)
      : mTable(db, maxMeetings), mServerMax(serverMaxParticipants) {}

  std::optional<MeetingRecord> get(const std::string& roomId) override;
  bool put(const std::string& roomId, const MeetingRecord& record, WallTime now) override;
  void touch(const std::string& roomId, WallTime now) override;
  void purge(WallTime cutoff) override { purgeUnused(cutoff); }
  // As purge; returns how many meetings went.
  size_t purgeUnused(WallTime cutoff);

 private:
  store::MeetingTable mTable;
  int mServerMax;
};

}  // namespace conclave::signaling
