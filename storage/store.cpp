#include "storage/store.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "storage/schema.h"
#include "storage/store_internal.h"
#include "util/clock.h"
#include "util/thread_cpu.h"

namespace fanout {

using namespace store_internal;  // NOLINT: the store's own helpers

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
