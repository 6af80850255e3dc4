#include "crawler/site_files.h"

#include <optional>

#include "crawler/archive_transfer.h"
#include "crawler/crawl_context.h"
#include "crawler/robots_policy.h"
#include "crawler/sitemap_walk.h"
#include "crawler/url.h"
#include "crawler/work_guard.h"
#include "util/clock.h"
#include "crawler/page_content.h"

namespace fanout {

Task<void> SiteFiles::FetchRobots(HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits) {
  WorkGuard work([&] { crawl_.EndWork(waits); });
  turn->host = host;
  turn->held = true;
  const CrawlOptions& options = crawl_.options;
  WarcArchive* const archive = crawl_.archive;
  const std::string origin(crawl_.frontier.origin(host));
  FetchRequest request = RobotsRequest(options, origin);
  const std::string url = request.url;
  const size_t max_bytes = request.max_bytes;
  FetchResponse response = co_await crawl_.turns.Transfer(*turn, std::move(request), waits);
  if (archive != nullptr || NeedsDecoding(response)) {
    Status archived;
    co_await waits.RunOffLoop([&] {
      if (archive != nullptr) archived = ArchiveTransfer(*archive, url, response);
      // One that cannot be decoded says nothing: as an empty file, it allows all.
      if (!DecodeBody(response, max_bytes).ok()) response.body.clear();
    });
    crawl_.NoteStored(waits, archived);
  }
  CrawlSummary& summary = crawl_.counters.summary;
  ++summary.robots_fetched;
  RobotsRecord record;
  record.fetched_at = UnixNow();
  std::shared_ptr<const RobotsTxt> robots = crawl_.robots.Get(response, origin, options, record);
  const std::shared_ptr<const RobotsTxt>& before = crawl_.frontier.shared_robots(host);
  if (before != nullptr) ++summary.robots_refetched;
  if (record.verdict == "disallow_all" && before != nullptr) {
    // Fetched again after --robots-ttl and unreachable (5xx or no answer): RFC 9309 2.4 lets the
    // crawler keep the copy it has, rather than stop crawling a site whose robots.txt blinked.
    ++summary.robots_kept;
    crawl_.frontier.KnowRobots(host, before, crawl_.frontier.delay(host), CrawlClock::now());
  } else {
    if (record.verdict == "disallow_all") ++summary.robots_refused_origins;
    crawl_.KnowRobots(host, std::move(robots), record);
  }
  crawl_.leases.ShareRobots(origin,
                            SharedRobots{.status = static_cast<int>(response.status),
                                         .curl_code = response.curl_code, .body = response.body},
                            crawl_.frontier.delay(host));
  waits.WriteBehind([&store = crawl_.store, record = std::move(record)]() mutable {
    return store.AddRobots(std::move(record));
  });
}

std::vector<std::string> SiteFiles::BeginSitemaps(const std::vector<std::string>& seeds) {
  if (!crawl_.options.sitemaps) return {};
  std::vector<std::string> origins = OriginsOf(seeds);
  for (size_t i = 0; i < origins.size(); ++i) crawl_.BeginWork();
  return origins;
}

Task<void> SiteFiles::WalkSitemaps(std::string origin, CrawlWaits& waits) {
  WorkGuard work([&] { crawl_.EndWork(waits); });
  Frontier& frontier = crawl_.frontier;
  HostTurns& turns = crawl_.turns;
  const HostId host = frontier.HostIdOf(origin);
  auto turn = std::make_unique<HostTurn>();
  // A turn on the host makes its robots.txt known first: its Sitemap: lines start the walk.
  if (!co_await turns.Take(*turn, host, waits)) co_return;
  const RobotsTxt* robots = frontier.robots(host);
  SitemapWalk walk(origin, robots != nullptr ? robots->sitemaps() : std::vector<std::string>{},
                   crawl_.options.url_rules);
  while (std::optional<std::string> url = walk.Next()) {
    if (robots != nullptr && !robots->Check(PathAndQueryOf(*url)).allowed) continue;
    if (!turn->held && !co_await turns.Take(*turn, host, waits)) break;
    FetchRequest request = SitemapRequest(crawl_.options, *url);
    const size_t max_bytes = request.max_bytes;
    FetchResponse response = co_await turns.Transfer(*turn, std::move(request), waits);
    std::optional<Result<Sitemap>> sitemap;
    Status archived;
    WarcArchive* const archive = crawl_.archive;
    co_await waits.RunOffLoop([&] {
      if (archive != nullptr) archived = ArchiveTransfer(*archive, *url, response);
      Status decoded = DecodeBody(response, max_bytes);
      sitemap.emplace(decoded.ok() ? SitemapWalk::Parse(response) : Result<Sitemap>(decoded));
    });
    crawl_.NoteStored(waits, archived);
    walk.Apply(*url, *sitemap, frontier);
    waits.WakeDispatcher();
  }
  if (turn->held) turns.Release(*turn, waits);
  CountSitemaps(walk.stats(), crawl_.counters.summary);
}

}  // namespace fanout
