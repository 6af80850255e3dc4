// Merging the workers' crawl databases of one shared run (`fanout merge`) into one run.
//
// Workers that crawl through a shared frontier (--frontier) each write their own database; their
// runs of the shared run carry runs.worker, frontier and frontier_run (schema version 6). The merge
// reads those runs and appends one run to an output database that holds all of them, as if one
// crawl had fetched every page: pages, links (their URLs and reasons interned by text), errors,
// skipped URLs and robots.txt records, with every id renumbered. Rows go in in the order of their
// times (pages by fetched_at), ties to the earlier input, so the merged run reads like one crawl.
// A URL that two workers fetched (the pages a dead worker had in flight are handed out again) is
// kept once: the earliest fetch, with its links and errors; the later fetch's are dropped and
// counted. A robots.txt is kept once per origin (the earliest), a skipped URL once per reason.
//
// Inputs are only read, each through the read-only connection it comes with, inside one read
// transaction, so a worker still writing is read as of one moment. The output is written in one
// transaction; a new output file is built beside its name and renamed into place when complete,
// so a failure leaves nothing behind.
//
// Thread rules: the caller's thread, one call at a time per set of inputs, like any SqliteDb use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.h"
#include "util/result.h"
#include "util/status.h"

namespace fanout {

// A worker's database, opened read-only by the caller (cli/crawl_database.h checks it is a fanout
// database this build can read). Older schemas are read as they are: a file from before version 6
// simply holds no run of a shared frontier.
struct MergeInput {
  std::string path;
  SqliteDb db;
  int schema_version = 0;  // 1 .. kSchemaVersion
};

// One worker's run of the shared run: input `input`'s run `run_id`.
struct WorkerRun {
  size_t input = 0;  // index into the inputs
  int64_t run_id = 0;
  std::string worker;
};

// The shared run to merge, and where each input holds it. A worker restarted as a new run of the
// same shared run (--new-run rather than --resume) has two runs of it in its file: both belong.
struct SharedRun {
  std::string frontier;  // the frontier's address, without password
  int64_t frontier_run = 0;
  std::vector<WorkerRun> runs;  // by input, then by run id; every input has at least one
};

// What MergeSharedRun wrote.
struct MergeStats {
  std::string out;            // the output database
  int64_t run_id = 0;         // the merged run, in `out`
  size_t runs = 0;            // worker runs merged
  std::string workers;        // their names, joined with ','
  bool finished = false;      // every worker run finished, so the merged one has finished_at
  int64_t pages = 0, links = 0, errors = 0, skipped = 0, robots = 0;  // rows written
  int64_t duplicate_pages = 0;  // fetches of a URL another worker fetched earlier: not written
  int64_t dropped_links = 0;    // the links of those fetches
  int64_t dropped_errors = 0;   // and their errors rows
};

// Chooses the shared run: with `frontier_run`, that frontier run id; without, the one shared run
// every input holds, when each input holds exactly one (counting (frontier, frontier_run) pairs,
// not runs) and they agree.
// Errors: kNotFound, one line, when there is no such run: no input holds frontier run N, or it is a
// run of two frontiers; without `frontier_run`, the inputs hold none, or several (the message lists
// each input's choices); an input holding no run of the chosen one (the message names the file).
// SQLite errors as SqliteDb returns them.
Result<SharedRun> ChooseSharedRun(std::vector<MergeInput>& inputs, std::optional<int64_t> frontier_run);

// Appends `run` of `inputs` to the database at `out` as one run, and says what it wrote. `out` is
// created when it does not exist; an existing one must be a fanout database (one from an older
// fanout is first upgraded, as a crawl into it would, in a transaction of its own).
// REQUIRES: `run` came from ChooseSharedRun on these inputs.
// Errors: kInvalidArgument for an `out` that is one of the inputs, another program's database or one
// with a newer schema; kCorruption for an `out` that is not SQLite; kIOError for one that cannot be
// written (a directory, read-only, the disk full); kUnavailable when another process holds its
// write lock past the busy timeout. On any error no row of the merge is in `out`, and a new `out`
// does not exist.
Result<MergeStats> MergeSharedRun(std::vector<MergeInput>& inputs, const SharedRun& run, const std::string& out);

}  // namespace fanout
