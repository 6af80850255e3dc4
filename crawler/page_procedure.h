// PageProcedure: one page, from its dispatch to the store. The fetch (PageFetch, page_fetch.h):
// transfers on the page's turn, retries after their waits, each redirect hop judged like a link
// (scope, robots.txt, already fetched) on a turn on its own host, and a meta refresh the crawl
// follows as one more hop. Then, off the loop: the page's archive records (--warc), the parse, and
// room in the store. Then, on the crawl's thread, its links are decided by the frontier and the page
// is queued with the store in one step, so that the store's writer sees pages in the order their
// links were decided (unsure_links.h).
//
// A crawl that stops while the page waits for a turn or a retry leaves it unstored: a resumed crawl
// fetches it again. As a shared frontier's worker, the page is reported done once the store has
// committed it, and its links are offered to the shared frontier together.
//
// Threads: not thread-safe; the crawl's owner serialises calls, and the procedure's off-loop steps
// touch only what they are given.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "crawler/crawl_waits.h"
#include "crawler/frontier_item.h"
#include "crawler/page_fetch.h"
#include "crawler/run_stats.h"
#include "crawler/task.h"
#include "storage/records.h"

namespace fanout {

class CrawlContext;

class PageProcedure {
 public:
  explicit PageProcedure(CrawlContext& crawl) : crawl_(crawl) {}

  // Crawls `item`; `turn` holds the turn the dispatcher booked on `host`.
  Task<void> Crawl(FrontierItem item, HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits);

 private:
  // Drives `fetch` to kDone: transfers on the page's turn, retry waits, redirect verdicts. False when
  // the crawl stopped first. Sets record.queue_wait the first time.
  Task<bool> DriveFetch(PageFetch& fetch, const FrontierItem& item, HostTurn& turn, CrawlWaits& waits,
                        std::vector<std::string>& claimed, CrawlClock::time_point taken, PageRecord& record);
  // nullopt: the crawl stopped while the verdict needed a turn on the target's host. `item`: the
  // page redirected; `claimed` collects the targets it claimed.
  Task<std::optional<RedirectVerdict>> JudgeRedirect(std::string target, const FrontierItem& item, HostTurn& turn,
                                                     CrawlWaits& waits, std::vector<std::string>& claimed);
  // False when a second Ctrl-C cut the page's transfer (counted as dropped; the page is not
  // stored, so a resumed crawl fetches it again). Otherwise fills the record and sets `skip` to a
  // redirect target the crawl refused.
  bool ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, std::optional<SkipRecord>& skip);
  // --warc: archives the answer `fetch` has now, which is not the page's (it is retried, or a
  // redirect hop); off the loop, nobody waiting.
  void ArchiveAside(PageFetch& fetch, CrawlWaits& waits);

  CrawlContext& crawl_;
  std::mt19937_64 random_{20261121};  // each page's retry jitter
};

}  // namespace fanout
