// `fanout merge`: put the workers' databases of one shared-frontier run together as one run that
// `fanout why`, `runs` and `export` read like any other (the work is storage/merge.h's).
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupMergeCommand(CLI::App& app);

}  // namespace fanout::cli
