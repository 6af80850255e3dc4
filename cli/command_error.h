// How a command of the fanout executable fails: one line on stderr, "fanout COMMAND: MESSAGE",
// and the exit code (cli/exit_codes.h) its run function returns. Every command fails this way,
// so a script sees the same shape of message from each; README.md documents the codes.
//
// Thread rules: any thread; each call writes its line with one stream insertion.
#pragma once

#include <string_view>

#include "util/status.h"

namespace fanout::cli {

// Writes "fanout COMMAND: MESSAGE\n" to stderr. COMMAND may have words ("frontier init").
void Say(std::string_view command, std::string_view message);

// Says MESSAGE for COMMAND and returns `code`, for `return Fail("crawl", "...", kExitUsage);`.
int Fail(std::string_view command, std::string_view message, int code);

// As above, with the error's message.
int Fail(std::string_view command, const Status& error, int code);

}  // namespace fanout::cli
