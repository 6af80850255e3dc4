#include "crawler/dns_cache.h"

#include <algorithm>

namespace fanout {

const DnsCache::Entry* DnsCache::Find(const std::string& name, CrawlClock::time_point now) const {
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.expires <= now) return nullptr;
  return &it->second;
}

CrawlClock::time_point DnsCache::Keep(const std::string& name, const DnsAnswer& answer, CrawlClock::time_point now) {
  if (DnsMayPass(answer.kind)) {
    entries_.erase(name);
    return now;
  }
  const double ttl = std::clamp(answer.ok() ? answer.ttl : options_.negative_ttl, options_.min_ttl,
                                std::max(options_.min_ttl, options_.max_ttl));
  const CrawlClock::time_point expires =
      now + std::chrono::duration_cast<CrawlClock::duration>(std::chrono::duration<double>(ttl));
  entries_[name] = Entry{answer, expires};
  return expires;
}

bool DnsCache::Join(const std::string& name, HostId host) {
  auto [it, added] = under_way_.try_emplace(name);
  if (!added) it->second.push_back(host);
  return added;
}

std::vector<HostId> DnsCache::Finish(const std::string& name, HostId asker) {
  std::vector<HostId> hosts{asker};
  if (auto it = under_way_.find(name); it != under_way_.end()) {
    hosts.insert(hosts.end(), it->second.begin(), it->second.end());
    under_way_.erase(it);
  }
  return hosts;
}

}  // namespace fanout
