// Fanout: runs the fanout binary under test (FANOUT_BINARY, which tests/CMakeLists.txt defines for
// every test target) as a user would, to completion: its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {

struct FanoutRun {
  int timeout_ms = 60000;           // the child is killed past it, and the test fails
  std::string cwd;                  // "" : the test's own working directory
  std::vector<std::string> prefix;  // a command that runs fanout (env, unshare, ...), before it
};

namespace internal {
// `s` quoted for /bin/sh.
inline std::string ShellQuoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace internal

// `fanout args...`, run as `how` says.
inline ProcessResult Fanout(std::vector<std::string> args, const FanoutRun& how = {}) {
  if (how.cwd.empty() && how.prefix.empty()) {
    args.insert(args.begin(), FANOUT_BINARY);
    return RunProcess(args, how.timeout_ms);
  }
  std::string line = how.cwd.empty() ? "exec" : "cd " + internal::ShellQuoted(how.cwd) + " && exec";
  for (const std::string& a : how.prefix) line += " " + internal::ShellQuoted(a);
  line += " " + internal::ShellQuoted(FANOUT_BINARY);
  for (const std::string& a : args) line += " " + internal::ShellQuoted(a);
  return RunProcess({"/bin/sh", "-c", line}, how.timeout_ms);
}

}  // namespace fanout::test
