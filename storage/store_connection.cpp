#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "storage/schema.h"
#include "storage/store_internal.h"

namespace fanout {
namespace store_internal {

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

}  // namespace store_internal
}  // namespace fanout
