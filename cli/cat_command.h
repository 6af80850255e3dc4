// `fanout cat URL`: a page as the archive (--warc) keeps it, read by seeking straight to its
// response record through the pages table's index: its body decoded as the parser saw it, its
// response's status line and header fields (--headers), or the whole WARC record (--raw).
#pragma once

#include <CLI/CLI.hpp>

namespace fanout::cli {

void SetupCatCommand(CLI::App& app);

}  // namespace fanout::cli
