// fanout: the command line. It only parses; each subcommand's file does the work.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "cli/exit_codes.h"
#include "cli/bench_command.h"
#include "cli/cat_command.h"
#include "cli/crawl_command.h"
#include "cli/export_command.h"
#include "cli/frontier_command.h"
#include "cli/merge_command.h"
#include "cli/runs_command.h"
#include "cli/serve_command.h"
#include "cli/why_command.h"

#ifndef FANOUT_VERSION
#define FANOUT_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  // Bodies of a few MB come and go all through a crawl. glibc raises its mmap threshold each time
  // such a block is freed, after which big blocks come from the heap and their memory stays with
  // the process, fragmented; a fixed threshold keeps them mapped, and returned when freed.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  CLI::App app{"fanout: a web crawler that shows, and measures, what async fan-out buys", "fanout"};
  app.set_version_flag("--version", "fanout " FANOUT_VERSION);
  app.require_subcommand(1);
  fanout::cli::SetupBenchCommand(app);
  fanout::cli::SetupCatCommand(app);
  fanout::cli::SetupCrawlCommand(app);
  fanout::cli::SetupExportCommand(app);
  fanout::cli::SetupFrontierCommand(app);
  fanout::cli::SetupMergeCommand(app);
  fanout::cli::SetupRunsCommand(app);
  fanout::cli::SetupServeCommand(app);
  fanout::cli::SetupWhyCommand(app);
  // CLI11 would call an unknown command a missing one; say what was typed instead, and which there are.
  bool known = false;
  std::string commands;
  for (const CLI::App* sub : app.get_subcommands({})) {
    known = known || (argc > 1 && sub->check_name(argv[1]));
    commands += (commands.empty() ? "" : ", ") + sub->get_name();
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "fanout: unknown command '" << argv[1] << "' (commands: " << commands << "; see fanout --help)\n";
    return fanout::cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand ran and chose its exit code
  } catch (const CLI::ParseError& e) {
    // One line, the problem first; --help has the rest.
    std::cerr << "fanout: " << e.what() << " (see fanout --help)\n";
    return fanout::cli::kExitUsage;
  }
  return fanout::cli::kExitOk;
}
