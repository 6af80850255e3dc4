#include "storage/store.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "storage/id_cache.h"
#include "storage/link_row_writer.h"
#include "storage/text_ids.h"
#include "storage/schema.h"
#include "storage/sqlite.h"
#include "util/clock.h"
#include "util/thread_cpu.h"

namespace fanout {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The same failure, with what we were doing in front of its message.
Status Annotate(const Status& s, const std::string& context) { return s.Annotated(context); }

Status Closed() { return Status::Unavailable("the store is closed"); }

// Optional text: "" is stored as NULL, so SQL can say `error_kind IS NOT NULL`.
void BindText(SqliteStmt& stmt, int index, std::string_view text) {
  if (text.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.Bind(index, text);
  }
}

// Runs a statement that returns no rows and readies it for its next use.
Status RunOnce(SqliteStmt& stmt) {
  Status s = stmt.Run();
  stmt.Reset();
  return s;
}

Status CheckJson(const std::string& text, const char* what) {
  if (text.empty() || nlohmann::json::accept(text)) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " is not valid JSON");
}


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

Result<int64_t> Connection::WarcFileId(int64_t run_id, const std::string& path) {
  if (auto it = warc_files.find(path); it != warc_files.end()) return it->second;
  insert_warc_file.Bind(1, run_id).Bind(2, path);
  Result<bool> row = insert_warc_file.Step();
  if (!row.ok() || !*row) {
    insert_warc_file.Reset();
    return row.ok() ? Status::Corruption("no id for archive file '" + path + "'") : row.status();
  }
  const int64_t id = insert_warc_file.ColumnInt(0);
  FANOUT_RETURN_IF_ERROR(RunOnce(insert_warc_file));
  warc_files.emplace(path, id);
  return id;
}

Status PrepareAll(Connection& c) {
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.begin, "BEGIN IMMEDIATE"));
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.commit, "COMMIT"));
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.rollback, "ROLLBACK"));
  // DO NOTHING + RETURNING: a duplicate (run_id, url) returns no row instead of failing the batch.
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.insert_page, R"sql(
    INSERT INTO pages (run_id, url, final_url, depth, status, content_type, bytes, truncated, title,
                       canonical, noindex, error_kind, error, http_version, new_connections, redirects,
                       fetched_at, queue_wait, dns, connect, tls, first_byte, transfer, total, parse,
                       attempts, redirect_chain, charset, warc_file, warc_offset, warc_length, warc_type, warc_date,
                       payload_digest)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)
    ON CONFLICT (run_id, url) DO NOTHING
    RETURNING id)sql"));
  // A link is written as integers: its URL and its reason are looked up (or added) in urls and
  // link_reasons first (TextIds).
  FANOUT_RETURN_IF_ERROR(c.urls.PrepareFor(c.db, "urls", "url"));
  FANOUT_RETURN_IF_ERROR(c.reasons.PrepareFor(c.db, "link_reasons", "reason"));
  // A file already known (another run's of the same name cannot be: the names hold the time) keeps its id.
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.insert_warc_file, R"sql(
    INSERT INTO warc_files (run_id, path) VALUES (?1, ?2)
    ON CONFLICT (path) DO UPDATE SET path = excluded.path
    RETURNING id)sql"));
  FANOUT_RETURN_IF_ERROR(c.link_rows.Prepare(c.db));
  // Settles an unsure link (LinkRecord::unsure), ?2 its URL and ?3 that URL's id:
  // link_rows_followed finds the URL's followed links, and the pages key its page. Rows of the open batch count: this
  // connection sees its own transaction.
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.seen_in_run, R"sql(
    SELECT EXISTS (SELECT 1 FROM link_rows l JOIN pages p ON p.id = l.page_id
                   WHERE l.url_id = ?3 AND l.followed > 0 AND p.run_id = ?1)
        OR EXISTS (SELECT 1 FROM pages WHERE run_id = ?1 AND url = ?2))sql"));
  FANOUT_RETURN_IF_ERROR(Prepare(
      c.db, c.insert_error,
      "INSERT INTO errors (run_id, page_id, url, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  // The page's own insert time is only known once its links are in: written back by rowid.
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.set_store_time, "UPDATE pages SET store = ?2 WHERE id = ?1"));
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.insert_skip, R"sql(
    INSERT INTO skipped (run_id, url, reason, detail, found_on, depth, at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql"));
  // A second record for an origin (two crawl threads racing) keeps the first.
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.insert_robots, R"sql(
    INSERT INTO robots (run_id, origin, status, verdict, error, user_agent, crawl_delay, sitemaps, bytes, fetched_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (run_id, origin) DO NOTHING)sql"));
  FANOUT_RETURN_IF_ERROR(Prepare(
      c.db, c.insert_run, "INSERT INTO runs (started_at, mode, seeds, options, worker, frontier, frontier_run, url_normalization) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  FANOUT_RETURN_IF_ERROR(
      Prepare(c.db, c.find_unfinished_run, "SELECT count(*) FROM runs WHERE id = ?1 AND finished_at IS NULL"));
  FANOUT_RETURN_IF_ERROR(Prepare(c.db, c.finish_run, R"sql(
    UPDATE runs SET finished_at = ?2, pages = ?3, errors = ?4, bytes = ?5, wall_seconds = ?6,
                    pages_per_second = ?7, summary = ?8
    WHERE id = ?1)sql"));
  return Status::Ok();
}

// Applies a connection setting given as a pragma that reports the value it ended up with.
Result<std::string> Pragma(SqliteDb& db, std::string_view sql) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(sql));
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnText(0) : std::string();
}

// Opens path and readies it for the writer: schema current, WAL on, statements prepared.
Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, const StoreOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Status::IOError("'" + path + "' is a directory");
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenForOneThread(path));  // the writer's alone
  auto conn = std::make_unique<Connection>(std::move(db), options.url_cache);
  Connection& c = *conn;
  // SQLite opens a file it may not write read-only without a word; every write would then fail.
  if (c.db.IsReadOnly()) return Status::IOError("'" + path + "' is read-only");
  FANOUT_RETURN_IF_ERROR(c.db.Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms)));
  // Before WAL: a database we refuse (newer, foreign) is then not touched at all.
  FANOUT_RETURN_IF_ERROR(Annotate(MigrateSchema(c.db), "'" + path + "'"));
  Result<std::string> mode = Pragma(c.db, "PRAGMA journal_mode = WAL");
  if (!mode.ok()) return Annotate(mode.status(), "'" + path + "': cannot switch to WAL");
  if (*mode != "wal") {
    return Status::IOError("'" + path + "': cannot switch to WAL (journal mode stays '" + *mode +
                           "'; is it on a network file system?)");
  }
  // In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash may lose the last
  // batches but cannot corrupt the database.
  FANOUT_RETURN_IF_ERROR(c.db.Exec("PRAGMA synchronous = NORMAL"));
  FANOUT_RETURN_IF_ERROR(c.db.Exec("PRAGMA foreign_keys = ON"));
  // A checkpoint copies every page the WAL holds back into the database: fewer, larger ones copy
  // a page that many batches changed (the links index) once, not once per 1,000 frames.
  FANOUT_RETURN_IF_ERROR(c.db.Exec("PRAGMA wal_autocheckpoint = 4000"));
  // Room for the hot pages of the link indexes, which every batch touches: a link's insert then
  // seldom reads a page back from the file. SQLite's default is 2 MB; negative is KiB. On the JDK
  // crawl 4 MB took 15% less of the writer's CPU than 2 MB, as 8 MB did, with 4 MB less RSS than 8.
  FANOUT_RETURN_IF_ERROR(c.db.Exec("PRAGMA cache_size = -4096"));
  if (options.max_db_pages > 0) {
    FANOUT_RETURN_IF_ERROR(Pragma(c.db, "PRAGMA max_page_count = " + std::to_string(options.max_db_pages)).status());
  }
  FANOUT_RETURN_IF_ERROR(PrepareAll(c));
  return conn;
}

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

}  // namespace

class Store::Impl {
 public:
  Impl(std::unique_ptr<Connection> conn, StoreOptions options) : options_(options), conn_(std::move(conn)) {}
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
    Clock::time_point deadline;
    std::vector<std::function<void()>> committed;  // the items' callbacks, for after COMMIT
  };

  Status Enqueue(Item item, bool wait = true);  // a page or a row, under backpressure unless !wait
  double WaitForRoomLocked(std::unique_lock<std::mutex>& lock);  // seconds waited
  Status RunOnWriter(std::function<Status()> fn);
  Status WaitDone(uint64_t seq, std::unique_lock<std::mutex>& lock);

  // Writer thread.
  void WriterMain();
  void WriterLoop();
  Status WritePage(const Item& item);
  Status InsertPage(const Item& item, Clock::time_point start);
  Status RunTask(const Item& item);
  Status CommitBatch();
  Status AbortBatch(Status why);
  // Writer only: drops link_rows_url until the writer stops (see the schema).
  Status DeferWhoLinksHere();
  void LatchLocked(Status error);  // REQUIRES: mu_ held

  const StoreOptions options_;

  // Writer thread only: handed over before the thread starts, released by it when it exits.
  std::unique_ptr<Connection> conn_;
  Batch batch_;
  // link_rows_url was dropped for a run's writes (DeferWhoLinksHere) and is built again on close.
  bool who_links_here_deferred_ = false;
  uint64_t applied_seq_ = 0;  // the last item written, committed or not

  mutable std::mutex mu_;
  // Everything below up to close_mu_ is guarded by mu_.
  std::condition_variable work_cv_;      // to the writer: an item was queued, a flush is wanted, or Close
  std::condition_variable not_full_cv_;  // to producers: the queue has room, the writer failed, or Close
  std::condition_variable done_cv_;      // to Flush and RunOnWriter: done_seq_ advanced
  std::deque<Item> queue_;
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

// ---- Caller side ----

Status Store::Impl::Start() {
  try {
    writer_ = std::thread([this] { WriterMain(); });
  } catch (const std::system_error& e) {
    return Status::IOError(std::string("cannot start the store's writer thread: ") + e.what());
  }
  return Status::Ok();
}

Status Store::Impl::AddPage(PageRecord page, std::vector<LinkRecord> links) {
  Item item;
  item.page = std::move(page);
  item.links = std::move(links);
  return Enqueue(std::move(item));
}

Status Store::Impl::AddPageNow(PageRecord page, std::vector<LinkRecord> links, double waited,
                               std::function<void()> committed) {
  Item item;
  item.committed = std::move(committed);
  item.page = std::move(page);
  item.links = std::move(links);
  item.backpressure_seconds = waited;
  return Enqueue(std::move(item), false);
}

Status Store::Impl::AddSkip(SkipRecord skip, std::function<void()> committed) {
  Item item;
  item.committed = std::move(committed);
  item.row = [skip = std::move(skip)](Connection& c, int64_t run_id, StoreStats& counts) {
    SqliteStmt& s = c.insert_skip;
    s.Bind(1, run_id).Bind(2, skip.url).Bind(3, skip.reason);
    BindText(s, 4, skip.detail);
    BindText(s, 5, skip.found_on);
    s.Bind(6, int64_t{skip.depth}).Bind(7, UnixNow());
    FANOUT_RETURN_IF_ERROR(RunOnce(s));
    ++counts.skipped;
    return Status::Ok();
  };
  return Enqueue(std::move(item));
}

Status Store::Impl::AddWarcFile(std::string path) {
  Item item;
  item.row = [path = std::move(path)](Connection& c, int64_t run_id, StoreStats&) {
    return c.WarcFileId(run_id, path).status();
  };
  return Enqueue(std::move(item));
}

Status Store::Impl::AddRobots(RobotsRecord robots) {
  Item item;
  item.row = [r = std::move(robots)](Connection& c, int64_t run_id, StoreStats&) {
    SqliteStmt& s = c.insert_robots;
    s.Bind(1, run_id).Bind(2, r.origin).Bind(3, int64_t{r.status}).Bind(4, r.verdict);
    BindText(s, 5, r.error);
    BindText(s, 6, r.user_agent);
    if (r.crawl_delay >= 0) {
      s.Bind(7, r.crawl_delay);
    } else {
      s.BindNull(7);
    }
    s.Bind(8, nlohmann::json(r.sitemaps).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    s.Bind(9, r.bytes).Bind(10, r.fetched_at != 0 ? r.fetched_at : UnixNow());
    return RunOnce(s);
  };
  return Enqueue(std::move(item));
}

double Store::Impl::WaitForRoomLocked(std::unique_lock<std::mutex>& lock) {
  // Backpressure: the caller waits here while the writer is queue_pages behind.
  auto has_room = [&] { return queued_pages_ < options_.queue_pages || !error_.ok() || stopping_; };
  if (has_room()) return 0;
  const Clock::time_point start = Clock::now();
  not_full_cv_.wait(lock, has_room);
  return Seconds(Clock::now() - start);
}

Result<double> Store::Impl::WaitForRoom() {
  std::unique_lock lock(mu_);
  const double waited = WaitForRoomLocked(lock);
  if (!error_.ok()) return error_;
  if (stopping_) return Closed();
  return waited;
}

Status Store::Impl::Enqueue(Item item, bool wait) {
  std::unique_lock lock(mu_);
  if (run_id_ == 0 && error_.ok() && !stopping_) {
    return Status::InvalidArgument("no run to add to: call BeginRun first");
  }
  const double waited = wait ? WaitForRoomLocked(lock) : item.backpressure_seconds;
  if (!error_.ok()) return error_;
  if (stopping_) return Closed();
  if (run_id_ == 0) return Status::InvalidArgument("no run to add to: call BeginRun first");
  const bool was_empty = queue_.empty();
  item.seq = ++last_seq_;
  item.run_id = run_id_;
  item.backpressure_seconds = waited;
  queue_.push_back(std::move(item));
  ++queued_pages_;
  // The writer only sleeps on an empty queue, so only the first item needs to wake it.
  if (was_empty) work_cv_.notify_one();
  return Status::Ok();
}

Status Store::Impl::Flush() {
  std::unique_lock lock(mu_);
  if (stopping_) return Closed();
  const uint64_t target = last_seq_;
  if (done_seq_ >= target) return error_;
  flush_seq_ = std::max(flush_seq_, target);
  work_cv_.notify_one();
  return WaitDone(target, lock);
}

Status Store::Impl::WaitDone(uint64_t seq, std::unique_lock<std::mutex>& lock) {
  done_cv_.wait(lock, [&] { return done_seq_ >= seq || writer_exited_; });
  return error_;
}

Status Store::Impl::RunOnWriter(std::function<Status()> fn) {
  std::unique_lock lock(mu_);
  if (!error_.ok()) return error_;
  if (stopping_) return Closed();
  // Tasks do not count against queue_pages: they are few, and the control thread must not wait
  // behind the pool for room.
  Item item;
  item.seq = ++last_seq_;
  item.task = std::move(fn);
  queue_.push_back(std::move(item));
  const uint64_t seq = last_seq_;
  work_cv_.notify_one();
  // A task that fails latches its error, so error_ tells whether it ran and succeeded.
  return WaitDone(seq, lock);
}

Result<int64_t> Store::Impl::BeginRun(const RunInfo& info) {
  FANOUT_RETURN_IF_ERROR(CheckJson(info.options_json, "RunInfo.options_json"));
  const std::string seeds =
      nlohmann::json(info.seeds).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string options = info.options_json.empty() ? "{}" : info.options_json;
  const double started_at = UnixNow();
  int64_t id = 0;
  // The task runs on the writer while this thread waits in RunOnWriter, so references are safe.
  FANOUT_RETURN_IF_ERROR(RunOnWriter([&]() -> Status {
    FANOUT_RETURN_IF_ERROR(DeferWhoLinksHere());
    SqliteStmt& s = conn_->insert_run;
    s.Bind(1, started_at).Bind(2, info.mode).Bind(3, seeds).Bind(4, options);
    if (info.worker.empty()) {
      s.BindNull(5).BindNull(6).BindNull(7);
    } else {
      s.Bind(5, info.worker).Bind(6, info.frontier).Bind(7, info.frontier_run);
    }
    s.Bind(8, info.url_normalization);
    FANOUT_RETURN_IF_ERROR(Annotate(RunOnce(s), "recording the run"));
    id = conn_->db.LastInsertRowId();
    return Status::Ok();
  }));
  std::lock_guard lock(mu_);
  run_id_ = id;
  return id;
}

Status Store::Impl::ResumeRun(int64_t run_id) {
  bool found = false;
  FANOUT_RETURN_IF_ERROR(RunOnWriter([&]() -> Status {
    SqliteStmt& s = conn_->find_unfinished_run;
    s.Bind(1, run_id);
    Result<bool> row = s.Step();
    found = row.ok() && *row && s.ColumnInt(0) == 1;
    s.Reset();
    FANOUT_RETURN_IF_ERROR(row.status());
    return found ? DeferWhoLinksHere() : Status::Ok();
  }));
  if (!found) return Status::NotFound("no unfinished run " + std::to_string(run_id) + " to resume");
  std::lock_guard lock(mu_);
  run_id_ = run_id;
  return Status::Ok();
}

Status Store::Impl::FinishRun(const RunSummary& summary) {
  FANOUT_RETURN_IF_ERROR(CheckJson(summary.summary_json, "RunSummary.summary_json"));
  int64_t run = 0;
  {
    std::lock_guard lock(mu_);
    if (!error_.ok()) return error_;
    if (stopping_) return Closed();
    if (run_id_ == 0) return Status::InvalidArgument("FinishRun without a run: call BeginRun first");
    run = run_id_;
    run_id_ = 0;
  }
  const double finished_at = UnixNow();
  return RunOnWriter([&]() -> Status {
    SqliteStmt& s = conn_->finish_run;
    s.Bind(1, run);
    if (summary.interrupted) {
      s.BindNull(2);
    } else {
      s.Bind(2, finished_at);
    }
    s.Bind(3, summary.pages).Bind(4, summary.errors).Bind(5, summary.bytes);
    s.Bind(6, summary.wall_seconds).Bind(7, summary.pages_per_second);
    BindText(s, 8, summary.summary_json);
    return Annotate(RunOnce(s), "recording the run's summary");
  });
}

Status Store::Impl::Close() {
  std::lock_guard close_lock(close_mu_);
  if (!closed_) {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    not_full_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    closed_ = true;
  }
  std::lock_guard lock(mu_);
  return error_;
}

// ---- Writer thread ----

Status Store::Impl::DeferWhoLinksHere() {
  if (who_links_here_deferred_) return Status::Ok();
  FANOUT_RETURN_IF_ERROR(Annotate(conn_->db.Exec("DROP INDEX IF EXISTS link_rows_url"), "deferring an index"));
  who_links_here_deferred_ = true;
  return Status::Ok();
}

void Store::Impl::WriterMain() {
  pthread_setname_np(pthread_self(), "fanout-store");  // as top and perf show it
  try {
    WriterLoop();
  } catch (const std::exception& e) {  // bad_alloc, most likely: report it, never terminate
    (void)AbortBatch(Status::Ok());
    std::lock_guard lock(mu_);
    LatchLocked(Status::IOError(std::string("store writer failed: ") + e.what()));
  } catch (...) {
    (void)AbortBatch(Status::Ok());
    std::lock_guard lock(mu_);
    LatchLocked(Status::IOError("store writer failed"));
  }
  if (who_links_here_deferred_) {
    std::unique_lock lock(mu_);
    if (error_.ok()) {
      lock.unlock();
      Status built = conn_->db.Exec("CREATE INDEX IF NOT EXISTS link_rows_url ON link_rows(url_id)");
      lock.lock();
      if (!built.ok()) LatchLocked(Annotate(built, "indexing who links where"));
    }
  }
  // The connection belongs to this thread: close it here. Closing also checkpoints the WAL.
  conn_.reset();
  std::lock_guard lock(mu_);
  writer_exited_ = true;
  done_cv_.notify_all();
  not_full_cv_.notify_all();
}

void Store::Impl::WriterLoop() {
  std::vector<Item> work;
  std::unique_lock lock(mu_);
  while (true) {
    if (!error_.ok()) {
      // LatchLocked dropped the queue and nothing more is accepted: wait for Close.
      work_cv_.wait(lock, [&] { return stopping_; });
      return;
    }
    const bool task_next = !queue_.empty() && static_cast<bool>(queue_.front().task);

    if (batch_.open) {
      const bool due = batch_.items >= options_.batch_pages  // full
                       || Clock::now() >= batch_.deadline     // old enough
                       || (flush_seq_ > done_seq_ && applied_seq_ >= flush_seq_)  // a Flush waits
                       || task_next                           // tasks follow committed pages
                       || (stopping_ && queue_.empty());      // Close
      if (due) {
        lock.unlock();
        Status s = CommitBatch();
        const StoreStats counts = batch_.counts;
        std::vector<std::function<void()>> committed = std::move(batch_.committed);
        batch_ = Batch{};
        if (s.ok()) {
          for (const std::function<void()>& fn : committed) fn();
        }
        lock.lock();
        if (!s.ok()) {
          LatchLocked(s);
          continue;
        }
        stats_.pages += counts.pages;
        stats_.links += counts.links;
        stats_.errors += counts.errors;
        stats_.skipped += counts.skipped;
        stats_.duplicates += counts.duplicates;
        stats_.unsure_new += counts.unsure_new;
        stats_.unsure_duplicates += counts.unsure_duplicates;
        stats_.batches += 1;
        stats_.commit_seconds += counts.commit_seconds;
        stats_.write_seconds += counts.write_seconds;
        stats_.cpu_seconds += counts.cpu_seconds;
        stats_.store_seconds += counts.store_seconds;
        stats_.in_batch = 0;
        done_seq_ = applied_seq_;
        done_cv_.notify_all();
        continue;
      }
    }

    if (!queue_.empty()) {
      // Take a task alone, or as many pages as the batch has room for, and write them unlocked so
      // producers can keep queueing meanwhile.
      if (task_next) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } else {
        for (size_t room = options_.batch_pages - batch_.items;
             room > 0 && !queue_.empty() && !queue_.front().task; --room) {
          work.push_back(std::move(queue_.front()));
          queue_.pop_front();
          --queued_pages_;
        }
        not_full_cv_.notify_all();
      }
      lock.unlock();
      Status s;
      for (const Item& item : work) {
        s = item.task ? RunTask(item) : WritePage(item);
        if (!s.ok()) break;
        applied_seq_ = item.seq;
      }
      work.clear();  // frees the pages' memory outside the lock
      lock.lock();
      if (!s.ok()) {
        LatchLocked(s);
        continue;
      }
      if (task_next) {
        done_seq_ = applied_seq_;
        done_cv_.notify_all();
      }
      stats_.in_batch = static_cast<int64_t>(batch_.items);
      continue;
    }

    if (stopping_) return;  // drained, and no batch is open (it would have been due)
    if (batch_.open) {
      work_cv_.wait_until(lock, batch_.deadline,
                          [&] { return !queue_.empty() || stopping_ || flush_seq_ > done_seq_; });
    } else {
      work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    }
  }
}

Status Store::Impl::WritePage(const Item& item) {
  const Clock::time_point start = Clock::now();
  if (!batch_.open) {
    Status begun = RunOnce(conn_->begin);
    if (!begun.ok()) return AbortBatch(Annotate(begun, "starting a batch"));
    batch_.open = true;
    batch_.deadline = start + std::chrono::milliseconds(options_.batch_ms);
    batch_.cpu_start = ThreadCpuSeconds();
  }
  ++batch_.items;
  Status s;
  if (item.row) {
    s = item.row(*conn_, item.run_id, batch_.counts);
  } else {
    s = InsertPage(item, start);
  }
  batch_.counts.write_seconds += Seconds(Clock::now() - start);
  if (s.ok() && item.committed) batch_.committed.push_back(item.committed);
  if (!s.ok()) {
    return AbortBatch(Annotate(s, item.row ? std::string("writing a skipped URL or robots.txt record")
                                           : "writing page '" + item.page.url + "'"));
  }
  return Status::Ok();
}

Status Store::Impl::InsertPage(const Item& item, Clock::time_point start) {
  const PageRecord& page = item.page;
  SqliteStmt& p = conn_->insert_page;
  p.Bind(1, item.run_id).Bind(2, page.url);
  BindText(p, 3, page.final_url);
  p.Bind(4, int64_t{page.depth}).Bind(5, int64_t{page.status});
  BindText(p, 6, page.content_type);
  p.Bind(7, page.bytes).Bind(8, int64_t{page.truncated});
  BindText(p, 9, page.title);
  BindText(p, 10, page.canonical);
  p.Bind(11, int64_t{page.noindex});
  BindText(p, 12, page.error_kind);
  BindText(p, 13, page.error);
  BindText(p, 14, page.http_version);
  p.Bind(15, page.new_connections).Bind(16, int64_t{page.redirects}).Bind(17, page.fetched_at);
  p.Bind(18, page.queue_wait).Bind(19, page.dns).Bind(20, page.connect).Bind(21, page.tls);
  p.Bind(22, page.first_byte).Bind(23, page.transfer).Bind(24, page.total).Bind(25, page.parse);
  p.Bind(26, int64_t{page.attempts});
  BindText(p, 27, page.redirect_chain);
  BindText(p, 28, page.charset);
  if (page.warc_file.empty()) {
    p.BindNull(29).BindNull(30).BindNull(31).BindNull(32).BindNull(33).BindNull(34);
  } else {
    Result<int64_t> file = conn_->WarcFileId(item.run_id, page.warc_file);
    if (!file.ok()) {
      p.Reset();
      return file.status();
    }
    p.Bind(29, *file).Bind(30, page.warc_offset).Bind(31, page.warc_length);
    BindText(p, 32, page.warc_type);
    BindText(p, 33, page.warc_date);
    BindText(p, 34, page.payload_digest);
  }
  Result<bool> inserted = p.Step();
  if (!inserted.ok()) {
    p.Reset();
    return inserted.status();
  }
  if (!*inserted) {  // the run already has this URL: keep the first, count this one
    p.Reset();
    ++batch_.counts.duplicates;
    // Its links were stored with the first: an unsure one among them is no news.
    batch_.counts.unsure_duplicates +=
        std::count_if(item.links.begin(), item.links.end(), [](const LinkRecord& link) { return link.unsure; });
    return Status::Ok();
  }
  const int64_t page_id = p.ColumnInt(0);
  FANOUT_RETURN_IF_ERROR(RunOnce(p));
  ++batch_.counts.pages;

  // An unsure link's check must see the links queued before it: it writes them first.
  LinkRowWriter& rows = conn_->link_rows;
  for (const LinkRecord& link : item.links) {
    Follow followed = link.followed;
    std::string_view reason = link.reason;
    FANOUT_ASSIGN_OR_RETURN(int64_t url_id, conn_->urls.IdOf(link.to_url));
    if (link.unsure) {
      FANOUT_RETURN_IF_ERROR(rows.Flush(page_id));
      SqliteStmt& q = conn_->seen_in_run;
      q.Bind(1, item.run_id).Bind(2, link.to_url).Bind(3, url_id);
      Result<bool> row = q.Step();
      const bool seen = row.ok() && *row && q.ColumnInt(0) != 0;
      q.Reset();
      if (!row.ok()) return row.status();
      followed = seen ? Follow::kNo : Follow::kOnDisk;
      reason = seen ? "duplicate" : "";
      ++(seen ? batch_.counts.unsure_duplicates : batch_.counts.unsure_new);
    }
    int64_t reason_id = 0;
    if (!reason.empty()) {
      FANOUT_ASSIGN_OR_RETURN(int64_t id, conn_->reasons.IdOf(reason));
      reason_id = id;
    }
    FANOUT_RETURN_IF_ERROR(rows.Add(page_id, url_id, followed, reason_id));
  }
  FANOUT_RETURN_IF_ERROR(rows.Flush(page_id));
  batch_.counts.links += static_cast<int64_t>(item.links.size());

  if (!page.error_kind.empty()) {
    SqliteStmt& e = conn_->insert_error;
    e.Bind(1, item.run_id).Bind(2, page_id).Bind(3, page.url).Bind(4, page.error_kind).Bind(5, page.error);
    e.Bind(6, page.fetched_at != 0 ? page.fetched_at : UnixNow());
    FANOUT_RETURN_IF_ERROR(RunOnce(e));
    ++batch_.counts.errors;
  }

  const double store_seconds = item.backpressure_seconds + Seconds(Clock::now() - start);
  SqliteStmt& t = conn_->set_store_time;
  t.Bind(1, page_id).Bind(2, store_seconds);
  FANOUT_RETURN_IF_ERROR(RunOnce(t));
  batch_.counts.store_seconds += store_seconds;
  return Status::Ok();
}

Status Store::Impl::RunTask(const Item& item) {
  Status s = RunOnce(conn_->begin);
  if (s.ok()) s = item.task();
  if (s.ok()) s = RunOnce(conn_->commit);
  return s.ok() ? s : AbortBatch(s);
}

Status Store::Impl::CommitBatch() {
  const Clock::time_point start = Clock::now();
  Status s = RunOnce(conn_->commit);
  const double took = Seconds(Clock::now() - start);
  batch_.counts.commit_seconds += took;
  batch_.counts.write_seconds += took;
  batch_.counts.cpu_seconds += ThreadCpuSeconds() - batch_.cpu_start;
  if (!s.ok()) return AbortBatch(Annotate(s, "committing " + std::to_string(batch_.items) + " pages"));
  return Status::Ok();
}

Status Store::Impl::AbortBatch(Status why) {
  // SQLite may already have rolled back (it does for SQLITE_FULL and some I/O errors).
  if (conn_ && conn_->db.InTransaction()) (void)RunOnce(conn_->rollback);
  if (conn_) {  // the ids the batch inserted are gone with it, and links it had queued
    conn_->urls.cache.Clear();
    conn_->reasons.cache.Clear();
    conn_->warc_files.clear();
    conn_->link_rows.Drop();
  }
  batch_ = Batch{};
  return why;
}

void Store::Impl::LatchLocked(Status error) {
  if (error_.ok()) error_ = std::move(error);
  queue_.clear();
  queued_pages_ = 0;
  stats_.in_batch = 0;
  done_seq_ = last_seq_;
  done_cv_.notify_all();
  not_full_cv_.notify_all();
}

// ---- Store ----

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  if (options.batch_pages == 0 || options.queue_pages == 0 || options.batch_ms < 0 || options.busy_timeout_ms < 0 ||
      options.max_db_pages < 0) {
    return Status::InvalidArgument("store options: batch_pages and queue_pages must be at least 1; "
                                   "batch_ms, busy_timeout_ms and max_db_pages at least 0");
  }
  FANOUT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, OpenConnection(path, options));
  auto impl = std::make_unique<Impl>(std::move(conn), options);
  FANOUT_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Store>(new Store(std::move(impl), path));
}

Store::Store(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
Store::~Store() = default;  // ~Impl closes

Result<int64_t> Store::BeginRun(const RunInfo& info) { return impl_->BeginRun(info); }
Status Store::AddPage(PageRecord page, std::vector<LinkRecord> links) {
  return impl_->AddPage(std::move(page), std::move(links));
}
Result<double> Store::WaitForRoom() { return impl_->WaitForRoom(); }
Status Store::AddPageNow(PageRecord page, std::vector<LinkRecord> links, double waited,
                         std::function<void()> committed) {
  return impl_->AddPageNow(std::move(page), std::move(links), waited, std::move(committed));
}
Status Store::ResumeRun(int64_t run_id) { return impl_->ResumeRun(run_id); }
Status Store::AddSkip(SkipRecord skip, std::function<void()> committed) {
  return impl_->AddSkip(std::move(skip), std::move(committed));
}
Status Store::AddRobots(RobotsRecord robots) { return impl_->AddRobots(std::move(robots)); }
Status Store::AddWarcFile(std::string path) { return impl_->AddWarcFile(std::move(path)); }
Status Store::Flush() { return impl_->Flush(); }
Status Store::FinishRun(const RunSummary& summary) { return impl_->FinishRun(summary); }
Status Store::Close() { return impl_->Close(); }
StoreStats Store::stats() const { return impl_->stats(); }

}  // namespace fanout
