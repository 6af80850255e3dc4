#include "storage/run_state.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cstdint>

#include "storage/schema.h"
#include "storage/sqlite.h"

namespace fanout {
namespace {

Result<std::vector<std::string>> SeedsOf(const std::string& json) {
  nlohmann::json seeds = nlohmann::json::parse(json, nullptr, false);
  if (seeds.is_discarded() || !seeds.is_array()) return Status::Corruption("runs.seeds is not a JSON array");
  std::vector<std::string> out;
  for (const auto& seed : seeds) {
    if (seed.is_string()) out.push_back(seed.get<std::string>());
  }
  return out;
}

// Runs `sql` with ?1 bound to `run_id` and calls `each` on every row.
Status ForEachRow(SqliteDb& db, const char* sql, int64_t run_id, const std::function<void(SqliteStmt&)>& each) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(sql));
  stmt.Bind(1, run_id);
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Ok();
    each(stmt);
  }
}

}  // namespace

namespace {

// The newest unfinished run; with a worker given, the newest of that worker's in frontier run
// `frontier_run` (the database must then be at schema version 6 at least).
Result<std::optional<UnfinishedRun>> FindLatestUnfinished(const std::string& path, const std::string* worker,
                                                          int64_t frontier_run) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) || std::filesystem::is_directory(path, ec)) {
    return std::optional<UnfinishedRun>();
  }
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenReadOnly(path));
  FANOUT_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version == 0) return std::optional<UnfinishedRun>();
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(
      std::string("SELECT id, mode, seeds, (SELECT count(*) FROM pages WHERE run_id = runs.id), ") +
      (worker != nullptr ? "frontier_run" : "0") + " FROM runs WHERE finished_at IS NULL " +
      (worker != nullptr ? "AND worker = ?1 AND frontier_run > 0 AND (?2 = 0 OR frontier_run = ?2) " : "") +
      "ORDER BY id DESC LIMIT 1"));
  if (worker != nullptr) stmt.Bind(1, *worker).Bind(2, frontier_run);
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<UnfinishedRun>();
  FANOUT_ASSIGN_OR_RETURN(std::vector<std::string> seeds, SeedsOf(stmt.ColumnText(2)));
  return std::optional<UnfinishedRun>(UnfinishedRun{
      .id = stmt.ColumnInt(0), .mode = stmt.ColumnText(1), .seeds = seeds, .pages = stmt.ColumnInt(3),
      .frontier_run = stmt.ColumnInt(4)});
}

}  // namespace

Result<std::optional<UnfinishedRun>> FindUnfinishedRun(const std::string& path) {
  return FindLatestUnfinished(path, nullptr, 0);
}

Result<std::optional<UnfinishedRun>> FindWorkerRun(const std::string& path, const std::string& worker,
                                                   int64_t frontier_run) {
  return FindLatestUnfinished(path, &worker, frontier_run);
}

Result<RunState> LoadRunState(const std::string& path, int64_t run_id) {
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenReadOnly(path));
  // Read before the crawl's store migrates the file: the links may still be a table of their own.
  FANOUT_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  RunState state;
  state.run_id = run_id;
  {
    FANOUT_ASSIGN_OR_RETURN(SqliteStmt run, db.Prepare("SELECT seeds FROM runs WHERE id = ?1"));
    run.Bind(1, run_id);
    FANOUT_ASSIGN_OR_RETURN(bool row, run.Step());
    if (!row) return Status::NotFound("no run " + std::to_string(run_id));
    FANOUT_ASSIGN_OR_RETURN(std::vector<std::string> seeds, SeedsOf(run.ColumnText(0)));
    state.seeds = seeds;
  }
  FANOUT_ASSIGN_OR_RETURN(std::string rules, UrlNormalizationOf(db, version, run_id));
  state.url_normalization = rules;
  auto collect = [&](const char* sql, const std::function<void(SqliteStmt&)>& each) {
    return ForEachRow(db, sql, run_id, each);
  };
  FANOUT_RETURN_IF_ERROR(collect("SELECT url, final_url FROM pages WHERE run_id = ?1", [&](SqliteStmt& s) {
    ++state.pages;
    state.done.push_back(s.ColumnText(0));
    if (!s.ColumnIsNull(1)) state.done.push_back(s.ColumnText(1));
  }));
  FANOUT_RETURN_IF_ERROR(collect("SELECT url FROM skipped WHERE run_id = ?1 AND reason IN ('robots', 'dns-nxdomain')",
                                 [&](SqliteStmt& s) { state.done.push_back(s.ColumnText(0)); }));
  // Version 5 keeps the links rowids as link_rows.id; links is a view, with no rowid, since then.
  FANOUT_RETURN_IF_ERROR(collect(version >= kCompactLinksVersion
                                     ? "SELECT coalesce(max(id), 0) FROM link_rows WHERE ?1 IS NOT NULL"
                                     : "SELECT coalesce(max(rowid), 0) FROM links WHERE ?1 IS NOT NULL",
                                 [&](SqliteStmt& s) { state.last_link = s.ColumnInt(0); }));
  // The same rows ReadSpilledLinks returns up to last_link.
  FANOUT_RETURN_IF_ERROR(collect(
      "SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE p.run_id = ?1 AND l.followed > 0 "
      "AND NOT EXISTS (SELECT 1 FROM pages f WHERE f.run_id = ?1 AND f.url = l.to_url)",
      [&](SqliteStmt& s) { state.queued = s.ColumnInt(0); }));
  return state;
}

Status ForEachFollowedLink(const std::string& path, int64_t run_id, const std::function<void(std::string_view)>& each) {
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenReadOnly(path));
  return ForEachRow(db, "SELECT l.to_url FROM links l JOIN pages p ON p.id = l.page_id WHERE p.run_id = ?1 AND l.followed > 0",
                    run_id, [&](SqliteStmt& s) { each(s.ColumnText(0)); });
}

Result<std::vector<SpilledLink>> ReadSpilledLinks(const std::string& path, int64_t run_id, int64_t after,
                                                  int64_t resumed_up_to, size_t limit) {
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenReadOnly(path));
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(
      "SELECT l.link_id, l.to_url, p.depth + 1, p.url FROM " + LinksWithIds(kSchemaVersion) +
      " l JOIN pages p ON p.id = l.page_id "
      "WHERE l.link_id > ?2 AND p.run_id = ?1 AND ((l.link_id > ?4 AND l.followed = 2) OR "
      "  (l.link_id <= ?4 AND l.followed > 0 AND NOT EXISTS (SELECT 1 FROM pages f WHERE f.run_id = ?1 AND f.url = l.to_url))) "
      "ORDER BY l.link_id LIMIT ?3"));
  stmt.Bind(1, run_id).Bind(2, after).Bind(3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  stmt.Bind(4, resumed_up_to);
  std::vector<SpilledLink> out;
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back({stmt.ColumnInt(0), {stmt.ColumnText(1), static_cast<int>(stmt.ColumnInt(2)), stmt.ColumnText(3)}});
  }
}

}  // namespace fanout
