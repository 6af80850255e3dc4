#include "cli/runs_command.h"

#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "cli/text_table.h"
#include "storage/run_queries.h"

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

int RunRuns(const RunsCommandOptions& opt) {
  auto fail = [](const Status& error) { return Fail("runs", error, DatabaseExitCode(error)); };
  Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
  if (!db.ok()) return fail(db.status());
  Result<std::vector<RunListing>> runs = ListRuns(db->db);
  if (!runs.ok()) return fail(runs.status());
  TextTable table({"run", "started", "mode", "seeds", "pages", "errors", "wall s", "pages/s", ""}, "rlllrrrrl");
  for (const RunListing& run : *runs) {
    auto figure = [](const std::optional<double>& value, int digits) {
      return value ? Fixed(*value, digits) : std::string("-");
    };
    const int wall_digits = run.wall_seconds.value_or(0) < 1 ? 3 : 2;  // a small site takes milliseconds
    table.AddRow({std::to_string(run.id), LocalTime(run.started_at), run.mode, Seeds(run.seeds),
                  std::to_string(run.pages), std::to_string(run.errors), figure(run.wall_seconds, wall_digits),
                  figure(run.pages_per_second, 1), run.finished_at ? "" : "unfinished"});
  }
  if (runs->empty()) {
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
