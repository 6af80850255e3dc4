// The crawl database's schema: its tables, and the migration that brings a database up to date.
//
// The version lives in meta(key, value) under 'schema_version'. kSchemaVersion is the version this
// build writes. Opening an older database migrates it in place, in one transaction; a newer one is
// refused, so an old fanout never writes into a layout it does not know. README.md documents every
// table and column; change it together with the DDL in schema.cpp.
//
// Thread rules: these functions use the connection they are given, on the caller's thread, like any
// SqliteDb call. MigrateSchema takes the write lock for its check-and-create, so two processes
// opening the same new file at once do not both create the tables.
#pragma once

#include <string>

#include "storage/sqlite.h"
#include "util/result.h"
#include "util/status.h"

namespace fanout {

// The schema version this build reads and writes. Bump it, and add a migration step in schema.cpp,
// for any change to a table, column, index or view.
inline constexpr int kSchemaVersion = 8;

// The version that made links compact: link rows are integers in link_rows (its id is the old
// links rowid), their URLs in urls and reasons in link_reasons, and links is a view with the old
// columns. Readers of older files, which are not migrated, use links' rowid instead of link_rows.id.
inline constexpr int kCompactLinksVersion = 5;

// The links of a database at `version` as a table expression for FROM, with their ids: the columns
// link_id (link_rows.id, or the links rowid before version 5; the order they were stored in),
// page_id, to_url, followed and reason. For readers that go through links in that order, which the
// links view of version 5 on has no rowid for; they work on an unmigrated older file too.
std::string LinksWithIds(int version);

// The version that added runs.worker, frontier and frontier_run: a file before it holds no run of a
// shared frontier.
inline constexpr int kSharedFrontierVersion = 6;

// The version that added the archive's index: warc_files, and pages.warc_file, warc_offset,
// warc_length, warc_type, warc_date and payload_digest.
inline constexpr int kWarcVersion = 7;

// The version that added runs.url_normalization: how the run keyed its URLs ('whatwg' from this
// version on; 'rfc3986', the default the migration gives, for every run before it).
inline constexpr int kUrlNormalizationVersion = 8;

// runs.url_normalization of run `run_id` in a database at `version`: "rfc3986" before it existed.
Result<std::string> UrlNormalizationOf(SqliteDb& db, int version, int64_t run_id);

// Returns the version recorded in db: 0 for a database fanout has never written to.
// Errors: kCorruption when the recorded version is not a number; SQLite errors as SqliteDb returns them.
Result<int> ReadSchemaVersion(SqliteDb& db);

// Brings db to kSchemaVersion: creates the tables in an empty database and runs the migration steps
// on an older one. A database already at kSchemaVersion is not written to.
// Errors: kInvalidArgument for a database whose version is newer than kSchemaVersion ("upgrade
// fanout") or that holds another program's tables (it has tables but no fanout version); nothing is
// written in either case. kCorruption as for ReadSchemaVersion; SQLite errors otherwise.
Status MigrateSchema(SqliteDb& db);

// As MigrateSchema, but stops at `version` (1 .. kSchemaVersion): a database as that older fanout
// wrote it, for the tests of migrating and of reading old files. A database already at `version` or
// later is not written to.
Status MigrateSchemaTo(SqliteDb& db, int version);

}  // namespace fanout
