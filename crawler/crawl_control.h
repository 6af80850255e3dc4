// CrawlControl: how another thread (the CLI's signal thread) asks a running crawl to stop.
//
// Stop() is the first Ctrl-C: no new fetches start, transfers in flight may finish for up to
// `grace`, then the crawl ends with everything fetched stored. Abort() is the second: transfers
// are cut now (within about a second), and what they fetched is not stored, so that a resumed crawl
// fetches those URLs again. Either may come before the crawl starts or after it ended.
//
// Threads: Stop and Abort from any thread; the rest belongs to the crawl.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>

namespace fanout {

class CrawlControl {
 public:
  explicit CrawlControl(std::chrono::milliseconds grace = std::chrono::seconds(5)) : grace_(grace) {}

  void Stop() { Request(stop_); }
  void Abort() {
    stop_.store(true);
    Request(abort_);
  }

  bool stop_requested() const { return stop_.load(); }
  bool abort_requested() const { return abort_.load(); }
  const std::atomic<bool>* abort_flag() const { return &abort_; }
  std::chrono::milliseconds grace() const { return grace_; }

  // The crawl: `wake` is called (on the requesting thread) after each request, and once at once
  // if one came before; an empty function unregisters.
  void OnRequest(std::function<void()> wake) {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    if (wake_ && stop_.load()) wake_();
  }

 private:
  void Request(std::atomic<bool>& flag) {
    flag.store(true);
    std::lock_guard lock(mu_);
    if (wake_) wake_();
  }

  const std::chrono::milliseconds grace_;
  std::atomic<bool> stop_{false}, abort_{false};
  std::mutex mu_;
  std::function<void()> wake_;  // guarded by mu_
};

}  // namespace fanout
