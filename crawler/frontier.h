// Frontier: which URLs the crawl will fetch, in what order, and why the others are not fetched; the
// one door to the hosts, their queues and their politeness.
//
// Breadth-first by depth: the URLs are queued per host (host_queues.h), which says which host may go
// now (politeness: a host at its --per-host limit, or whose delay has not passed, waits while the
// others go on); ready hosts of equal depth take turns. Next() hands out what may start, already
// booked, and the crawl tells EndTransfer() when a transfer is over. Requests under way that need
// another turn on a host (a retry, a redirect hop, a sitemap) queue a HostTurn (AskTurn), served
// before new URLs. The hosts are interned in a HostTable (host_table.h) with their robots.txt; the
// connection policy (connection_policy.h) says which requests keep their connection.
//
// Every URL is fetched at most once per run: Offer() deduplicates on the normalised URL, and a
// redirect's target is claimed with ClaimRedirect, so that it is not fetched again (a queued copy
// is handed out as kFetchedAlready). Offer() also checks scope (by default the seeds' hosts and
// ports; or --allow-domain domains and their subdomains), --include/--exclude patterns,
// --max-depth and --max-pages-per-host. The verdict is what the links table records for a link
// that is not followed. (A link's shape, its session ids and traps, is judged before: url_traps.h.)
//
// Memory: the seen URLs are remembered by a SeenFilter (seen_filter.h), about two bytes each, and
// at most `window` queued URLs are held here. Past that, Offer answers kQueuedOnDisk: the link is
// followed, but it waits in the database (its links row says so) until the crawl reads it back
// with Restore, when the queue here runs low. When the filter cannot tell whether a link's URL was
// seen, Offer answers kUnsure, and UnsureLinks (unsure_links.h) follows it until the store's
// writer has judged it. The URLs fetched are kept exactly (fingerprints, url_set.h), so that none
// is fetched twice: that set grows with the pages fetched (--max-pages), not with the frontier.
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

#include "crawler/connection_policy.h"
#include "crawler/frontier_item.h"
#include "crawler/host_queues.h"
#include "crawler/host_table.h"
#include "crawler/seen_filter.h"
#include "crawler/unsure_links.h"
#include "crawler/url_set.h"
#include "parser/robots_txt.h"
#include "util/result.h"

namespace fanout {

struct ScopeOptions {
  std::vector<std::string> allowed_domains = {};  // empty: the seeds' authorities (host:port)
  std::vector<std::string> include = {};          // if any, a URL must match one (ECMAScript regex, search)
  std::vector<std::string> exclude = {};          // a URL matching one is skipped
};

class Frontier {
 public:
  enum class Verdict { kQueued, kQueuedOnDisk, kUnsure, kDuplicate, kOutOfScope, kTooDeep, kExcluded, kHostBudget };
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
    if (max_host_urls_ > 0) CountHostUrl(url);
  }
  // --max-pages-per-host: Offer follows at most `n` URLs of one host (0: no limit), the seeds and
  // those fetched already counted; past that, kHostBudget.
  void LimitHostUrls(size_t n) { max_host_urls_ = n; }
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

  // ---- Dispatch: what may start now, booked for its host.
  using Clock = HostQueues::Clock;
  struct Pick {
    enum class Kind {
      kNone,            // nothing may start now (NextWake says when something may)
      kRobots,          // fetch `host`'s robots.txt, then KnowRobots: the host sends nothing else meanwhile
      kTurn,            // `turn`, waiting on `host` (AskTurn), may start
      kUrl,             // fetch `item`
      kRobotsRefused,   // `item` is refused by its host's robots.txt (`robots`): not started
      kFetchedAlready,  // `item` was fetched already (a redirect's target): not started
      kResolve,         // look `host`'s name up, then KnowAddress or LookupFailed: it sends nothing meanwhile
      kGivenUp,         // `item`'s host was given up (given_up(host) says why): not started
    };
    Kind kind = Kind::kNone;
    HostId host = 0;
    FrontierItem item = {};
    HostTurn* turn = nullptr;
    RobotsVerdict robots = {};
  };
  // `urls`: whether a new URL may start (a page slot is free, the page budget not spent), and so a
  // robots.txt fetch for one. kRobots, kTurn and kUrl are booked: the host counts the transfer as
  // in flight from `now`, until EndTransfer.
  Pick Next(Clock::time_point now, bool urls);
  // When the first host waiting for its delay may go (nullopt: none waits).
  std::optional<Clock::time_point> NextWake() const { return queues_->NextWake(); }

  // ---- Turns and transfers.
  // `turn` (its host set) waits for a turn on turn->host; Next hands it out as kTurn. Withdraw
  // takes it back unserved.
  void AskTurn(HostTurn* turn, HostId host) { queues_->AddTurn(host, turn); }
  void Withdraw(HostTurn* turn, HostId host) { queues_->Withdraw(host, turn); }
  // A booked transfer to `host` starts: whether it should keep its connection (connection_policy.h).
  // `page`: it fetches a page (or a hop to one).
  bool KeepConnection(HostId host, bool page);
  // A booked transfer (or a booked turn that made none) is over. `sent`: when its request went out,
  // if it did; `http2`: what its answer came over, if it was answered.
  void EndTransfer(HostId host, Clock::time_point now, std::optional<Clock::time_point> sent = std::nullopt,
                   std::optional<bool> http2 = std::nullopt);
  // A page of `host` is done, its links queued (or it had none).
  void PageDone(HostId host);

  // ---- Names and addresses (HostLimits::lookups: every host is looked up before its first request).
  // `host`'s name resolved to `address` (where its transfers connect; "" to let curl connect as the
  // URL or --connect-to says), believed until `expires`. `limit_key` is what --per-ip and
  // --ip-delay count it under: the address, or --connect-to's target.
  void KnowAddress(HostId host, std::string address, const std::string& limit_key, Clock::time_point expires,
                   Clock::time_point now);
  // The lookup of `host`'s name failed (`kind`: "dns-nxdomain", ...; `message`: why). With
  // `retry_at` the host is looked up again then; without, it is given up (GiveUp).
  void LookupFailed(HostId host, std::string kind, std::string message, std::optional<Clock::time_point> retry_at,
                    Clock::time_point now);
  struct GivenUp {
    std::string kind;     // the skipped rows' reason: "dns-nxdomain", ..., "host-failing"
    std::string message;  // why, in words
    int curl_code = 0;    // what its turns' transfers fail with (0: as the lookup did)
  };
  // The crawl sends nothing more to `host`: its URLs are handed out as kGivenUp, and its turns'
  // transfers fail at once (HostTurns). A later answer to a lookup of its name takes it back.
  void GiveUp(HostId host, GivenUp why);
  // Why `host` is given up (nullptr: it is not).
  const GivenUp* given_up(HostId host) const {
    auto it = given_up_.find(host);
    return it == given_up_.end() ? nullptr : &it->second;
  }
  // Where `host`'s transfers connect ("": as the URL or --connect-to says).
  const std::string& connect_address(HostId host) const {
    static const std::string kNone;
    return host < connect_addresses_.size() ? connect_addresses_[host] : kNone;
  }
  // Addresses leased by a shared frontier (HostLimits::address_leases): `shared` hears of every
  // host's address as it becomes known (the limit key), and the hosts of an address send nothing
  // until OpenAddress, or after CloseAddress.
  void ShareAddressesWith(std::function<void(HostId, const std::string&)> shared) { shared_address_ = std::move(shared); }
  void OpenAddress(const std::string& key, Clock::time_point not_before, Clock::time_point now);
  void CloseAddress(const std::string& key);
  // The limit key `host` counts under (nullptr: none yet, or no address level), and when the next
  // request to an address may start.
  const std::string* address_key(HostId host) const;
  Clock::time_point address_next_start(const std::string& key) const;
  // Transfers in flight to one address at most so far (with --per-ip or --ip-delay), and addresses known.
  size_t max_address_in_flight() const { return queues_->max_address_in_flight(); }
  size_t addresses() const { return address_ids_.size(); }

  // ---- Hosts.
  HostId HostIdOf(std::string_view origin);  // made known on first use
  std::string_view origin(HostId host) const { return table_.origin(host); }
  // robots.txt is known for `host` (nullptr: not obeyed); `crawl_delay`, if it gave one, becomes
  // its delay within [--delay, --max-delay].
  void KnowRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, std::optional<double> crawl_delay,
                  Clock::time_point now);
  const RobotsTxt* robots(HostId host) const { return table_.robots(host); }
  const std::shared_ptr<const RobotsTxt>& shared_robots(HostId host) const { return table_.shared_robots(host); }
  double delay(HostId host) const { return queues_->delay(host); }
  // A host this crawl may not send to for now (a shared frontier gave it to another worker): its
  // queued URLs are dropped (returns how many) and it sends nothing until ResumeHost, whose
  // `not_before` is the earliest its next request may start.
  size_t PauseHost(HostId host) { return queues_->Pause(host); }
  void ResumeHost(HostId host, std::optional<Clock::time_point> not_before);
  // Nothing queued, waiting or in flight, and robots.txt not being fetched.
  bool idle(HostId host) const { return queues_->idle(host); }
  // When its next request may start (the delay booked so far).
  Clock::time_point next_start(HostId host) const { return queues_->next_start(host); }
  size_t hosts() const { return table_.size(); }
  // Hosts with something queued or waiting.
  size_t busy_hosts() const { return queues_->busy_hosts(); }
  // What hosts cost: their own state (what an idle host costs), and what queues add.
  size_t host_memory_bytes() const { return table_.memory_bytes() + queues_->memory_bytes() + connections_.memory_bytes(); }
  size_t host_queue_bytes() const { return queues_->queue_memory_bytes(); }
  uint64_t heap_steps() const { return queues_->heap_steps(); }

  // ---- The queue's size, and what waits in the database.
  // Takes back a URL that waits in the database (kQueuedOnDisk, a kUnsure found new, or one of
  // QueueOnDisk's).
  void Restore(FrontierItem item);
  // `count` URLs wait in the database for Restore (a resumed run's queue).
  void QueueOnDisk(size_t count);
  // The store's word on kUnsure links so far (its counters now): those it found new join the
  // queue in the database (unsure_links.h).
  void Settle(const StoreStats& now) { QueueOnDisk(unsure_.Settle(now)); }
  const UnsureLinks& unsure_links() const { return unsure_; }
  UnsureLinks& unsure_links() { return unsure_; }

  bool empty() const { return queued() == 0; }
  // In memory, in the database, and waiting for the store's word.
  size_t queued() const { return in_memory() + on_disk_ + unsure(); }
  size_t in_memory() const { return queues_->queued(); }
  size_t on_disk() const { return on_disk_; }
  size_t unsure() const { return unsure_.pending(); }
  // How many URLs Restore may add before the queue here is full.
  size_t room() const { return window_ == 0 ? SIZE_MAX : window_ - std::min(window_, in_memory()); }
  size_t max_on_disk() const { return max_on_disk_; }
  // URLs wait in the database (or for the store's word) and the queue here is at most half full:
  // time to Settle and Restore some.
  bool wants_refill() const { return on_disk_ + unsure() > 0 && (window_ == 0 || 2 * in_memory() < window_); }
  size_t seen_memory_bytes() const { return seen_.memory_bytes(); }

  // "duplicate", "out_of_scope", ... ("" for kQueued and kQueuedOnDisk)
  static const char* ReasonFor(Verdict v);

 private:
  explicit Frontier(const HostLimits& limits)
      : queues_(std::make_unique<HostQueues>(limits)), connections_(limits.kept_hosts) {}
  bool InScope(const std::string& url) const;
  bool Excluded(const std::string& url) const;  // by --include / --exclude
  // Counts a URL against its host's --max-pages-per-host; false when the host had spent it.
  bool CountHostUrl(std::string_view url);

  std::vector<std::string> seed_authorities_;
  std::vector<std::string> allowed_domains_;
  std::vector<std::regex> include_, exclude_;
  int max_depth_ = -1;
  SeenFilter seen_;  // offered, queued or fetched
  UrlSet fetched_;   // popped for fetching, or claimed by a redirect
  void Push(FrontierItem item);
  HostTable table_;  // hosts by origin, and their robots.txt
  // Not movable (its heaps point back at it), so held by pointer: a Frontier is returned by value.
  std::unique_ptr<HostQueues> queues_;
  ConnectionPolicy connections_;
  size_t window_ = 0;
  size_t on_disk_ = 0;  // followed, waiting in the database
  size_t max_on_disk_ = 0;
  std::function<void(FrontierItem)> shared_offer_;
  std::vector<std::string> connect_addresses_;             // by host
  std::unordered_map<std::string, uint32_t> address_ids_;  // --per-ip's keys, interned
  std::vector<const std::string*> address_keys_;           // by id (address_ids_'s keys)
  std::function<void(HostId, const std::string&)> shared_address_;
  std::unordered_map<HostId, GivenUp> given_up_;
  size_t max_host_urls_ = 0;
  std::vector<uint32_t> host_urls_;  // by host: URLs followed (with max_host_urls_)
  UnsureLinks unsure_;
};

}  // namespace fanout
