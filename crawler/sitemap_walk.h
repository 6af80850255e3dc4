// SitemapWalk: seeding the frontier from an origin's sitemaps (--sitemaps): the Sitemap: lines of
// its robots.txt and /sitemap.xml, sitemap indexes followed to their sitemaps, every listed URL
// offered to the frontier like a link found on the sitemap. Like PageFetch it fetches nothing
// itself: the crawl's SiteFiles (site_files.h) drives it, on turns of the origin's host.
//
//   SitemapWalk walk(origin, robots_sitemaps, url_rules);
//   while (std::optional<std::string> url = walk.Next()) walk.OnResponse(*url, fetch(*url), frontier);
//
// Bounded: at most kMaxSitemapFetches sitemaps per origin, and the limits of ParseSitemap for each.
// Threads: one thread at a time; Parse is pure (any thread); OnResponse and Apply need the
// frontier's owner (see frontier.h).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crawler/fetch.h"
#include "crawler/frontier.h"
#include "crawler/url.h"
#include "parser/sitemap.h"
#include "util/result.h"

namespace fanout {

inline constexpr int kMaxSitemapFetches = 50;

struct SitemapStats {
  int64_t fetched = 0;   // sitemap files fetched
  int64_t failed = 0;    // ... that could not be fetched or parsed
  int64_t urls = 0;      // page URLs they listed
  int64_t queued = 0;    // ... that the frontier took (in scope, new)
};

class SitemapWalk {
 public:
  // `origin` is "scheme://host:port"; `listed` the Sitemap: values of its robots.txt.
  // URLs are keyed by `rules`, the crawl's.
  SitemapWalk(const std::string& origin, const std::vector<std::string>& listed, UrlRules rules);

  // The next sitemap to fetch, or nullopt when the walk is over.
  std::optional<std::string> Next();
  // Parses what `url` answered: an index adds its sitemaps to the walk, a urlset's URLs are
  // offered to the frontier at depth 1, found on `url`. The same in two steps, for a mode that
  // parses on another thread: Parse (pure, any thread), then Apply (the frontier's owner).
  void OnResponse(const std::string& url, const FetchResponse& response, Frontier& frontier) {
    Apply(url, Parse(response), frontier);
  }
  static Result<Sitemap> Parse(const FetchResponse& response);
  void Apply(const std::string& url, const Result<Sitemap>& sitemap, Frontier& frontier);

  const SitemapStats& stats() const { return stats_; }

 private:
  void Add(const std::string& url);

  std::deque<std::string> pending_;
  std::set<std::string> seen_;
  UrlRules rules_;
  SitemapStats stats_;
};

}  // namespace fanout
