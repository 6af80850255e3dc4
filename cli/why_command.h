// `fanout why`: the story of one URL in a crawl run, told from the database: fetched or not, how
// and why, and every page it was found on.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupWhyCommand(CLI::App& app);

}  // namespace fanout::cli
