// HostTurns: the turns on hosts that requests under way hold or wait for (crawl_waits.h's
// HostTurn), and the transfers made on them.
//
// A page, a robots.txt fetch or a sitemap walk holds a turn on its host while its transfer runs;
// the frontier books it and counts it in flight until the transfer ends. A request that needs another
// turn (a retry, a redirect hop, the next sitemap) asks for one here and waits; the dispatcher
// grants it when the frontier hands it out, or the crawl's stop (or a shared frontier taking the
// host away) ends the wait without one.
//
// A host whose transfers get no answer --max-host-errors times in a row (could not connect, timed
// out or cut before a status line, TLS failed) is given up (Frontier::GiveUp, "host-failing"), as
// Nutch's fetcher.max.exceptions.per.queue: a dead host costs a few requests, not one per URL.
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "crawler/crawl_waits.h"
#include "crawler/fetch.h"
#include "crawler/task.h"

namespace fanout {

class CrawlContext;

class HostTurns {
 public:
  explicit HostTurns(CrawlContext& crawl) : crawl_(crawl) {}

  // Asks for a turn on `host` and waits for it; false when the crawl stops (or the host is taken
  // away) instead.
  Task<bool> Take(HostTurn& turn, HostId host, CrawlWaits& waits);
  // Take, for a page in progress (a retry, a redirect hop), counted with the time it took.
  Task<bool> TakeForPage(HostTurn& turn, HostId host, CrawlWaits& waits);
  // The frontier handed out `turn` (Frontier::Pick::kTurn), already booked: it is held now. The
  // caller gives it what a turn comes with, then resumes its waiter.
  void Grant(HostTurn& turn);
  // One transfer on the held `turn`, measured; the turn is over after it. `page`: it fetches a page
  // (or a hop to one), whose links may come back to the host (connection_policy.h).
  Task<FetchResponse> Transfer(HostTurn& turn, FetchRequest request, CrawlWaits& waits, bool page = false);
  // Ends a held turn that made no transfer.
  void Release(HostTurn& turn, CrawlWaits& waits);
  // Every waiting turn (or those on `host`) is withdrawn and its waiter resumed without it.
  void WithdrawAll(CrawlWaits& waits);
  void WithdrawHost(HostId host, CrawlWaits& waits);

 private:
  // Counts an unanswered transfer to `host` (or starts the count again), and gives it up at the limit.
  void NoteAnswer(HostId host, const FetchResponse& response);

  CrawlContext& crawl_;
  std::unordered_set<HostTurn*> waiting_;  // turns asked for and not yet granted
  std::vector<uint32_t> unanswered_;       // by host: transfers in a row that got no answer
};

}  // namespace fanout
