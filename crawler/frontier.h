// Frontier: which URLs the crawl will fetch, in what order, and why the others are not fetched.
//
// Breadth-first by depth: Pop() returns a URL of the lowest depth queued. Every URL is fetched
// at most once per run: Offer() deduplicates on the normalised URL, and a redirect's target is
// claimed with ClaimRedirectTarget, so that it is not fetched again (a queued copy is skipped by
// Pop). Offer() also checks scope (by default the seeds' hosts and ports; or
// --allow-domain domains and their subdomains), --include/--exclude patterns and --max-depth.
// The verdict is what the links table records for a link that is not followed.
//
// Threads: loop thread only (no locking).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/result.h"

namespace fanout {

struct ScopeOptions {
  std::vector<std::string> allowed_domains = {};  // empty: the seeds' authorities (host:port)
  std::vector<std::string> include = {};          // if any, a URL must match one (ECMAScript regex, search)
  std::vector<std::string> exclude = {};          // a URL matching one is skipped
};

struct FrontierItem {
  std::string url;
  int depth = 0;
  std::chrono::steady_clock::time_point queued_at;
};

class Frontier {
 public:
  enum class Verdict { kQueued, kDuplicate, kOutOfScope, kTooDeep, kExcluded };

  // Fails with kInvalidArgument for a malformed pattern.
  static Result<Frontier> Create(ScopeOptions scope, int max_depth);

  // Adds a seed at depth 0 (always in scope). `url` must be normalised. False if already there.
  bool AddSeed(const std::string& url);
  // Offers a link found at `depth` - 1. `url` must be normalised.
  Verdict Offer(const std::string& url, int depth);
  // A transfer was redirected to `url`. True if no other transfer has fetched or is fetching it:
  // then it counts as fetched, and Pop() will skip it if it is queued. False: it is a duplicate.
  bool ClaimRedirectTarget(const std::string& url);

  std::optional<FrontierItem> Pop();
  bool empty() const { return queued_ == 0; }
  size_t queued() const { return queued_; }
  size_t seen() const { return seen_.size(); }

  static const char* ReasonFor(Verdict v);  // "duplicate", "out_of_scope", ... ("" for kQueued)

 private:
  Frontier() = default;
  bool InScope(const std::string& url) const;

  std::vector<std::string> seed_authorities_;
  std::vector<std::string> allowed_domains_;
  std::vector<std::regex> include_, exclude_;
  int max_depth_ = -1;
  std::unordered_set<std::string> seen_;     // offered, queued or fetched
  std::unordered_set<std::string> fetched_;  // popped for fetching, or claimed by a redirect
  std::vector<std::deque<FrontierItem>> by_depth_;
  size_t lowest_ = 0;  // no queued item has a lower depth
  size_t queued_ = 0;
};

}  // namespace fanout
