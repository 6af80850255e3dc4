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

namespace {

// What a robots.txt answer means (RFC 9309 2.3.1): rules from a 2xx body; 4xx (or more than
// five redirects) allows everything; 5xx or no answer refuses the origin.
enum class RobotsAnswer { kRules, kAllowAll, kDisallowAll };

RobotsAnswer AnswerOf(const FetchResponse& response) {
  if (!response.ok() || response.status >= 500 || response.status < 200) return RobotsAnswer::kDisallowAll;
  if (response.status >= 300) return RobotsAnswer::kAllowAll;
  return RobotsAnswer::kRules;
}

// Why an answer without rules means what it does, naming no origin (the verdict is shared).
std::string Why(const FetchResponse& response) {
  if (!response.ok()) {
    const std::string_view meaning = ErrorKindMeaning(ErrorKindOf(response));
    return "robots.txt unreachable" + (meaning.empty() ? std::string() : ": " + std::string(meaning)) + " (" +
           response.error + "); per RFC 9309 the origin is not crawled";
  }
  return "robots.txt answered " + std::to_string(response.status) +
         (AnswerOf(response) == RobotsAnswer::kAllowAll ? ": every URL allowed" : ": the origin is not crawled");
}

RobotsTxt VerdictOf(const FetchResponse& response, const CrawlOptions& options) {
  switch (AnswerOf(response)) {
    case RobotsAnswer::kDisallowAll: return RobotsTxt::DisallowAll(Why(response));
    case RobotsAnswer::kAllowAll: return RobotsTxt::AllowAll(Why(response));
    case RobotsAnswer::kRules: break;
  }
  return RobotsTxt::Parse(response.body, UserAgentOf(options));
}

// The robots row of `origin` for `response`, whose verdict is `robots`.
void Describe(const RobotsTxt& robots, const FetchResponse& response, const std::string& origin, RobotsRecord& record) {
  record.origin = origin;
  record.status = static_cast<int>(response.status);
  record.bytes = static_cast<int64_t>(response.body.size());
  switch (AnswerOf(response)) {
    case RobotsAnswer::kDisallowAll: record.verdict = "disallow_all"; break;
    case RobotsAnswer::kAllowAll: record.verdict = "allow_all"; break;
    case RobotsAnswer::kRules: record.verdict = "rules"; break;
  }
  if (record.verdict != "rules") {
    record.error = origin + "/" + Why(response);
    return;
  }
  record.user_agent = robots.group();
  if (std::optional<double> delay = robots.crawl_delay()) record.crawl_delay = *delay;
  record.sitemaps = robots.sitemaps();
}

}  // namespace

RobotsTxt RobotsFromResponse(const FetchResponse& response, const std::string& origin, const CrawlOptions& options,
                             RobotsRecord& record) {
  RobotsTxt robots = VerdictOf(response, options);
  Describe(robots, response, origin, record);
  return robots;
}

SkipRecord RobotsRefusal(const FrontierItem& item, const RobotsVerdict& verdict, CrawlSummary& summary) {
  ++summary.skipped_by_reason["robots"];
  return {.url = item.url, .reason = "robots", .detail = verdict.rule, .found_on = item.parent, .depth = item.depth};
}

std::shared_ptr<const RobotsTxt> RobotsCache::Get(const FetchResponse& response, const std::string& origin,
                                                  const CrawlOptions& options, RobotsRecord& record) {
  // The verdict is a function of the answer: the body of one with rules, else why it has none.
  const bool rules = AnswerOf(response) == RobotsAnswer::kRules;
  auto [it, added] = by_answer_.try_emplace(rules ? "rules\n" + response.body : Why(response));
  if (added) {  // parsed once, whatever the number of hosts that serve it
    it->second = std::make_shared<const RobotsTxt>(VerdictOf(response, options));
    memory_bytes_ += sizeof(RobotsTxt) + it->first.capacity() + 64;  // the file's rules are about its size
  }
  Describe(*it->second, response, origin, record);
  return it->second;
}

}  // namespace fanout
