// SiteFiles: what a site keeps for crawlers, fetched on turns of its host like any request:
// robots.txt (RFC 9309), once per host before its first page, and with --sitemaps the sitemaps of
// the seeds' origins (those robots.txt lists, or /sitemap.xml), whose URLs join the frontier.
//
// A robots.txt answer becomes the host's verdict and Crawl-delay (robots_policy.h), is stored
// (written behind), and, for a shared frontier's worker, shared with the run's later owners of the
// host. With --warc every answer is archived.
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crawler/crawl_waits.h"
#include "crawler/task.h"

namespace fanout {

class CrawlContext;

class SiteFiles {
 public:
  explicit SiteFiles(CrawlContext& crawl) : crawl_(crawl) {}

  // Fetches `host`'s robots.txt on `turn`, which holds the turn the dispatcher booked.
  Task<void> FetchRobots(HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits);
  // --sitemaps: the origins of `seeds` to walk, each counted as work in progress until its walk ends.
  std::vector<std::string> BeginSitemaps(const std::vector<std::string>& seeds);
  Task<void> WalkSitemaps(std::string origin, CrawlWaits& waits);

 private:
  CrawlContext& crawl_;
};

}  // namespace fanout
