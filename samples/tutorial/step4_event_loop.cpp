// Step 4: an event loop: epoll and a timerfd, driven by curl_multi_socket_action.
//
// Step 3's curl_multi_perform() and curl_multi_poll() look at every transfer's socket each time
// round: fine for 32 transfers, wasteful for 10,000 of which one is ready. The multi "socket"
// interface turns this around. curl tells us, through two callbacks, which sockets it wants
// watched (and for reading or writing) and when it next needs a timeout; we keep those in an epoll
// set and a timerfd. The loop sleeps in epoll_wait() until the kernel says a socket is ready or the
// timer fired, and then tells curl exactly that: "this socket, readable" or "your timeout", with
// curl_multi_socket_action(). Work per wake-up is proportional to what is ready, not to what is
// open. This is the shape of fanout's engine, and of curl's docs/examples/ephiperfifo.c.
//
// Parsing still happens on this thread, stalling the loop as in step 3; a later step moves it off.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <unordered_set>

#include "common.h"

namespace {

struct EasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};

// A file descriptor that is closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Everything the loop and curl's callbacks share. One thread only.
struct EventLoop {
  Fd epoll{epoll_create1(EPOLL_CLOEXEC)};  // the sockets curl asked us to watch, and the timer
  Fd timer{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};  // curl's next timeout
  // Declared after the fds, so destroyed before them: curl_multi_cleanup may still call
  // OnSocket, which needs the epoll fd.
  std::unique_ptr<CURLM, MultiCleanup> multi{curl_multi_init()};
  long socket_wakeups = 0;  // epoll_wait returned with at least one socket ready
  long timer_wakeups = 0;   // epoll_wait returned with only the timer
};

// [tutorial:callbacks]
// CURLMOPT_SOCKETFUNCTION: curl says what it wants to know about one of its sockets, and we make
// epoll's watch list say the same. `socketp` is a pointer curl keeps per socket for us (set with
// curl_multi_assign); we use it only as a mark: non-null means "already in the epoll set".
int OnSocket(CURL* /*easy*/, curl_socket_t socket, int what, void* userp, void* socketp) {
  auto* loop = static_cast<EventLoop*>(userp);
  if (what == CURL_POLL_REMOVE) {
    // curl is done with the socket (it calls this before closing it): stop watching.
    epoll_ctl(loop->epoll.get(), EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  event.data.fd = socket;
  if (epoll_ctl(loop->epoll.get(), socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0) {
    std::perror("epoll_ctl");
    return -1;  // curl aborts every transfer, and curl_multi_socket_action reports it
  }
  if (!socketp) curl_multi_assign(loop->multi.get(), socket, loop);
  return 0;
}

// CURLMOPT_TIMERFUNCTION: curl says when it next wants to hear from us even if no socket is ready
// (a connect or transfer timeout, or "start the transfer you just added"). One timer is enough:
// each call replaces the previous deadline. This must not call curl back; it only sets the timer.
int OnTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* loop = static_cast<EventLoop*>(userp);
  itimerspec when{};  // all zero: disarmed, curl wants no timeout (timeout_ms == -1)
  if (timeout_ms > 0) {
    when.it_value.tv_sec = timeout_ms / 1000;
    when.it_value.tv_nsec = (timeout_ms % 1000) * 1'000'000;
  } else if (timeout_ms == 0) {
    when.it_value.tv_nsec = 1;  // "now"; a zero value would disarm, so fire in 1 ns instead
  }
  timerfd_settime(loop->timer.get(), 0, &when, nullptr);
  return 0;
}
// [/tutorial:callbacks]

// One transfer slot, reused for the next URL, as in step 3.
struct Transfer {
  std::unique_ptr<CURL, EasyCleanup> easy;
  std::string url;
  std::string body;
};

std::unique_ptr<Transfer> NewTransfer() {
  auto t = std::make_unique<Transfer>();
  t->easy.reset(curl_easy_init());
  curl_easy_setopt(t->easy.get(), CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
  curl_easy_setopt(t->easy.get(), CURLOPT_WRITEDATA, &t->body);
  curl_easy_setopt(t->easy.get(), CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(t->easy.get(), CURLOPT_TIMEOUT, 10L);
  return t;
}

// The crawl's state, as in step 3. One thread owns all of it.
struct Crawl {
  std::deque<std::string> queue;
  std::unordered_set<std::string> seen;
  int claimed = 0;  // pages handed to curl; --max-pages counts these
  int errors = 0;
};

// Reads the links of a finished page into the queue, on the loop thread.
void FinishPage(Crawl& crawl, const Transfer& t, CURLcode result) {
  long status = 0;
  if (result == CURLE_OK) curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    ++crawl.errors;
    return;
  }
  for (std::string& link : tutorial::ExtractLinks(t.body, t.url)) {
    if (crawl.seen.insert(link).second) crawl.queue.push_back(std::move(link));
  }
}

// Takes the finished transfers out of `multi`, as in step 3 (copy each message, remove its handle,
// then parse), and returns their slots to `idle`. Returns how many there were.
int FinishTransfers(CURLM* multi, Crawl& crawl, std::vector<Transfer*>& idle) {
  std::vector<std::pair<Transfer*, CURLcode>> finished;
  int messages_left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &messages_left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    Transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(multi, easy);
    finished.emplace_back(t, result);
  }
  for (auto [t, result] : finished) {
    FinishPage(crawl, *t, result);
    idle.push_back(t);
  }
  return static_cast<int>(finished.size());
}

[[noreturn]] void Fail(const char* what, CURLMcode code) {
  std::fprintf(stderr, "%s: %s\n", what, curl_multi_strerror(code));
  std::exit(1);
}

[[noreturn]] void FailErrno(const char* what) {
  std::perror(what);
  std::exit(1);
}

// [tutorial:ready]
// Tells curl what one epoll event says: a socket of its own is ready, or its timeout is due.
void Dispatch(EventLoop& loop, const epoll_event& event) {
  int running = 0;  // transfers still in progress; we count our own instead
  CURLMcode mc = CURLM_OK;
  if (event.data.fd == loop.timer.get()) {
    // Reading the timerfd clears it. If there is nothing to read, a callback earlier in this batch
    // has set a new deadline (which clears it too), and curl's timeout is not due after all.
    std::uint64_t expirations = 0;
    const ssize_t n = read(loop.timer.get(), &expirations, sizeof expirations);
    if (n != static_cast<ssize_t>(sizeof expirations)) return;
    mc = curl_multi_socket_action(loop.multi.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  } else {
    const int mask = ((event.events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                     ((event.events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((event.events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    mc = curl_multi_socket_action(loop.multi.get(), event.data.fd, mask, &running);
  }
  if (mc != CURLM_OK) Fail("curl_multi_socket_action", mc);
}
// [/tutorial:ready]

}  // namespace

int main(int argc, char** argv) {
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const double start = tutorial::NowSeconds();

  EventLoop loop;
  if (loop.epoll.get() < 0) FailErrno("epoll_create1");
  if (loop.timer.get() < 0) FailErrno("timerfd_create");
  epoll_event timer_event{};
  timer_event.events = EPOLLIN;  // the timerfd is readable once it has expired
  timer_event.data.fd = loop.timer.get();
  if (epoll_ctl(loop.epoll.get(), EPOLL_CTL_ADD, loop.timer.get(), &timer_event) != 0) FailErrno("epoll_ctl");
  curl_multi_setopt(loop.multi.get(), CURLMOPT_SOCKETFUNCTION, OnSocket);
  curl_multi_setopt(loop.multi.get(), CURLMOPT_SOCKETDATA, &loop);
  curl_multi_setopt(loop.multi.get(), CURLMOPT_TIMERFUNCTION, OnTimer);
  curl_multi_setopt(loop.multi.get(), CURLMOPT_TIMERDATA, &loop);

  Crawl crawl;
  crawl.queue.push_back(args.start_url);
  crawl.seen.insert(args.start_url);
  std::vector<std::unique_ptr<Transfer>> slots;  // every slot ever made: at most --concurrency
  std::vector<Transfer*> idle;                   // the slots not in the multi handle right now
  int in_flight = 0;

  // As in step 3. Adding a handle calls OnTimer(0): the transfer starts on the next wake-up.
  auto start_transfers = [&] {
    while (in_flight < args.concurrency && !crawl.queue.empty() && crawl.claimed < args.max_pages) {
      if (idle.empty()) {
        slots.push_back(NewTransfer());
        idle.push_back(slots.back().get());
      }
      Transfer* t = idle.back();
      idle.pop_back();
      t->url = std::move(crawl.queue.front());
      crawl.queue.pop_front();
      t->body.clear();
      curl_easy_setopt(t->easy.get(), CURLOPT_URL, t->url.c_str());
      if (CURLMcode mc = curl_multi_add_handle(loop.multi.get(), t->easy.get()); mc != CURLM_OK) {
        Fail("curl_multi_add_handle", mc);
      }
      ++crawl.claimed;
      ++in_flight;
    }
  };

  // [tutorial:loop]
  start_transfers();
  while (in_flight > 0) {
    // Sleep until the kernel has something for us. No timeout is needed: while a transfer is in
    // progress curl always has a socket watched or a timer set.
    epoll_event events[64];
    const int ready = epoll_wait(loop.epoll.get(), events, 64, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      FailErrno("epoll_wait");
    }
    bool any_socket = false;
    for (int i = 0; i < ready; ++i) {
      any_socket |= events[i].data.fd != loop.timer.get();
      Dispatch(loop, events[i]);
    }
    if (any_socket) {
      ++loop.socket_wakeups;
    } else {
      ++loop.timer_wakeups;
    }

    in_flight -= FinishTransfers(loop.multi.get(), crawl, idle);
    start_transfers();
  }
  // [/tutorial:loop]
  const double seconds = tutorial::NowSeconds() - start;

  std::printf("epoll wake-ups: %ld (socket ready: %ld, timer: %ld)\n", loop.socket_wakeups + loop.timer_wakeups,
              loop.socket_wakeups, loop.timer_wakeups);
  tutorial::PrintReport(crawl.claimed, crawl.errors, seconds);
  // curl's order, as in step 3; the fds close when `loop` goes out of scope.
  slots.clear();
  loop.multi.reset();
  curl_global_cleanup();
  return 0;
}
