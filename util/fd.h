// UniqueFd: the one owner of a POSIX file descriptor, which it closes when it goes.
//
// close(2) is never retried on EINTR: Linux releases the descriptor even when close reports EINTR,
// so a retry could close a number another thread has just been given.
//
// Threads: like an int. An owner is used by one thread at a time; moving it moves ownership.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace fanout {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative `fd` (a failed open, say) makes an empty owner.
  explicit UniqueFd(int fd) : fd_(fd < 0 ? -1 : fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());  // safe for self-move: release() empties this first
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  // The descriptor, still owned here; -1 when empty.
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives the descriptor up without closing it: the caller owns what is returned (-1 if empty).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the descriptor held, if any (errors ignored: see close() for callers that care), and
  // takes ownership of `fd`.
  void reset(int fd = -1) {
    const int old = std::exchange(fd_, fd < 0 ? -1 : fd);
    if (old >= 0) ::close(old);
  }

  // Closes the descriptor now and reports how that went: 0, or close's errno. For files written
  // to, where close may be the first to report a lost write (NFS, quotas). Empty afterwards either
  // way. REQUIRES: not empty.
  int close() {
    const int fd = release();
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

}  // namespace fanout
