// `fanout export`: a crawl database's pages, links, errors or skipped URLs as JSON Lines or CSV,
// for tools that do not speak SQLite.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupExportCommand(CLI::App& app);

}  // namespace fanout::cli
