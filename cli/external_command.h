// ExternalCommand: another crawler, run by `fanout bench --vs` as a shell command line, with a time
// limit, and measured from the outside: wall time, and the rusage that wait4() reports for it.
//
// The command runs under `/bin/sh -c` in a process group of its own, so that a timeout can kill
// the shell and everything it started, and so that the rusage covers the shell's children too
// (wait4 reports a process together with the descendants it waited for). stdin is /dev/null;
// stdout and stderr are read into bounded buffers that keep their last bytes.
//
// Threads: RunShellCommand blocks the calling thread; nothing is shared.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <map>
#include <string>

#include "util/result.h"

namespace fanout::cli {

struct ExternalRun {
  int exit_code = -1;        // the command's exit status; -1 if a signal ended it
  int signal = 0;            // the signal that ended it, if one did (SIGKILL after a timeout)
  bool timed_out = false;    // it outlived the time limit and its process group was killed
  double wall_seconds = 0;   // from start to exit, measured here
  rusage usage{};            // the command's and its waited-for descendants' (wait4)
  std::string stdout_tail;   // the last bytes of what it wrote (at most kOutputTailBytes each)
  std::string stderr_tail;

  bool ok() const { return exit_code == 0 && !timed_out; }
  // "ok", "exit 3", "timeout", "signal 9": for a table cell.
  std::string Describe() const;
};

inline constexpr size_t kOutputTailBytes = 8192;

// Runs `/bin/sh -c command` in the current directory and waits for it, at most `timeout`: past
// it, SIGKILL goes to the command's whole process group. Processes it left behind in its group
// are killed when it exits, too. Fails only when the command cannot be started at all.
Result<ExternalRun> RunShellCommand(const std::string& command, std::chrono::milliseconds timeout);

// The last non-empty line of `text`, without its line end; "" if it has none.
std::string LastLine(const std::string& text);

// `s` as one shell word: unchanged when it holds only characters the shell takes literally,
// otherwise in single quotes (as Python's shlex.quote does).
std::string ShellQuote(const std::string& s);

// `command` with each "{name}" for a name in `values` replaced by ShellQuote(value). Other braces
// are left alone, so shell code such as ${HOME} or {1..5} passes through.
std::string ExpandPlaceholders(const std::string& command, const std::map<std::string, std::string>& values);

// A short label for a command line: the base name of its program, or, when the program is an
// interpreter (python3, sh, bash, perl, node, ...), of the first argument after it that is not
// an option. "python3 samples/python/crawl_asyncio.py {url}" gives "crawl_asyncio.py". Leading
// `exec`, `env` and VAR=value words are skipped.
std::string CommandLabel(const std::string& command);

}  // namespace fanout::cli
