// Task<T>: a lazily started coroutine whose result is obtained by co_await.
//
// The shape is cppcoro's task, on C++20 <coroutine>, single-threaded (no atomics): a task does
// nothing until awaited; when it finishes, final_suspend transfers control straight back to the
// awaiting coroutine (symmetric transfer, so long chains of synchronous completions do not grow
// the stack); an exception escaping the body is stored and rethrown from co_await. A Task owns its
// frame: destroying an unfinished Task destroys the frame, and with it every local, awaiter and
// child Task, so nothing leaks when work is abandoned.
//
// Thread rule: a Task is created, awaited, resumed and destroyed on one thread: the event loop's in
// the async crawl (top-level tasks are started with EventLoop::Spawn), or, in the blocking modes, the
// worker thread that runs a procedure to its end with RunSync (await.h), where it never suspends.
//
// GCC 12 turns symmetric transfer into a real tail call only in optimised builds without
// sanitizers; elsewhere a long chain of synchronous completions still uses stack per link.
//
// GCC 12 caveat (a compiler bug, checked with ASan): a brace-initialised aggregate temporary made
// inside a co_await operand, as in `co_await fetcher.Fetch(FetchRequest{.url = u})` or
// `co_await f.Fetch({.url = u})`, is destroyed twice. Name such arguments first:
//   FetchRequest request{.url = u};
//   co_await fetcher.Fetch(std::move(request));
// The same goes for lambdas that capture non-trivial values by copy; capturing by reference is fine.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace fanout {

template <typename T = void>
class Task;

namespace detail {

class PromiseBase {
 public:
  // Resumes whoever awaited this task, or nobody (noop) if it was never awaited.
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
      return finished.promise().continuation_;
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }

 protected:
  void RethrowIfFailed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  std::exception_ptr exception_;
};

template <typename T>
class Promise final : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <typename U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }

  T TakeResult() {
    RethrowIfFailed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void TakeResult() const { RethrowIfFailed(); }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  bool done() const noexcept { return !handle_ || handle_.done(); }

  // Awaiting starts the task and suspends the awaiter until the task finishes.
  // REQUIRES: valid(), and the task has not been awaited before.
  auto operator co_await() && noexcept { return Awaiter{handle_}; }
  auto operator co_await() & noexcept { return Awaiter{handle_}; }

 private:
  struct Awaiter {
    Handle task;
    bool await_ready() const noexcept { return task.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      task.promise().set_continuation(awaiting);
      return task;  // start (or continue) the task right away, on this thread
    }
    T await_resume() { return task.promise().TakeResult(); }
  };

  Handle handle_;
};

namespace detail {

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}

inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}

}  // namespace detail
}  // namespace fanout
