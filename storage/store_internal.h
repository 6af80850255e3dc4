// The store's insides (store.h), shared by its three files: the writer's connection and its
// prepared statements (store_connection.cpp), the caller side of Store::Impl (store.cpp) and its
// writer thread (store_writer.cpp). Not for use outside storage/.
//
// Threads: as store.h says; each member of Store::Impl is marked with the thread or lock that
// guards it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/link_row_writer.h"
#include "storage/records.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "storage/text_ids.h"
#include "util/result.h"

namespace fanout {
namespace store_internal {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d);
// The same failure, with what we were doing in front of its message.
Status Annotate(const Status& s, const std::string& context);
Status Closed();
// Optional text: "" is stored as NULL, so SQL can say `error_kind IS NOT NULL`.
void BindText(SqliteStmt& stmt, int index, std::string_view text);
// Runs a statement that returns no rows and readies it for its next use.
Status RunOnce(SqliteStmt& stmt);
Status CheckJson(const std::string& text, const char* what);

// The writer's connection and its statements, prepared once. Members are destroyed in reverse
// order, so the statements are finalized before the connection closes.
struct Connection {
  Connection(SqliteDb opened, size_t url_cache) : db(std::move(opened)), urls(url_cache), reasons(kReasonCache) {}
  static constexpr size_t kReasonCache = 64;  // a handful of reasons exist
  SqliteDb db;
  SqliteStmt begin, commit, rollback;
  SqliteStmt insert_page, insert_error;
  LinkRowWriter link_rows;
  SqliteStmt insert_run, finish_run, set_store_time, find_unfinished_run;
  SqliteStmt insert_skip, insert_robots;
  SqliteStmt seen_in_run;
  TextIds urls, reasons;
  SqliteStmt insert_warc_file;                         // --warc: a file of the run, its id returned
  std::unordered_map<std::string, int64_t> warc_files;  // path -> warc_files.id

  Result<int64_t> WarcFileId(int64_t run_id, const std::string& path);
};

// Opens path and readies it for the writer: schema current, WAL on, statements prepared.
Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, const StoreOptions& options);

// One unit of the writer's work: a page with its links, another row of a run (`row`), or a task
// (BeginRun, FinishRun).
struct Item {
  uint64_t seq = 0;
  int64_t run_id = 0;
  PageRecord page;
  std::vector<LinkRecord> links;
  double backpressure_seconds = 0;  // how long AddPage waited for room
  std::function<Status()> task;  // set for a task; runs on the writer in its own transaction
  // Set for a row: written in the batch, counting what it wrote.
  std::function<Status(Connection&, int64_t run_id, StoreStats& counts)> row;
  std::function<void()> committed;  // called on the writer once the batch holding it is committed
};

}  // namespace store_internal

class Store::Impl {
 public:
  Impl(std::unique_ptr<store_internal::Connection> conn, StoreOptions options) : options_(options), conn_(std::move(conn)) {}
  ~Impl() { (void)Close(); }

  Status Start();
  Result<int64_t> BeginRun(const RunInfo& info);
  Status ResumeRun(int64_t run_id);
  Status AddPage(PageRecord page, std::vector<LinkRecord> links);
  Result<double> WaitForRoom();
  Status AddPageNow(PageRecord page, std::vector<LinkRecord> links, double waited, std::function<void()> committed);
  Status AddSkip(SkipRecord skip, std::function<void()> committed);
  Status AddRobots(RobotsRecord robots);
  Status AddWarcFile(std::string path);
  Status Flush();
  Status FinishRun(const RunSummary& summary);
  Status Close();
  StoreStats stats() const {
    std::lock_guard lock(mu_);
    StoreStats stats = stats_;
    stats.queued = static_cast<int64_t>(queued_pages_);
    return stats;
  }

 private:
  // What one batch has written so far: writer thread only.
  struct Batch {
    bool open = false;  // BEGIN issued, COMMIT not yet
    double cpu_start = 0;  // the writer's ThreadCpuSeconds at BEGIN
    size_t items = 0;   // pages taken into it, duplicates included
    StoreStats counts;  // rows written in it; merged into stats_ when it commits
    store_internal::Clock::time_point deadline;
    std::vector<std::function<void()>> committed;  // the items' callbacks, for after COMMIT
  };

  Status Enqueue(store_internal::Item item, bool wait = true);  // a page or a row, under backpressure unless !wait
  double WaitForRoomLocked(std::unique_lock<std::mutex>& lock);  // seconds waited
  Status RunOnWriter(std::function<Status()> fn);
  Status WaitDone(uint64_t seq, std::unique_lock<std::mutex>& lock);

  // Writer thread.
  void WriterMain();
  void WriterLoop();
  Status WritePage(const store_internal::Item& item);
  Status InsertPage(const store_internal::Item& item, store_internal::Clock::time_point start);
  Status RunTask(const store_internal::Item& item);
  Status CommitBatch();
  Status AbortBatch(Status why);
  // Writer only: drops link_rows_url until the writer stops (see the schema).
  Status DeferWhoLinksHere();
  void LatchLocked(Status error);  // REQUIRES: mu_ held

  const StoreOptions options_;

  // Writer thread only: handed over before the thread starts, released by it when it exits.
  std::unique_ptr<store_internal::Connection> conn_;
  Batch batch_;
  // link_rows_url was dropped for a run's writes (DeferWhoLinksHere) and is built again on close.
  bool who_links_here_deferred_ = false;
  uint64_t applied_seq_ = 0;  // the last item written, committed or not

  mutable std::mutex mu_;
  // Everything below up to close_mu_ is guarded by mu_.
  std::condition_variable work_cv_;      // to the writer: an item was queued, a flush is wanted, or Close
  std::condition_variable not_full_cv_;  // to producers: the queue has room, the writer failed, or Close
  std::condition_variable done_cv_;      // to Flush and RunOnWriter: done_seq_ advanced
  std::deque<store_internal::Item> queue_;
  size_t queued_pages_ = 0;
  uint64_t last_seq_ = 0;    // the last item queued; items are numbered from 1
  uint64_t flush_seq_ = 0;   // a Flush wants everything up to here committed without waiting
  uint64_t done_seq_ = 0;    // every item up to here is committed, or dropped after an error
  int64_t run_id_ = 0;       // the run AddPage files pages under; 0 when no run is open
  bool stopping_ = false;    // Close was called: accept nothing, drain the queue, exit
  bool writer_exited_ = false;
  Status error_;             // the writer's first failure, latched
  StoreStats stats_;         // counts of committed batches, and the in_batch gauge

  std::mutex close_mu_;      // serialises Close, held across the join
  bool closed_ = false;      // guarded by close_mu_
  std::thread writer_;       // started by Start, joined by Close
};

}  // namespace fanout
