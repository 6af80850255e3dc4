#include "cli/external_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <utility>
#include <vector>

#include "util/fd.h"

namespace fanout::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The child's process group, killed and its leader reaped if we leave before wait4 did it (an
// early return, an exception): no command outlives the bench that started it that way.
class ChildGroup {
 public:
  explicit ChildGroup(pid_t pid) : pid_(pid) {}
  ~ChildGroup() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;

  pid_t pid() const { return pid_; }
  // Called once wait4 has reaped the leader.
  void Reaped() { pid_ = -1; }

 private:
  pid_t pid_;
};

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void AppendTail(std::string& tail, const char* data, size_t n) {
  tail.append(data, n);
  if (tail.size() > kOutputTailBytes) tail.erase(0, tail.size() - kOutputTailBytes);
}

enum class ReadOutcome { kData, kWouldBlock, kClosed };

// One read from fd into `tail`: one, not "until empty", so that a command that writes without
// pause cannot keep the caller from its deadline.
ReadOutcome ReadInto(int fd, std::string& tail) {
  char buf[16384];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      AppendTail(tail, buf, static_cast<size_t>(n));
      return ReadOutcome::kData;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN ? ReadOutcome::kWouldBlock : ReadOutcome::kClosed;
  }
}

// What is left in a pipe once its writer has gone, without waiting for EOF: a process the command
// left behind may hold the pipe open a moment longer. Bounded, like ReadInto.
void ReadRest(int fd, std::string& tail) {
  for (int i = 0; i < 64 && ReadInto(fd, tail) == ReadOutcome::kData; ++i) {
  }
}

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(std::min<long long>(left, 1 << 30)) : 0;
}

// glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage, so C++ cannot link to it; the
// system call itself is the same (Linux 5.3 and later).
int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

bool IsInterpreter(const std::string& program) {
  static const std::regex interpreters(
      R"((python|pypy)[0-9.]*|sh|bash|dash|zsh|ksh|perl|ruby|node|nodejs|php|lua[0-9.]*|tclsh|Rscript)");
  return std::regex_match(program, interpreters);
}

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos || slash + 1 == path.size() ? path : path.substr(slash + 1);
}

// The words of a command line as sh would split a simple command: blanks separate them, quotes
// and backslashes group. Enough to name a command; the shell does the real parsing.
std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quote) {
      if (ch == quote) {
        quote = 0;
      } else if (ch == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += ch;
      }
    } else if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
    } else {
      in_word = true;
      if (ch == '\'' || ch == '"') {
        quote = ch;
      } else if (ch == '\\' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += ch;
      }
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

}  // namespace

std::string ExternalRun::Describe() const {
  if (timed_out) return "timeout";
  if (signal != 0) return "signal " + std::to_string(signal);
  return exit_code == 0 ? "ok" : "exit " + std::to_string(exit_code);
}

Result<ExternalRun> RunShellCommand(const std::string& command, std::chrono::milliseconds timeout) {
  FANOUT_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  FANOUT_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  UniqueFd null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in) return Status::IOError(std::string("/dev/null: ") + std::strerror(errno));

  // Everything the child needs is made before fork: between fork and exec it may only make
  // async-signal-safe calls (this process has other threads, such as the site server's).
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  const pid_t parent = getpid();
  sigset_t no_signals;
  sigemptyset(&no_signals);

  ExternalRun run;
  const Clock::time_point started = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);  // a group of its own, for the timeout to kill as a whole
    // If bench dies (Ctrl-C reaches only bench's group), the command goes with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // Signals as a shell started from a terminal would have them, whatever bench inherited.
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(null_in.get(), STDIN_FILENO);
    dup2(out.write.get(), STDOUT_FILENO);
    dup2(err.write.get(), STDERR_FILENO);
    execv("/bin/sh", const_cast<char* const*>(argv));
    _exit(127);
  }
  // Also here, so that a kill(-pid) cannot come before the child has made its group.
  setpgid(pid, pid);
  ChildGroup group(pid);
  out.write.reset();  // only the child writes: EOF comes when it (and what it started) is done
  err.write.reset();

  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) return Status::IOError(std::string("pidfd_open: ") + std::strerror(errno));

  const Clock::time_point deadline = started + timeout;
  bool out_open = true, err_open = true;
  while (true) {
    const int left = MillisLeft(deadline);
    if (left == 0) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0},
                     {out_open ? out.read.get() : -1, POLLIN, 0},
                     {err_open ? err.read.get() : -1, POLLIN, 0}};
    if (poll(fds, 3, left) < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[1].revents && ReadInto(out.read.get(), run.stdout_tail) == ReadOutcome::kClosed) out_open = false;
    if (fds[2].revents && ReadInto(err.read.get(), run.stderr_tail) == ReadOutcome::kClosed) err_open = false;
    if (fds[0].revents & POLLIN) break;  // the command has exited
  }

  int status = 0;
  while (wait4(pid, &status, 0, &run.usage) < 0 && errno == EINTR) {
  }
  run.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  group.Reaped();
  // Whatever it left running in its group (`cmd &`) would skew the next run and hold our pipes.
  kill(-pid, SIGKILL);
  if (out_open) ReadRest(out.read.get(), run.stdout_tail);
  if (err_open) ReadRest(err.read.get(), run.stderr_tail);

  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  }
  return run;
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t begin = text.find_last_of('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end + 1 - begin);
}

std::string ShellQuote(const std::string& s) {
  static const char* kLiteral =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-";
  if (!s.empty() && s.find_first_not_of(kLiteral) == std::string::npos) return s;
  std::string quoted = "'";
  for (char ch : s) quoted += ch == '\'' ? std::string("'\"'\"'") : std::string(1, ch);
  return quoted + "'";
}

std::string ExpandPlaceholders(const std::string& command, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t at = 0;
  while (at < command.size()) {
    const size_t open = command.find('{', at);
    if (open == std::string::npos) break;
    const size_t close = command.find('}', open + 1);
    if (close == std::string::npos) break;
    out.append(command, at, open - at);
    auto value = values.find(command.substr(open + 1, close - open - 1));
    if (value != values.end()) {
      out += ShellQuote(value->second);
      at = close + 1;
    } else {
      out += '{';  // not ours: keep it, and look for a placeholder just after it
      at = open + 1;
    }
  }
  out.append(command, at);
  return out;
}

std::string CommandLabel(const std::string& command) {
  static const std::regex assignment("[A-Za-z_][A-Za-z0-9_]*=.*");
  const std::vector<std::string> words = SplitWords(command);
  size_t i = 0;
  while (i < words.size() &&
         (words[i] == "exec" || words[i] == "env" || std::regex_match(words[i], assignment))) {
    ++i;
  }
  if (i == words.size()) return "command";
  const std::string program = BaseName(words[i]);
  if (!IsInterpreter(program)) return program;
  for (size_t j = i + 1; j < words.size(); ++j) {
    if (words[j] == "-c" || words[j] == "-e") break;  // an inline script: the interpreter is the name
    if (!words[j].empty() && words[j][0] != '-') return BaseName(words[j]);
  }
  return program;
}

}  // namespace fanout::cli
