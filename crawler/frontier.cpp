#include "crawler/frontier.h"

#include <algorithm>

#include "crawler/url.h"

namespace fanout {

Result<Frontier> Frontier::Create(ScopeOptions scope, int max_depth, size_t window, SeenFilterOptions seen,
                                  HostLimits limits) {
  Frontier f(limits);
  f.seen_ = SeenFilter(seen);
  f.max_depth_ = max_depth;
  f.window_ = window;
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

bool Frontier::AddSeed(const std::string& url, bool queue) {
  std::string authority(AuthorityOf(url));
  if (std::find(seed_authorities_.begin(), seed_authorities_.end(), authority) == seed_authorities_.end()) {
    seed_authorities_.push_back(authority);
  }
  const uint64_t fingerprint = UrlSet::Fingerprint(url);
  if (seen_.Check(fingerprint) == SeenFilter::Answer::kSeen) return false;
  seen_.Insert(fingerprint);
  if (queue) Push({url, 0, "", std::chrono::steady_clock::now()});
  return true;
}

void Frontier::Push(FrontierItem item) {
  const HostScheduler::HostId host = hosts_->Intern(OriginOf(item.url));
  hosts_->Push(host, std::move(item));
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

Frontier::Verdict Frontier::Offer(const std::string& url, int depth, const std::string& parent, Source source) {
  const uint64_t fingerprint = UrlSet::Fingerprint(url);
  const SeenFilter::Answer seen = seen_.Check(fingerprint);
  if (seen == SeenFilter::Answer::kSeen) return Verdict::kDuplicate;
  if (!InScope(url)) return Verdict::kOutOfScope;
  if (max_depth_ >= 0 && depth > max_depth_) return Verdict::kTooDeep;
  if (Excluded(url)) return Verdict::kExcluded;
  seen_.Insert(fingerprint);
  if (shared_offer_) {
    shared_offer_({url, depth, parent, std::chrono::steady_clock::now()});
    return Verdict::kQueued;
  }
  if (source == Source::kLink) {
    if (seen == SeenFilter::Answer::kUnsure) {
      ++unsure_;
      return Verdict::kUnsure;
    }
    if (window_ > 0 && in_memory() >= window_) {
      max_on_disk_ = std::max(max_on_disk_, ++on_disk_);
      return Verdict::kQueuedOnDisk;
    }
  }
  Push({url, depth, parent, std::chrono::steady_clock::now()});
  return Verdict::kQueued;
}

void Frontier::Restore(FrontierItem item) {
  if (on_disk_ > 0) --on_disk_;
  Push(std::move(item));
}

void Frontier::QueueOnDisk(size_t count) {
  on_disk_ += count;
  max_on_disk_ = std::max(max_on_disk_, on_disk_);
}

void Frontier::Settle(int64_t found_new, int64_t found_duplicate) {
  const auto fresh = static_cast<size_t>(std::max<int64_t>(0, found_new - settled_new_));
  const auto duplicates = static_cast<size_t>(std::max<int64_t>(0, found_duplicate - settled_duplicate_));
  settled_new_ = std::max(settled_new_, found_new);
  settled_duplicate_ = std::max(settled_duplicate_, found_duplicate);
  unsure_ -= std::min(unsure_, fresh + duplicates);
  QueueOnDisk(fresh);
}

bool Frontier::Excluded(const std::string& url) const {
  if (!include_.empty() && std::none_of(include_.begin(), include_.end(),
                                        [&](const std::regex& r) { return std::regex_search(url, r); })) {
    return true;
  }
  return std::any_of(exclude_.begin(), exclude_.end(), [&](const std::regex& r) { return std::regex_search(url, r); });
}

Frontier::Verdict Frontier::CheckRedirect(const std::string& url) const {
  if (fetched_.contains(url)) return Verdict::kDuplicate;
  if (!InScope(url)) return Verdict::kOutOfScope;
  if (Excluded(url)) return Verdict::kExcluded;
  return Verdict::kQueued;
}

Frontier::Verdict Frontier::ClaimRedirect(const std::string& url) {
  if (Verdict v = CheckRedirect(url); v != Verdict::kQueued) return v;
  seen_.Insert(url);
  fetched_.insert(url);
  return Verdict::kQueued;
}

std::optional<FrontierItem> Frontier::Take(HostScheduler::HostId host, std::string* skipped) {
  FrontierItem item = hosts_->TakeUrl(host);
  if (!fetched_.insert(item.url)) {  // a redirect already fetched it
    if (skipped != nullptr) *skipped = std::move(item.url);
    return std::nullopt;
  }
  return item;
}

std::optional<FrontierItem> Frontier::Pop() {
  while (true) {
    const auto now = HostScheduler::Clock::now();
    const HostScheduler::Pick pick = hosts_->Next(now, true);
    if (pick.kind != HostScheduler::Pick::Kind::kUrl) return std::nullopt;
    std::optional<FrontierItem> item = Take(pick.host);
    hosts_->Start(pick.host, now);
    hosts_->Finish(pick.host, now);
    if (item) return item;
  }
}

const char* Frontier::ReasonFor(Verdict v) {
  switch (v) {
    case Verdict::kQueued:
    case Verdict::kQueuedOnDisk:
    case Verdict::kUnsure: return "";
    case Verdict::kDuplicate: return "duplicate";
    case Verdict::kOutOfScope: return "out_of_scope";
    case Verdict::kTooDeep: return "depth";
    case Verdict::kExcluded: return "excluded";
  }
  return "";
}

}  // namespace fanout
