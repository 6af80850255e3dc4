// ThreadPool: CPU work (parsing, handing rows to the store) off the event loop, with the awaiting
// coroutine resumed back on the loop.
//
//   std::string body = ...;
//   ParsedPage page = co_await pool.Run([&body] { return ParseHtml(body); });
//
// Capture by reference (the awaiting coroutine outlives the job): GCC 12 destroys a lambda that
// captures non-trivial values by copy twice when it is made inside a co_await operand (task.h).
//
// Run() queues fn for a worker thread and suspends. The worker runs fn, stores its value or
// exception in the awaiter, then Post()s the coroutine to the loop, which resumes it on the loop
// thread (asio's "dispatch back to the handler's executor"; cppcoro's pool would resume on the
// worker, which would let curl handles be touched from two threads). After posting, the worker
// touches nothing of the awaiter: it may already be gone.
//
// The queue is bounded: at most max_queued jobs are queued or running; further Run() calls wait,
// suspended, in FIFO order. fn is moved into the job; captures must outlive the co_await (the
// awaiting coroutine does, so capturing its locals by reference is fine).
//
// Threads: Run() from the loop thread; stats() from any.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "crawler/event_loop.h"
#include "crawler/semaphore.h"
#include "crawler/task.h"

namespace fanout {

struct PoolStats {
  uint64_t jobs = 0;
  double busy_seconds = 0;  // summed over workers
  size_t threads = 0;
};

class ThreadPool {
 public:
  // REQUIRES: threads >= 1. max_queued 0 means 4 jobs per thread.
  ThreadPool(EventLoop& loop, size_t threads, size_t max_queued = 0);
  ~ThreadPool();  // finishes queued jobs, joins the workers
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename F>
  Task<std::invoke_result_t<F>> Run(F fn);

  PoolStats stats() const;
  size_t threads() const { return workers_.size(); }

 private:
  // A job: the awaiter itself, so queueing allocates nothing.
  class Job {
   public:
    virtual void Execute() noexcept = 0;   // runs fn on the worker, keeps its result
    virtual void Complete() noexcept = 0;  // hands the awaiter back to the loop; the job is gone after

   protected:
    ~Job() = default;
  };
  template <typename F, typename R>
  class RunOp;

  void Enqueue(Job* job);
  void WorkerMain();

  EventLoop& loop_;
  AsyncSemaphore slots_;  // loop thread: bounds queued + running jobs

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::deque<Job*> queue_;   // guarded by mu_
  bool shutting_down_ = false;  // guarded by mu_
  PoolStats stats_;          // guarded by mu_
  std::vector<std::thread> workers_;
};

template <typename F, typename R>
class ThreadPool::RunOp final : public ThreadPool::Job {
 public:
  RunOp(ThreadPool& pool, F& fn) : pool_(pool), fn_(fn) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    waiter_ = h;
    pool_.Enqueue(this);
  }
  R await_resume() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

  void Execute() noexcept override {  // on a worker thread
    try {
      if constexpr (std::is_void_v<R>) {
        fn_();
      } else {
        value_.emplace(fn_());
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  // The result is in place before the loop can see the coroutine; after Post, hands off.
  void Complete() noexcept override { pool_.loop_.Post(waiter_); }

 private:
  struct Empty {};
  ThreadPool& pool_;
  F& fn_;
  std::coroutine_handle<> waiter_;
  std::optional<std::conditional_t<std::is_void_v<R>, Empty, R>> value_;
  std::exception_ptr error_;
};

template <typename F>
Task<std::invoke_result_t<F>> ThreadPool::Run(F fn) {
  using R = std::invoke_result_t<F>;
  AsyncSemaphore::Permit slot = co_await slots_.Acquire();
  co_return co_await RunOp<F, R>(*this, fn);
}

}  // namespace fanout
