#include "crawler/frontier.h"

#include <algorithm>

#include "crawler/url.h"

namespace fanout {

Result<Frontier> Frontier::Create(ScopeOptions scope, int max_depth) {
  Frontier f;
  f.max_depth_ = max_depth;
  for (std::string& d : scope.allowed_domains) {
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
    f.allowed_domains_.push_back(d);
  }
  auto compile = [](const std::vector<std::string>& patterns, std::vector<std::regex>& out,
                    const char* flag) -> Status {
    for (const std::string& p : patterns) {
      try {
        out.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return Status::InvalidArgument(std::string(flag) + " '" + p + "' is not a valid regular expression: " +
                                       e.what());
      }
    }
    return Status::Ok();
  };
  FANOUT_RETURN_IF_ERROR(compile(scope.include, f.include_, "--include"));
  FANOUT_RETURN_IF_ERROR(compile(scope.exclude, f.exclude_, "--exclude"));
  return f;
}

bool Frontier::AddSeed(const std::string& url) {
  std::string authority(AuthorityOf(url));
  if (std::find(seed_authorities_.begin(), seed_authorities_.end(), authority) == seed_authorities_.end()) {
    seed_authorities_.push_back(authority);
  }
  if (!seen_.insert(url).second) return false;
  if (by_depth_.empty()) by_depth_.resize(1);
  by_depth_[0].push_back({url, 0, std::chrono::steady_clock::now()});
  lowest_ = 0;
  ++queued_;
  return true;
}

bool Frontier::InScope(const std::string& url) const {
  if (allowed_domains_.empty()) {
    std::string_view authority = AuthorityOf(url);
    return std::find(seed_authorities_.begin(), seed_authorities_.end(), authority) != seed_authorities_.end();
  }
  std::string_view host = HostOf(url);
  for (const std::string& d : allowed_domains_) {
    if (host == d) return true;
    if (host.size() > d.size() && host.substr(host.size() - d.size()) == d && host[host.size() - d.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

Frontier::Verdict Frontier::Offer(const std::string& url, int depth) {
  if (seen_.count(url)) return Verdict::kDuplicate;
  if (!InScope(url)) return Verdict::kOutOfScope;
  if (max_depth_ >= 0 && depth > max_depth_) return Verdict::kTooDeep;
  if (!include_.empty() && std::none_of(include_.begin(), include_.end(),
                                        [&](const std::regex& r) { return std::regex_search(url, r); })) {
    return Verdict::kExcluded;
  }
  if (std::any_of(exclude_.begin(), exclude_.end(), [&](const std::regex& r) { return std::regex_search(url, r); })) {
    return Verdict::kExcluded;
  }
  seen_.insert(url);
  auto d = static_cast<size_t>(depth);
  if (by_depth_.size() <= d) by_depth_.resize(d + 1);
  by_depth_[d].push_back({url, depth, std::chrono::steady_clock::now()});
  lowest_ = std::min(lowest_, d);
  ++queued_;
  return Verdict::kQueued;
}

bool Frontier::ClaimRedirectTarget(const std::string& url) {
  seen_.insert(url);
  return fetched_.insert(url).second;
}

std::optional<FrontierItem> Frontier::Pop() {
  while (true) {
    while (lowest_ < by_depth_.size() && by_depth_[lowest_].empty()) ++lowest_;
    if (lowest_ >= by_depth_.size()) return std::nullopt;
    FrontierItem item = std::move(by_depth_[lowest_].front());
    by_depth_[lowest_].pop_front();
    --queued_;
    if (fetched_.insert(item.url).second) return item;  // else a redirect already fetched it
  }
}

const char* Frontier::ReasonFor(Verdict v) {
  switch (v) {
    case Verdict::kQueued: return "";
    case Verdict::kDuplicate: return "duplicate";
    case Verdict::kOutOfScope: return "out_of_scope";
    case Verdict::kTooDeep: return "depth";
    case Verdict::kExcluded: return "excluded";
  }
  return "";
}

}  // namespace fanout
