#include "cli/frontier_command.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command_error.h"
#include "cli/exit_codes.h"
#include "cli/text_table.h"
#include "pgfrontier/frontier_schema.h"
#include "pgfrontier/frontier_status.h"
#include "pgfrontier/pg.h"

namespace fanout::cli {
namespace {

struct FrontierCommandOptions {
  std::string address;
  int64_t run = 0;
  double lease = 30;
  bool json = false;
};

int Fail(const std::string& what, const Status& s) { return cli::Fail("frontier " + what, s, FrontierExitCode(s)); }

int RunInit(const FrontierCommandOptions& opt) {
  Result<pg::PgConn> conn = pg::PgConn::Connect(opt.address);
  if (!conn.ok()) return Fail("init", conn.status());
  Result<int> before = pg::FrontierSchemaVersion(*conn);
  if (!before.ok()) return Fail("init", before.status());
  if (Status s = pg::InitFrontierSchema(*conn); !s.ok()) return Fail("init", s);
  std::cerr << "fanout frontier init: " << pg::Redact(opt.address) << ": schema version "
            << pg::kFrontierSchemaVersion
            << (*before == pg::kFrontierSchemaVersion ? " (already)"
                : *before == 0                        ? " (created)"
                                                      : " (migrated from " + std::to_string(*before) + ")")
            << "\n";
  return kExitOk;
}

int RunStatus(const FrontierCommandOptions& opt) {
  Result<pg::PgConn> conn = pg::PgConn::Connect(opt.address);
  if (!conn.ok()) return Fail("status", conn.status());
  Result<std::vector<pg::FrontierRunStatus>> runs = pg::ReadFrontierStatus(*conn, opt.run, opt.lease);
  if (!runs.ok()) return Fail("status", runs.status());
  if (opt.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const pg::FrontierRunStatus& r : *runs) {
      nlohmann::json workers = nlohmann::json::array();
      for (const pg::FrontierWorker& w : r.workers) {
        workers.push_back({{"name", w.name}, {"alive", w.alive}, {"left", w.left}, {"seen_seconds_ago", w.seen_seconds_ago},
                           {"pages", w.pages}, {"hosts_leased", w.hosts_leased}});
      }
      out.push_back({{"run", r.run}, {"created_at", r.created_at}, {"finished_at", r.finished_at},
                     {"seeds", nlohmann::json::parse(r.seeds, nullptr, false)}, {"max_pages", r.max_pages},
                     {"queued", r.queued}, {"in_flight", r.in_flight}, {"done", r.done}, {"refused", r.refused},
                     {"seen", r.seen}, {"hosts", r.hosts}, {"hosts_leased", r.hosts_leased}, {"workers", workers}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (runs->empty()) {
    std::cout << "no runs in " << pg::Redact(opt.address) << "\n";
    return kExitOk;
  }
  for (const pg::FrontierRunStatus& r : *runs) {
    TextTable t({"run " + std::to_string(r.run), ""}, "ll");
    t.AddRow({"started", r.created_at + (r.finished_at.empty() ? " (unfinished)" : ", finished " + r.finished_at)});
    t.AddRow({"seeds", r.seeds});
    t.AddRow({"urls", std::to_string(r.queued) + " queued, " + std::to_string(r.in_flight) + " in flight, " +
                          std::to_string(r.done) + " done" +
                          (r.max_pages > 0 ? " (of --max-pages " + std::to_string(r.max_pages) + ")" : "") + ", " +
                          std::to_string(r.seen) + " seen; " + std::to_string(r.refused) + " late reports refused"});
    t.AddRow({"hosts", std::to_string(r.hosts) + " known, " + std::to_string(r.hosts_leased) + " leased"});
    for (const pg::FrontierWorker& w : r.workers) {
      t.AddRow({"worker " + w.name,
                std::string(w.alive ? "alive" : w.left ? "left" : "gone") + " (seen " + Fixed(w.seen_seconds_ago, 1) +
                    " s ago), " + std::to_string(w.pages) + " pages, " + std::to_string(w.hosts_leased) +
                    " hosts leased"});
    }
    t.Print(std::cout);
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace

int FrontierExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound: return kExitUsage;
    case Status::Code::kUnavailable: return kExitUnavailable;
    default: return kExitDatabase;
  }
}

void SetupFrontierCommand(CLI::App& app) {
  auto opt = std::make_shared<FrontierCommandOptions>();
  CLI::App* cmd = app.add_subcommand("frontier", "The shared frontier on PostgreSQL that crawl workers share");
  cmd->require_subcommand(1);
  CLI::App* init = cmd->add_subcommand("init", "Create the frontier's tables in a PostgreSQL database, or migrate them");
  init->add_option("address", opt->address, "postgresql://USER@HOST/DB (or libpq key=value pairs)")->required();
  init->callback([opt] { throw CLI::RuntimeError(RunInit(*opt)); });
  CLI::App* status = cmd->add_subcommand("status", "Show a frontier's runs: queued, in flight, done, workers and their hosts");
  status->add_option("address", opt->address, "postgresql://USER@HOST/DB (or libpq key=value pairs)")->required();
  status->add_option("--run", opt->run, "Only this run");
  status->add_option("--lease", opt->lease, "A worker not seen for this many seconds counts as gone")
      ->capture_default_str();
  status->add_flag("--json", opt->json, "As JSON");
  status->callback([opt] { throw CLI::RuntimeError(RunStatus(*opt)); });
}

}  // namespace fanout::cli
