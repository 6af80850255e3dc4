// Driving an EventLoop from a test: MakeLoop (a loop for one test, failing the test if it cannot
// be created), RunUntilIdle (run what is ready and stop, without waiting for timers, sockets or
// other threads) and Yield (let every coroutine that is ready now run first).
//
// RunUntilIdle uses only the loop's public contract: Stop() makes Run() return after the current
// turn, and a turn resumes everything on the ready queue, including what those resumptions
// schedule, before it looks at Stop(). So a task that calls Stop() ends Run() exactly when nothing
// is left ready: every coroutine is then suspended on something outside the loop's ready queue
// (a semaphore, an event, a timer, a transfer) or finished. No sleeping, no guessed time.
#pragma once

#include <gtest/gtest.h>

#include <coroutine>
#include <memory>

#include "crawler/event_loop.h"
#include "tests/support/status_matchers.h"

namespace fanout::test {

inline std::unique_ptr<EventLoop> MakeLoop() {
  Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  EXPECT_OK(loop);
  return loop.ok() ? std::move(loop.value()) : nullptr;
}

// co_await Yield(loop): suspends and goes to the back of the loop's ready queue, so everything
// ready before it runs first; resumes in the same turn. One loop turn, not a span of time.
inline auto Yield(EventLoop& loop) {
  struct YieldOp {
    EventLoop& loop;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { loop.Schedule(h); }
    void await_resume() const noexcept {}
  };
  return YieldOp{loop};
}

// Runs `loop` until nothing is ready, then returns, leaving unfinished tasks suspended (Run() or
// RunUntilIdle() again carries on with them). REQUIRES: the loop is not running.
inline void RunUntilIdle(EventLoop& loop) {
  struct StopWhenIdle {
    static Task<void> Run(EventLoop& loop) {
      loop.Stop();  // takes effect once the current turn has emptied the ready queue
      co_return;
    }
  };
  loop.Spawn(StopWhenIdle::Run(loop));
  loop.Run();
}

}  // namespace fanout::test
