#include "crawler/page_procedure.h"

#include <algorithm>
#include <iterator>

#include "crawler/archive_transfer.h"
#include "crawler/crawl_context.h"
#include "crawler/page_content.h"
#include "crawler/robots_policy.h"
#include "crawler/url.h"
#include "crawler/work_guard.h"
#include "util/clock.h"
#include "warc/warc_archive.h"

namespace fanout {
namespace {

// The page a fetch ended on, as one trip off the loop leaves it: parsed, its records archived, and
// room made for it in the store. A followed meta refresh makes the page a hop, and its target
// another round.
struct PageRound {
  PageRecord record;
  PageLinks parsed;
  std::optional<WarcBatch> batch;  // its records, built from the body as received, before decoding
  Status archived;
  Result<double> room = 0.0;

  // Off the loop: archives the records (the row then says where they are), then waits for room in
  // the store; the page's row is queued only once its records are written, so the index never
  // points past the archive.
  void Write(WarcArchive* archive, Store& store, const std::string& parent) {
    if (batch) {
      archive->AddMetadata(*batch, MetadataOf(record, parent, parsed.candidates));
      Result<WarcLocation> at = archive->Write(std::move(*batch));
      if (at.ok()) {
        NoteLocation(*at, record);
      } else {
        archived = at.status();
      }
    }
    if (archived.ok()) room = store.WaitForRoom();
  }
};

}  // namespace

bool PageProcedure::ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, std::optional<SkipRecord>& skip) {
  if (fetch.response().curl_code == CURLE_ABORTED_BY_CALLBACK) {
    ++crawl_.counters.summary.dropped;
    return false;
  }
  fetch.Fill(record);
  skip = fetch.skipped_target();
  if (skip) skip->depth = depth;
  return true;
}

void PageProcedure::ArchiveAside(PageFetch& fetch, CrawlWaits& waits) {
  if (crawl_.archive == nullptr || !Archivable(fetch.response())) return;
  waits.WriteBehind([archive = crawl_.archive, url = fetch.url(), response = std::move(fetch.response())] {
    return ArchiveTransfer(*archive, url, response);
  });
}

Task<std::optional<RedirectVerdict>> PageProcedure::JudgeRedirect(std::string target, const FrontierItem& item,
                                                                  HostTurn& turn, CrawlWaits& waits,
                                                                  std::vector<std::string>& claimed) {
  Frontier& frontier = crawl_.frontier;
  // Scope first: a host the crawl will not visit is not asked for its robots.txt.
  if (Frontier::Verdict v = frontier.CheckRedirect(target); v != Frontier::Verdict::kQueued) {
    co_return RedirectVerdict{.follow = false, .reason = Frontier::ReasonFor(v), .detail = ""};
  }
  // The hop is a request to the target's host like any other: its robots.txt, its limits, its delay.
  const HostId host = frontier.HostIdOf(OriginOf(target));
  if (crawl_.leases.active() && crawl_.leases.EpochOf(host) == 0) {
    // Another worker's host, or nobody's yet: whoever holds it fetches the target.
    crawl_.leases.Offer({SharedLink{.url = target, .depth = item.depth, .parent = item.url}});
    co_return RedirectVerdict{.follow = false, .reason = "handed_over",
                              .detail = "its host is crawled by the worker that holds it"};
  }
  if (!co_await crawl_.turns.TakeForPage(turn, host, waits)) co_return std::nullopt;
  RedirectVerdict verdict = fanout::JudgeRedirect(target, frontier, frontier.robots(host));
  if (!verdict.follow) crawl_.turns.Release(turn, waits);
  if (verdict.follow) claimed.push_back(target);
  co_return verdict;
}

Task<bool> PageProcedure::DriveFetch(PageFetch& fetch, const FrontierItem& item, HostTurn& turn, CrawlWaits& waits,
                                     std::vector<std::string>& claimed, CrawlClock::time_point taken,
                                     PageRecord& record) {
  for (;;) {
    switch (fetch.Next()) {
      case PageFetch::Step::kFetch: {
        // A retry: the host's limits and delay again. Stopped: left for a resumed crawl (it is
        // still a followed link).
        if (!turn.held && !co_await crawl_.turns.TakeForPage(turn, turn.host, waits)) co_return false;
        if (record.queue_wait < 0) record.queue_wait = SecondsSince(taken);
        FetchRequest request = fetch.request();
        fetch.OnResponse(co_await crawl_.turns.Transfer(turn, std::move(request), waits, /*page=*/true));
        break;
      }
      case PageFetch::Step::kWait:
        ArchiveAside(fetch, waits);  // the answer that is retried
        co_await waits.Sleep(std::chrono::duration<double>(fetch.wait_seconds()));
        if (crawl_.stopping()) co_return false;  // the retry is left for a resumed crawl
        break;
      case PageFetch::Step::kCheckRedirect: {
        std::optional<RedirectVerdict> verdict =
            co_await JudgeRedirect(fetch.redirect_target(), item, turn, waits, claimed);
        if (!verdict) co_return false;
        if (verdict->follow) ArchiveAside(fetch, waits);  // a hop: the page is its target's
        fetch.OnRedirectVerdict(std::move(*verdict));
        break;
      }
      case PageFetch::Step::kDone: co_return true;
    }
  }
}

Task<void> PageProcedure::Crawl(FrontierItem item, HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits) {
  CrawlCounters& counters = crawl_.counters;
  counters.max_pages_in_progress = std::max(counters.max_pages_in_progress, ++counters.pages_in_progress);
  WorkGuard work([&] {
    if (turn->held) crawl_.turns.Release(*turn, waits);
    crawl_.frontier.PageDone(host);  // the page's links are queued by now, or there are none
    --counters.pages_in_progress;
    crawl_.EndWork(waits);
  });
  turn->host = host;
  turn->held = true;
  PageRecord first;  // what every round's record starts from
  first.url = item.url;
  first.depth = item.depth;
  first.queue_wait = -1;  // not yet: set at the first transfer
  const CrawlClock::time_point taken = CrawlClock::now();
  first.fetched_at = UnixNow();
  PageFetch fetch(crawl_.options, item.url, random_());
  LeaseKeeper& leases = crawl_.leases;
  const int64_t epoch = leases.EpochOf(host);
  std::shared_ptr<void> hold = leases.Hold(host);  // the host stays here until the page is reported
  std::vector<std::string> claimed;  // redirect targets this page fetched
  if (!co_await DriveFetch(fetch, item, *turn, waits, claimed, taken, first)) co_return;

  // One round per page the fetch ends on; a meta refresh that is followed starts another, for its
  // target. Each round takes one trip off the loop: parse, free the body, and wait for room in the
  // store.
  WarcArchive* const archive = crawl_.archive;
  Store& store = crawl_.store;
  PageRound round;
  std::vector<LinkCandidate> left;  // the links of pages a meta refresh left, found all the same
  std::optional<SkipRecord> skip;
  for (;;) {
    round.record = first;
    if (!ConcludeFetch(fetch, item.depth, round.record, skip)) co_return;
    FetchResponse& response = fetch.response();
    const bool parse = ShouldParse(response);
    const std::string page_url = fetch.url();
    round.parsed = {};
    round.batch.reset();
    co_await waits.RunOffLoop([&] {
      if (archive != nullptr && Archivable(response)) round.batch.emplace(archive->Prepare(ExchangeOf(page_url, response)));
      if (parse) round.parsed = ParsePage(page_url, response, crawl_.options, round.record);
      std::string().swap(response.body);
      if (round.parsed.refresh.empty()) round.Write(archive, store, item.parent);  // else after the refresh's verdict
    });
    if (parse) CountParse(round.parsed.fast_path, round.parsed.bailout, counters.summary);
    if (round.parsed.refresh.empty()) break;
    if (fetch.OnMetaRefresh(round.parsed.refresh, round.parsed.refresh_delay)) {
      if (!co_await DriveFetch(fetch, item, *turn, waits, claimed, taken, first)) co_return;
      if (fetch.url() != page_url) {  // followed: the refresh page was a hop, and its links count
        if (round.batch) {
          waits.WriteBehind([archive, batch = std::move(*round.batch)]() mutable {
            return archive->Write(std::move(batch)).status();
          });
        }
        std::move(round.parsed.candidates.begin(), round.parsed.candidates.end(), std::back_inserter(left));
        continue;
      }
      fetch.FillChain(round.record);  // not followed: the refresh page is the page, with its hop noted
      skip = fetch.skipped_target();
      if (skip) skip->depth = item.depth;
    }
    co_await waits.RunOffLoop([&] { round.Write(archive, store, item.parent); });
    break;
  }
  if (!round.archived.ok()) {  // not stored: a resumed crawl fetches it again
    crawl_.NoteStored(waits, round.archived);
    co_return;
  }
  if (skip) {
    ++counters.summary.skipped_by_reason[skip->reason];
    waits.WriteBehind([&store, skip = std::move(*skip)]() mutable { return store.AddSkip(std::move(skip)); });
  }
  counters.summary.retries += fetch.retries();
  std::vector<LinkCandidate>& candidates = round.parsed.candidates;
  std::move(left.begin(), left.end(), std::back_inserter(candidates));
  // The links are decided and the page queued in one step, so the writer sees pages in the order
  // their links were decided (it settles unsure links in that order: unsure_links.h).
  std::vector<SharedLink> found;  // a shared frontier's worker offers the page's links at once
  if (leases.active()) leases.CollectLinks(&found);
  std::vector<LinkRecord> links = DecideLinks(std::move(candidates), fetch.url(), item.depth, crawl_.options,
                                              crawl_.frontier, counters.summary.skipped_by_reason);
  leases.CollectLinks(nullptr);
  leases.Offer(std::move(found));
  CountPage(round.record, links.size(), counters.summary, counters.samples);
  crawl_.NoteStored(waits, round.room.ok() ? store.AddPageNow(std::move(round.record), std::move(links), *round.room,
                                                               leases.ReportDone(item.url, host, epoch, true,
                                                                                 std::move(claimed), hold))
                                           : round.room.status());
}

}  // namespace fanout
