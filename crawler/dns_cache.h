// DnsCache: the answers a crawl keeps, by name, and the lookups under way, so that each name is
// asked once per TTL however many hosts (origins: http and https, several ports) and pages share it.
//
// An answer is believed for its TTL clamped to [--dns-min-ttl, --dns-max-ttl]; a name that does
// not exist (NXDOMAIN, or no address) for DnsOptions::negative_ttl clamped the same way; a failure
// that may pass (SERVFAIL, a timeout) is not kept, so the host's retry asks again. A second host
// whose name is being looked up joins the lookup under way instead of making its own.
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "crawler/dns.h"
#include "crawler/frontier_item.h"
#include "crawler/run_stats.h"

namespace fanout {

class DnsCache {
 public:
  struct Entry {
    DnsAnswer answer;
    CrawlClock::time_point expires;
  };
  explicit DnsCache(const DnsOptions& options) : options_(options) {}

  // The answer for `name` still believed at `now`, or nullptr.
  const Entry* Find(const std::string& name, CrawlClock::time_point now) const;
  // Keeps `answer` for `name` as the header says; returns until when it is believed (`now` for one
  // not kept).
  CrawlClock::time_point Keep(const std::string& name, const DnsAnswer& answer, CrawlClock::time_point now);

  // True when no lookup of `name` is under way: the caller makes it, and calls Finish with its
  // answer. False: `host` waits for the lookup under way, and Finish hands it out with the others.
  bool Join(const std::string& name, HostId host);
  // The hosts that waited for the lookup of `name` (the one that made it first).
  std::vector<HostId> Finish(const std::string& name, HostId asker);

  size_t names() const { return entries_.size(); }

 private:
  const DnsOptions options_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, std::vector<HostId>> under_way_;  // name: hosts that joined
};

}  // namespace fanout
