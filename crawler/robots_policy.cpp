#include "crawler/robots_policy.h"

#include "crawler/page_content.h"
#include "crawler/url.h"

namespace fanout {

RedirectVerdict JudgeRedirect(const std::string& target, Frontier& frontier, const RobotsTxt* robots) {
  if (robots != nullptr) {
    RobotsVerdict allowed = robots->Check(PathAndQueryOf(target));
    if (!allowed.allowed) return {.follow = false, .reason = "robots", .detail = allowed.rule};
  }
  const Frontier::Verdict verdict = frontier.ClaimRedirect(target);
  if (verdict != Frontier::Verdict::kQueued) return {.follow = false, .reason = Frontier::ReasonFor(verdict), .detail = ""};
  return {.follow = true, .reason = "", .detail = ""};
}

FetchRequest RobotsRequest(const CrawlOptions& options, const std::string& origin) {
  FetchRequest request = RequestFor(options, origin + "/robots.txt");
  request.max_bytes = kMaxRobotsBytes;
  request.max_redirects = 5;
  return request;
}

RobotsTxt RobotsFromResponse(const FetchResponse& response, const std::string& origin, const CrawlOptions& options,
                             RobotsRecord& record) {
  record.origin = origin;
  record.status = static_cast<int>(response.status);
  record.bytes = static_cast<int64_t>(response.body.size());
  const std::string what = origin + "/robots.txt";
  if (!response.ok()) {
    record.verdict = "disallow_all";
    record.error = what + " unreachable (" + response.error + "): the origin is not crawled";
    return RobotsTxt::DisallowAll(record.error.substr(origin.size() + 1));  // shared: no origin
  }
  if (response.status >= 500 || response.status < 200) {
    record.verdict = "disallow_all";
    record.error = what + " answered " + std::to_string(response.status) + ": the origin is not crawled";
    return RobotsTxt::DisallowAll(record.error.substr(origin.size() + 1));  // shared: no origin
  }
  // 4xx: no robots.txt. More than five redirects counts the same (RFC 9309 2.3.1.2).
  if (response.status >= 300) {
    record.verdict = "allow_all";
    record.error = what + " answered " + std::to_string(response.status) + ": every URL allowed";
    return RobotsTxt::AllowAll(record.error.substr(origin.size() + 1));
  }
  RobotsTxt robots = RobotsTxt::Parse(response.body, UserAgentOf(options));
  record.verdict = "rules";
  record.user_agent = robots.group();
  if (std::optional<double> delay = robots.crawl_delay()) record.crawl_delay = *delay;
  record.sitemaps = robots.sitemaps();
  return robots;
}

SkipRecord RobotsRefusal(const FrontierItem& item, const RobotsVerdict& verdict, CrawlSummary& summary) {
  ++summary.skipped_by_reason["robots"];
  return {.url = item.url, .reason = "robots", .detail = verdict.rule, .found_on = item.parent, .depth = item.depth};
}

std::shared_ptr<const RobotsTxt> RobotsCache::Get(const FetchResponse& response, const std::string& origin,
                                                  const CrawlOptions& options, RobotsRecord& record) {
  RobotsTxt robots = RobotsFromResponse(response, origin, options, record);
  // The verdict is a function of the status class and, for rules, the body; an unreachable file's
  // reason names curl's error.
  std::string key = record.verdict + '\n';
  if (record.verdict == "rules") {
    key += response.body;
  } else if (!response.ok()) {
    key += response.error;
  } else {
    key += std::to_string(response.status);
  }
  auto [it, added] = by_answer_.try_emplace(std::move(key));
  if (added) {
    it->second = std::make_shared<const RobotsTxt>(std::move(robots));
    memory_bytes_ += sizeof(RobotsTxt) + it->first.capacity() + 64;  // the file's rules are about its size
  }
  return it->second;
}

}  // namespace fanout
