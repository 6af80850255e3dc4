// Step 7: a thread pool for the parsing.
//
// One thread can keep hundreds of transfers going, because waiting costs it nothing; parsing
// HTML is different, it is work, and while the loop thread parses a page no socket is served.
// Here the parse moves to worker threads: `co_await pool.Run(fn)` runs fn on a worker and resumes
// the coroutine back on the loop thread. The worker never resumes it itself: it posts the
// coroutine to the loop (a mutex-guarded queue plus an eventfd in the epoll set, which wakes the
// loop), so coroutines, curl handles and the crawl's state stay on one thread and need no locks.
//
// The rest is step 6: the Task, the fetch, the semaphores. The loop gains Post() and the eventfd.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common.h"

namespace {

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Where a Task<T> keeps its result: co_return x for a value, plain co_return for void.
template <typename T> struct ReturnSlot {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T Take() { return std::move(*value); }
};
template <> struct ReturnSlot<void> {
  void return_void() noexcept {}
  void Take() noexcept {}
};

// Task<T>: a coroutine that starts when awaited and hands its result (or exception) to the
// coroutine awaiting it. When it ends, final_suspend returns the awaiter's handle, so control
// goes straight back to it (symmetric transfer) without growing the stack.
template <typename T = void> class [[nodiscard]] Task {
 public:
  struct promise_type : ReturnSlot<T> {
    std::coroutine_handle<> awaiter = std::noop_coroutine();
    std::exception_ptr error;
    Task get_return_object() noexcept { return Task(Handle::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }  // lazy: nothing runs until awaited
    struct Resumer {
      bool await_ready() noexcept { return false; }
      auto await_suspend(std::coroutine_handle<promise_type> me) noexcept { return me.promise().awaiter; }
      void await_resume() noexcept {}
    };
    Resumer final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle h) noexcept : frame_(h) {}
  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  ~Task() { if (frame_) frame_.destroy(); }  // the frame, and everything in it, goes with the Task

  // `co_await task`: starts it, and continues here when it has finished.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle task;
      bool await_ready() noexcept { return false; }
      Handle await_suspend(std::coroutine_handle<> me) noexcept {
        task.promise().awaiter = me;
        return task;  // run the task now; its final_suspend comes back to `me`
      }
      T await_resume() {
        if (task.promise().error) std::rethrow_exception(task.promise().error);
        return task.promise().Take();
      }
    };
    return Awaiter{frame_};
  }

 private:
  Handle frame_;
};

// Owners for C handles, so that every early return and exception cleans up.
struct EasyCleanup { void operator()(CURL* easy) const { curl_easy_cleanup(easy); } };
struct MultiCleanup { void operator()(CURLM* multi) const { curl_multi_cleanup(multi); } };
using Easy = std::unique_ptr<CURL, EasyCleanup>;
using Multi = std::unique_ptr<CURLM, MultiCleanup>;
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { if (fd_ >= 0) close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The event loop of step 4 (curl's sockets and timer in one epoll set, as in curl's
// ephiperfifo.c), plus a queue of coroutines ready to resume. Everything in it runs on the thread
// that calls Run(); so does every coroutine, which is why none of them needs a lock. The one
// exception is Post(), for other threads: it hands a coroutine to the loop and wakes it.
class Loop {
 public:
  Loop() {
    if (epoll_.get() < 0 || timer_.get() < 0 || wake_.get() < 0 || !multi_) Die("cannot create the event loop");
    Watch(timer_.get());
    Watch(wake_.get());
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, OnSocket);
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, OnTimer);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  CURLM* multi() const { return multi_.get(); }
  // Resumes `h` on a later turn of the loop, never inline: the caller's stack stays its own.
  void Schedule(std::coroutine_handle<> h) { ready_.push_back(h); }
  // [tutorial:post]
  // Any thread: resumes `h` on the loop thread soon. The eventfd wakes the loop if it is waiting.
  void Post(std::coroutine_handle<> h) {
    {
      std::lock_guard lock(posted_mu_);
      posted_.push_back(h);
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = write(wake_.get(), &one, sizeof one);
  }
  // [/tutorial:post]
  // Starts `task` on the next turn. The loop owns it from now on, and frees it when it ends.
  void Spawn(Task<void> task) {
    ++tasks_;
    Schedule(Own(this, std::move(task)).frame);
  }

  // Runs until every spawned task has finished.
  void Run() {
    ResumeReady();
    while (tasks_ > 0) {
      epoll_event events[64];
      const int n = epoll_wait(epoll_.get(), events, 64, -1);
      if (n < 0 && errno != EINTR) Die("epoll_wait");
      for (int i = 0; i < n; ++i) {
        int running = 0;
        if (events[i].data.fd == timer_.get()) {
          uint64_t expirations;
          [[maybe_unused]] const ssize_t r = read(timer_.get(), &expirations, sizeof expirations);
          curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
        } else if (events[i].data.fd == wake_.get()) {
          TakePosted();
        } else {
          const uint32_t e = events[i].events;
          const int what = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                           ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
          curl_multi_socket_action(multi_.get(), events[i].data.fd, what, &running);
        }
      }
      FinishTransfers();  // queues the coroutines whose transfers are done...
      ResumeReady();      // ...and only then runs them, outside curl's message walk
    }
  }

 private:
  // The coroutine that owns a spawned task. Nobody awaits it, so it reports what the task throws,
  // and its final_suspend does not suspend: the frame (and the task's, with it) frees itself.
  struct Detached {
    struct promise_type {
      Detached get_return_object() noexcept { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
      std::suspend_always initial_suspend() noexcept { return {}; }  // Spawn schedules it
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() noexcept {}
      void unhandled_exception() noexcept { std::terminate(); }  // unreachable: Own catches everything
    };
    std::coroutine_handle<> frame;
  };
  static Detached Own(Loop* loop, Task<void> task) {
    try {
      co_await std::move(task);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "a task failed: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "a task failed\n");
    }
    --loop->tasks_;
  }

  void Watch(int fd, uint32_t events = EPOLLIN) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  // curl says which of its sockets to watch, and for what.
  static int OnSocket(CURL*, curl_socket_t s, int what, void* self, void*) {
    auto* loop = static_cast<Loop*>(self);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(loop->epoll_.get(), EPOLL_CTL_DEL, s, nullptr);
    } else {
      loop->Watch(s, ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u));
    }
    return 0;
  }
  // curl wants to be called back in timeout_ms (-1: never). Only arm the timer here: calling
  // into curl from inside its own callback is not allowed.
  static int OnTimer(CURLM*, long timeout_ms, void* self) {
    itimerspec when{};  // all zero: disarmed
    if (timeout_ms == 0) when.it_value.tv_nsec = 1;  // "now" (zero would mean "disarm")
    if (timeout_ms > 0) {
      when.it_value.tv_sec = timeout_ms / 1000;
      when.it_value.tv_nsec = (timeout_ms % 1000) * 1'000'000;
    }
    timerfd_settime(static_cast<Loop*>(self)->timer_.get(), 0, &when, nullptr);
    return 0;
  }
  void FinishTransfers();  // after FetchOp, which it completes
  // Moves what other threads posted to the ready queue. The eventfd is read (reset) first, so a
  // Post that comes after the read but before the lock is taken now and only adds a spare wake-up.
  void TakePosted() {
    uint64_t count;
    [[maybe_unused]] const ssize_t r = read(wake_.get(), &count, sizeof count);
    std::lock_guard lock(posted_mu_);
    ready_.insert(ready_.end(), posted_.begin(), posted_.end());
    posted_.clear();
  }
  void ResumeReady() {
    // A coroutine may schedule others as it runs; they run in this same pass (hence the index).
    for (size_t i = 0; i < ready_.size(); ++i) ready_[i].resume();
    ready_.clear();
  }

  // The fds are declared before the multi handle, so they are still open while it is cleaned up.
  Fd epoll_{epoll_create1(EPOLL_CLOEXEC)};
  Fd timer_{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
  Fd wake_{eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  Multi multi_{curl_multi_init()};
  std::vector<std::coroutine_handle<>> ready_;
  int tasks_ = 0;  // spawned and not finished
  std::mutex posted_mu_;
  std::vector<std::coroutine_handle<>> posted_;  // guarded by posted_mu_: filled by other threads
};

struct Response {
  long status = 0;  // 0 when the transfer failed
  std::string body;
};

// `co_await Fetch(loop, url)`: the awaiter adds a transfer to the loop's multi handle and suspends
// the coroutine; the loop resumes it when curl reports the transfer done. The awaiter lives in
// the coroutine's frame until then, so curl can keep a pointer to it (CURLOPT_PRIVATE).
class FetchOp {
 public:
  FetchOp(Loop& loop, std::string url) : loop_(loop), url_(std::move(url)) {}
  FetchOp(const FetchOp&) = delete;
  FetchOp& operator=(const FetchOp&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    curl_easy_setopt(easy_.get(), CURLOPT_URL, url_.c_str());
    curl_easy_setopt(easy_.get(), CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
    curl_easy_setopt(easy_.get(), CURLOPT_WRITEDATA, &response_.body);
    curl_easy_setopt(easy_.get(), CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(easy_.get(), CURLOPT_PRIVATE, this);
    // false resumes the coroutine at once: a transfer curl refused is a failed fetch (status 0).
    return curl_multi_add_handle(loop_.multi(), easy_.get()) == CURLM_OK;
  }
  Response await_resume() { return std::move(response_); }

  // Called by the loop once curl has finished the transfer.
  void Done(CURLcode result) {
    curl_multi_remove_handle(loop_.multi(), easy_.get());
    if (result == CURLE_OK) curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &response_.status);
    loop_.Schedule(waiter_);
  }

 private:
  Loop& loop_;
  std::string url_;
  Easy easy_{curl_easy_init()};
  Response response_;
  std::coroutine_handle<> waiter_;
};

FetchOp Fetch(Loop& loop, std::string url) { return FetchOp(loop, std::move(url)); }

void Loop::FinishTransfers() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;  // copy both: remove_handle frees the message
    const CURLcode result = msg->data.result;
    void* op = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &op);
    static_cast<FetchOp*>(op)->Done(result);
  }
}

// N permits shared by the coroutines of one loop; a coroutine that finds none free is suspended,
// not its thread. Waiters are served in order of arrival: a release hands the permit straight to
// the oldest waiter (a newcomer cannot take it first) and *schedules* it on the loop rather than
// resuming it inline, so giving a permit back never runs another task on the giver's stack.
class Semaphore {
 public:
  // One permit, given back when destroyed (on co_return, on an exception) or by Release().
  class Permit {
   public:
    explicit Permit(Semaphore* sem) : sem_(sem) {}
    Permit(Permit&& other) noexcept : sem_(std::exchange(other.sem_, nullptr)) {}
    ~Permit() { Release(); }
    void Release() { if (sem_) std::exchange(sem_, nullptr)->GiveBack(); }

   private:
    Semaphore* sem_;
  };
  class AcquireOp {
   public:
    explicit AcquireOp(Semaphore& sem) : sem_(sem) {}
    bool await_ready() noexcept {  // a free permit is taken without suspending
      if (sem_.free_ == 0) return false;
      --sem_.free_;
      return true;
    }
    void await_suspend(std::coroutine_handle<> waiter) { sem_.waiters_.push_back(waiter); }
    Permit await_resume() noexcept { return Permit(&sem_); }  // a waiter wakes up owning the permit

   private:
    Semaphore& sem_;
  };

  Semaphore(Loop& loop, int permits) : loop_(loop), free_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  AcquireOp Acquire() { return AcquireOp(*this); }

 private:
  void GiveBack() {
    if (waiters_.empty()) {
      ++free_;
    } else {  // the permit changes hands without ever being free
      loop_.Schedule(waiters_.front());
      waiters_.pop_front();
    }
  }

  Loop& loop_;
  int free_;  // stays 0 while anyone waits
  std::deque<std::coroutine_handle<>> waiters_;
};

// Worker threads for CPU work: a queue of jobs under a mutex, and a condition variable to wake a
// worker when one arrives. The part that meets the coroutines is RunOp, below.
class ThreadPool {
 public:
  template <typename F> class RunOp;

  ThreadPool(Loop& loop, unsigned threads) : loop_(loop) {
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {  // runs what is queued, then joins the workers
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // REQUIRES: fn returns a value, and what it refers to outlives the co_await.
  template <typename F> RunOp<F> Run(F fn) { return RunOp<F>(*this, std::move(fn)); }

 private:
  void Enqueue(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    work_.notify_one();
  }
  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        work_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and nothing left to run
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  Loop& loop_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;        // last: the threads start once the rest is built
};

// [tutorial:pool]
// `co_await pool.Run(fn)`: queues fn and suspends; a worker runs it, keeps its result in the
// awaiter, then posts the coroutine to the loop, which resumes it on the loop thread. Resuming it
// on the worker instead would let two threads touch curl and the crawl's state.
template <typename F> class ThreadPool::RunOp {
 public:
  RunOp(ThreadPool& pool, F fn) : pool_(pool), fn_(std::move(fn)) {}
  RunOp(const RunOp&) = delete;
  RunOp& operator=(const RunOp&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    waiter_ = waiter;
    pool_.Enqueue([this] { Execute(); });
  }
  auto await_resume() {  // on the loop thread again
    if (error_) std::rethrow_exception(error_);
    return std::move(*result_);
  }

 private:
  void Execute() noexcept {  // on a worker thread
    try {
      result_.emplace(fn_());
    } catch (...) {
      error_ = std::current_exception();
    }
    // The result is in place before the loop can see the coroutine. After Post this op may be
    // destroyed at any moment (the coroutine resumes and moves on), so nothing touches it after.
    pool_.loop_.Post(waiter_);
  }

  ThreadPool& pool_;
  F fn_;
  std::optional<std::invoke_result_t<F&>> result_;
  std::exception_ptr error_;
  std::coroutine_handle<> waiter_;
};
// [/tutorial:pool]

// Where the parse time goes: each parse adds its duration to the counter of the kind of thread it
// ran on. Atomics, because the workers add to them at the same time.
struct ParseTimes {
  const std::thread::id loop_thread = std::this_thread::get_id();  // made on the loop thread
  std::atomic<double> on_loop{0}, on_pool{0};
};

std::vector<std::string> TimedExtractLinks(ParseTimes& times, const std::string& html, const std::string& url) {
  const double start = tutorial::NowSeconds();
  std::vector<std::string> links = tutorial::ExtractLinks(html, url);
  (std::this_thread::get_id() == times.loop_thread ? times.on_loop : times.on_pool) += tutorial::NowSeconds() - start;
  return links;
}

// How many pages are in one state (a transfer in flight, at the pool) on the loop thread: the most
// at once, and the average over time (the count integrated over time, divided by the time).
class Gauge {
 public:
  void Enter() { Move(+1); }
  void Leave() { Move(-1); }
  int most() const { return most_; }
  double Average(double seconds) const { return seconds > 0 ? area_ / seconds : 0; }

 private:
  void Move(int by) {
    const double now = tutorial::NowSeconds();
    area_ += count_ * (now - since_);
    since_ = now;
    count_ += by;
    most_ = std::max(most_, count_);
  }
  int count_ = 0, most_ = 0;
  double area_ = 0, since_ = tutorial::NowSeconds();
};

// The host part of a URL ("" if it has none).
std::string HostOf(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  char* host = nullptr;
  std::string out;
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    out = host;
  }
  curl_free(host);
  return out;
}

// The crawl's state. Only coroutines on the loop thread touch it, so it needs no lock. It lives
// in main() until after loop.Run() returns, which outlasts every task that refers to it.
struct Crawl {
  // The tutorial's site is one host, so a per-host limit below --concurrency would be all that
  // ever applied; equal to it, the global limit is the one the report shows at work. A crawl of
  // the web would set it far lower (a few connections per server).
  Crawl(Loop& loop, ThreadPool& pool, const tutorial::Args& args)
      : loop(loop), pool(pool), max_pages(args.max_pages), per_host(args.concurrency),
        global_limit(loop, args.concurrency) {}

  Loop& loop;
  ThreadPool& pool;
  const int max_pages, per_host;
  Semaphore global_limit;                  // --concurrency: pages in flight (fetched or parsed)
  std::map<std::string, Semaphore> hosts;  // per-host limits, made on first use (and kept)
  std::unordered_set<std::string> seen;
  int claimed = 0;  // pages claimed for fetching: the count --max-pages limits
  int pages = 0, errors = 0;
  int waiting = 0, most_waiting = 0;       // tasks waiting for their permits
  // Both hold a global permit, so together they are never more than --concurrency.
  Gauge in_flight;  // pages whose transfer is running
  Gauge at_pool;    // pages fetched, queued for a pool thread or being parsed by one
  ParseTimes parse_times;

  void Discover(std::string url);
  Semaphore& HostLimit(const std::string& url) { return hosts.try_emplace(HostOf(url), loop, per_host).first->second; }
};

// [tutorial:crawl]
// One page, start to end. Permits come back however the coroutine ends.
Task<void> CrawlPage(Crawl& crawl, std::string url) {
  // The host's permit first: a task stuck behind a busy host then holds no global permit that a
  // page of another host could use. Every task takes them in this order, so none can deadlock.
  Semaphore::Permit host = co_await crawl.HostLimit(url).Acquire();
  Semaphore::Permit page = co_await crawl.global_limit.Acquire();
  --crawl.waiting;
  crawl.in_flight.Enter();
  const Response r = co_await Fetch(crawl.loop, url);
  crawl.in_flight.Leave();
  host.Release();  // the host is done with; the global permit is held until the page is
  ++crawl.pages;
  if (r.status != 200) {
    ++crawl.errors;
    co_return;
  }
  // Parsed on a worker; this coroutine resumes on the loop thread, the only one that touches
  // `seen`. The lambda refers to r and url by reference: they live in this frame, which waits.
  crawl.at_pool.Enter();
  std::vector<std::string> links =
      co_await crawl.pool.Run([&times = crawl.parse_times, &r, &url] { return TimedExtractLinks(times, r.body, url); });
  crawl.at_pool.Leave();
  for (std::string& link : links) crawl.Discover(std::move(link));
}

void Crawl::Discover(std::string url) {
  // A page counts when it is claimed, not when it is fetched: with many pages in flight, counting
  // at the end would let more than --max-pages start.
  if (claimed == max_pages || !seen.insert(url).second) return;
  ++claimed;
  most_waiting = std::max(most_waiting, ++waiting);
  loop.Spawn(CrawlPage(*this, std::move(url)));  // at once: the semaphores decide when it runs
}
// [/tutorial:crawl]

}  // namespace

int main(int argc, char** argv) {
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  {
    Loop loop;
    // Declared after the loop, so destroyed (its workers joined) before it: workers post to the loop.
    ThreadPool pool(loop, std::max(1u, std::thread::hardware_concurrency()));
    Crawl crawl(loop, pool, args);
    const double start = tutorial::NowSeconds();
    crawl.Discover(args.start_url);
    loop.Run();
    const double seconds = tutorial::NowSeconds() - start;
    std::printf("transfers in flight: at most %d, %.1f on average; pages at the pool: at most %d, %.1f on average "
                "(limit %d for both together, per host %d)\n",
                crawl.in_flight.most(), crawl.in_flight.Average(seconds), crawl.at_pool.most(),
                crawl.at_pool.Average(seconds), args.concurrency, crawl.per_host);
    std::printf("most tasks waiting for a permit: %d\n", crawl.most_waiting);
    std::printf("parse time on the pool: %.3f s, on the loop thread: %.3f s\n", crawl.parse_times.on_pool.load(),
                crawl.parse_times.on_loop.load());
    tutorial::PrintCpu(seconds);
    tutorial::PrintReport(crawl.pages, crawl.errors, seconds);
  }
  curl_global_cleanup();
  return 0;
}
