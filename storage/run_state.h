// What a crawl database says about an unfinished run: enough to continue it (--resume).
//
// A run is unfinished while runs.finished_at is NULL: it was interrupted (Ctrl-C, kill, crash) or
// is still going. Its state is the rows committed so far, which the writer keeps consistent (a
// page and its links are in the same transaction): the URLs fetched or refused, and the links it
// decided to follow but never fetched, which is what was queued or in flight when it stopped.
//
// Threads: each call opens its own read connection; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace fanout {

struct UnfinishedRun {
  int64_t id = 0;
  std::string mode;
  std::vector<std::string> seeds;
  int64_t pages = 0;  // rows in pages so far
  int64_t frontier_run = 0;  // a shared frontier's run it belongs to (FindWorkerRun), else 0
};

// The latest unfinished run in the database at `path`, if any. A file that does not exist, or
// holds no fanout tables yet, has none. Errors: as SqliteDb::Open, and kCorruption for seeds that
// are not a JSON array.
Result<std::optional<UnfinishedRun>> FindUnfinishedRun(const std::string& path);

// The latest unfinished run of `worker` in the shared frontier's run `frontier_run` (0: in any), if
// any: the run a worker that joins that shared run again continues. REQUIRES: a Store has opened
// the file (it has the runs.worker column).
Result<std::optional<UnfinishedRun>> FindWorkerRun(const std::string& path, const std::string& worker,
                                                   int64_t frontier_run);

struct QueuedUrl {
  std::string url;
  int depth = 0;
  std::string parent;  // the page it was found on
};

// The queue is not read here: it stays in the database, and a resumed crawl reads it back a window
// at a time with ReadSpilledLinks, as it does the links it queues on disk itself.
struct RunState {
  int64_t run_id = 0;
  std::vector<std::string> seeds;
  std::string url_normalization = "whatwg";  // how its URLs are keyed (runs.url_normalization)
  std::vector<std::string> done;  // fetched (as requested or as a redirect's final URL) or refused
  int64_t pages = 0;
  int64_t last_link = 0;  // the highest link id (link_rows.id, or the links rowid before version 5) when read
  int64_t queued = 0;     // followed links up to last_link whose URL has no page: the queue
};

// Reads run `run_id`'s state, from a database of any version (the store migrates it afterwards,
// keeping the link ids). Errors: kNotFound for no such run; SQLite errors.
Result<RunState> LoadRunState(const std::string& path, int64_t run_id);

// Calls `each` with the URL of every link run `run_id` followed (queued, fetched or not), so that
// a resumed crawl knows them as seen. Errors: SQLite errors.
Status ForEachFollowedLink(const std::string& path, int64_t run_id, const std::function<void(std::string_view)>& each);

// A link the frontier left in the database (links.followed = 2), and where it is in link_rows.
struct SpilledLink {
  int64_t link_id = 0;  // link_rows.id
  QueuedUrl queued;
};

// Up to `limit` of run `run_id`'s links queued in the database, after link id `after`, in the
// order they were found: those stored as followed = 2 and, up to link id `resumed_up_to` (a resumed
// run's RunState::last_link; 0 for none), every followed link whose URL has no page yet. Only
// committed rows are seen: Flush the store first. REQUIRES: the database is at kSchemaVersion (a
// Store has opened it).
Result<std::vector<SpilledLink>> ReadSpilledLinks(const std::string& path, int64_t run_id, int64_t after,
                                                  int64_t resumed_up_to, size_t limit);

}  // namespace fanout
