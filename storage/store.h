// Store: the crawl's SQLite database (runs, pages, links, errors, skipped URLs, robots.txt files),
// written by one thread.
//
// Callers hand rows to AddPage (or WaitForRoom then AddPageNow), AddSkip, AddRobots and AddWarcFile, which only
// enqueue them. One writer thread owns the sqlite3 connection and its prepared statements, drains
// a bounded queue and commits many pages per transaction: a batch is committed once it holds
// batch_pages pages, or batch_ms after its first page was written, whichever comes first, and at
// once by Flush, FinishRun and Close. The database runs in WAL mode with synchronous=NORMAL, so
// other processes can read it while a crawl writes; a power cut can lose the last batches but
// never corrupts the file. The writer handles the queue in order, so rows queued one after another
// by one thread are written in that order (the crawl relies on it to settle unsure links).
//
// Backpressure: when queue_pages pages are waiting, AddPage, AddSkip, AddRobots and WaitForRoom block
// their caller until the writer has taken some (AddPageNow never blocks: its caller waited first). A
// crawl that outruns the disk slows down instead of filling memory; an event loop does the waiting on
// a pool thread and queues with AddPageNow on its own.
//
// Errors: a write that fails inside the writer (disk full, read-only file, I/O error) rolls back the
// batch it was writing and is latched. From then on the Add calls, Flush, BeginRun, FinishRun and
// Close return that error, and rows still queued are dropped; everything committed before stays
// intact and readable. Reopen the file to write again. Flush and Close always return, error or not.
//
// Thread rules: AddPage, WaitForRoom, AddPageNow, AddSkip, AddRobots, Flush and stats() may be called
// from any threads at once. BeginRun, ResumeRun and FinishRun belong to the crawl's control thread;
// rows added while one of them runs may land on either side of it. Close may be called from any
// thread, any number of times; the destructor requires that no other call is in progress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/records.h"
#include "util/result.h"
#include "util/status.h"

namespace fanout {

struct StoreOptions {
  size_t batch_pages = 256;  // commit once a batch holds this many pages (>= 1)
  // ...or this long after the batch's first page was written (>= 0). Larger batches write a page
  // of the links index once for more links: at 2,000 pages/s, 100 ms writes a third fewer WAL frames
  // a page than 50 ms.
  int batch_ms = 100;
  size_t queue_pages = 1024; // AddPage blocks while this many pages wait for the writer (>= 1)
  // How long a write waits for a lock another connection holds (a user's sqlite3 shell in a
  // transaction, another crawl into the same file) before it fails with kUnavailable (>= 0).
  int busy_timeout_ms = 5000;
  // Caps the database at this many SQLite pages (PRAGMA max_page_count); 0 = no cap. Writing past
  // it fails like a full disk, which is how the tests make one.
  int64_t max_db_pages = 0;
  // URLs whose urls.id the writer keeps in memory, per generation (storage/id_cache.h: at most
  // twice this many, some 150 bytes each); 0 looks every link's URL up in the database.
  size_t url_cache = 16384;
};

// Counters since Open of what the writer has committed, and two gauges of what it has not yet.
struct StoreStats {
  int64_t pages = 0;       // pages rows written (duplicates not included)
  int64_t links = 0;       // links rows written
  int64_t errors = 0;      // errors rows written
  int64_t skipped = 0;     // skipped rows written
  int64_t duplicates = 0;  // pages dropped because their (run, url) was already stored
  int64_t unsure_new = 0;         // unsure links the writer found new: stored as followed = 2
  int64_t unsure_duplicates = 0;  // unsure links the writer found seen (or whose page was dropped)
  int64_t batches = 0;     // page transactions committed
  double commit_seconds = 0;  // time spent in COMMIT
  double write_seconds = 0;   // time spent writing batches, COMMIT included: the writer's busy time
  double cpu_seconds = 0;     // the writer thread's CPU time in those batches: their cost, not their wait for a core
  // The pages' `store` column summed: per page, the time its caller waited in AddPage for room in
  // the queue plus the writer's time inserting its rows (the batch's COMMIT is not split per page).
  double store_seconds = 0;
  int64_t queued = 0;         // now: pages waiting for the writer (at queue_pages, AddPage blocks)
  int64_t in_batch = 0;       // now: pages written into the open transaction, not yet committed
};

class Store {
 public:
  // Opens or creates the database at path, sets WAL and synchronous=NORMAL, creates or migrates the
  // schema (see schema.h) and starts the writer thread. An existing crawl database keeps its rows.
  // Errors: kCorruption for a file that is not an SQLite database (left unchanged); kIOError for a
  // directory, an unwritable path or a read-only file; kInvalidArgument for bad options, for a
  // database whose schema_version is newer than this build knows, or for another program's database.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, StoreOptions options = {});

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();  // Close()s, ignoring its Status.

  // Commits what was queued before, then inserts a runs row and returns its id. Pages added
  // afterwards belong to this run. A run left unfinished (no FinishRun) keeps finished_at NULL.
  // Errors: kInvalidArgument when options_json is not JSON; the latched writer error.
  Result<int64_t> BeginRun(const RunInfo& info);

  // Continues run `run_id`, which must exist and be unfinished: pages added afterwards belong to
  // it (--resume). Errors: kNotFound for no such unfinished run; the latched writer error.
  Status ResumeRun(int64_t run_id);

  // Queues a page and the links found on it, taking both. Blocks while the queue is full (see
  // above). A page whose URL the run already stored is dropped and counted in stats().duplicates.
  // Errors: the latched writer error, so a caller can stop crawling; kInvalidArgument with no run
  // begun; kUnavailable after Close.
  Status AddPage(PageRecord page, std::vector<LinkRecord> links);

  // For a caller that must queue its pages in an order of its own (a crawl queues them in the
  // order it decided their links, so that the writer settles unsure links in that order too):
  // WaitForRoom blocks as AddPage would and returns the seconds it waited (or the latched error);
  // AddPageNow then queues without blocking, taking that wait as the page's. The queue may pass
  // queue_pages by as many pages as there are such callers at once.
  // `committed`, if set, is called on the writer thread once the page's transaction has committed
  // (also when the page was dropped as a duplicate), never if it failed: for work that must not
  // run before the page is safe on disk (a shared frontier's "done"). It must not block or call
  // the store.
  Result<double> WaitForRoom();
  Status AddPageNow(PageRecord page, std::vector<LinkRecord> links, double waited,
                    std::function<void()> committed = {});

  // Queue a skipped URL or a robots.txt record, in the order of the pages around them. Blocking
  // and errors as for AddPage; `committed` as for AddPageNow.
  Status AddSkip(SkipRecord skip, std::function<void()> committed = {});
  Status AddRobots(RobotsRecord robots);
  // Records a file the run's archive (--warc) wrote, whether or not a page's record is in it.
  Status AddWarcFile(std::string path);

  // Blocks until every page queued before the call is committed. Returns the latched writer error,
  // if any, or Ok.
  Status Flush();

  // Commits what was queued, then records finished_at (unless summary.interrupted) and the summary
  // on the current run, which ends: AddPage needs a new BeginRun. Errors: kInvalidArgument for no run begun or a summary_json
  // that is not JSON; the latched writer error.
  Status FinishRun(const RunSummary& summary);

  // Commits what was queued, stops the writer and closes the database. Returns the latched writer
  // error, or Ok; every later call returns the same. Other calls after Close return kUnavailable.
  Status Close();

  // Thread-safe; a consistent snapshot.
  StoreStats stats() const;

  // The database file, as given to Open: for readers with their own connection.
  const std::string& path() const { return path_; }

 private:
  class Impl;  // the queue and the writer thread, in store.cpp
  Store(std::unique_ptr<Impl> impl, std::string path);

  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace fanout
