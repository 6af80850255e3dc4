// EventLoop: one thread, one epoll set, one libcurl multi handle, and the coroutines that use them.
//
// The loop is curl's `ephiperfifo` design: CURLMOPT_SOCKETFUNCTION adds and removes sockets in
// epoll, CURLMOPT_TIMERFUNCTION arms a timerfd (only when curl's deadline moves; a zero timeout is
// acted on before the loop next waits, with no timer), and curl_multi_socket_action is called only
// for the sockets epoll says are ready (so a wake-up costs what is ready, not what is open). A
// second timerfd serves SleepFor; an eventfd wakes the loop when another thread Post()s a
// coroutine into an empty queue (posts that find it non-empty ride on that wake-up). Other fds
// (the resolver's sockets) are watched in the same epoll set for a FdWatcher (Watch).
// Coroutines are resumed only on the loop thread, from its ready queue, never inside a curl
// callback.
//
// Top-level work is Spawn()ed; Run() returns when every spawned task has finished. A task that
// throws is reported (OnTaskError) and counted, never terminates the program. Destroying the loop
// destroys unfinished tasks, whose awaiters then unregister themselves.
//
// Threads: everything here is for the loop thread, except Post(), which any thread may call.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <coroutine>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crawler/curl_handles.h"
#include "crawler/task.h"
#include "util/fd.h"
#include "util/result.h"

namespace fanout {

// A transfer in the multi handle. The loop calls OnDone once curl reports it finished; OnDone must
// remove the easy handle and Schedule() whoever waits, not resume it inline.
class CurlTransfer {
 public:
  virtual void OnDone(CURLcode result) = 0;

 protected:
  ~CurlTransfer() = default;
};

// A file descriptor of someone other than curl that the loop watches (the resolver's sockets). The
// loop calls OnFdReady(fd, epoll events) on the loop thread when it is ready.
class FdWatcher {
 public:
  virtual void OnFdReady(int fd, uint32_t events) = 0;

 protected:
  ~FdWatcher() = default;
};

struct LoopStats {
  double busy_seconds = 0;     // time spent outside epoll_wait
  double total_seconds = 0;    // time inside Run()
  uint64_t wakeups = 0;        // epoll_wait returns
  uint64_t task_errors = 0;    // spawned tasks that ended with an exception
  uint64_t system_errors = 0;  // failed epoll_ctl/timerfd_settime calls while running (each on stderr)
  double cpu_seconds = 0;      // the loop thread's CPU time inside Run()
};

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts `task` on the next turn of the loop; the loop owns it until it finishes.
  void Spawn(Task<void> task);
  // Runs until every spawned task has finished (or Stop()). REQUIRES: not already running.
  void Run();
  // Makes Run() return after the current turn, leaving unfinished tasks suspended.
  void Stop() { stopping_ = true; }

  // Resumes `h` on the loop thread soon. Schedule: loop thread only. Post: any thread.
  void Schedule(std::coroutine_handle<> h) { ready_.push_back(h); }
  void Post(std::coroutine_handle<> h);

  // co_await loop.SleepFor(d): resumes after at least d, without blocking the loop.
  class SleepOp;
  SleepOp SleepFor(Clock::duration d);

  CURLM* multi() const { return multi_.get(); }
  // Sets the easy handle's socket open and close callbacks to the loop's, so that a connection
  // kept between transfers can stay in epoll (no epoll_ctl per transfer). Call before adding it.
  void PrepareTransfer(CURL* easy);
  // Watches `fd` for reading and/or writing, calling `watcher` when it is ready; neither: stops
  // watching it. The caller stops watching before it closes the fd.
  void Watch(int fd, bool read, bool write, FdWatcher* watcher);
  // Called when a spawned task throws; the default prints one line to stderr.
  void OnTaskError(std::function<void(std::exception_ptr)> handler) { on_error_ = std::move(handler); }
  LoopStats stats() const { return stats_; }
  size_t tasks() const { return roots_.size(); }

 private:
  class RootTask;
  EventLoop() = default;

  static int OnCurlSocket(CURL* easy, curl_socket_t s, int what, void* loop, void* socket_data);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* loop);
  static curl_socket_t OnCurlOpenSocket(void* loop, curlsocktype purpose, curl_sockaddr* address);
  static int OnCurlCloseSocket(void* loop, curl_socket_t s);
  uint8_t& SocketState(curl_socket_t s);
  static RootTask RunRoot(EventLoop* loop, Task<void> task);

  void RunReady();
  void HandleEvent(int fd, uint32_t events);
  void DrainCurlMessages();
  void FireSleepers();
  void ArmSleepTimer();
  void DrainRemote();
  // Counts and reports (one stderr line, with errno's text) a failed system call at run time.
  void SystemError(const char* call);

  // Declared first, destroyed last: transfers still registered must be removable (and are, by
  // their owners' destructors, which run when the tasks below are destroyed).
  CurlMulti multi_;
  UniqueFd epoll_fd_;
  UniqueFd curl_timer_fd_;
  UniqueFd sleep_timer_fd_;
  UniqueFd wake_fd_;

  std::vector<std::coroutine_handle<>> ready_;
  std::unordered_set<void*> roots_;  // frame addresses of unfinished spawned tasks
  std::multimap<Clock::time_point, SleepOp*> sleepers_;
  std::function<void(std::exception_ptr)> on_error_;
  LoopStats stats_;
  bool stopping_ = false;
  // Per socket number: what epoll has of it. A socket opened through the loop (kSocketOurs) is
  // closed through it too, so a parked one (curl keeps the connection, not watching it) may stay.
  static constexpr uint8_t kSocketIn = 1, kSocketOut = 2, kSocketInEpoll = 4, kSocketParked = 8, kSocketOurs = 16,
                           kSocketForeign = 32;  // watched for a FdWatcher (watchers_)
  std::vector<uint8_t> sockets_;
  std::unordered_map<int, FdWatcher*> watchers_;
  bool curl_due_now_ = false;                        // curl asked for a timeout action at once
  std::optional<Clock::time_point> curl_deadline_;  // what curl_timer_fd_ is armed for

  std::mutex remote_mu_;
  std::vector<std::coroutine_handle<>> remote_;  // guarded by remote_mu_
};

class EventLoop::SleepOp {
 public:
  SleepOp(EventLoop& loop, Clock::time_point deadline) : loop_(loop), deadline_(deadline) {}
  SleepOp(const SleepOp&) = delete;
  SleepOp& operator=(const SleepOp&) = delete;
  ~SleepOp();

  bool await_ready() const { return deadline_ <= Clock::now(); }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() const {}

 private:
  friend class EventLoop;
  EventLoop& loop_;
  Clock::time_point deadline_;
  std::coroutine_handle<> waiter_;
  std::multimap<Clock::time_point, SleepOp*>::iterator entry_;
  bool pending_ = false;
};

inline EventLoop::SleepOp EventLoop::SleepFor(Clock::duration d) { return SleepOp(*this, Clock::now() + d); }

}  // namespace fanout
