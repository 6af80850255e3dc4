#include "crawler/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/event_loop.h"

namespace fanout {
namespace {

using test::MakeLoop;

Task<void> HandOff(ThreadPool& pool, std::thread::id loop_thread, std::set<std::thread::id>& workers,
                   int& resumed_on_loop, int n) {
  std::thread::id ran_on = co_await pool.Run([] { return std::this_thread::get_id(); });
  workers.insert(ran_on);
  EXPECT_NE(ran_on, loop_thread);
  if (std::this_thread::get_id() == loop_thread) ++resumed_on_loop;
  int doubled = co_await pool.Run([n] { return 2 * n; });
  EXPECT_EQ(doubled, 2 * n);
}

TEST(ThreadPool, RunsOnAWorkerAndResumesOnTheLoopThread) {
  auto loop = MakeLoop();
  ThreadPool pool(*loop, 2);
  std::set<std::thread::id> workers;
  int resumed_on_loop = 0;
  for (int i = 0; i < 50; ++i) loop->Spawn(HandOff(pool, std::this_thread::get_id(), workers, resumed_on_loop, i));
  loop->Run();
  EXPECT_EQ(resumed_on_loop, 50);
  EXPECT_GE(workers.size(), 1u);
  EXPECT_LE(workers.size(), 2u);
  EXPECT_EQ(pool.stats().jobs, 100u);
}

Task<void> Fails(ThreadPool& pool, std::string& message) {
  try {
    co_await pool.Run([]() -> int { throw std::invalid_argument("bad page"); });
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
}

TEST(ThreadPool, ExceptionsComeBackToTheAwaiter) {
  auto loop = MakeLoop();
  ThreadPool pool(*loop, 1);
  std::string message;
  loop->Spawn(Fails(pool, message));
  loop->Run();
  EXPECT_EQ(message, "bad page");
}

// The queue bound: with 2 slots, no more than 2 jobs are ever queued or running, however many
// tasks ask at once; the rest wait, suspended, on the loop.
Task<void> Busy(ThreadPool& pool, std::atomic<int>& running, std::atomic<int>& most) {
  co_await pool.Run([&] {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    // Enough work that the jobs overlap if the bound lets them.
    volatile uint64_t x = 0;
    for (int i = 0; i < 200000; ++i) x = x + static_cast<uint64_t>(i);
    --running;
  });
}

TEST(ThreadPool, NeverHoldsMoreJobsThanItsBound) {
  auto loop = MakeLoop();
  ThreadPool pool(*loop, 4, 2);
  std::atomic<int> running = 0, most = 0;
  for (int i = 0; i < 40; ++i) loop->Spawn(Busy(pool, running, most));
  loop->Run();
  EXPECT_LE(most.load(), 2);
  EXPECT_EQ(pool.stats().jobs, 40u);
}

}  // namespace
}  // namespace fanout
