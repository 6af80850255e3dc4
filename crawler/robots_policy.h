// robots.txt as the crawl applies it (RFC 9309): the request for an origin's file, what its answer
// means, the verdict on a redirect target and the row of a refused URL; and RobotsCache, which
// shares one parsed file between the hosts that serve the same one, so that a host's verdict costs
// a pointer.
//
// Threads: the functions, any thread; RobotsCache, its owner's (the crawl's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "crawler/fetch.h"
#include "crawler/frontier.h"
#include "crawler/page_fetch.h"
#include "parser/robots_txt.h"
#include "storage/records.h"

namespace fanout {

// The frontier's and robots.txt's verdict on a redirect target, the robots part given (nullptr
// when robots.txt is ignored). Claims the target when it may be followed.
RedirectVerdict JudgeRedirect(const std::string& target, Frontier& frontier, const RobotsTxt* robots);

// The request for an origin's robots.txt ("http://h:1" -> "http://h:1/robots.txt"): at most
// kMaxRobotsBytes kept, up to 5 redirects followed (RFC 9309 2.3.1.2).
FetchRequest RobotsRequest(const CrawlOptions& options, const std::string& origin);

// What a robots.txt response means for its origin (RFC 9309 2.3.1): the rules of a 2xx body;
// 4xx: every URL allowed; 5xx or no answer: every URL refused for this run. Fills `record`.
RobotsTxt RobotsFromResponse(const FetchResponse& response, const std::string& origin, const CrawlOptions& options,
                             RobotsRecord& record);

// The row for a page robots.txt refused, counted among the run's skips.
SkipRecord RobotsRefusal(const FrontierItem& item, const RobotsVerdict& verdict, CrawlSummary& summary);

// One parsed RobotsTxt per distinct answer: hosts whose robots.txt answered the same (the same
// status class and body) share it. Entries live as long as the cache.
class RobotsCache {
 public:
  // RobotsFromResponse's verdict for `response`, shared with every earlier identical answer (which
  // is not parsed again); fills `record` for `origin` as RobotsFromResponse does.
  std::shared_ptr<const RobotsTxt> Get(const FetchResponse& response, const std::string& origin,
                                       const CrawlOptions& options, RobotsRecord& record);
  size_t distinct() const { return by_answer_.size(); }
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  std::unordered_map<std::string, std::shared_ptr<const RobotsTxt>> by_answer_;
  size_t memory_bytes_ = 0;
};

}  // namespace fanout
