#include "store/event_log_table.h"

#include <limits>

namespace conclave::store {

void EventLogTable::append(std::string_view roomId, const EventLogRow& row) {
  Database::Transaction tx(mDb);
  mDb.prepare("INSERT INTO security_log (room_id, at, type, actor, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, roomId)
      .bind(2, row.at)
      .bind(3, row.type)
      .bind(4, row.actor)
      .bind(5, row.subject)
      .bind(6, row.detail)
      .run();
  // The room's rows beyond its limit, oldest first (one index range scan).
  mDb.prepare(
         "DELETE FROM security_log WHERE rowid IN (SELECT rowid FROM security_log WHERE room_id = ?1 "
         "ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?2)")
      .bind(1, roomId)
      .bind(2, static_cast<int64_t>(mLimits.perRoom))
      .run();
  // The total is counted now and then, not on every append: it may overshoot by at most 100 rows.
  if (++mAppends % 100 == 0 && size() > mLimits.total) {
    mDb.prepare(
           "DELETE FROM security_log WHERE rowid IN (SELECT rowid FROM security_log ORDER BY at, rowid LIMIT "
           "(SELECT count(*) FROM security_log) - ?1)")
        .bind(1, static_cast<int64_t>(mLimits.total))
        .run();
  }
  tx.commit();
}

std::vector<EventLogRow> EventLogTable::list(std::string_view roomId, std::optional<int64_t> before,
                                             size_t limit) const {
  auto s = mDb.prepare(
      "SELECT at, type, actor, subject, detail FROM security_log WHERE room_id = ?1 AND at < ?2 "
      "ORDER BY at DESC, rowid DESC LIMIT ?3");
  s.bind(1, roomId).bind(2, before.value_or(std::numeric_limits<int64_t>::max())).bind(3, static_cast<int64_t>(limit));
  std::vector<EventLogRow> out;
  while (s.step())
    out.push_back(EventLogRow{s.columnInt(0), s.columnText(1), s.columnText(2), s.columnText(3), s.columnText(4)});
  return out;
}

size_t EventLogTable::purge(int64_t olderThan) {
  mDb.prepare("DELETE FROM security_log WHERE at < ?1").bind(1, olderThan).run();
  return static_cast<size_t>(mDb.changes());
}

size_t EventLogTable::size() const {
  auto s = mDb.prepare("SELECT count(*) FROM security_log");
  return s.step() ? static_cast<size_t>(s.columnInt(0)) : 0;
}

}  // namespace conclave::store
