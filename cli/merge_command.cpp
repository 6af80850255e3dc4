#include "cli/merge_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "storage/merge.h"

namespace fanout::cli {
namespace {

struct MergeCommandOptions {
  std::string out;
  std::vector<std::string> inputs;
  int64_t run = 0;  // 0: the one shared run the inputs hold
};

std::string Count(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The paragraph a user reads once the merge is written.
std::string Report(const MergeStats& s, const SharedRun& run) {
  std::string text = "merged " + Count(static_cast<int64_t>(s.runs), "run", "runs") + " of frontier run " +
                     std::to_string(run.frontier_run) + (run.frontier.empty() ? "" : " (" + run.frontier + ")") +
                     " by " + s.workers + " into run " + std::to_string(s.run_id) + " of " + s.out + ": " +
                     Count(s.pages, "page", "pages") + ", " + Count(s.links, "link", "links") + ", " +
                     Count(s.errors, "error", "errors") + ", " + Count(s.skipped, "skipped URL", "skipped URLs") +
                     ", " + Count(s.robots, "robots.txt", "robots.txt") + "; ";
  if (s.duplicate_pages == 0) {
    text += "no page was fetched by two workers";
  } else {
    text += Count(s.duplicate_pages, "page", "pages") + " fetched by two workers kept once, as first fetched (" +
            Count(s.dropped_links, "link", "links") + " and " + Count(s.dropped_errors, "error", "errors") +
            " of the later fetches dropped)";
  }
  if (!s.finished) text += "; a worker's run is unfinished, so the merged run is too";
  return text + ".";
}

int RunMerge(const MergeCommandOptions& opt) {
  auto fail = [](std::string_view message, int code) { return Fail("merge", message, code); };
  // Arguments first: nothing is opened for a command line that cannot be right.
  std::error_code ec;
  for (size_t i = 0; i < opt.inputs.size(); ++i) {
    if (std::filesystem::equivalent(opt.out, opt.inputs[i], ec)) {
      return fail("the output '" + opt.out + "' is one of the inputs", kExitUsage);
    }
    for (size_t j = 0; j < i; ++j) {
      if (opt.inputs[j] == opt.inputs[i] || std::filesystem::equivalent(opt.inputs[j], opt.inputs[i], ec)) {
        return fail("'" + opt.inputs[i] + "' is given twice", kExitUsage);
      }
    }
  }

  std::vector<MergeInput> inputs;
  for (const std::string& path : opt.inputs) {
    Result<CrawlDatabase> db = OpenCrawlDatabase(path);
    if (!db.ok()) return fail(db.status().message(), DatabaseExitCode(db.status()));
    inputs.push_back({.path = path, .db = std::move(db->db), .schema_version = db->schema_version});
  }
  const bool requested = opt.run > 0;
  Result<SharedRun> run = ChooseSharedRun(inputs, requested ? std::optional<int64_t>(opt.run) : std::nullopt);
  if (!run.ok()) return fail(run.status().message(), ChooseRunExitCode(run.status(), requested));
  Result<MergeStats> stats = MergeSharedRun(inputs, *run, opt.out);
  if (!stats.ok()) return fail(stats.status().message(), DatabaseExitCode(stats.status()));
  Say("merge", Report(*stats, *run));
  return kExitOk;
}

}  // namespace

void SetupMergeCommand(CLI::App& app) {
  auto opt = std::make_shared<MergeCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Merge the workers' databases of one shared-frontier run into one run of OUT (inputs read-only)");
  cmd->add_option("out", opt->out, "The database to write: a new file, or a fanout database to add the run to")
      ->required();
  cmd->add_option("inputs", opt->inputs, "The workers' databases")->required()->expected(1, -1);
  cmd->add_option("--run", opt->run, "The shared frontier's run id (default: the one shared run the inputs hold)")
      ->check(CLI::PositiveNumber);
  cmd->callback([opt] { throw CLI::RuntimeError(RunMerge(*opt)); });
}

}  // namespace fanout::cli
