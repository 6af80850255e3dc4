// LoopResolver: name lookups on the event loop, as transfers are: c-ares tells the resolver which
// sockets to watch (its socket-state callback) and the loop's epoll watches them beside curl's
// (EventLoop::Watch); c-ares's own timeouts are served by a sleeping task while lookups are under
// way. `co_await resolver.Resolve(host)` suspends until the answer is in, with at most
// DnsOptions::concurrency lookups in flight (the others wait their turn, holding nothing else).
//
// It makes every lookup it is asked for: the crawl keeps the answers and merges lookups of one name
// (dns_cache.h), so that each name is asked once per TTL.
//
// Lifetime: destroy the resolver after the loop's tasks (the loop, or whoever awaits Resolve):
// an abandoned lookup (its task destroyed) is forgotten when c-ares answers or the resolver goes.
//
// Threads: the loop thread only.
#pragma once

#include <coroutine>
#include <memory>
#include <string>
#include <unordered_set>

#include "crawler/dns.h"
#include "crawler/dns_channel.h"
#include "crawler/event_loop.h"
#include "crawler/semaphore.h"
#include "crawler/task.h"
#include "util/result.h"

namespace fanout {

class LoopResolver final : public FdWatcher {
 public:
  static Result<std::unique_ptr<LoopResolver>> Create(EventLoop& loop, const DnsOptions& options);
  ~LoopResolver();
  LoopResolver(const LoopResolver&) = delete;
  LoopResolver& operator=(const LoopResolver&) = delete;

  // The answer for `host`, once the resolver has given it (or the lookup timed out).
  Task<DnsAnswer> Resolve(std::string host);

  void OnFdReady(int fd, uint32_t events) override;

 private:
  struct Lookup;
  class LookupOp;
  LoopResolver(EventLoop& loop, const DnsOptions& options);
  static void OnSocketState(void* self, ares_socket_t socket, int readable, int writable);
  static void OnAnswer(void* lookup, int status, int timeouts, ares_addrinfo* result);
  // While lookups are under way, wakes when c-ares's next timeout is due.
  Task<void> ServeTimeouts();

  EventLoop& loop_;
  DnsOptions options_;
  std::unique_ptr<AresChannel> channel_;
  AsyncSemaphore slots_;  // --dns-concurrency
  std::unordered_set<Lookup*> lookups_;  // under way, owned here
  bool serving_timeouts_ = false;
  bool closing_ = false;
};

}  // namespace fanout
