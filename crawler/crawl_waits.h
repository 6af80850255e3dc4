// CrawlWaits: how a crawl mode waits; the seam between the one crawl (crawl_core.h) and its modes.
//
// The crawl's procedures are coroutines written once and awaited through CrawlWaits. The async mode
// (crawl_async.h) suspends them on its event loop; the blocking modes (crawl_blocking.h) have
// already waited, on their thread, when a call returns, so the coroutine runs straight through
// (Await<T>::Ready, await.h).
//
// A HostTurn is a request's permission to send to one host: the frontier books it (the host's
// --per-host limit and delay) and the dispatcher hands it to the request. A request under way that
// needs another (a retry, a redirect hop, a sitemap) asks for one and waits in WaitForTurn until
// the dispatcher grants it (turn.held) or the crawl stops.
//
// Threads: every call is made by the crawl with the mode's serialisation held (the loop thread, or
// the blocking modes' lock).
#pragma once

#include <chrono>
#include <coroutine>
#include <functional>

#include "crawler/await.h"
#include "crawler/dns.h"
#include "crawler/fetch.h"
#include "crawler/frontier_item.h"
#include "crawler/semaphore.h"
#include "util/status.h"

namespace fanout {

struct HostTurn {
  HostId host = 0;
  bool held = false;  // a request to `host` may start, or is under way
  // The async mode's: the --concurrency slot the turn comes with once granted, and the coroutine
  // waiting for it. The blocking modes leave both empty: their threads are their slots.
  AsyncSemaphore::Permit transfer_slot;
  std::coroutine_handle<> waiter;
};

class CrawlWaits {
 public:
  virtual ~CrawlWaits() = default;
  // Until ResumeTurn(turn): the turn has come (turn.held) or will not (the crawl stops).
  virtual Await<void> WaitForTurn(HostTurn& turn) = 0;
  // Resumes whoever waits in WaitForTurn(turn).
  virtual void ResumeTurn(HostTurn& turn) = 0;
  // One transfer on the held `turn`; gives its transfer slot back once the transfer is over.
  virtual Await<FetchResponse> Transfer(HostTurn& turn, FetchRequest request) = 0;
  // Gives back the transfer slot of a turn that ends with no transfer.
  virtual void ReleaseTransferSlot(HostTurn& turn) = 0;
  virtual Await<void> Sleep(std::chrono::duration<double> d) = 0;
  // Looks `name` up: on the loop (loop_resolver.h), or on this thread with the lock released.
  virtual Await<DnsAnswer> Resolve(std::string name) = 0;
  // Runs `work` where CPU and the store may block: the pool, or this thread with the lock released.
  virtual Await<void> RunOffLoop(std::function<void()> work) = 0;
  // A store write nobody waits for (robots.txt and skipped rows, archived answers); what it returns
  // goes to CrawlCore::NoteStored.
  virtual void WriteBehind(std::function<Status()> write) = 0;
  // Something the dispatcher waits for may have changed (a host may go, a page slot is free, the
  // crawl is over): it should ask the core again.
  virtual void WakeDispatcher() = 0;
};

}  // namespace fanout
