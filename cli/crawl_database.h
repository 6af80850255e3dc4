// Opening a crawl database for the commands that only read it: `fanout why`, `runs` and `export`.
//
// They open the file read-only (SqliteDb::OpenReadOnly): never created, never migrated, never
// written, so they are safe on a database a crawl is writing at that moment (WAL lets them see its
// last committed batch). A database older than kSchemaVersion is read as it is: the tables and
// columns added since then read as absent (HasSkippedTable says which). One newer than
// kSchemaVersion is refused, since this build does not know its layout.
//
// Thread rules: as SqliteDb, one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crawler/url.h"
#include "storage/sqlite.h"
#include "util/result.h"
#include "util/status.h"

namespace fanout::cli {

struct CrawlDatabase {
  std::string path;
  SqliteDb db;
  int schema_version = 0;  // 1 .. kSchemaVersion

  // Schema version 3 added the skipped and robots tables, and pages.attempts, redirect_chain and
  // charset.
  bool HasSkippedTable() const { return schema_version >= 3; }
};

// Opens path read-only and checks that it is a fanout crawl database this build can read.
// Errors: kNotFound ("no such database 'PATH'") for a missing file; kInvalidArgument for a newer
// schema or another program's SQLite file; kCorruption for a file that is not SQLite; kIOError for
// one that cannot be read (a directory, no permission).
Result<CrawlDatabase> OpenCrawlDatabase(const std::string& path);

// The exit code for an error from OpenCrawlDatabase or from reading the database afterwards:
// kExitUnavailable for a missing file, kExitDatabase for anything else.
int DatabaseExitCode(const Status& error);

// The run a command reads: `requested` when given, else the latest run.
// Errors: kNotFound ("no run N in PATH", "PATH has no runs yet"); SQLite errors as SqliteDb returns them.
Result<int64_t> ChooseRun(CrawlDatabase& db, std::optional<int64_t> requested);

// The exit code for an error from ChooseRun: kExitUsage for a run number the database does not
// have (a bad value), kExitFailure for a database with no runs at all, kExitDatabase for a failed read.
int ChooseRunExitCode(const Status& error, bool requested);

// The rules run `run` keyed its URLs by (runs.url_normalization; crawler/url.h): what a URL the
// user typed is normalised with before it is looked up in that run.
// Errors: kCorruption for a name this build does not know; SQLite errors.
Result<UrlRules> UrlRulesOfRun(CrawlDatabase& db, int64_t run);

}  // namespace fanout::cli
