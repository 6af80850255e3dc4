// The exit codes of the fanout command, documented in README.md. Scripts depend on them.
#pragma once

namespace fanout::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // a run-time failure not covered below
  kExitUsage = 2,        // a bad flag, value or argument: nothing was done
  kExitUnavailable = 3,  // a resource could not be had: a port in use, an unreadable file
  kExitDatabase = 4,     // the database cannot be used or written: not SQLite, newer schema, disk full
  kExitInterrupted = 130,  // Ctrl-C (SIGINT): 128 + 2, as shells report it
  kExitTerminated = 143,   // SIGTERM: 128 + 15
};

}  // namespace fanout::cli
