// Read-only questions about the runs of a crawl database, asked by the command line: what became of
// a run's seeds, the id the next run will get, where a run's archive went, which runs there are.
// Each reads with the caller's open SqliteDb (read-only or not) and returns plain values: the
// wording of any report is the caller's. They expect the current schema (storage/schema.h)
// unless they say otherwise.
//
// Errors: SQLite errors as SqliteDb returns them; kCorruption where a stored value cannot be read.
//
// Thread rules: as SqliteDb, one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"
#include "util/result.h"
#include "util/status.h"

namespace fanout {

// What the database says of one seed of a run.
struct SeedOutcome {
  enum class Fate {
    kUnknown,  // no row: the run stopped before it, or it is still to come
    kFetched,  // a pages row: answered (status > 0) or not (status 0, with an error)
    kRobots,   // never fetched: a skipped row with reason 'robots'
    kNoHost,   // never fetched: its host's name did not resolve (a skipped row 'dns-...')
  };
  std::string url;
  Fate fate = Fate::kUnknown;
  int64_t status = 0;      // kFetched: the HTTP status, 0 when the server did not answer
  std::string error_kind;  // kFetched with status 0: pages.error_kind ("" when NULL)
  std::string error;       // kFetched with status 0: pages.error ("" when NULL)
  std::string robots_detail;  // kRobots: skipped.detail ("" when NULL)
  std::string skip_reason;    // kNoHost: skipped.reason ("dns-nxdomain", ...); its detail in robots_detail
};

// The seeds of run `run` (runs.seeds, in their order; entries that are not strings left out), each
// with its fate. Errors: kCorruption when runs.seeds is not a JSON array, or the run does not exist.
Result<std::vector<SeedOutcome>> ReadSeedOutcomes(SqliteDb& db, int64_t run);

// The id the next run added to the runs table will get: one more than the largest (its rowid), or
// 1 for an empty table.
Result<int64_t> NextRunId(SqliteDb& db);

// The prefix (PREFIX of PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz) of the last archive file of run `run`,
// so that a resumed run goes on archiving where it did; "" when the run archived nothing.
Result<std::string> ArchivePrefixOfRun(SqliteDb& db, int64_t run);

// A payload a run archived as a page's response record: the first of each digest is the record a
// later revisit record refers to.
struct ArchivedPayload {
  std::string payload_digest;  // WARC-Payload-Digest
  std::string url;             // the page's final URL (after redirects), else its URL
  std::string warc_date;       // WARC-Date of the record
};

// Calls `visit` for each response record of run `run` that has a digest and a date, in the order
// the pages were stored. Reads row by row: nothing is held but the row at hand.
Status ForEachArchivedPayload(SqliteDb& db, int64_t run, const std::function<void(const ArchivedPayload&)>& visit);

// One row of the runs table, as `fanout runs` lists it. A run that never finished has no counts of
// its own (FinishRun sets them): pages and errors are then counted from what it stored.
struct RunListing {
  int64_t id = 0;
  double started_at = 0;                 // unix time, seconds
  std::optional<double> finished_at;     // nullopt: unfinished
  std::string mode;
  std::string seeds;                     // runs.seeds: a JSON array of URLs
  int64_t pages = 0, errors = 0;
  std::optional<double> wall_seconds;    // nullopt until the run finished
  std::optional<double> pages_per_second;
};

// Every run of the database, by id. Reads any schema version `fanout runs` accepts.
Result<std::vector<RunListing>> ListRuns(SqliteDb& db);

// The paths of the archive files (warc_files) of run `run`, or of every run when `run` is 0, in the
// order they were written. REQUIRES: a schema with warc_files (kWarcVersion or newer).
Result<std::vector<std::string>> ArchiveFilesOf(SqliteDb& db, int64_t run);

// Where an archive holds the record of a page: its file, and the offset and length of its gzip member.
struct ArchivedRecordAt {
  int64_t run = 0;
  std::string file;
  uint64_t offset = 0, length = 0;
};

// The archived page of `url` (requested or, after redirects, final; the requested one first) in run
// `run`, or in the latest run that archived it when `run` is 0; nullopt when there is none.
// REQUIRES: a schema with warc_files (kWarcVersion or newer).
Result<std::optional<ArchivedRecordAt>> LocateArchivedPage(SqliteDb& db, const std::string& url, int64_t run);

}  // namespace fanout
