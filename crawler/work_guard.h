// WorkGuard: runs its end when it goes out of scope, however a procedure ends (co_return, a stop,
// an exception): how the crawl's procedures count themselves as work in progress.
//
// Threads: the owner's.
#pragma once

#include <functional>
#include <utility>

namespace fanout {

class WorkGuard {
 public:
  explicit WorkGuard(std::function<void()> end) : end_(std::move(end)) {}
  WorkGuard(const WorkGuard&) = delete;
  WorkGuard& operator=(const WorkGuard&) = delete;
  ~WorkGuard() { end_(); }

 private:
  std::function<void()> end_;
};

}  // namespace fanout
