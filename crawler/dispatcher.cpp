#include "crawler/dispatcher.h"

#include <optional>

#include "crawler/crawl_context.h"
#include "crawler/robots_policy.h"

namespace fanout {

bool Dispatcher::RefillWanted() const {
  if (!crawl_.frontier.wants_refill() || refilling_) return false;
  // Pages stored since the last empty read may have committed more; with nothing in progress,
  // everything is in the store's hands and one more read finds it all.
  return empty_refill_pages_ != crawl_.counters.summary.pages || (crawl_.active() == 0 && !empty_refill_idle_);
}

Work Dispatcher::Next(CrawlWaits& waits, bool page_slot, bool turns_only) {
  Frontier& frontier = crawl_.frontier;
  LeaseKeeper& leases = crawl_.leases;
  const int64_t max_pages = crawl_.options.max_pages;
  while (true) {
    if (crawl_.stopping()) return {.kind = Work::Kind::kDone};
    if (leases.active()) {
      leases.Apply(waits);
      if (crawl_.stopping()) return {.kind = Work::Kind::kDone};
    }
    const bool page_budget = max_pages <= 0 || dispatched_ < max_pages;
    const CrawlClock::time_point now = CrawlClock::now();
    // A shared frontier's worker starts nothing that could outlive its leases.
    const bool leased = leases.Leased(now);
    Frontier::Pick pick = leased ? frontier.Next(now, page_slot && page_budget && !turns_only) : Frontier::Pick{};
    switch (pick.kind) {
      case Frontier::Pick::Kind::kRobots:
        crawl_.BeginWork();
        return {.kind = Work::Kind::kRobots, .host = pick.host};
      case Frontier::Pick::Kind::kResolve:
        crawl_.BeginWork();
        return {.kind = Work::Kind::kResolve, .host = pick.host};
      case Frontier::Pick::Kind::kGivenUp: {
        const Frontier::GivenUp* failure = frontier.given_up(pick.host);
        SkipRecord skip{.url = pick.item.url, .reason = failure->kind, .detail = failure->message,
                        .found_on = pick.item.parent, .depth = pick.item.depth};
        ++crawl_.counters.summary.skipped_by_reason[skip.reason];
        waits.WriteBehind([&store = crawl_.store, skip = std::move(skip),
                           done = leases.ReportDone(pick.item.url, pick.host, leases.EpochOf(pick.host), false, {},
                                                    leases.Hold(pick.host))]() mutable {
          return store.AddSkip(std::move(skip), std::move(done));
        });
        continue;
      }
      case Frontier::Pick::Kind::kTurn:
        crawl_.turns.Grant(*pick.turn);
        return {.kind = Work::Kind::kGranted, .host = pick.host, .turn = pick.turn};
      case Frontier::Pick::Kind::kFetchedAlready:
        // As a redirect's target, or (a shared frontier handing it out again) by this worker before
        // its report was refused. It is stored here either way: done.
        if (std::function<void()> done =
                leases.ReportDone(pick.item.url, pick.host, leases.EpochOf(pick.host), true, {})) {
          done();
        }
        continue;
      case Frontier::Pick::Kind::kRobotsRefused: {
        SkipRecord skip = RobotsRefusal(pick.item, pick.robots, crawl_.counters.summary);
        waits.WriteBehind([&store = crawl_.store, skip = std::move(skip),
                           done = leases.ReportDone(pick.item.url, pick.host, leases.EpochOf(pick.host), false, {},
                                                    leases.Hold(pick.host))]() mutable {
          return store.AddSkip(std::move(skip), std::move(done));
        });
        continue;
      }
      case Frontier::Pick::Kind::kUrl:
        crawl_.BeginWork();
        ++dispatched_;
        leases.PageBegun();
        return {.kind = Work::Kind::kPage, .host = pick.host, .item = std::move(pick.item)};
      case Frontier::Pick::Kind::kNone: break;
    }
    if (turns_only) {
      if (std::optional<CrawlClock::time_point> wake = frontier.NextWake()) {
        return {.kind = Work::Kind::kWaitUntil, .until = *wake};
      }
      return {.kind = Work::Kind::kWaitChange};
    }
    if (!page_budget) {  // at --max-pages: wait for what is in progress, then finish
      return {.kind = crawl_.active() == 0 ? Work::Kind::kDone : Work::Kind::kWaitChange};
    }
    if (RefillWanted()) return {.kind = Work::Kind::kRefill};
    if (leases.active()) {
      if (leases.NothingLeft(waits)) return {.kind = Work::Kind::kDone};
      if (!leased) return {.kind = Work::Kind::kWaitChange};  // a claim's answer wakes us
    }
    const std::optional<CrawlClock::time_point> wake = frontier.NextWake();
    // Nothing in progress, no host to wake for and nothing more to read back: the crawl is over.
    // What is still counted as queued then cannot be had (the store could not give it back).
    if (crawl_.active() == 0 && !wake && !refilling_ && !leases.active()) return {.kind = Work::Kind::kDone};
    if (frontier.in_memory() > 0) ++crawl_.counters.host_waits;
    if (wake) return {.kind = Work::Kind::kWaitUntil, .until = *wake};
    return {.kind = Work::Kind::kWaitChange};
  }
}

Task<void> Dispatcher::Refill(CrawlWaits& waits) {
  refilling_ = true;
  const size_t room = crawl_.frontier.room();
  const SpillCursor cursor = spill_cursor_;
  const bool idle = crawl_.active() == 0;
  std::optional<Result<SpillRead>> read;
  Store& store = crawl_.store;
  const int64_t run_id = run_id_;
  co_await waits.RunOffLoop([&] { read.emplace(ReadSpilled(store, run_id, cursor, room)); });
  refilling_ = false;
  if (!read->ok()) {
    crawl_.NoteStored(waits, read->status());
    co_return;
  }
  ++crawl_.counters.summary.frontier_refills;
  if (RestoreSpilled(**read, crawl_.frontier, spill_cursor_) == 0) {
    empty_refill_pages_ = crawl_.counters.summary.pages;
    empty_refill_idle_ = idle;
  }
  waits.WakeDispatcher();
}

}  // namespace fanout
