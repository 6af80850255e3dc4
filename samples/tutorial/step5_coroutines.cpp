// Step 5: coroutines on the event loop.
//
// Step 4's loop is fast, but its crawl is written inside out: the code that handles a page lives
// in a completion handler, far from the code that asked for it. C++20 coroutines put it back in
// order. `co_await Fetch(loop, url)` hands the transfer to curl and suspends the coroutine; the
// loop resumes it when curl_multi_info_read reports the transfer done. CrawlPage then reads like
// step 1's loop body, yet hundreds of pages can be waiting at once on a single thread.
//
// Three small pieces make that work: Task<T> (a coroutine that can be awaited), FetchOp (the
// awaiter that turns a curl transfer into a suspension), and Loop::Spawn (starts a task nobody
// awaits, and frees it when it ends). The limit on transfers is still a plain counter plus a queue
// of pages waiting for a slot; step 6 replaces it with a better tool.
//
// `--block-every N` makes one fetch in N block the loop thread (curl_easy_perform inside a
// coroutine), to measure what one blocking call does to everything else on the loop.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <deque>
#include <exception>
#include <optional>
#include <string_view>
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

// [tutorial:task]
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
// [/tutorial:task]

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
// that calls Run(); so does every coroutine, which is why none of them needs a lock.
class Loop {
 public:
  Loop() {
    if (epoll_.get() < 0 || timer_.get() < 0 || !multi_) Die("cannot create the event loop");
    Watch(timer_.get());
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, OnSocket);
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, OnTimer);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  CURLM* multi() const { return multi_.get(); }

  // [tutorial:loop]
  // Resumes `h` on a later turn of the loop, never inline: the caller's stack stays its own.
  void Schedule(std::coroutine_handle<> h) { ready_.push_back(h); }
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
  // Runs every ready coroutine up to its next co_await (or its end). This is the whole scheduler:
  // a coroutine runs until it suspends, and nothing else runs meanwhile.
  void ResumeReady() {
    // A coroutine may schedule others as it runs; they run in this same pass (hence the index).
    for (size_t i = 0; i < ready_.size(); ++i) ready_[i].resume();
    ready_.clear();
  }
  // [/tutorial:loop]

  // [tutorial:detached]
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
  // [/tutorial:detached]

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

  // The fds are declared before the multi handle, so they are still open while it is cleaned up.
  Fd epoll_{epoll_create1(EPOLL_CLOEXEC)};
  Fd timer_{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
  Multi multi_{curl_multi_init()};
  std::vector<std::coroutine_handle<>> ready_;
  int tasks_ = 0;  // spawned and not finished
};

struct Response {
  long status = 0;  // 0 when the transfer failed
  std::string body;
};

// [tutorial:fetch]
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
// [/tutorial:fetch]

FetchOp Fetch(Loop& loop, std::string url) { return FetchOp(loop, std::move(url)); }

// [tutorial:finish]
// Hands every finished transfer's result to its awaiter, which schedules its coroutine. Nothing is
// resumed here: a resumed coroutine could add or remove handles while curl's messages are walked.
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
// [/tutorial:finish]

// The crawl's state. Only coroutines on the loop thread touch it, so it needs no lock. It lives
// in main() until after loop.Run() returns, which outlasts every task that refers to it.
struct Crawl {
  Crawl(Loop& loop, const tutorial::Args& args)
      : loop(loop), max_pages(args.max_pages), concurrency(args.concurrency) {}

  Loop& loop;
  const int max_pages, concurrency;
  std::unordered_set<std::string> seen;
  std::deque<std::string> waiting;  // claimed pages not started yet, for want of a free slot
  int claimed = 0;                  // pages claimed for fetching: the count --max-pages limits
  int running = 0;                  // page tasks started and not finished: at most `concurrency`
  int pages = 0, errors = 0;
  // --block-every N: one fetch in N blocks the loop thread (0: none, the default).
  int block_every = 0;
  int fetches = 0, blocked = 0;
  double blocked_seconds = 0;

  void Discover(std::string url);
  void StartMore();
  bool BlocksThisFetch() { return block_every > 0 && ++fetches % block_every == 0; }
};

// [tutorial:block]
// --block-every N makes one fetch in N the way step 1 made them: curl_easy_perform, on the loop
// thread, inside a coroutine. It is asyncio's classic mistake, a requests.get() inside an async
// def. Until it returns, no coroutine runs and no other transfer is read or written: the loop
// has stopped, however many transfers are in flight.
Response FetchBlocking(Crawl& crawl, const std::string& url) {
  const double start = tutorial::NowSeconds();
  Easy easy(curl_easy_init());
  Response r;
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(easy.get()) == CURLE_OK) curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
  ++crawl.blocked;
  crawl.blocked_seconds += tutorial::NowSeconds() - start;
  return r;
}
// [/tutorial:block]

// [tutorial:crawl]
// One page, start to end. It reads like step 1's loop body; the co_await is where the loop gets
// on with other pages.
Task<void> CrawlPage(Crawl& crawl, std::string url) {
  Response r;
  if (crawl.BlocksThisFetch()) {
    r = FetchBlocking(crawl, url);  // --block-every: the loop waits with this page
  } else {
    r = co_await Fetch(crawl.loop, url);
  }
  ++crawl.pages;
  if (r.status != 200) {
    ++crawl.errors;
  } else {
    for (std::string& link : tutorial::ExtractLinks(r.body, url)) crawl.Discover(std::move(link));
  }
  // Given back by hand, so not if ExtractLinks throws: the slot would be lost. Step 6 fixes that.
  --crawl.running;
  crawl.StartMore();
}

void Crawl::Discover(std::string url) {
  // A page counts when it is claimed, not when it is fetched: with many pages in flight, counting
  // at the end would let more than --max-pages start.
  if (claimed == max_pages || !seen.insert(url).second) return;
  ++claimed;
  waiting.push_back(std::move(url));
}

// Starts waiting pages while there is a free slot: the simplest cap there is.
void Crawl::StartMore() {
  while (running < concurrency && !waiting.empty()) {
    ++running;
    loop.Spawn(CrawlPage(*this, std::move(waiting.front())));
    waiting.pop_front();
  }
}
// [/tutorial:crawl]

// Takes `--block-every N` out of argv, leaving common.h's arguments to ParseArgs; 0 without it.
int TakeBlockEvery(int& argc, char** argv) {
  int block_every = 0, kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--block-every") {
      argv[kept++] = argv[i];
      continue;
    }
    char* end = nullptr;
    const long v = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : 0;
    if (i + 1 >= argc || *end != '\0' || v < 1 || v > 1000000) {
      std::fprintf(stderr, "usage: %s URL [--max-pages N] [--concurrency N] [--block-every N]\n", argv[0]);
      std::exit(2);
    }
    block_every = static_cast<int>(v);
    ++i;
  }
  argc = kept;
  return block_every;
}

}  // namespace

int main(int argc, char** argv) {
  const int block_every = TakeBlockEvery(argc, argv);
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  {
    Loop loop;
    Crawl crawl(loop, args);
    crawl.block_every = block_every;
    const double start = tutorial::NowSeconds();
    crawl.Discover(args.start_url);
    crawl.StartMore();
    loop.Run();
    if (block_every > 0) {
      std::printf("fetches that blocked the loop thread: %d (one in %d), %.3f s in all\n", crawl.blocked, block_every,
                  crawl.blocked_seconds);
    }
    tutorial::PrintReport(crawl.pages, crawl.errors, tutorial::NowSeconds() - start);
  }
  curl_global_cleanup();
  return 0;
}
