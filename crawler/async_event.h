// AsyncEvent: a one-shot flag coroutines wait on. Set() wakes every waiter, by scheduling them on
// the loop (never inline), and later waits complete at once; like asyncio.Event without clear().
//
// Threads: loop thread only (but see RemoteWakeup below).
#pragma once

#include <coroutine>
#include <mutex>
#include <utility>
#include <vector>

#include "crawler/event_loop.h"

namespace fanout {

class AsyncEvent {
 public:
  explicit AsyncEvent(EventLoop& loop) : loop_(loop) {}
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  auto Wait() {
    struct Op {
      AsyncEvent& event;
      bool await_ready() const noexcept { return event.set_; }
      void await_suspend(std::coroutine_handle<> h) { event.waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return Op{*this};
  }

  void Set() {
    set_ = true;
    for (std::coroutine_handle<> h : waiters_) loop_.Schedule(h);
    waiters_.clear();
  }

 private:
  EventLoop& loop_;
  bool set_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

// RemoteWakeup: lets other threads wake one coroutine on the loop. Notify() from any thread; a
// notification that comes while nobody waits is kept for the next Wait().
class RemoteWakeup {
 public:
  explicit RemoteWakeup(EventLoop& loop) : loop_(loop) {}

  auto Wait() {
    struct Op {
      RemoteWakeup& w;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard lock(w.mu_);
        if (w.pending_) {
          w.pending_ = false;
          return false;  // resume at once
        }
        w.waiter_ = h;
        return true;
      }
      void await_resume() const noexcept {}
    };
    return Op{*this};
  }

  void Notify() {
    std::lock_guard lock(mu_);
    if (waiter_) {
      loop_.Post(std::exchange(waiter_, {}));
    } else {
      pending_ = true;
    }
  }

 private:
  EventLoop& loop_;
  std::mutex mu_;
  std::coroutine_handle<> waiter_;  // guarded by mu_
  bool pending_ = false;            // guarded by mu_
};

}  // namespace fanout
