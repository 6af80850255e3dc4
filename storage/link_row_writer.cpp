#include "storage/link_row_writer.h"

#include <string>

namespace fanout {

Status LinkRowWriter::Prepare(SqliteDb& db) {
  const std::string insert = "INSERT INTO link_rows (page_id, url_id, followed, reason_id) VALUES (?, ?, ?, ?)";
  FANOUT_RETURN_IF_ERROR(fanout::Prepare(db, one_, insert));
  std::string many = insert;
  for (size_t i = 1; i < kPerInsert; ++i) many += ", (?, ?, ?, ?)";
  return fanout::Prepare(db, many_, many);
}

Status LinkRowWriter::Add(int64_t page_id, int64_t url_id, Follow followed, int64_t reason_id) {
  rows_[queued_++] = Row{url_id, static_cast<int64_t>(followed), reason_id};
  return queued_ == kPerInsert ? Flush(page_id) : Status::Ok();
}

Status LinkRowWriter::Flush(int64_t page_id) {
  const bool full = queued_ == kPerInsert;
  SqliteStmt& s = full ? many_ : one_;
  Status written;
  for (size_t i = 0; i < queued_ && written.ok(); ++i) {
    const int base = full ? static_cast<int>(4 * i) : 0;
    s.Bind(base + 1, page_id).Bind(base + 2, rows_[i].url_id).Bind(base + 3, rows_[i].followed);
    if (rows_[i].reason_id == 0) {
      s.BindNull(base + 4);
    } else {
      s.Bind(base + 4, rows_[i].reason_id);
    }
    if (!full) {
      written = s.Run();
      s.Reset();
    }
  }
  if (full) {
    written = s.Run();
    s.Reset();
  }
  queued_ = 0;
  return written;
}

}  // namespace fanout
