#include "cli/runs_command.h"

#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "cli/text_table.h"

namespace fanout::cli {
namespace {

struct RunsCommandOptions {
  std::string db = "fanout.db";
};

// "2026-11-21 07:52:10" in the local time zone: when a person started the crawl, on their clock.
std::string LocalTime(double unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) return "?";
  char text[32];
  return std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local) > 0 ? text : "?";
}

// The first seed, and how many more: runs.seeds is a JSON array of URLs, and a line has room for one.
std::string Seeds(const std::string& json_array) {
  nlohmann::json seeds = nlohmann::json::parse(json_array, nullptr, /*allow_exceptions=*/false);
  if (!seeds.is_array() || seeds.empty() || !seeds[0].is_string()) return json_array;
  std::string text = seeds[0].get<std::string>();
  if (seeds.size() > 1) text += " (+" + std::to_string(seeds.size() - 1) + " more)";
  return text;
}

// The columns of RunRuns' query, in its SELECT's order.
enum RunColumn { kId, kStartedAt, kFinishedAt, kMode, kSeeds, kPages, kErrors, kWallSeconds, kPagesPerSecond };

int RunRuns(const RunsCommandOptions& opt) {
  auto fail = [](const Status& error) {
    std::cerr << "fanout runs: " << error.message() << "\n";
    return DatabaseExitCode(error);
  };
  Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
  if (!db.ok()) return fail(db.status());
  // A run that never finished has no counts of its own (FinishRun sets them): count what it stored.
  Result<SqliteStmt> query = db->db.Prepare(R"sql(
    SELECT r.id, r.started_at, r.finished_at, r.mode, r.seeds,
           coalesce(r.pages, (SELECT count(*) FROM pages p WHERE p.run_id = r.id)),
           coalesce(r.errors, (SELECT count(*) FROM errors e WHERE e.run_id = r.id)),
           r.wall_seconds, r.pages_per_second
    FROM runs r ORDER BY r.id)sql");
  if (!query.ok()) return fail(query.status());
  TextTable table({"run", "started", "mode", "seeds", "pages", "errors", "wall s", "pages/s", ""}, "rlllrrrrl");
  int runs = 0;
  while (true) {
    Result<bool> row = query->Step();
    if (!row.ok()) return fail(row.status());
    if (!*row) break;
    ++runs;
    const SqliteStmt& run = *query;
    auto figure = [&run](RunColumn column, int digits) {
      return run.ColumnIsNull(column) ? std::string("-") : Fixed(run.ColumnDouble(column), digits);
    };
    const int wall_digits = run.ColumnDouble(kWallSeconds) < 1 ? 3 : 2;  // a small site takes milliseconds
    table.AddRow({std::to_string(run.ColumnInt(kId)), LocalTime(run.ColumnDouble(kStartedAt)), run.ColumnText(kMode),
                  Seeds(run.ColumnText(kSeeds)), std::to_string(run.ColumnInt(kPages)),
                  std::to_string(run.ColumnInt(kErrors)), figure(kWallSeconds, wall_digits),
                  figure(kPagesPerSecond, 1), run.ColumnIsNull(kFinishedAt) ? "unfinished" : ""});
  }
  if (runs == 0) {
    std::cout << opt.db << " has no runs yet\n";
    return kExitOk;
  }
  table.Print(std::cout);
  return kExitOk;
}

}  // namespace

void SetupRunsCommand(CLI::App& app) {
  auto opt = std::make_shared<RunsCommandOptions>();
  CLI::App* cmd = app.add_subcommand("runs", "List the runs in a crawl database (read-only)");
  cmd->add_option("--db", opt->db, "SQLite database a crawl wrote")->capture_default_str();
  cmd->callback([opt] { throw CLI::RuntimeError(RunRuns(*opt)); });
}

}  // namespace fanout::cli
