// `fanout bench`: the same crawl in sync, threads and async modes at several concurrency levels,
// each cell a fresh `fanout crawl` process and database; prints a table, and writes JSON, CSV or an
// HTML page with charts.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupBenchCommand(CLI::App& app);

}  // namespace fanout::cli
