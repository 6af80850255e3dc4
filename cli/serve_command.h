// `fanout serve`: serve a directory or a synthetic site on loopback until interrupted.
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

// Adds the `serve` subcommand to `app`; running it is wired in through the callback.
void SetupServeCommand(CLI::App& app);

}  // namespace fanout::cli
