#include "crawler/thread_pool.h"

#include <pthread.h>

#include <chrono>

namespace fanout {

ThreadPool::ThreadPool(EventLoop& loop, size_t threads, size_t max_queued)
    : loop_(loop), slots_(loop, max_queued > 0 ? max_queued : 4 * std::max<size_t>(threads, 1)) {
  threads = std::max<size_t>(threads, 1);
  stats_.threads = threads;
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerMain(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Enqueue(Job* job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(job);
  }
  work_ready_.notify_one();
}

void ThreadPool::WorkerMain() {
  pthread_setname_np(pthread_self(), "fanout-pool");  // as top and perf show it
  while (true) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mu_);
      work_ready_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
      if (queue_.empty()) return;  // shutting down with nothing left
      job = queue_.front();
      queue_.pop_front();
    }
    auto start = std::chrono::steady_clock::now();
    job->Execute();
    double busy = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard lock(mu_);  // counted before the awaiter can see its result
      ++stats_.jobs;
      stats_.busy_seconds += busy;
    }
    job->Complete();
  }
}

PoolStats ThreadPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace fanout
