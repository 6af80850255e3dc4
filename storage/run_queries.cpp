#include "storage/run_queries.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace fanout {

Result<std::vector<SeedOutcome>> ReadSeedOutcomes(SqliteDb& db, int64_t run) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt seeds, db.Prepare("SELECT seeds FROM runs WHERE id = ?1"));
  seeds.Bind(1, run);
  FANOUT_ASSIGN_OR_RETURN(bool row, seeds.Step());
  const nlohmann::json list = row ? nlohmann::json::parse(seeds.ColumnText(0), nullptr, false) : nlohmann::json();
  if (!list.is_array()) return Status::Corruption("runs.seeds of run " + std::to_string(run) + " is not a JSON array");
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt page, db.Prepare(
      "SELECT status, coalesce(error_kind, ''), coalesce(error, '') FROM pages WHERE run_id = ?1 AND url = ?2"));
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt skip, db.Prepare(
      "SELECT coalesce(detail, ''), reason FROM skipped WHERE run_id = ?1 AND url = ?2 AND (reason = 'robots' OR "
      "reason LIKE 'dns-%') ORDER BY id DESC LIMIT 1"));
  std::vector<SeedOutcome> outcomes;
  for (const auto& entry : list) {
    if (!entry.is_string()) continue;
    SeedOutcome& seed = outcomes.emplace_back();
    seed.url = entry.get<std::string>();
    page.Reset();
    page.Bind(1, run).Bind(2, seed.url);
    FANOUT_ASSIGN_OR_RETURN(bool fetched, page.Step());
    if (fetched) {
      seed.fate = SeedOutcome::Fate::kFetched;
      seed.status = page.ColumnInt(0);
      seed.error_kind = page.ColumnText(1);
      seed.error = page.ColumnText(2);
      continue;
    }
    skip.Reset();
    skip.Bind(1, run).Bind(2, seed.url);
    FANOUT_ASSIGN_OR_RETURN(bool skipped, skip.Step());
    if (!skipped) continue;
    seed.skip_reason = skip.ColumnText(1);
    seed.fate = seed.skip_reason == "robots" ? SeedOutcome::Fate::kRobots : SeedOutcome::Fate::kNoHost;
    seed.robots_detail = skip.ColumnText(0);
  }
  return outcomes;
}

Result<int64_t> NextRunId(SqliteDb& db) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare("SELECT coalesce(max(id), 0) + 1 FROM runs"));
  FANOUT_RETURN_IF_ERROR(stmt.Step().status());  // max() always gives a row
  return stmt.ColumnInt(0);
}

Result<std::string> ArchivePrefixOfRun(SqliteDb& db, int64_t run) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare("SELECT path FROM warc_files WHERE run_id = ?1 ORDER BY id DESC LIMIT 1"));
  stmt.Bind(1, run);
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::string();
  const std::string path = stmt.ColumnText(0);
  constexpr size_t kSuffix = std::string_view("-YYYYMMDDhhmmss-NNNNN.warc.gz").size();
  return path.size() > kSuffix ? path.substr(0, path.size() - kSuffix) : std::string();
}

Status ForEachArchivedPayload(SqliteDb& db, int64_t run, const std::function<void(const ArchivedPayload&)>& visit) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(
      "SELECT payload_digest, coalesce(final_url, url), warc_date FROM pages "
      "WHERE run_id = ?1 AND warc_type = 'response' AND payload_digest IS NOT NULL AND warc_date IS NOT NULL "
      "ORDER BY id"));
  stmt.Bind(1, run);
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Ok();
    visit(ArchivedPayload{.payload_digest = stmt.ColumnText(0), .url = stmt.ColumnText(1),
                          .warc_date = stmt.ColumnText(2)});
  }
}

Result<std::vector<RunListing>> ListRuns(SqliteDb& db) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt query, db.Prepare(R"sql(
    SELECT r.id, r.started_at, r.finished_at, r.mode, r.seeds,
           coalesce(r.pages, (SELECT count(*) FROM pages p WHERE p.run_id = r.id)),
           coalesce(r.errors, (SELECT count(*) FROM errors e WHERE e.run_id = r.id)),
           r.wall_seconds, r.pages_per_second
    FROM runs r ORDER BY r.id)sql"));
  auto optional_double = [&query](int column) {
    return query.ColumnIsNull(column) ? std::nullopt : std::optional<double>(query.ColumnDouble(column));
  };
  std::vector<RunListing> runs;
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return runs;
    runs.push_back(RunListing{.id = query.ColumnInt(0),
                              .started_at = query.ColumnDouble(1),
                              .finished_at = optional_double(2),
                              .mode = query.ColumnText(3),
                              .seeds = query.ColumnText(4),
                              .pages = query.ColumnInt(5),
                              .errors = query.ColumnInt(6),
                              .wall_seconds = optional_double(7),
                              .pages_per_second = optional_double(8)});
  }
}

Result<std::vector<std::string>> ArchiveFilesOf(SqliteDb& db, int64_t run) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt files, db.Prepare("SELECT path FROM warc_files WHERE ?1 = 0 OR run_id = ?1 ORDER BY id"));
  files.Bind(1, run);
  std::vector<std::string> paths;
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, files.Step());
    if (!row) return paths;
    paths.push_back(files.ColumnText(0));
  }
}

Result<std::optional<ArchivedRecordAt>> LocateArchivedPage(SqliteDb& db, const std::string& url, int64_t run) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt q, db.Prepare(
      "SELECT p.run_id, f.path, p.warc_offset, p.warc_length FROM pages p JOIN warc_files f ON f.id = p.warc_file "
      "WHERE (p.url = ?1 OR p.final_url = ?1) AND (?2 = 0 OR p.run_id = ?2) "
      "ORDER BY p.run_id DESC, p.url = ?1 DESC LIMIT 1"));
  q.Bind(1, url).Bind(2, run);
  FANOUT_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ArchivedRecordAt>();
  return std::optional<ArchivedRecordAt>(ArchivedRecordAt{.run = q.ColumnInt(0),
                                                          .file = q.ColumnText(1),
                                                          .offset = static_cast<uint64_t>(q.ColumnInt(2)),
                                                          .length = static_cast<uint64_t>(q.ColumnInt(3))});
}

}  // namespace fanout
