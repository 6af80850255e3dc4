#include "storage/merge.h"

#include <fcntl.h>  // AT_FDCWD
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "storage/id_cache.h"
#include "storage/link_row_writer.h"
#include "storage/text_ids.h"
#include "storage/schema.h"

namespace fanout {
namespace {

// The same failure, said of a file: "'w1.db': step: disk I/O error".
Status About(const Status& s, const std::string& path) { return s.Annotated("'" + path + "'"); }

// Runs a statement that returns no rows (or whose rows are not needed) and readies it again.
Status RunOnce(SqliteStmt& stmt) {
  Status s = stmt.Run();
  stmt.Reset();
  return s;
}

// Binds the value in `from`'s column to `to`'s parameter as it is: SQLite types values, and a copy
// keeps a NULL a NULL and a REAL a REAL. The schema holds no blobs; one would be copied as text.
void BindColumn(SqliteStmt& to, int index, const SqliteStmt& from, int column) {
  switch (from.ColumnType(column)) {
    case SqliteStmt::ValueType::kNull: to.BindNull(index); break;
    case SqliteStmt::ValueType::kInteger: to.Bind(index, from.ColumnInt(column)); break;
    case SqliteStmt::ValueType::kFloat: to.Bind(index, from.ColumnDouble(column)); break;
    default: to.Bind(index, from.ColumnText(column)); break;
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

// ---- Choosing the run ----

// A shared run as the runs table names it.
struct SharedRunKey {
  int64_t frontier_run = 0;
  std::string frontier;
  auto operator<=>(const SharedRunKey&) const = default;
};

std::string Describe(const SharedRunKey& key) {
  return std::to_string(key.frontier_run) + (key.frontier.empty() ? "" : " (" + key.frontier + ")");
}

// An input's runs of shared frontiers.
struct InputRuns {
  struct Row {
    int64_t run_id;
    std::string worker;
    SharedRunKey key;
  };
  std::vector<Row> rows;
  std::set<SharedRunKey> keys;

  std::string Choices() const {
    std::vector<std::string> choices;
    for (const SharedRunKey& key : keys) choices.push_back(Describe(key));
    return choices.empty() ? "none" : Join(choices, ", ");
  }
};

Result<InputRuns> ReadInputRuns(MergeInput& input) {
  InputRuns runs;
  if (input.schema_version < kSharedFrontierVersion) return runs;  // no worker ever wrote it
  Result<SqliteStmt> query = input.db.Prepare(
      "SELECT id, coalesce(worker, ''), coalesce(frontier, ''), frontier_run FROM runs "
      "WHERE frontier_run IS NOT NULL ORDER BY id");
  if (!query.ok()) return About(query.status(), input.path);
  while (true) {
    Result<bool> row = query->Step();
    if (!row.ok()) return About(row.status(), input.path);
    if (!*row) break;
    InputRuns::Row r{query->ColumnInt(0), query->ColumnText(1), {query->ColumnInt(3), query->ColumnText(2)}};
    runs.keys.insert(r.key);
    runs.rows.push_back(std::move(r));
  }
  return runs;
}

// "w1.db: 3 (pg://host/db); w2.db: none", for a message that must let the user choose.
std::string ListChoices(const std::vector<MergeInput>& inputs, const std::vector<InputRuns>& runs) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < inputs.size(); ++i) parts.push_back(inputs[i].path + ": " + runs[i].Choices());
  return Join(parts, "; ");
}

// ---- Reading the inputs ----

// A read transaction on an input for the whole merge: every query sees the file as of one moment,
// even while a worker still writes it, so an error row never points at a page that came later.
class ReadTransaction {
 public:
  explicit ReadTransaction(SqliteDb& db) : db_(&db) {}
  ReadTransaction(ReadTransaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ReadTransaction& operator=(ReadTransaction&&) = delete;
  ~ReadTransaction() {
    if (db_ != nullptr && db_->InTransaction()) (void)db_->Exec("ROLLBACK");  // it wrote nothing
  }
  Status Begin() { return db_->Exec("BEGIN"); }

 private:
  SqliteDb* db_;
};

// One worker run being read, and what it says of itself in its runs row.
struct Source {
  MergeInput* input = nullptr;
  int64_t run_id = 0;
  std::string worker;
  double started_at = 0;
  std::optional<double> finished_at;
  std::string mode, seeds, options, url_normalization;
  int64_t pages = 0, errors = 0, bytes = 0;  // its own counts, or what it stored when it has none
  // Its pages.id -> the merged one; 0 for a page dropped as another worker's duplicate.
  std::unordered_map<int64_t, int64_t> page_ids;
  SqliteStmt links;  // the links of one of its pages (?1), in the order they were stored
};

// The rows of one query per source, in the order of their column 0, a time (ties to the earlier
// source): a k-way merge, as each query is already in that order. A handful of workers are merged,
// so the earliest is found by a scan rather than a heap.
class TimeOrder {
 public:
  TimeOrder(std::vector<SqliteStmt> queries, std::vector<std::string> names)
      : queries_(std::move(queries)), names_(std::move(names)), has_row_(queries_.size(), false) {}

  // Moves to the next row: the index of the query holding it, or nullopt after the last.
  Result<std::optional<size_t>> Next() {
    for (size_t i = 0; i < queries_.size(); ++i) {
      // Only the query whose row was taken moves on: the others still hold theirs, and one that is
      // done must not be stepped again (SQLite would start it over).
      if (started_ && (i != current_ || !has_row_[i])) continue;
      Result<bool> row = queries_[i].Step();
      if (!row.ok()) return About(row.status(), names_[i]);
      has_row_[i] = *row;
    }
    started_ = true;
    std::optional<size_t> best;
    for (size_t i = 0; i < queries_.size(); ++i) {
      if (has_row_[i] && (!best || queries_[i].ColumnDouble(0) < queries_[*best].ColumnDouble(0))) best = i;
    }
    if (best) current_ = *best;
    return best;
  }

  const SqliteStmt& row(size_t i) const { return queries_[i]; }

 private:
  std::vector<SqliteStmt> queries_;
  std::vector<std::string> names_;
  std::vector<bool> has_row_;
  bool started_ = false;
  size_t current_ = 0;
};

// The pages columns copied, in this order, after the run's id. They are those of schema version 6,
// which every input with a shared run has.
constexpr const char* kPageColumns[] = {
    "url", "final_url", "depth", "status", "content_type", "bytes", "truncated", "title", "canonical", "noindex",
    "error_kind", "error", "http_version", "new_connections", "redirects", "fetched_at", "queue_wait", "dns",
    "connect", "tls", "first_byte", "transfer", "total", "parse", "store", "attempts", "redirect_chain", "charset",
};
constexpr int kPageColumnCount = static_cast<int>(std::size(kPageColumns));

std::string PageColumnList() {
  std::string list;
  for (const char* column : kPageColumns) list += std::string(list.empty() ? "" : ", ") + column;
  return list;
}

// ---- Writing the output ----


// The output's statements, prepared once.
struct Statements {
  static constexpr size_t kUrlCache = 1 << 16;  // URLs met again soon: a page's navigation links
  Statements() : urls(kUrlCache), reasons(64) {}
  SqliteStmt insert_run, finish_run, insert_page, insert_error, insert_skip, insert_robots;
  LinkRowWriter link_rows;
  TextIds urls, reasons;
};

// A new output, written under a temporary name beside its own: removed, with SQLite's side files,
// unless Keep() is called once it has been renamed into place.
class TempFile {
 public:
  TempFile() = default;
  explicit TempFile(std::string path) : path_(std::move(path)) { Remove(); }  // a crashed merge's leftovers
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile& operator=(TempFile&& other) noexcept {
    Remove();
    path_ = std::exchange(other.path_, "");
    return *this;
  }
  ~TempFile() { Remove(); }

  const std::string& path() const { return path_; }
  void Keep() { path_.clear(); }

 private:
  void Remove() {
    if (path_.empty()) return;
    std::error_code ignored;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix, ignored);
  }
  std::string path_;
};

class Merger {
 public:
  Merger(std::vector<MergeInput>& inputs, const SharedRun& run, const std::string& out)
      : inputs_(inputs), run_(run), out_(out) {}

  Result<MergeStats> Run() {
    FANOUT_RETURN_IF_ERROR(CheckPaths());
    FANOUT_RETURN_IF_ERROR(ReadSources());
    FANOUT_RETURN_IF_ERROR(OpenOutput());
    Status written = WriteAll();
    if (!written.ok()) {
      // SQLite rolls some failed transactions back itself (a full disk): look before rolling back.
      if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
      return About(written, out_);
    }
    FANOUT_RETURN_IF_ERROR(Publish());
    stats_.out = out_;
    return stats_;
  }

 private:
  Status CheckPaths() {
    std::error_code ec;
    for (const MergeInput& input : inputs_) {
      if (std::filesystem::equivalent(out_, input.path, ec)) {
        return Status::InvalidArgument("the output '" + out_ + "' is one of the inputs");
      }
    }
    if (std::filesystem::is_directory(out_, ec)) return Status::IOError("'" + out_ + "' is a directory");
    const std::filesystem::path dir = std::filesystem::path(out_).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      return Status::IOError("'" + out_ + "': no such directory '" + dir.string() + "'");
    }
    return Status::Ok();
  }

  Status ReadSources() {
    for (MergeInput& input : inputs_) {
      reading_.emplace_back(input.db);
      FANOUT_RETURN_IF_ERROR(About(reading_.back().Begin(), input.path));
    }
    for (const WorkerRun& worker_run : run_.runs) {
      Source& s = sources_.emplace_back();
      s.input = &inputs_.at(worker_run.input);
      s.run_id = worker_run.run_id;
      s.worker = worker_run.worker;
      FANOUT_RETURN_IF_ERROR(About(ReadRunRow(s), s.input->path));
      FANOUT_RETURN_IF_ERROR(About(
          Prepare(s.input->db, s.links,
                  "SELECT to_url, followed, reason FROM " + LinksWithIds(s.input->schema_version) +
                      " WHERE page_id = ?1 ORDER BY link_id"),
          s.input->path));
    }
    return Status::Ok();
  }

  // A run that never finished has no counts of its own (FinishRun sets them): count what it
  // stored, as `fanout runs` does.
  static Status ReadRunRow(Source& s) {
    FANOUT_ASSIGN_OR_RETURN(SqliteStmt q, s.input->db.Prepare(R"sql(
      SELECT started_at, finished_at, mode, seeds, options,
             coalesce(pages, (SELECT count(*) FROM pages WHERE run_id = ?1)),
             coalesce(errors, (SELECT count(*) FROM errors WHERE run_id = ?1)),
             coalesce(bytes, (SELECT coalesce(sum(bytes), 0) FROM pages WHERE run_id = ?1))
      FROM runs WHERE id = ?1)sql"));
    q.Bind(1, s.run_id);
    FANOUT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no run " + std::to_string(s.run_id));
    s.started_at = q.ColumnDouble(0);
    if (!q.ColumnIsNull(1)) s.finished_at = q.ColumnDouble(1);
    s.mode = q.ColumnText(2);
    s.seeds = q.ColumnText(3);
    s.options = q.ColumnText(4);
    s.pages = q.ColumnInt(5);
    s.errors = q.ColumnInt(6);
    s.bytes = q.ColumnInt(7);
    FANOUT_ASSIGN_OR_RETURN(std::string rules, UrlNormalizationOf(s.input->db, s.input->schema_version, s.run_id));
    s.url_normalization = rules;
    return Status::Ok();
  }

  Status OpenOutput() {
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(out_, ec);
    if (fresh) temp_ = TempFile(out_ + ".merging-" + std::to_string(getpid()));
    const std::string& path = fresh ? temp_.path() : out_;
    Result<SqliteDb> db = SqliteDb::Open(path);
    if (!db.ok()) return About(db.status(), out_);
    db_.emplace(std::move(db).value());
    if (db_->IsReadOnly()) return Status::IOError("'" + out_ + "' is read-only");
    FANOUT_RETURN_IF_ERROR(About(db_->Exec("PRAGMA busy_timeout = 5000"), out_));
    // Refuses another program's database and a newer one without writing to either.
    FANOUT_RETURN_IF_ERROR(About(MigrateSchema(*db_), out_));
    // The links index pages stay in memory across the whole transaction.
    FANOUT_RETURN_IF_ERROR(About(db_->Exec("PRAGMA cache_size = -32768"), out_));
    return About(PrepareOutput(), out_);
  }

  Status PrepareOutput() {
    stmts_ = std::make_unique<Statements>();
    Statements& st = *stmts_;
    SqliteDb& db = *db_;
    FANOUT_RETURN_IF_ERROR(Prepare(db, st.insert_run,
                                   "INSERT INTO runs (started_at, mode, seeds, options, worker, frontier, "
                                   "frontier_run, url_normalization) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    FANOUT_RETURN_IF_ERROR(Prepare(db, st.finish_run, R"sql(
      UPDATE runs SET finished_at = ?2, pages = ?3, errors = ?4, bytes = ?5, wall_seconds = ?6,
                      pages_per_second = ?7, summary = ?8
      WHERE id = ?1)sql"));
    std::string values = "?1";
    for (int i = 0; i < kPageColumnCount; ++i) values += ", ?" + std::to_string(i + 2);
    // A URL the run already has is another worker's later fetch of it: no row comes back.
    FANOUT_RETURN_IF_ERROR(Prepare(db, st.insert_page,
                                   "INSERT INTO pages (run_id, " + PageColumnList() + ") VALUES (" + values +
                                       ") ON CONFLICT (run_id, url) DO NOTHING RETURNING id"));
    FANOUT_RETURN_IF_ERROR(st.link_rows.Prepare(db));
    FANOUT_RETURN_IF_ERROR(st.urls.PrepareFor(db, "urls", "url"));
    FANOUT_RETURN_IF_ERROR(st.reasons.PrepareFor(db, "link_reasons", "reason"));
    FANOUT_RETURN_IF_ERROR(Prepare(
        db, st.insert_error,
        "INSERT INTO errors (run_id, page_id, url, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    // skipped has no key: one row per (url, reason), the earliest, is kept by looking (skipped_url).
    FANOUT_RETURN_IF_ERROR(Prepare(db, st.insert_skip, R"sql(
      INSERT INTO skipped (run_id, url, reason, detail, found_on, depth, at)
      SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
      WHERE NOT EXISTS (SELECT 1 FROM skipped WHERE url = ?2 AND reason = ?3 AND run_id = ?1)
      RETURNING id)sql"));
    return Prepare(db, st.insert_robots, R"sql(
      INSERT INTO robots (run_id, origin, status, verdict, error, user_agent, crawl_delay, sitemaps, bytes, fetched_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
      ON CONFLICT (run_id, origin) DO NOTHING
      RETURNING origin)sql");
  }

  Status WriteAll() {
    FANOUT_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
    // Who-links-here is inserted at random; building it once at the end, sorted, is much cheaper
    // (the store's writer does the same, see the schema).
    FANOUT_RETURN_IF_ERROR(db_->Exec("DROP INDEX IF EXISTS link_rows_url"));
    FANOUT_RETURN_IF_ERROR(InsertRun());
    FANOUT_RETURN_IF_ERROR(CopyPages());
    FANOUT_RETURN_IF_ERROR(CopyErrors());
    FANOUT_RETURN_IF_ERROR(CopySkipped());
    FANOUT_RETURN_IF_ERROR(CopyRobots());
    FANOUT_RETURN_IF_ERROR(FinishRun());
    FANOUT_RETURN_IF_ERROR(db_->Exec("CREATE INDEX IF NOT EXISTS link_rows_url ON link_rows(url_id)"));
    return db_->Exec("COMMIT");
  }

  // The merged run: what it was asked to do is the first worker's (they shared one frontier).
  Status InsertRun() {
    const Source& first = sources_.front();
    double started_at = first.started_at;
    std::vector<std::string> workers;
    for (const Source& s : sources_) {
      // One run's URLs are one set of keys: workers that keyed them differently cannot be one run.
      if (s.url_normalization != first.url_normalization) {
        return Status::InvalidArgument("worker " + s.worker + " normalised its URLs by " + s.url_normalization +
                                       ", worker " + first.worker + " by " + first.url_normalization +
                                       ": they cannot be merged into one run");
      }
      started_at = std::min(started_at, s.started_at);
      if (std::find(workers.begin(), workers.end(), s.worker) == workers.end()) workers.push_back(s.worker);
      ++stats_.runs;
    }
    stats_.workers = Join(workers, ",");
    started_at_ = started_at;
    SqliteStmt& r = stmts_->insert_run;
    r.Bind(1, started_at).Bind(2, first.mode).Bind(3, first.seeds).Bind(4, first.options);
    r.Bind(5, stats_.workers).Bind(6, run_.frontier).Bind(7, run_.frontier_run).Bind(8, first.url_normalization);
    FANOUT_RETURN_IF_ERROR(RunOnce(r));
    stats_.run_id = db_->LastInsertRowId();
    return Status::Ok();
  }

  std::vector<std::string> SourceNames() const {
    std::vector<std::string> names;
    for (const Source& s : sources_) names.push_back(s.input->path);
    return names;
  }

  // One query per source, `sql` with ?1 its run id.
  Result<TimeOrder> QueryEach(const std::string& sql) {
    std::vector<SqliteStmt> queries;
    for (Source& s : sources_) {
      Result<SqliteStmt> q = s.input->db.Prepare(sql);
      if (!q.ok()) return About(q.status(), s.input->path);
      q->Bind(1, s.run_id);
      queries.push_back(std::move(q).value());
    }
    return TimeOrder(std::move(queries), SourceNames());
  }

  Status CopyPages() {
    FANOUT_ASSIGN_OR_RETURN(TimeOrder pages, QueryEach("SELECT fetched_at, id, " + PageColumnList() +
                                        " FROM pages WHERE run_id = ?1 ORDER BY fetched_at, id"));
    SqliteStmt& insert = stmts_->insert_page;
    while (true) {
      FANOUT_ASSIGN_OR_RETURN(std::optional<size_t> next, pages.Next());
      if (!next) return Status::Ok();
      Source& source = sources_[*next];
      const SqliteStmt& page = pages.row(*next);
      insert.Bind(1, stats_.run_id);
      for (int c = 0; c < kPageColumnCount; ++c) BindColumn(insert, c + 2, page, c + 2);
      Result<bool> inserted = insert.Step();
      const int64_t id = inserted.ok() && *inserted ? insert.ColumnInt(0) : 0;
      FANOUT_RETURN_IF_ERROR(RunOnce(insert));
      if (!inserted.ok()) return inserted.status();
      source.page_ids[page.ColumnInt(1)] = id;
      if (id != 0) {
        ++stats_.pages;
      } else {
        ++stats_.duplicate_pages;
      }
      FANOUT_RETURN_IF_ERROR(About(CopyLinks(source, page.ColumnInt(1), id), source.input->path));
    }
  }

  // The links of `source`'s page `from`, as links of the merged page `to`; counted as dropped
  // when `to` is 0, a duplicate.
  Status CopyLinks(Source& source, int64_t from, int64_t to) {
    SqliteStmt& links = source.links;
    links.Bind(1, from);
    Status s;
    while (s.ok()) {
      Result<bool> row = links.Step();
      if (!row.ok()) {
        s = row.status();
        break;
      }
      if (!*row) break;
      if (to == 0) {
        ++stats_.dropped_links;
        continue;
      }
      s = AddLink(to, links);
    }
    if (s.ok()) {
      s = stmts_->link_rows.Flush(to);
    } else {
      stmts_->link_rows.Drop();
    }
    links.Reset();
    return s;
  }

  // Queues a link of page_id, its URL and reason interned; written kLinksPerInsert at a time.
  Status AddLink(int64_t page_id, const SqliteStmt& link) {
    FANOUT_ASSIGN_OR_RETURN(int64_t url_id, stmts_->urls.IdOf(link.ColumnText(0)));
    int64_t reason_id = 0;
    if (!link.ColumnIsNull(2)) {
      FANOUT_ASSIGN_OR_RETURN(int64_t id, stmts_->reasons.IdOf(link.ColumnText(2)));
      reason_id = id;
    }
    ++stats_.links;
    return stmts_->link_rows.Add(page_id, url_id, static_cast<Follow>(link.ColumnInt(1)), reason_id);
  }


  Status CopyErrors() {
    FANOUT_ASSIGN_OR_RETURN(TimeOrder errors,
        QueryEach("SELECT at, page_id, url, kind, message FROM errors WHERE run_id = ?1 ORDER BY at, id"));
    SqliteStmt& insert = stmts_->insert_error;
    while (true) {
      FANOUT_ASSIGN_OR_RETURN(std::optional<size_t> next, errors.Next());
      if (!next) return Status::Ok();
      const SqliteStmt& error = errors.row(*next);
      insert.Bind(1, stats_.run_id);
      if (error.ColumnIsNull(1)) {
        insert.BindNull(2);
      } else {
        const std::unordered_map<int64_t, int64_t>& ids = sources_[*next].page_ids;
        const auto it = ids.find(error.ColumnInt(1));
        if (it == ids.end() || it->second == 0) {  // the error of a fetch that was dropped
          ++stats_.dropped_errors;
          continue;
        }
        insert.Bind(2, it->second);
      }
      for (int c = 2; c <= 4; ++c) BindColumn(insert, c + 1, error, c);
      BindColumn(insert, 6, error, 0);
      FANOUT_RETURN_IF_ERROR(RunOnce(insert));
      ++stats_.errors;
    }
  }

  Status CopySkipped() {
    FANOUT_ASSIGN_OR_RETURN(TimeOrder skipped, QueryEach(
        "SELECT at, url, reason, detail, found_on, depth FROM skipped WHERE run_id = ?1 ORDER BY at, id"));
    SqliteStmt& insert = stmts_->insert_skip;
    while (true) {
      FANOUT_ASSIGN_OR_RETURN(std::optional<size_t> next, skipped.Next());
      if (!next) return Status::Ok();
      const SqliteStmt& skip = skipped.row(*next);
      insert.Bind(1, stats_.run_id);
      for (int c = 1; c <= 5; ++c) BindColumn(insert, c + 1, skip, c);
      BindColumn(insert, 7, skip, 0);
      Result<bool> inserted = insert.Step();
      FANOUT_RETURN_IF_ERROR(RunOnce(insert));
      if (!inserted.ok()) return inserted.status();
      if (*inserted) ++stats_.skipped;
    }
  }

  Status CopyRobots() {
    FANOUT_ASSIGN_OR_RETURN(TimeOrder robots, QueryEach(
        "SELECT fetched_at, origin, status, verdict, error, user_agent, crawl_delay, sitemaps, bytes "
        "FROM robots WHERE run_id = ?1 ORDER BY fetched_at, rowid"));
    SqliteStmt& insert = stmts_->insert_robots;
    while (true) {
      FANOUT_ASSIGN_OR_RETURN(std::optional<size_t> next, robots.Next());
      if (!next) return Status::Ok();
      const SqliteStmt& record = robots.row(*next);
      insert.Bind(1, stats_.run_id);
      for (int c = 1; c <= 8; ++c) BindColumn(insert, c + 1, record, c);
      BindColumn(insert, 10, record, 0);
      Result<bool> inserted = insert.Step();
      FANOUT_RETURN_IF_ERROR(RunOnce(insert));
      if (!inserted.ok()) return inserted.status();
      if (*inserted) ++stats_.robots;
    }
  }

  // The counts are the workers' own, summed: a page two of them fetched was fetched twice, and
  // the rows written (merged.pages in the summary) say how many pages the run holds.
  Status FinishRun() {
    int64_t pages = 0, errors = 0, bytes = 0;
    std::optional<double> finished_at = 0.0;
    nlohmann::json merged_from = nlohmann::json::array();
    for (const Source& s : sources_) {
      pages += s.pages;
      errors += s.errors;
      bytes += s.bytes;
      finished_at = finished_at && s.finished_at ? std::optional(std::max(*finished_at, *s.finished_at)) : std::nullopt;
      merged_from.push_back({{"file", s.input->path}, {"worker", s.worker}, {"run_id", s.run_id}, {"pages", s.pages}});
    }
    stats_.finished = finished_at.has_value();
    std::optional<double> wall, rate;
    if (finished_at) wall = *finished_at - started_at_;
    if (wall && *wall > 0) rate = static_cast<double>(pages) / *wall;

    const nlohmann::json summary = {
        {"merged_from", merged_from},
        {"frontier", run_.frontier},
        {"frontier_run", run_.frontier_run},
        {"workers", stats_.workers},
        {"pages", pages},
        {"errors", errors},
        {"bytes", bytes},
        {"wall_seconds", wall ? nlohmann::json(*wall) : nlohmann::json(nullptr)},
        {"pages_per_second", rate ? nlohmann::json(*rate) : nlohmann::json(nullptr)},
        {"merged",
         {{"pages", stats_.pages}, {"links", stats_.links}, {"errors", stats_.errors}, {"skipped", stats_.skipped},
          {"robots", stats_.robots}, {"duplicate_pages", stats_.duplicate_pages},
          {"dropped_links", stats_.dropped_links}, {"dropped_errors", stats_.dropped_errors}}},
    };
    SqliteStmt& f = stmts_->finish_run;
    f.Bind(1, stats_.run_id);
    auto bind_optional = [&f](int index, std::optional<double> value) {
      if (value) {
        f.Bind(index, *value);
      } else {
        f.BindNull(index);
      }
    };
    bind_optional(2, finished_at);
    f.Bind(3, pages).Bind(4, errors).Bind(5, bytes);
    bind_optional(6, wall);
    bind_optional(7, rate);
    // A path that is not UTF-8 is still valid JSON, with U+FFFD for its odd bytes.
    f.Bind(8, summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return RunOnce(f);
  }

  // Closes the output; a new one then takes its name, unless a file has taken it meanwhile.
  Status Publish() {
    stmts_.reset();  // statements before their connection
    db_.reset();
    if (temp_.path().empty()) return Status::Ok();
    if (::renameat2(AT_FDCWD, temp_.path().c_str(), AT_FDCWD, out_.c_str(), RENAME_NOREPLACE) != 0) {
      const int err = errno;
      if (err == EEXIST) return Status::IOError("'" + out_ + "' appeared while merging; the merge is not written");
      // A file system without RENAME_NOREPLACE: the check above and a plain rename.
      std::error_code ec;
      if ((err != EINVAL && err != ENOSYS) || std::filesystem::exists(out_, ec)) {
        return Status::IOError("cannot rename the merge to '" + out_ + "': " + std::strerror(err));
      }
      std::filesystem::rename(temp_.path(), out_, ec);
      if (ec) return Status::IOError("cannot rename the merge to '" + out_ + "': " + ec.message());
    }
    temp_.Keep();
    return Status::Ok();
  }

  // Destroyed in reverse: the output's statements, its connection, a temporary file left
  // unpublished, the sources' statements, and last the inputs' read transactions.
  std::vector<MergeInput>& inputs_;
  const SharedRun& run_;
  const std::string out_;
  std::vector<ReadTransaction> reading_;
  std::vector<Source> sources_;
  TempFile temp_;
  std::optional<SqliteDb> db_;
  std::unique_ptr<Statements> stmts_;
  double started_at_ = 0;
  MergeStats stats_;
};

}  // namespace

Result<SharedRun> ChooseSharedRun(std::vector<MergeInput>& inputs, std::optional<int64_t> frontier_run) {
  if (inputs.empty()) return Status::InvalidArgument("no databases to merge");
  std::vector<InputRuns> runs;
  std::set<SharedRunKey> all;
  for (MergeInput& input : inputs) {
    FANOUT_ASSIGN_OR_RETURN(InputRuns r, ReadInputRuns(input));
    all.insert(r.keys.begin(), r.keys.end());
    runs.push_back(std::move(r));
  }

  std::vector<SharedRunKey> candidates;
  for (const SharedRunKey& key : all) {
    if (!frontier_run || key.frontier_run == *frontier_run) candidates.push_back(key);
  }
  if (candidates.empty()) {
    if (frontier_run) {
      return Status::NotFound("no input holds frontier run " + std::to_string(*frontier_run) + " (" +
                              ListChoices(inputs, runs) + ")");
    }
    return Status::NotFound("no input holds a run of a shared frontier (" + ListChoices(inputs, runs) + ")");
  }
  if (candidates.size() > 1) {
    if (frontier_run) {
      std::vector<std::string> frontiers;
      for (const SharedRunKey& key : candidates) frontiers.push_back(key.frontier);
      return Status::NotFound("frontier run " + std::to_string(*frontier_run) +
                              " is a run of more than one frontier (" + Join(frontiers, ", ") +
                              "); merge the workers of one at a time");
    }
    return Status::NotFound("the inputs hold more than one shared run; choose one with --run N (" +
                            ListChoices(inputs, runs) + ")");
  }

  SharedRun chosen{.frontier = candidates[0].frontier, .frontier_run = candidates[0].frontier_run, .runs = {}};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const size_t before = chosen.runs.size();
    for (const InputRuns::Row& row : runs[i].rows) {
      if (row.key == candidates[0]) chosen.runs.push_back({.input = i, .run_id = row.run_id, .worker = row.worker});
    }
    if (chosen.runs.size() == before) {
      std::string message = "'" + inputs[i].path + "' holds no run of frontier run " + Describe(candidates[0]);
      if (inputs[i].schema_version < kSharedFrontierVersion) {
        message += " (its schema version " + std::to_string(inputs[i].schema_version) +
                   " is from before fanout had shared frontiers)";
      } else if (!runs[i].keys.empty()) {
        message += " (it holds " + runs[i].Choices() + ")";
      }
      return Status::NotFound(message);
    }
  }
  return chosen;
}

Result<MergeStats> MergeSharedRun(std::vector<MergeInput>& inputs, const SharedRun& run, const std::string& out) {
  if (run.runs.empty()) return Status::InvalidArgument("no worker runs to merge");
  Merger merger(inputs, run, out);
  return merger.Run();
}

}  // namespace fanout
