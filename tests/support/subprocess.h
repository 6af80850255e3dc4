// Runs the fanout binary as a child process for CLI tests: its exit code, stdout and stderr,
// each wait bounded by a deadline (the child is killed past it, and the test fails).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fanout::test {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
  bool timed_out = false;
};

class Subprocess {
 public:
  explicit Subprocess(const std::vector<std::string>& args);
  ~Subprocess();  // kills a child still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // The next line of stdout, without '\n'; "" at EOF or past the deadline.
  std::string ReadStdoutLine(int timeout_ms);
  void Signal(int sig);
  // Whether the child has ended, without waiting (it is reaped then; Wait still reads the pipes).
  bool Exited();
  // Reads what is left of both pipes and reaps the child.
  ProcessResult Wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;  // Exited() saw the child end: status_ holds its wait status
  int status_ = 0;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
};

// Runs to completion.
ProcessResult RunProcess(const std::vector<std::string>& args, int timeout_ms = 30000);

}  // namespace fanout::test
