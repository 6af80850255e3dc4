#include "crawler/semaphore.h"

namespace fanout {

bool AsyncSemaphore::AcquireOp::await_ready() {
  // Only when nobody is queued: a free permit with waiters is already promised to the oldest.
  if (sem_.available_ > 0 && sem_.head_ == nullptr) {
    --sem_.available_;
    granted_ = true;
    return true;
  }
  return false;
}

void AsyncSemaphore::AcquireOp::await_suspend(std::coroutine_handle<> h) {
  waiter_ = h;
  queued_ = true;
  prev_ = sem_.tail_;
  if (sem_.tail_) {
    sem_.tail_->next_ = this;
  } else {
    sem_.head_ = this;
  }
  sem_.tail_ = this;
  ++sem_.waiting_;
}

AsyncSemaphore::Permit AsyncSemaphore::AcquireOp::await_resume() {
  granted_ = false;
  return Permit(&sem_);
}

AsyncSemaphore::AcquireOp::~AcquireOp() {
  if (queued_) {  // the waiting task was destroyed: leave the queue
    (prev_ ? prev_->next_ : sem_.head_) = next_;
    (next_ ? next_->prev_ : sem_.tail_) = prev_;
    --sem_.waiting_;
  }
  if (granted_) sem_.Release();  // handed a permit it never took
}

void AsyncSemaphore::Release() {
  if (AcquireOp* op = head_) {
    head_ = op->next_;
    (head_ ? head_->prev_ : tail_) = nullptr;
    op->queued_ = false;
    op->granted_ = true;
    --waiting_;
    loop_.Schedule(op->waiter_);
    return;
  }
  ++available_;
}

}  // namespace fanout
