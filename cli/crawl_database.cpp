#include "cli/crawl_database.h"

#include "cli/exit_codes.h"
#include "storage/schema.h"

namespace fanout::cli {

Result<CrawlDatabase> OpenCrawlDatabase(const std::string& path) {
  FANOUT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::OpenReadOnly(path));
  FANOUT_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version == 0) {
    return Status::InvalidArgument("'" + path + "' is not a fanout crawl database (no fanout schema_version)");
  }
  if (version > kSchemaVersion) {
    return Status::InvalidArgument("database schema version " + std::to_string(version) +
                                   " is newer than this fanout (" + std::to_string(kSchemaVersion) +
                                   "); upgrade fanout");
  }
  return CrawlDatabase{.path = path, .db = std::move(db), .schema_version = version};
}

int DatabaseExitCode(const Status& error) {
  return error.code() == Status::Code::kNotFound ? kExitUnavailable : kExitDatabase;
}

Result<int64_t> ChooseRun(CrawlDatabase& db, std::optional<int64_t> requested) {
  Result<SqliteStmt> query =
      db.db.Prepare(requested ? "SELECT id FROM runs WHERE id = ?1" : "SELECT max(id) FROM runs");
  if (!query.ok()) return query.status();
  if (requested) query->Bind(1, *requested);
  FANOUT_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row || query->ColumnIsNull(0)) {
    if (requested) return Status::NotFound("no run " + std::to_string(*requested) + " in " + db.path);
    return Status::NotFound(db.path + " has no runs yet");
  }
  return query->ColumnInt(0);
}

int ChooseRunExitCode(const Status& error, bool requested) {
  if (error.code() != Status::Code::kNotFound) return kExitDatabase;
  return requested ? kExitUsage : kExitFailure;
}

Result<UrlRules> UrlRulesOfRun(CrawlDatabase& db, int64_t run) {
  FANOUT_ASSIGN_OR_RETURN(std::string name, UrlNormalizationOf(db.db, db.schema_version, run));
  std::optional<UrlRules> rules = UrlRulesNamed(name);
  if (!rules) return Status::Corruption("run " + std::to_string(run) + " has URL normalisation '" + name + "', unknown to this fanout");
  return *rules;
}

}  // namespace fanout::cli
