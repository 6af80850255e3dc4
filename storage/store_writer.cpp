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

}  // namespace fanout
