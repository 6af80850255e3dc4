#include "crawler/semaphore.h"

#include <gtest/gtest.h>

#include <vector>

#include "crawler/async_event.h"
#include "crawler/event_loop.h"
#include "tests/support/event_loop.h"

namespace fanout {
namespace {

using test::MakeLoop;
using test::RunUntilIdle;

// Each worker takes a permit, notes the order it got it, and holds it for one loop turn: every
// other worker ready then runs, and queues, before it gives the permit back.
Task<void> Worker(EventLoop& loop, AsyncSemaphore& sem, int id, std::vector<int>& order, int& holding,
                  int& most_holding) {
  AsyncSemaphore::Permit p = co_await sem.Acquire();
  order.push_back(id);
  most_holding = std::max(most_holding, ++holding);
  co_await test::Yield(loop);
  --holding;
}

TEST(AsyncSemaphore, NeverGivesOutMoreThanItsPermits) {
  auto loop = MakeLoop();
  AsyncSemaphore sem(*loop, 3);
  std::vector<int> order;
  int holding = 0, most = 0;
  for (int i = 0; i < 20; ++i) loop->Spawn(Worker(*loop, sem, i, order, holding, most));
  loop->Run();
  EXPECT_EQ(order.size(), 20u);
  EXPECT_EQ(most, 3);
  EXPECT_EQ(sem.available(), 3u);
}

TEST(AsyncSemaphore, ReleaseWakesTheOldestWaiterFirst) {
  auto loop = MakeLoop();
  AsyncSemaphore sem(*loop, 1);
  std::vector<int> order;
  int holding = 0, most = 0;
  for (int i = 0; i < 10; ++i) loop->Spawn(Worker(*loop, sem, i, order, holding, most));
  loop->Run();
  std::vector<int> expected(10);
  for (int i = 0; i < 10; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(order, expected);
}

// A permit released while others wait goes to the head waiter, not to a newcomer that arrives
// before the waiter has run.
Task<void> ReleaseThenBarge(AsyncSemaphore& sem, AsyncEvent& waiter_queued, std::vector<std::string>& log) {
  AsyncSemaphore::Permit p = co_await sem.Acquire();
  co_await waiter_queued.Wait();  // set by the test once the waiter is in the queue
  p.Release();
  AsyncSemaphore::AcquireOp barge = sem.Acquire();
  log.push_back(barge.await_ready() ? "barged" : "queued");
}

Task<void> Waiter(AsyncSemaphore& sem, std::vector<std::string>& log) {
  AsyncSemaphore::Permit p = co_await sem.Acquire();
  log.push_back("waiter");
}

TEST(AsyncSemaphore, ANewcomerCannotTakeAPermitPromisedToAWaiter) {
  auto loop = MakeLoop();
  AsyncSemaphore sem(*loop, 1);
  AsyncEvent waiter_queued(*loop);
  std::vector<std::string> log;
  loop->Spawn(ReleaseThenBarge(sem, waiter_queued, log));
  loop->Spawn(Waiter(sem, log));
  RunUntilIdle(*loop);
  ASSERT_EQ(sem.waiting(), 1u);
  waiter_queued.Set();
  loop->Run();
  EXPECT_EQ(log, (std::vector<std::string>{"queued", "waiter"}));
  EXPECT_EQ(sem.available(), 1u);
}

Task<void> AcquireAndThrow(AsyncSemaphore& sem) {
  AsyncSemaphore::Permit p = co_await sem.Acquire();
  throw std::runtime_error("failed while holding a permit");
}

TEST(AsyncSemaphore, PermitsComeBackWhenATaskThrows) {
  auto loop = MakeLoop();
  int errors = 0;
  loop->OnTaskError([&](std::exception_ptr) { ++errors; });
  AsyncSemaphore sem(*loop, 2);
  for (int i = 0; i < 5; ++i) loop->Spawn(AcquireAndThrow(sem));
  loop->Run();
  EXPECT_EQ(errors, 5);
  EXPECT_EQ(sem.available(), 2u);
}

Task<void> HoldForever(EventLoop& loop, AsyncSemaphore& sem) {
  AsyncSemaphore::Permit p = co_await sem.Acquire();
  co_await loop.SleepFor(std::chrono::hours(1));
}

TEST(AsyncSemaphore, DestroyedWaitersLeaveTheQueue) {
  auto loop = MakeLoop();
  AsyncSemaphore sem(*loop, 1);
  loop->Spawn(HoldForever(*loop, sem));
  loop->Spawn(HoldForever(*loop, sem));
  loop->Spawn(HoldForever(*loop, sem));
  RunUntilIdle(*loop);  // one holds the permit, asleep; two wait for it
  EXPECT_EQ(sem.waiting(), 2u);
  loop.reset();  // destroys the three suspended tasks
  EXPECT_EQ(sem.waiting(), 0u);
  EXPECT_EQ(sem.available(), 1u);
}

}  // namespace
}  // namespace fanout
