#include "crawler/loop_resolver.h"

#include <sys/epoll.h>

#include <algorithm>
#include <chrono>

namespace fanout {

// One lookup under way: what c-ares's callback fills, and who waits for it (nobody, once the
// awaiting task is gone).
struct LoopResolver::Lookup {
  LoopResolver* resolver;
  std::chrono::steady_clock::time_point asked;
  std::coroutine_handle<> waiter;
  DnsAnswer answer;
  bool done = false;
};

class LoopResolver::LookupOp {
 public:
  LookupOp(LoopResolver& resolver, std::string host) : resolver_(resolver), host_(std::move(host)) {}
  LookupOp(const LookupOp&) = delete;
  LookupOp& operator=(const LookupOp&) = delete;
  ~LookupOp() {
    if (lookup_ == nullptr) return;
    if (lookup_->done) {
      delete lookup_;  // answered, but the task went before it was resumed: ours to free
    } else {
      lookup_->waiter = {};  // abandoned: OnAnswer (or the resolver's end) frees it
    }
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    lookup_ = new Lookup{.resolver = &resolver_, .asked = std::chrono::steady_clock::now(), .waiter = h, .answer = {}};
    resolver_.lookups_.insert(lookup_);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    // May answer at once (from /etc/hosts, or a failure): OnAnswer schedules the waiter, it does
    // not resume it, so that is fine here.
    ares_getaddrinfo(resolver_.channel_->get(), host_.c_str(), nullptr, &hints, &LoopResolver::OnAnswer, lookup_);
    if (!lookup_->done && !resolver_.serving_timeouts_) {
      resolver_.serving_timeouts_ = true;
      resolver_.loop_.Spawn(resolver_.ServeTimeouts());
    }
  }
  DnsAnswer await_resume() {
    DnsAnswer answer = std::move(lookup_->answer);
    delete lookup_;
    lookup_ = nullptr;
    return answer;
  }

 private:
  LoopResolver& resolver_;
  std::string host_;
  Lookup* lookup_ = nullptr;
};

Result<std::unique_ptr<LoopResolver>> LoopResolver::Create(EventLoop& loop, const DnsOptions& options) {
  std::unique_ptr<LoopResolver> resolver(new LoopResolver(loop, options));
  FANOUT_ASSIGN_OR_RETURN(AresChannel channel, AresChannel::Create(options, &LoopResolver::OnSocketState, resolver.get()));
  resolver->channel_ = std::make_unique<AresChannel>(std::move(channel));
  return resolver;
}

LoopResolver::LoopResolver(EventLoop& loop, const DnsOptions& options)
    : loop_(loop), options_(options), slots_(loop, std::max<size_t>(1, options.concurrency)) {}

LoopResolver::~LoopResolver() {
  closing_ = true;  // the channel's end calls back: no loop calls then, it may be gone
  channel_.reset();
  for (Lookup* lookup : lookups_) delete lookup;  // none is awaited any more (see the header)
}

Task<DnsAnswer> LoopResolver::Resolve(std::string host) {
  AsyncSemaphore::Permit slot = co_await slots_.Acquire();
  co_return co_await LookupOp(*this, std::move(host));
}

void LoopResolver::OnAnswer(void* arg, int status, int, ares_addrinfo* result) {
  auto* lookup = static_cast<Lookup*>(arg);
  LoopResolver& resolver = *lookup->resolver;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - lookup->asked).count();
  lookup->answer = AnswerOf(status, result, seconds);
  if (result != nullptr) ares_freeaddrinfo(result);
  lookup->done = true;
  if (resolver.closing_) return;  // the destructor frees it
  resolver.lookups_.erase(lookup);
  if (lookup->waiter) {
    resolver.loop_.Schedule(lookup->waiter);  // the LookupOp frees it
  } else {
    delete lookup;  // abandoned
  }
}

void LoopResolver::OnSocketState(void* self, ares_socket_t socket, int readable, int writable) {
  auto* resolver = static_cast<LoopResolver*>(self);
  if (resolver->closing_) return;
  resolver->loop_.Watch(socket, readable != 0, writable != 0, resolver);
}

void LoopResolver::OnFdReady(int fd, uint32_t events) {
  const bool in = events & (EPOLLIN | EPOLLERR | EPOLLHUP);
  const bool out = events & EPOLLOUT;
  ares_process_fd(channel_->get(), in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
}

Task<void> LoopResolver::ServeTimeouts() {
  while (!lookups_.empty()) {
    timeval tv{};
    const timeval* next = ares_timeout(channel_->get(), nullptr, &tv);
    auto wait = next != nullptr ? std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec)
                                : std::chrono::microseconds(100'000);
    co_await loop_.SleepFor(std::max<EventLoop::Clock::duration>(wait, std::chrono::milliseconds(1)));
    ares_process_fd(channel_->get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  serving_timeouts_ = false;
}

}  // namespace fanout
