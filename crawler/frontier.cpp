#include "crawler/frontier.h"

#include <algorithm>

#include "crawler/url.h"
#include "util/ascii.h"

namespace fanout {

Result<Frontier> Frontier::Create(ScopeOptions scope, int max_depth, size_t window, SeenFilterOptions seen,
                                  HostLimits limits) {
  Frontier f(limits);
  f.seen_ = SeenFilter(seen);
  f.max_depth_ = max_depth;
  f.window_ = window;
  for (std::string& d : scope.allowed_domains) {
    f.allowed_domains_.push_back(AsciiLowered(d));
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
  if (max_host_urls_ > 0) CountHostUrl(url);
  if (queue) Push({url, 0, "", std::chrono::steady_clock::now()});
  return true;
}

void Frontier::Push(FrontierItem item) {
  const HostId host = HostIdOf(OriginOf(item.url));
  queues_->Push(host, std::move(item));
}

HostId Frontier::HostIdOf(std::string_view origin) {
  const auto [host, added] = table_.Intern(origin);
  if (added) {
    queues_->AddHost(host);
    // Before its first answer, an https host may speak HTTP/2 (curl offers it over TLS); plain
    // http never multiplexes.
    connections_.AddHost(host, origin.starts_with("https:"));
  }
  return host;
}

void Frontier::KnowRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, std::optional<double> crawl_delay,
                          Clock::time_point now) {
  table_.SetRobots(host, std::move(robots));
  queues_->SetRobotsKnown(host, crawl_delay, now);
}

void Frontier::KnowAddress(HostId host, std::string address, const std::string& limit_key, Clock::time_point expires,
                           Clock::time_point now) {
  if (connect_addresses_.size() <= host) connect_addresses_.resize(host + 1);
  connect_addresses_[host] = std::move(address);
  given_up_.erase(host);
  const auto [it, added] = address_ids_.try_emplace(limit_key, static_cast<uint32_t>(address_ids_.size()));
  if (added) address_keys_.push_back(&it->first);
  queues_->SetAddress(host, it->second, expires, now);
  if (shared_address_) shared_address_(host, limit_key);
}

void Frontier::OpenAddress(const std::string& key, Clock::time_point not_before, Clock::time_point now) {
  auto it = address_ids_.find(key);
  if (it != address_ids_.end()) queues_->OpenAddress(it->second, not_before, now);
}

void Frontier::CloseAddress(const std::string& key) {
  auto it = address_ids_.find(key);
  if (it != address_ids_.end()) queues_->CloseAddress(it->second);
}

const std::string* Frontier::address_key(HostId host) const {
  const uint32_t id = queues_->address(host);
  return id < address_keys_.size() ? address_keys_[id] : nullptr;
}

Frontier::Clock::time_point Frontier::address_next_start(const std::string& key) const {
  auto it = address_ids_.find(key);
  return it == address_ids_.end() ? Clock::time_point{} : queues_->address_next_start(it->second);
}

void Frontier::LookupFailed(HostId host, std::string kind, std::string message, std::optional<Clock::time_point> retry_at,
                            Clock::time_point now) {
  if (retry_at) {
    queues_->NeedLookup(host, *retry_at);
    return;
  }
  GiveUp(host, GivenUp{.kind = std::move(kind), .message = std::move(message), .curl_code = 0});
  queues_->SetAddress(host, HostQueues::kNoAddress, Clock::time_point::max(), now);
}

void Frontier::GiveUp(HostId host, GivenUp why) {
  // Its URLs go out as kGivenUp (no request booked for them: at once, once what its limits held
  // back is over) and its turns end at once.
  given_up_[host] = std::move(why);
}

void Frontier::ResumeHost(HostId host, std::optional<Clock::time_point> not_before) {
  queues_->Resume(host);
  if (not_before) queues_->Defer(host, *not_before);
}

bool Frontier::KeepConnection(HostId host, bool page) {
  // More to send: queued URLs or turns, or other transfers under way, whose pages may well link
  // back (a site's first pages, while its queue is still empty).
  const bool more = queues_->has_queue(host) || queues_->in_flight(host) > 1;
  return connections_.ShouldKeep(host, more, page);
}

void Frontier::EndTransfer(HostId host, Clock::time_point now, std::optional<Clock::time_point> sent,
                           std::optional<bool> http2) {
  if (http2) connections_.SetMultiplexes(host, *http2);
  queues_->Finish(host, now, sent);
}

void Frontier::PageDone(HostId host) {
  connections_.PageDone(host, !queues_->has_queue(host) && queues_->in_flight(host) == 0);
}

Frontier::Pick Frontier::Next(Clock::time_point now, bool urls) {
  const HostQueues::Pick pick = queues_->Next(now, urls);
  Pick out{.host = pick.host};
  switch (pick.kind) {
    case HostQueues::Pick::Kind::kNone: return out;
    case HostQueues::Pick::Kind::kRobots:
      queues_->SetRobotsFetching(pick.host, now);
      queues_->Start(pick.host, now, /*served=*/false);
      out.kind = Pick::Kind::kRobots;
      return out;
    case HostQueues::Pick::Kind::kTurn:
      out.turn = queues_->TakeTurn(pick.host);
      queues_->Start(pick.host, now);
      out.kind = Pick::Kind::kTurn;
      return out;
    case HostQueues::Pick::Kind::kResolve:
      queues_->SetLookupUnderWay(pick.host);
      out.kind = Pick::Kind::kResolve;
      return out;
    case HostQueues::Pick::Kind::kUrl: break;
  }
  out.item = queues_->TakeUrl(pick.host);
  if (!fetched_.insert(out.item.url)) {  // a redirect already fetched it
    out.kind = Pick::Kind::kFetchedAlready;
    return out;
  }
  if (!given_up_.empty() && given_up_.contains(pick.host)) {
    out.kind = Pick::Kind::kGivenUp;
    return out;
  }
  if (const RobotsTxt* robots = table_.robots(pick.host)) {
    out.robots = robots->Check(PathAndQueryOf(out.item.url));
    if (!out.robots.allowed) {
      out.kind = Pick::Kind::kRobotsRefused;
      return out;
    }
  }
  queues_->Start(pick.host, now);
  out.kind = Pick::Kind::kUrl;
  return out;
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
  if (max_host_urls_ > 0 && !CountHostUrl(url)) return Verdict::kHostBudget;
  seen_.Insert(fingerprint);
  if (shared_offer_) {
    shared_offer_({url, depth, parent, std::chrono::steady_clock::now()});
    return Verdict::kQueued;
  }
  if (source == Source::kLink) {
    if (seen == SeenFilter::Answer::kUnsure) {
      unsure_.Offered();
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

bool Frontier::CountHostUrl(std::string_view url) {
  const HostId host = HostIdOf(OriginOf(url));
  if (host_urls_.size() <= host) host_urls_.resize(host + 1);
  if (host_urls_[host] >= max_host_urls_) return false;
  ++host_urls_[host];
  return true;
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

const char* Frontier::ReasonFor(Verdict v) {
  switch (v) {
    case Verdict::kQueued:
    case Verdict::kQueuedOnDisk:
    case Verdict::kUnsure: return "";
    case Verdict::kDuplicate: return "duplicate";
    case Verdict::kOutOfScope: return "out_of_scope";
    case Verdict::kTooDeep: return "depth";
    case Verdict::kExcluded: return "excluded";
    case Verdict::kHostBudget: return "host_budget";
  }
  return "";
}

}  // namespace fanout
