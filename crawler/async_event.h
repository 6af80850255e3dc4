// AsyncEvent: a one-shot flag coroutines wait on. Set() wakes every waiter, by scheduling them on
// the loop (never inline), and later waits complete at once; like asyncio.Event without clear().
//
// Threads: loop thread only.
#pragma once

#include <coroutine>
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

  bool is_set() const { return set_; }

 private:
  EventLoop& loop_;
  bool set_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace fanout
