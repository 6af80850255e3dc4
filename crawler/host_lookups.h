// HostLookups: a host's first step, the lookup of its name, made when the frontier hands it out
// (Frontier::Pick::kResolve) like any request, so that no page slot or turn is held meanwhile.
//
// A host is answered, in this order: by --connect-to (curl connects where it says; the target is
// what --per-ip counts), by --resolve, an IP literal or *.localhost (no query), by an answer
// still believed (dns_cache.h), by a lookup of its name already under way (it joins it), or by a
// lookup of its own through the mode (CrawlWaits::Resolve). Its address then goes to the frontier,
// which hands it to every transfer to the host (curl never resolves) and counts --per-ip by it.
// A lookup that fails for good (dns-nxdomain) gives the host up: its URLs become skipped rows. One
// that may pass (dns-servfail, dns-timeout) is asked again after --retry-delay, 2x, 4x..., up to
// --retries times, then the host is given up with that kind.
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <string>
#include <unordered_map>

#include "crawler/crawl_waits.h"
#include "crawler/dns_cache.h"
#include "crawler/task.h"

namespace fanout {

class CrawlContext;

class HostLookups {
 public:
  explicit HostLookups(CrawlContext& crawl);

  // Looks `host`'s name up (Frontier::Pick::kResolve), counted as work in progress until answered.
  Task<void> Resolve(HostId host, CrawlWaits& waits);

 private:
  // Gives `answer` (believed until `expires`) to `host`.
  void Apply(HostId host, const DnsAnswer& answer, CrawlClock::time_point expires);
  // The --connect-to target for `origin`'s host and port, if a rule covers it ("" otherwise).
  std::string ConnectTarget(std::string_view host, int port) const;

  CrawlContext& crawl_;
  DnsCache cache_;
  std::unordered_map<HostId, int> attempts_;  // failed lookups that may pass, by host
};

}  // namespace fanout
