// ScratchNetns: a network namespace for one test (`ip netns add`), deleted at the end, with `lo`
// up and nothing else until the test adds it. Its addresses exist only inside it.
//
// Threads: RunInside() runs a function on a thread of its own that has entered the namespace
// (setns), so the sockets that function opens, listening or connecting, live there; the test's
// other threads stay where they were.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {

// iproute2's ip, wherever this system keeps it; "" when there is none.
inline std::string IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

class ScratchNetns {
 public:
  // Creates namespace `name`; ok() is false, and why() says why, when this machine cannot.
  explicit ScratchNetns(std::string name) : name_(std::move(name)) {
    if (IpBinary().empty()) {
      why_ = "no ip command (apt-get install iproute2)";
      return;
    }
    (void)RunProcess({IpBinary(), "netns", "del", name_});  // a leftover of a killed run
    ProcessResult r = RunProcess({IpBinary(), "netns", "add", name_});
    if (r.exit_code != 0) {
      why_ = "ip netns add " + name_ + " failed (root needed): " + r.err;
      return;
    }
    made_ = true;
    r = Ip({"link", "set", "lo", "up"});
    if (r.exit_code != 0) why_ = "cannot bring lo up in " + name_ + ": " + r.err;
  }
  ~ScratchNetns() {
    if (made_) (void)RunProcess({IpBinary(), "netns", "del", name_});
  }
  ScratchNetns(const ScratchNetns&) = delete;
  ScratchNetns& operator=(const ScratchNetns&) = delete;

  bool ok() const { return made_ && why_.empty(); }
  const std::string& why() const { return why_; }
  const std::string& name() const { return name_; }

  // `ip -n NAME args...`, to completion.
  ProcessResult Ip(std::vector<std::string> args) const {
    args.insert(args.begin(), {IpBinary(), "-n", name_});
    return RunProcess(args);
  }
  // The command line that runs `args` inside the namespace (for Subprocess or RunProcess).
  std::vector<std::string> Exec(std::vector<std::string> args) const {
    args.insert(args.begin(), {IpBinary(), "netns", "exec", name_});
    return args;
  }
  // Runs fn on a thread inside the namespace and waits for it; false (fn not run) if it cannot enter.
  bool RunInside(const std::function<void()>& fn) const {
    bool entered = false;
    std::thread t([&] {
      int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      entered = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) close(fd);
      if (entered) fn();
    });
    t.join();
    return entered;
  }

 private:
  std::string name_, why_;
  bool made_ = false;
};

}  // namespace fanout::test
