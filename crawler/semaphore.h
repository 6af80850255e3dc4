// AsyncSemaphore: N permits for coroutines on one event loop; the awaiting coroutine suspends
// instead of blocking a thread.
//
// It is cppcoro's async_mutex generalised to N permits. Waiters queue in FIFO order. Release()
// hands the permit straight to the oldest waiter (no barging: a newcomer cannot take it first) and
// schedules that waiter on the loop rather than resuming it inline, so Release() never runs
// someone else's code on the releaser's stack, and one release wakes exactly one waiter.
//
//   Permit p = co_await sem.Acquire();   // released when p goes out of scope, or by p.Release()
//
// Threads: loop thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include "crawler/event_loop.h"

namespace fanout {

class AsyncSemaphore {
 public:
  class Permit;
  class AcquireOp;

  AsyncSemaphore(EventLoop& loop, size_t permits) : loop_(loop), available_(permits), capacity_(permits) {}
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  AcquireOp Acquire();

  size_t available() const { return available_; }
  size_t capacity() const { return capacity_; }
  size_t in_use() const { return capacity_ - available_; }
  size_t waiting() const { return waiting_; }

 private:
  friend class Permit;
  void Release();

  EventLoop& loop_;
  size_t available_;
  size_t capacity_;
  size_t waiting_ = 0;
  AcquireOp* head_ = nullptr;  // intrusive FIFO of suspended acquirers
  AcquireOp* tail_ = nullptr;
};

// Ownership of one permit. Move-only; gives the permit back when destroyed.
class AsyncSemaphore::Permit {
 public:
  Permit() = default;
  explicit Permit(AsyncSemaphore* sem) : sem_(sem) {}
  Permit(Permit&& other) noexcept : sem_(std::exchange(other.sem_, nullptr)) {}
  Permit& operator=(Permit&& other) noexcept {
    if (this != &other) {
      Release();
      sem_ = std::exchange(other.sem_, nullptr);
    }
    return *this;
  }
  ~Permit() { Release(); }

  explicit operator bool() const { return sem_ != nullptr; }
  void Release() {
    if (sem_) std::exchange(sem_, nullptr)->Release();
  }

 private:
  AsyncSemaphore* sem_ = nullptr;
};

class AsyncSemaphore::AcquireOp {
 public:
  explicit AcquireOp(AsyncSemaphore& sem) : sem_(sem) {}
  AcquireOp(const AcquireOp&) = delete;
  AcquireOp& operator=(const AcquireOp&) = delete;
  ~AcquireOp();

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  Permit await_resume();

 private:
  friend class AsyncSemaphore;
  AsyncSemaphore& sem_;
  std::coroutine_handle<> waiter_;
  AcquireOp* next_ = nullptr;
  AcquireOp* prev_ = nullptr;
  bool queued_ = false;
  bool granted_ = false;   // holds a permit not yet handed to the awaiter
};

inline AsyncSemaphore::AcquireOp AsyncSemaphore::Acquire() { return AcquireOp(*this); }

}  // namespace fanout
