// CopyAsVersion4: the rows of a crawl database, written as schema version 4 laid them out, for the
// tests that a file from before compact links (version 5) is still read, exported, resumed and
// migrated as it was.
//
// Version 4 kept each link as a row of the links table, its URL and reason as text; the copy's links
// rowids are the link ids of the source (link_rows.id), as a version 4 crawl would have numbered them.
// Every other table is the same in both versions and is copied as it is, but for runs: the columns
// version 6 added to it (worker, frontier, frontier_run) are left out.
#pragma once

#include <string>

#include "storage/schema.h"
#include "storage/sqlite.h"
#include "util/status.h"

namespace fanout::test {

// Writes a new version 4 database at `to` holding the rows of the current-version database `from`.
// REQUIRES: `to` does not exist.
inline Status CopyAsVersion4(const std::string& from, const std::string& to) {
  Result<SqliteDb> db = SqliteDb::Open(to);
  if (!db.ok()) return db.status();
  FANOUT_RETURN_IF_ERROR(MigrateSchemaTo(*db, 4));
  Result<SqliteStmt> attach = db->Prepare("ATTACH DATABASE ?1 AS src");
  if (!attach.ok()) return attach.status();
  attach->Bind(1, from);
  FANOUT_RETURN_IF_ERROR(attach->Run());
  // pages has gained columns since version 4: copy the ones it had.
  std::string page_columns;
  Result<SqliteStmt> columns = db->Prepare("SELECT name FROM pragma_table_info('pages', 'main') ORDER BY cid");
  if (!columns.ok()) return columns.status();
  while (true) {
    Result<bool> row = columns->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    page_columns += (page_columns.empty() ? "" : ", ") + columns->ColumnText(0);
  }
  return db->Exec(R"sql(
    BEGIN;
    INSERT INTO main.runs (id, started_at, finished_at, mode, seeds, options, pages, errors, bytes, wall_seconds,
                           pages_per_second, summary)
      SELECT id, started_at, finished_at, mode, seeds, options, pages, errors, bytes, wall_seconds,
             pages_per_second, summary FROM src.runs;
    INSERT INTO main.pages ()sql" + page_columns + ") SELECT " + page_columns + R"sql( FROM src.pages;
    INSERT INTO main.errors SELECT * FROM src.errors;
    INSERT INTO main.robots SELECT * FROM src.robots;
    INSERT INTO main.skipped SELECT * FROM src.skipped;
    INSERT INTO main.links (rowid, page_id, to_url, followed, reason)
      SELECT l.id, l.page_id, u.url, l.followed, r.reason
      FROM src.link_rows l JOIN src.urls u ON u.id = l.url_id LEFT JOIN src.link_reasons r ON r.id = l.reason_id
      ORDER BY l.id;
    COMMIT;
    DETACH DATABASE src;)sql");
}

}  // namespace fanout::test
