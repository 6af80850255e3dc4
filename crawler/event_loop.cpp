#include "crawler/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <cstring>
#include <iostream>

#include "util/thread_cpu.h"

namespace fanout {
namespace {

timespec TimespecOf(std::chrono::nanoseconds t) {
  return {static_cast<time_t>(t.count() / 1'000'000'000), static_cast<long>(t.count() % 1'000'000'000)};
}

// Both return false, with errno set, when timerfd_settime fails.
[[nodiscard]] bool ArmTimer(int fd, std::chrono::nanoseconds delay) {
  itimerspec its{};
  if (delay.count() > 0) {
    its.it_value = TimespecOf(delay);
  } else if (delay.count() == 0) {
    its.it_value.tv_nsec = 1;  // "now": an all-zero it_value would disarm the timer instead
  }  // negative: disarm
  return timerfd_settime(fd, 0, &its, nullptr) == 0;
}

// Arms `fd` to fire at `deadline` on the steady clock (CLOCK_MONOTONIC, as the timerfd's).
[[nodiscard]] bool ArmTimerAt(int fd, std::chrono::steady_clock::time_point deadline) {
  itimerspec its{};
  its.it_value = TimespecOf(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()));
  return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, nullptr) == 0;
}

Status CreateError(const char* call) {
  return Status::IOError(std::string("cannot create the event loop: ") + call + ": " + std::strerror(errno));
}

// One read resets an eventfd's or a timerfd's counter; a second would only find it empty.
void DrainCounter(int fd) {
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(fd, &count, sizeof count);
}

}  // namespace

void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The coroutine that owns a spawned Task. It starts suspended (Spawn schedules it), catches what
// the task throws, and at the end unregisters and destroys its own frame.
class EventLoop::RootTask {
 public:
  struct promise_type {
    EventLoop* loop = nullptr;

    RootTask get_return_object() { return RootTask{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        h.promise().loop->roots_.erase(h.address());
        h.destroy();  // legal: the coroutine is suspended here, and nothing touches it afterwards
      }
      void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept {}  // RunRoot catches everything itself
  };
  std::coroutine_handle<promise_type> handle;
};

EventLoop::RootTask EventLoop::RunRoot(EventLoop* loop, Task<void> task) {
  try {
    co_await std::move(task);
  } catch (...) {
    ++loop->stats_.task_errors;
    if (loop->on_error_) loop->on_error_(std::current_exception());
  }
}

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  EnsureCurlGlobalInit();
  std::unique_ptr<EventLoop> loop(new EventLoop());
  // Each call checked as it returns, so that errno is still its own.
  loop->epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epoll_fd_) return CreateError("epoll_create1");
  loop->curl_timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!loop->curl_timer_fd_) return CreateError("timerfd_create");
  loop->sleep_timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!loop->sleep_timer_fd_) return CreateError("timerfd_create");
  loop->wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!loop->wake_fd_) return CreateError("eventfd");
  loop->multi_.reset(curl_multi_init());
  if (!loop->multi_) return Status::IOError("cannot create the event loop: curl_multi_init failed");
  for (const UniqueFd* fd : {&loop->curl_timer_fd_, &loop->sleep_timer_fd_, &loop->wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd->get();
    if (epoll_ctl(loop->epoll_fd_.get(), EPOLL_CTL_ADD, fd->get(), &ev) != 0) return CreateError("epoll_ctl");
  }
  CURLM* m = loop->multi_.get();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &EventLoop::OnCurlSocket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, loop.get());
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &EventLoop::OnCurlTimer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, loop.get());
  loop->on_error_ = [](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::cerr << "fanout: a task failed: " << ex.what() << "\n";
    } catch (...) {
      std::cerr << "fanout: a task failed with an unknown exception\n";
    }
  };
  return loop;
}

EventLoop::~EventLoop() {
  // Unfinished tasks first: their awaiters unregister from curl and from sleepers_, which must
  // still exist.
  ready_.clear();
  std::vector<void*> roots(roots_.begin(), roots_.end());
  roots_.clear();
  for (void* frame : roots) std::coroutine_handle<>::from_address(frame).destroy();
  // curl's cleanup closes the connections it keeps, through OnCurlSocket and OnCurlCloseSocket,
  // which still need the epoll set: it goes before the descriptors (members, closed after this).
  multi_.reset();
}

void EventLoop::Spawn(Task<void> task) {
  RootTask root = RunRoot(this, std::move(task));
  root.handle.promise().loop = this;
  roots_.insert(root.handle.address());
  Schedule(root.handle);
}

void EventLoop::Post(std::coroutine_handle<> h) {
  // The wake-up is written under the lock: once the loop can take `h`, this call is done with the
  // loop. Written after the unlock, it could come after `h` resumed, finished the crawl and the
  // loop was destroyed: a write to a closed (or reused) descriptor.
  // Only the first post into an empty queue wakes the loop: it takes the whole queue at once, and
  // a later post finds the queue empty again and wakes it anew.
  std::lock_guard lock(remote_mu_);
  remote_.push_back(h);
  if (remote_.size() > 1) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_.get(), &one, sizeof one);
}

void EventLoop::RunReady() {
  // Resuming may schedule more; those run in this same pass.
  for (size_t i = 0; i < ready_.size(); ++i) {
    std::coroutine_handle<> h = ready_[i];
    h.resume();
  }
  ready_.clear();
}

void EventLoop::Run() {
  stopping_ = false;
  const Clock::time_point start = Clock::now();
  Clock::time_point busy_since = start;
  epoll_event events[256];
  const double cpu_start = ThreadCpuSeconds();
  while (!stopping_) {
    RunReady();
    if (curl_due_now_) {  // curl asked for a timeout action "now": no timer round trip for that
      curl_due_now_ = false;
      int running = 0;
      curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
      DrainCurlMessages();
      continue;
    }
    if (roots_.empty() || stopping_) break;
    stats_.busy_seconds += std::chrono::duration<double>(Clock::now() - busy_since).count();
    int n = epoll_wait(epoll_fd_.get(), events, 256, -1);
    busy_since = Clock::now();
    ++stats_.wakeups;
    if (n < 0) {
      if (errno == EINTR) continue;
      std::cerr << "fanout: epoll_wait failed: " << std::strerror(errno) << "\n";
      break;
    }
    for (int i = 0; i < n; ++i) HandleEvent(events[i].data.fd, events[i].events);
    DrainCurlMessages();
  }
  stats_.busy_seconds += std::chrono::duration<double>(Clock::now() - busy_since).count();
  stats_.total_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  stats_.cpu_seconds += ThreadCpuSeconds() - cpu_start;
}

void EventLoop::HandleEvent(int fd, uint32_t events) {
  int running = 0;
  if (fd == curl_timer_fd_.get()) {
    DrainCounter(fd);
    curl_deadline_.reset();  // it fired: disarmed
    curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  } else if (fd == sleep_timer_fd_.get()) {
    DrainCounter(fd);
    FireSleepers();
  } else if (fd == wake_fd_.get()) {
    DrainCounter(fd);
    DrainRemote();
  } else if (fd >= 0 && static_cast<size_t>(fd) < sockets_.size() && (sockets_[fd] & kSocketForeign)) {
    if (auto it = watchers_.find(fd); it != watchers_.end()) it->second->OnFdReady(fd, events);
  } else {
    if (fd >= 0 && static_cast<size_t>(fd) < sockets_.size() && (sockets_[fd] & kSocketParked)) {
      // A parked connection stirred (the server closed it, most likely): curl is not watching it
      // and will find out when it tries to reuse it. Out of epoll it goes, or it would fire again.
      // A failed DEL (the socket already gone) leaves nothing to undo.
      (void)epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
      sockets_[fd] &= kSocketOurs;
      return;
    }
    int action = ((events & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(multi_.get(), fd, action, &running);
  }
}

void EventLoop::Watch(int fd, bool read, bool write, FdWatcher* watcher) {
  uint8_t& state = SocketState(fd);
  if (!read && !write) {
    if (state & kSocketForeign) (void)epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);  // gone already: fine
    state = 0;
    watchers_.erase(fd);
    return;
  }
  epoll_event ev{};
  ev.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  int rc = epoll_ctl(epoll_fd_.get(), (state & kSocketForeign) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  if (rc != 0 && errno == EEXIST) rc = epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
  if (rc != 0 && errno == ENOENT) rc = epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev);
  if (rc != 0) {
    SystemError("epoll_ctl");  // unwatched: the lookup ends at its timeout
    return;
  }
  state = kSocketForeign;
  watchers_[fd] = watcher;
}

void EventLoop::DrainCurlMessages() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // Copy before OnDone removes the handle: the message dies with it.
    CURL* easy = msg->easy_handle;
    CURLcode result = msg->data.result;
    void* transfer = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &transfer);
    static_cast<CurlTransfer*>(transfer)->OnDone(result);
  }
}

void EventLoop::DrainRemote() {
  std::vector<std::coroutine_handle<>> batch;
  {
    std::lock_guard lock(remote_mu_);
    batch.swap(remote_);
  }
  ready_.insert(ready_.end(), batch.begin(), batch.end());
}

uint8_t& EventLoop::SocketState(curl_socket_t s) {
  const auto i = static_cast<size_t>(s);
  if (sockets_.size() <= i) sockets_.resize(i + 1, 0);
  return sockets_[i];
}

int EventLoop::OnCurlSocket(CURL*, curl_socket_t s, int what, void* arg, void*) {
  auto* loop = static_cast<EventLoop*>(arg);
  uint8_t& state = loop->SocketState(s);
  if (what == CURL_POLL_REMOVE) {
    // A connection curl keeps for reuse goes quiet between transfers: it stays in epoll, parked,
    // so that the next transfer on it costs no epoll_ctl. Only a socket opened and closed through
    // the loop may stay (its close is seen); others, such as a resolver's, leave now.
    if (state & kSocketOurs) {
      state |= kSocketParked;
      return 0;
    }
    (void)epoll_ctl(loop->epoll_fd_.get(), EPOLL_CTL_DEL, s, nullptr);  // as in HandleEvent
    state = 0;
    return 0;
  }
  const uint8_t want = ((what & CURL_POLL_IN) ? kSocketIn : 0) | ((what & CURL_POLL_OUT) ? kSocketOut : 0);
  epoll_event ev{};
  ev.events = ((want & kSocketIn) ? EPOLLIN : 0u) | ((want & kSocketOut) ? EPOLLOUT : 0u);
  ev.data.fd = s;
  const int epfd = loop->epoll_fd_.get();
  int rc = 0;
  if (!(state & kSocketInEpoll)) {
    rc = epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
    if (rc != 0 && errno == EEXIST) rc = epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
  } else if ((state & (kSocketIn | kSocketOut)) != want) {
    // ENOENT: a socket closed behind the loop's back, and its number reused.
    rc = epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
    if (rc != 0 && errno == ENOENT) rc = epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
  }
  if (rc != 0) {
    // Not -1 to curl: that would kill the whole multi handle. Unwatched, this transfer ends at its
    // curl timeout, as a failed fetch; the state stays as it was, so the next call tries again.
    loop->SystemError("epoll_ctl");
    return 0;
  }
  state = static_cast<uint8_t>((state & kSocketOurs) | kSocketInEpoll | want);
  return 0;
}

curl_socket_t EventLoop::OnCurlOpenSocket(void* arg, curlsocktype, curl_sockaddr* address) {
  const int s = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (s < 0) return CURL_SOCKET_BAD;
  static_cast<EventLoop*>(arg)->SocketState(s) = kSocketOurs;  // a new socket: nothing of an old one
  return s;
}

int EventLoop::OnCurlCloseSocket(void* arg, curl_socket_t s) {
  // curl owns the socket (it was handed over by OnCurlOpenSocket) and asks for it to be closed.
  static_cast<EventLoop*>(arg)->SocketState(s) = 0;  // closing takes it out of epoll too
  return close(s);
}

void EventLoop::PrepareTransfer(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &EventLoop::OnCurlOpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &EventLoop::OnCurlCloseSocket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

int EventLoop::OnCurlTimer(CURLM*, long timeout_ms, void* arg) {
  // Only arm the timer: calling back into curl from here would re-enter it. curl calls this on
  // every change of its earliest timeout, often with the same deadline again: the timer is set
  // only when the deadline (in curl's milliseconds) moves, and "now" is a flag the loop checks
  // before it waits, not a timer that fires at once.
  auto* loop = static_cast<EventLoop*>(arg);
  if (timeout_ms == 0) {
    loop->curl_due_now_ = true;
    return 0;
  }
  // A failed timerfd_settime is not returned to curl either (-1 would kill the multi handle):
  // reported, and curl_deadline_ left unset so that curl's next call arms the timer anew.
  if (timeout_ms < 0) {
    if (loop->curl_deadline_ && !ArmTimer(loop->curl_timer_fd_.get(), std::chrono::nanoseconds(-1))) {
      loop->SystemError("timerfd_settime");
    }
    loop->curl_deadline_.reset();
    return 0;
  }
  const Clock::time_point deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()) +
                                     std::chrono::milliseconds(timeout_ms);
  if (loop->curl_deadline_ == deadline) return 0;
  if (!ArmTimerAt(loop->curl_timer_fd_.get(), deadline)) {
    loop->SystemError("timerfd_settime");
    loop->curl_deadline_.reset();
    return 0;
  }
  loop->curl_deadline_ = deadline;
  return 0;
}

void EventLoop::FireSleepers() {
  const Clock::time_point now = Clock::now();
  while (!sleepers_.empty() && sleepers_.begin()->first <= now) {
    SleepOp* op = sleepers_.begin()->second;
    sleepers_.erase(sleepers_.begin());
    op->pending_ = false;
    Schedule(op->waiter_);
  }
  ArmSleepTimer();
}

void EventLoop::ArmSleepTimer() {
  if (sleepers_.empty()) {
    if (!ArmTimer(sleep_timer_fd_.get(), std::chrono::nanoseconds(-1))) SystemError("timerfd_settime");
    return;
  }
  auto delay = sleepers_.begin()->first - Clock::now();
  if (!ArmTimer(sleep_timer_fd_.get(),
                std::max(std::chrono::nanoseconds(0), std::chrono::duration_cast<std::chrono::nanoseconds>(delay)))) {
    SystemError("timerfd_settime");
  }
}

void EventLoop::SystemError(const char* call) {
  ++stats_.system_errors;
  std::cerr << "fanout: " << call << " failed: " << std::strerror(errno) << "\n";
}

void EventLoop::SleepOp::await_suspend(std::coroutine_handle<> h) {
  waiter_ = h;
  pending_ = true;
  entry_ = loop_.sleepers_.emplace(deadline_, this);
  if (entry_ == loop_.sleepers_.begin()) loop_.ArmSleepTimer();
}

EventLoop::SleepOp::~SleepOp() {
  if (pending_) loop_.sleepers_.erase(entry_);  // the sleeping task was destroyed
}

}  // namespace fanout
