#include "storage/text_ids.h"

namespace fanout {

Status TextIds::PrepareFor(SqliteDb& db, const std::string& table, const std::string& column) {
  FANOUT_RETURN_IF_ERROR(Prepare(db, find, "SELECT id FROM " + table + " WHERE " + column + " = ?1"));
  return Prepare(db, insert, "INSERT INTO " + table + " (" + column + ") VALUES (?1) RETURNING id");
}

Result<int64_t> TextIds::IdOf(std::string_view text) {
  if (std::optional<int64_t> id = cache.Find(text)) return *id;
  for (SqliteStmt* stmt : {&find, &insert}) {
    stmt->Bind(1, text);
    Result<bool> row = stmt->Step();
    const int64_t id = row.ok() && *row ? stmt->ColumnInt(0) : 0;
    stmt->Reset();
    if (!row.ok()) return row.status();
    if (*row) {
      cache.Put(text, id);
      return id;
    }
  }
  return Status::IOError("no id for '" + std::string(text) + "' after inserting it");
}

}  // namespace fanout
