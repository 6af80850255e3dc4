// Await<T>: what a crawl mode's wait returns (crawl_waits.h): either a Task<T> still to be awaited
// (the async mode, which suspends) or a value that is ready (the blocking modes, which have
// already waited, on their thread). One procedure, written as a coroutine, then runs in both: in
// a blocking mode it never suspends, and costs no coroutine frame per wait.
//
//   FetchResponse r = co_await waits.Transfer(turn, std::move(request));
//
// RunSync(task) runs a coroutine that never suspends to its end on the calling thread: how a
// blocking mode runs the crawl's procedures. It aborts the program if the coroutine suspends,
// which would be a bug in the mode (nothing would ever resume it).
//
// Threads: the thread that awaits it.
#pragma once

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "crawler/task.h"

namespace fanout {

template <typename T>
class [[nodiscard]] Await {
 public:
  Await(Task<T> task) : task_(std::move(task)) {}  // NOLINT: implicit, so a mode returns either
  static Await Ready(T value) {
    Await a{Task<T>{}};
    a.value_.emplace(std::move(value));
    return a;
  }

  auto operator co_await() && noexcept {
    struct Op {
      Await& self;
      decltype(std::declval<Task<T>&>().operator co_await()) inner;
      bool await_ready() const noexcept { return self.value_.has_value() || inner.await_ready(); }  // value: no task
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept { return inner.await_suspend(h); }
      T await_resume() { return self.value_ ? std::move(*self.value_) : inner.await_resume(); }
    };
    return Op{*this, task_.operator co_await()};
  }

 private:
  Task<T> task_;
  std::optional<T> value_;
};

template <>
class [[nodiscard]] Await<void> {
 public:
  Await(Task<void> task) : task_(std::move(task)) {}  // NOLINT: implicit, as above
  static Await Ready() { return Await{Task<void>{}}; }

  auto operator co_await() && noexcept {
    struct Op {
      Await& self;
      decltype(std::declval<Task<void>&>().operator co_await()) inner;
      bool await_ready() const noexcept { return !self.task_.valid() || inner.await_ready(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept { return inner.await_suspend(h); }
      void await_resume() {
        if (self.task_.valid()) inner.await_resume();
      }
    };
    return Op{*this, task_.operator co_await()};
  }

 private:
  Task<void> task_;
};

namespace detail {

// The root of a RunSync: started at once, kept until RunSync has checked that it finished.
struct SyncRoot {
  struct promise_type {
    SyncRoot get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::abort(); }  // RunSync's body catches everything
  };
  std::coroutine_handle<promise_type> handle;
};

template <typename T>
SyncRoot RunSyncBody(Task<T>& task, std::optional<T>& out, std::exception_ptr& error) {
  try {
    out.emplace(co_await task);
  } catch (...) {
    error = std::current_exception();
  }
}

inline SyncRoot RunSyncBody(Task<void>& task, std::exception_ptr& error) {
  try {
    co_await task;
  } catch (...) {
    error = std::current_exception();
  }
}

inline void CheckFinished(detail::SyncRoot& root) {
  if (!root.handle.done()) {
    std::fputs("fanout: internal error: a blocking crawl's procedure suspended\n", stderr);
    std::abort();
  }
  root.handle.destroy();
}

}  // namespace detail

template <typename T>
T RunSync(Task<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  detail::SyncRoot root = detail::RunSyncBody(task, out, error);
  detail::CheckFinished(root);
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

inline void RunSync(Task<void> task) {
  std::exception_ptr error;
  detail::SyncRoot root = detail::RunSyncBody(task, error);
  detail::CheckFinished(root);
  if (error) std::rethrow_exception(error);
}

}  // namespace fanout
