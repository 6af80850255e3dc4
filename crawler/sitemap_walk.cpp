#include "crawler/sitemap_walk.h"

#include "crawler/url.h"

namespace fanout {

SitemapWalk::SitemapWalk(const std::string& origin, const std::vector<std::string>& listed, UrlRules rules)
    : rules_(rules) {
  for (const std::string& url : listed) Add(url);
  Add(origin + "/sitemap.xml");
}

void SitemapWalk::Add(const std::string& url) {
  Result<std::string> normalized = NormalizeUrl(url, rules_);
  if (!normalized.ok() || seen_.size() >= kMaxSitemapFetches) return;
  if (seen_.insert(*normalized).second) pending_.push_back(*normalized);
}

std::optional<std::string> SitemapWalk::Next() {
  if (pending_.empty()) return std::nullopt;
  std::string next = std::move(pending_.front());
  pending_.pop_front();
  return next;
}

Result<Sitemap> SitemapWalk::Parse(const FetchResponse& response) {
  if (!response.ok()) return Status::Unavailable(response.error);
  if (response.status < 200 || response.status >= 300) {
    return Status::NotFound("HTTP " + std::to_string(response.status));
  }
  return ParseSitemap(response.body);
}

void SitemapWalk::Apply(const std::string& url, const Result<Sitemap>& sitemap, Frontier& frontier) {
  ++stats_.fetched;
  if (!sitemap.ok()) {
    ++stats_.failed;
    return;
  }
  for (const std::string& listed : sitemap->urls) {
    Result<std::string> normalized = ResolveUrl(url, listed, rules_);
    if (!normalized.ok()) continue;
    if (sitemap->kind == Sitemap::Kind::kIndex) {
      Add(*normalized);
      continue;
    }
    ++stats_.urls;
    if (frontier.Offer(*normalized, 1, url, Frontier::Source::kOther) == Frontier::Verdict::kQueued) ++stats_.queued;
  }
}

}  // namespace fanout
