// `fanout runs`: list the runs a crawl database holds, one line each.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupRunsCommand(CLI::App& app);

}  // namespace fanout::cli
