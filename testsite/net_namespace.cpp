#include "testsite/net_namespace.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace fanout::testsite {
namespace {

// The namespace behind an nsfs link: the pair (device, inode) names it.
bool NamespaceOf(const char* path, struct stat& st, std::string& why) {
  if (stat(path, &st) == 0) return true;
  why = std::string(path) + ": " + std::strerror(errno);
  return false;
}

// A kernel thread's status says "Kthread:\t1"; a process that is PID 2 of a container's own PID
// namespace does not (and an older kernel that prints no such line is not trusted either).
bool IsKernelThread(const char* status_path) {
  std::ifstream in(status_path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Kthread:", 0) == 0) return line.find('1') != std::string::npos;
  }
  return false;
}

}  // namespace

Status InOwnNetNamespace() {
  struct stat self {}, initial {};
  std::string why_self, why_pid1, why_pid2;
  if (!NamespaceOf("/proc/thread-self/ns/net", self, why_self)) {
    return Status::Unavailable("its own network namespace cannot be read (" + why_self + ")");
  }
  const char* initial_is = "that of PID 1";
  if (!NamespaceOf("/proc/1/ns/net", initial, why_pid1)) {
    initial_is = "that of the kernel's threads";
    if (!IsKernelThread("/proc/2/status") || !NamespaceOf("/proc/2/ns/net", initial, why_pid2)) {
      return Status::Unavailable("the initial network namespace cannot be told from this one (" + why_pid1 +
                                 (why_pid2.empty() ? "" : "; " + why_pid2) + "), so it is taken to be this one");
    }
  }
  if (self.st_dev == initial.st_dev && self.st_ino == initial.st_ino) {
    return Status::InvalidArgument(std::string("this process runs in the initial network namespace (") + initial_is + ")");
  }
  return Status::Ok();
}

}  // namespace fanout::testsite
