// `fanout frontier init|status URL`: the shared frontier on PostgreSQL that workers crawl through.
#pragma once

#include <CLI/CLI.hpp>

#include "util/status.h"

namespace fanout::cli {

void SetupFrontierCommand(CLI::App& app);

// The exit code for a shared frontier's error (README "Exit codes"): 2 for a malformed address or
// no such run, 3 for a server that cannot be reached or refuses us, 4 for a database that is not a
// fanout frontier or has a newer schema.
int FrontierExitCode(const Status& s);

}  // namespace fanout::cli
