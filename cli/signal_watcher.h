// SignalWatcher: Ctrl-C (SIGINT) and SIGTERM during a crawl, turned into CrawlControl requests.
//
// The signals are blocked in every thread and taken by a thread of its own with sigwait, so no
// code runs in a signal handler: the first one calls control.Stop(), the second control.Abort().
// Create it before any other thread starts, so that they all inherit the blocked mask.
#pragma once

#include <atomic>
#include <csignal>
#include <thread>

#include "crawler/crawl_control.h"

namespace fanout::cli {

class SignalWatcher {
 public:
  explicit SignalWatcher(CrawlControl& control);
  ~SignalWatcher();  // stops watching; signals then act as usual again
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  int first_signal() const { return first_signal_.load(); }  // 0 when none came

 private:
  void Watch(CrawlControl& control);

  sigset_t set_{}, old_mask_{};
  std::atomic<bool> done_{false};
  std::atomic<int> first_signal_{0};
  std::thread thread_;
};

}  // namespace fanout::cli
