// `fanout crawl`: crawl from seed URLs into an SQLite database and print a summary.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupCrawlCommand(CLI::App& app);

}  // namespace fanout::cli
