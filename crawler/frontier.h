// Frontier: which URLs the crawl will fetch, in what order, and why the others are not fetched.
//
// Breadth-first by depth: the URLs are queued per host in a HostScheduler (host_scheduler.h), which
// says which host may go now (politeness: a host at its --per-host limit, or whose delay has not
// passed, waits while the others go on); ready hosts of equal depth take turns. Every URL is fetched
// at most once per run: Offer() deduplicates on the normalised URL, and a redirect's target is
// claimed with ClaimRedirect, so that it is not fetched again (a queued copy is skipped by Take).
// Offer() also checks scope (by default the seeds' hosts and ports; or --allow-domain domains and
// their subdomains), --include/--exclude patterns and --max-depth.
// The verdict is what the links table records for a link that is not followed.
//
// Memory: the seen URLs are remembered by a SeenFilter (seen_filter.h), about two bytes each, and
// at most `window` queued URLs are held here. Past that, Offer answers kQueuedOnDisk: the link is
// followed, but it waits in the database (its links row says so) until the crawl reads it back
// with Restore, when the queue here runs low. When the filter cannot tell whether a link's URL was
// seen, Offer answers kUnsure: the store's writer, which has every committed link and those of its
// open batch, looks it up and records the link either as a duplicate or as queued in the database
// (storage/store.h), and Settle brings the counts here up to date. That is exact only if the
// writer sees pages in the order their links were offered here: the crawl queues each page with
// the store (Store::AddPageNow) in the same step as it offers the page's links. The URLs fetched are kept
// exactly (fingerprints, url_set.h), so that none is fetched twice: that set grows with the pages
// fetched (--max-pages), not with the frontier.
//
// Threads: not thread-safe: the crawl's owner serialises calls (the loop thread in async mode, the
// crawl's lock in the blocking modes).
#pragma once

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "crawler/host_scheduler.h"
#include "crawler/seen_filter.h"
#include "crawler/url_set.h"
#include "util/result.h"

namespace fanout {

struct ScopeOptions {
  std::vector<std::string> allowed_domains = {};  // empty: the seeds' authorities (host:port)
  std::vector<std::string> include = {};          // if any, a URL must match one (ECMAScript regex, search)
  std::vector<std::string> exclude = {};          // a URL matching one is skipped
};

class Frontier {
 public:
  enum class Verdict { kQueued, kQueuedOnDisk, kUnsure, kDuplicate, kOutOfScope, kTooDeep, kExcluded };
  // Where an offered URL comes from. A link gets a links row, which can hold it on disk or have the
  // store decide whether it is new; a URL from elsewhere (a sitemap) has no row, so it is queued
  // here, window or not, and if the filter is unsure it is queued anyway (Take's exact check of the
  // fetched URLs keeps a second copy from being fetched).
  enum class Source { kLink, kOther };

  // Fails with kInvalidArgument for a malformed pattern. `window`: queued URLs held in memory at
  // most (0: no limit). `limits`: the hosts' politeness (default: none, no robots.txt).
  static Result<Frontier> Create(ScopeOptions scope, int max_depth, size_t window = 0, SeenFilterOptions seen = {},
                                 HostLimits limits = {});

  // Counts `url` as fetched (a resumed run's done URLs): it is never queued again.
  void MarkFetched(const std::string& url) {
    seen_.Insert(url);
    fetched_.insert(url);
  }
  // Counts `url` as seen (a resumed run's followed links): a link to it is a duplicate.
  void MarkSeen(std::string_view url) { seen_.Insert(url); }
  // Adds a seed at depth 0 (always in scope). `url` must be normalised. False if already there.
  // `queue`: false when only its scope counts (a shared frontier queues the run's seeds).
  bool AddSeed(const std::string& url, bool queue = true);
  // A frontier shared by several workers (shared_frontier.h) decides what is fetched: from now on
  // Offer hands every URL it would queue to `offer` instead (kQueued), and the crawl queues here
  // (Restore) what the shared frontier hands back.
  void ShareWith(std::function<void(FrontierItem)> offer) { shared_offer_ = std::move(offer); }
  // Offers a link found at `depth` - 1 on `parent`. `url` must be normalised.
  Verdict Offer(const std::string& url, int depth, const std::string& parent = "", Source source = Source::kLink);
  // A transfer was redirected to `url`: kQueued when the crawl may follow it (it then counts as
  // fetched, and a queued copy is skipped by Take), else why not: kDuplicate (fetched or being
  // fetched), kOutOfScope or kExcluded.
  Verdict ClaimRedirect(const std::string& url);
  // ClaimRedirect's verdict without the claim: to know whether a target is worth more checks.
  Verdict CheckRedirect(const std::string& url) const;

  // The hosts, their queues and their politeness: the crawl asks hosts().Next() what may go.
  HostScheduler& hosts() { return *hosts_; }
  const HostScheduler& hosts() const { return *hosts_; }
  // Takes the next URL of `host` (HostScheduler::Next said kUrl) for fetching: nullopt when a
  // redirect has fetched it already (the caller asks Next again; `skipped`, if given, gets its URL).
  std::optional<FrontierItem> Take(HostScheduler::HostId host, std::string* skipped = nullptr);
  // The next URL in the scheduler's order, as a zero-time transfer (Start and Finish at once);
  // nullopt when none may go now. For tools and tests that need no politeness.
  std::optional<FrontierItem> Pop();
  // Takes back a URL that waits in the database (kQueuedOnDisk, a kUnsure found new, or one of
  // QueueOnDisk's).
  void Restore(FrontierItem item);
  // `count` URLs wait in the database for Restore (a resumed run's queue).
  void QueueOnDisk(size_t count);
  // The store's word on kUnsure links so far, as totals since the crawl began: how many it found
  // new (they now wait in the database) and how many were duplicates. Applies what is new.
  void Settle(int64_t found_new, int64_t found_duplicate);

  bool empty() const { return queued() == 0; }
  // In memory, in the database, and waiting for the store's word.
  size_t queued() const { return in_memory() + on_disk_ + unsure_; }
  size_t in_memory() const { return hosts_->queued(); }
  size_t on_disk() const { return on_disk_; }
  size_t unsure() const { return unsure_; }
  // How many URLs Restore may add before the queue here is full.
  size_t room() const { return window_ == 0 ? SIZE_MAX : window_ - std::min(window_, in_memory()); }
  size_t max_on_disk() const { return max_on_disk_; }
  // URLs wait in the database (or for the store's word) and the queue here is at most half full:
  // time to Settle and Restore some.
  bool wants_refill() const { return on_disk_ + unsure_ > 0 && (window_ == 0 || 2 * in_memory() < window_); }
  size_t seen_memory_bytes() const { return seen_.memory_bytes(); }

  // "duplicate", "out_of_scope", ... ("" for kQueued and kQueuedOnDisk)
  static const char* ReasonFor(Verdict v);

 private:
  explicit Frontier(HostLimits limits) : hosts_(std::make_unique<HostScheduler>(limits)) {}
  bool InScope(const std::string& url) const;
  bool Excluded(const std::string& url) const;  // by --include / --exclude

  std::vector<std::string> seed_authorities_;
  std::vector<std::string> allowed_domains_;
  std::vector<std::regex> include_, exclude_;
  int max_depth_ = -1;
  SeenFilter seen_;  // offered, queued or fetched
  UrlSet fetched_;   // popped for fetching, or claimed by a redirect
  void Push(FrontierItem item);
  std::unique_ptr<HostScheduler> hosts_;  // not movable: its heaps point back at it
  size_t window_ = 0;
  size_t on_disk_ = 0;  // followed, waiting in the database
  size_t max_on_disk_ = 0;
  std::function<void(FrontierItem)> shared_offer_;
  size_t unsure_ = 0;   // kUnsure links the store has not settled yet (Settle)
  int64_t settled_new_ = 0, settled_duplicate_ = 0;  // Settle's totals so far
};

}  // namespace fanout
