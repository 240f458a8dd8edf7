#include "store/meeting_table.h"

namespace conclave::store {

std::optional<MeetingRow> MeetingTable::get(std::string_view roomId) const {
  auto s = mDb.prepare("SELECT settings, pin_hash, ended, moved FROM meetings WHERE room_id = ?1");
  s.bind(1, roomId);
  if (!s.step()) return std::nullopt;
  return MeetingRow{s.columnText(0), s.columnText(1), s.columnInt(2) != 0, s.columnInt(3) != 0};
}

bool MeetingTable::put(std::string_view roomId, const MeetingRow& row, int64_t now) {
  Database::Transaction tx(mDb);
  auto exists = mDb.prepare("SELECT 1 FROM meetings WHERE room_id = ?1");
  exists.bind(1, roomId);
  if (!exists.step() && size() >= mMax) return false;
  mDb.prepare(
         "INSERT INTO meetings (room_id, settings, pin_hash, ended, moved, created, last_used) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (room_id) DO UPDATE SET settings = ?2, pin_hash = ?3, "
         "ended = ?4, moved = ?5, last_used = ?6")
      .bind(1, roomId)
      .bind(2, row.settings)
      .bind(3, row.pinHash)
      .bind(4, int64_t{row.ended})
      .bind(5, int64_t{row.moved})
      .bind(6, now)
      .run();
  tx.commit();
  return true;
}

void MeetingTable::touch(std::string_view roomId, int64_t now) {
  mDb.prepare("UPDATE meetings SET last_used = ?2 WHERE room_id = ?1").bind(1, roomId).bind(2, now).run();
}

size_t MeetingTable::purge(int64_t cutoff) {
  mDb.prepare("DELETE FROM meetings WHERE last_used < ?1").bind(1, cutoff).run();
  return static_cast<size_t>(mDb.changes());
}

size_t MeetingTable::size() const {
  auto s = mDb.prepare("SELECT count(*) FROM meetings");
  return s.step() ? static_cast<size_t>(s.columnInt(0)) : 0;
}

std::optional<std::string> MeetingTable::persistentSettings(std::string_view roomId) const {
  auto s = mDb.prepare("SELECT settings FROM rooms WHERE room_id = ?1");
  s.bind(1, roomId);
  if (!s.step()) return std::nullopt;
  return s.columnText(0);
}

void MeetingTable::setPersistentSettings(std::string_view roomId, std::string_view settings) {
  mDb.prepare("UPDATE rooms SET settings = ?2 WHERE room_id = ?1").bind(1, roomId).bind(2, settings).run();
}

}  // namespace conclave::store
