#include "crawler/event_loop.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/event_loop.h"

namespace fanout {
namespace {

using namespace std::chrono_literals;

using test::MakeLoop;

Task<void> SleepThenLog(EventLoop& loop, std::chrono::milliseconds d, int id, std::vector<int>& log) {
  co_await loop.SleepFor(d);
  log.push_back(id);
}

TEST(EventLoop, SleepersWakeInDeadlineOrder) {
  auto loop = MakeLoop();
  std::vector<int> log;
  loop->Spawn(SleepThenLog(*loop, 30ms, 3, log));
  loop->Spawn(SleepThenLog(*loop, 10ms, 1, log));
  loop->Spawn(SleepThenLog(*loop, 20ms, 2, log));
  auto start = std::chrono::steady_clock::now();
  loop->Run();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

// Many tasks sleeping at once share one timer: the loop wakes a few times, not once per task (so
// the wait is the longest sleep, not the sum; scripts/bench-*.sh measure the speed).
TEST(EventLoop, SleepingTasksWaitTogether) {
  auto loop = MakeLoop();
  std::vector<int> log;
  for (int i = 0; i < 1000; ++i) loop->Spawn(SleepThenLog(*loop, 50ms, i, log));
  loop->Run();
  EXPECT_EQ(log.size(), 1000u);
  EXPECT_LT(loop->stats().wakeups, 100u);  // not one wake-up per task
}

// Another thread posts a coroutine; the loop resumes it on the loop thread.
Task<void> ResumedByAnotherThread(EventLoop& loop, std::thread::id& resumed_on, std::thread& other) {
  struct PostFromThread {
    EventLoop& loop;
    std::thread& other;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      other = std::thread([this, h] { loop.Post(h); });
    }
    void await_resume() const noexcept {}
  };
  co_await PostFromThread{loop, other};
  resumed_on = std::this_thread::get_id();
}

TEST(EventLoop, PostedCoroutinesResumeOnTheLoopThread) {
  auto loop = MakeLoop();
  std::thread::id resumed_on;
  std::thread other;
  loop->Spawn(ResumedByAnotherThread(*loop, resumed_on, other));
  loop->Run();
  other.join();
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

Task<void> Throw() {
  throw std::runtime_error("task failed");
  co_return;
}

TEST(EventLoop, AThrowingTaskIsReportedAndTheOthersCarryOn) {
  auto loop = MakeLoop();
  std::string reported;
  loop->OnTaskError([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      reported = ex.what();
    }
  });
  std::vector<int> log;
  loop->Spawn(Throw());
  loop->Spawn(SleepThenLog(*loop, 1ms, 7, log));
  loop->Run();
  EXPECT_EQ(reported, "task failed");
  EXPECT_EQ(log, std::vector<int>{7});
  EXPECT_EQ(loop->stats().task_errors, 1u);
}

TEST(EventLoop, RunReturnsAtOnceWithNothingToDo) {
  auto loop = MakeLoop();
  loop->Run();
  EXPECT_EQ(loop->tasks(), 0u);
}

}  // namespace
}  // namespace fanout
