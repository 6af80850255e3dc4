#include "crawler/host_lookups.h"

#include <charconv>
#include <cmath>

#include "crawler/crawl_context.h"
#include "crawler/url.h"
#include "crawler/work_guard.h"
#include "util/ascii.h"

namespace fanout {
namespace {

// The port an origin talks to: its own, or its scheme's.
int PortOf(std::string_view origin) {
  const std::string_view authority = AuthorityOf(origin);
  const std::string_view host = HostOf(origin);
  if (authority.size() > host.size() + 1 && authority[host.size()] == ':') {
    int port = 0;
    const std::string_view digits = authority.substr(host.size() + 1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), port).ec == std::errc()) return port;
  }
  return origin.starts_with("https:") ? 443 : 80;
}

CrawlClock::time_point After(CrawlClock::time_point now, double seconds) {
  return now + std::chrono::duration_cast<CrawlClock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

HostLookups::HostLookups(CrawlContext& crawl) : crawl_(crawl), cache_(crawl.options.dns) {}

std::string HostLookups::ConnectTarget(std::string_view host, int port) const {
  // curl's rule, "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT", an empty part matching everything:
  // the first rule that matches decides.
  for (const std::string& rule : crawl_.options.connect_to) {
    std::string_view r = rule;
    const size_t a = r.find(':');
    if (a == std::string_view::npos) continue;
    const size_t b = r.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view rule_host = r.substr(0, a), rule_port = r.substr(a + 1, b - a - 1);
    if (!rule_host.empty() && !EqualsIgnoreCase(rule_host, host)) continue;
    if (!rule_port.empty() && rule_port != std::to_string(port)) continue;
    std::string_view target = r.substr(b + 1);  // CONNECT-TO-HOST:CONNECT-TO-PORT, the host maybe [v6]
    target = target.starts_with('[') ? target.substr(0, target.find(']') + 1) : target.substr(0, target.find(':'));
    return target.empty() ? std::string(host) : std::string(target);
  }
  return "";
}

Task<void> HostLookups::Resolve(HostId host, CrawlWaits& waits) {
  WorkGuard work([&] { crawl_.EndWork(waits); });
  Frontier& frontier = crawl_.frontier;
  CrawlSummary::Dns& counts = crawl_.counters.summary.dns;
  const std::string origin(frontier.origin(host));
  std::string name(HostOf(origin));
  const int port = PortOf(origin);
  const CrawlClock::time_point now = CrawlClock::now();
  if (std::string target = ConnectTarget(name, port); !target.empty()) {
    ++counts.local;
    frontier.KnowAddress(host, "", target, CrawlClock::time_point::max(), now);
    co_return;
  }
  DnsAnswer local;
  if (AnswerLocally(name, port, crawl_.options.resolve, local)) {
    ++counts.local;
    if (IsLocalhostName(name)) {
      // curl answers these itself, without a query (RFC 6761). A connect-to rule would file every
      // host's connections under the one loopback address, and curl checks each connection of that
      // group on every new transfer: on a web of 20,000 *.localhost hosts, 57 poll()s a transfer.
      frontier.KnowAddress(host, "", local.address(), CrawlClock::time_point::max(), now);
      co_return;
    }
    Apply(host, local, CrawlClock::time_point::max());
    co_return;
  }
  if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);
  if (const DnsCache::Entry* hit = cache_.Find(name, now)) {
    ++counts.cache_hits;
    Apply(host, hit->answer, hit->expires);
    co_return;
  }
  if (!cache_.Join(name, host)) {
    ++counts.joined;
    co_return;  // the lookup under way answers this host too
  }
  ++counts.lookups;
  const DnsAnswer answer = co_await waits.Resolve(name);
  counts.seconds += answer.seconds;
  if (!answer.ok()) ++counts.failures[std::string(DnsErrorKind(answer.kind))];
  const CrawlClock::time_point expires = cache_.Keep(name, answer, CrawlClock::now());
  for (HostId h : cache_.Finish(name, host)) Apply(h, answer, expires);
  waits.WakeDispatcher();
}

void HostLookups::Apply(HostId host, const DnsAnswer& answer, CrawlClock::time_point expires) {
  Frontier& frontier = crawl_.frontier;
  const CrawlClock::time_point now = CrawlClock::now();
  std::string name(HostOf(frontier.origin(host)));
  if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);
  if (answer.ok()) {
    attempts_.erase(host);
    const std::string& address = answer.address();
    // An IP literal is where curl connects anyway: no rule needed for it.
    frontier.KnowAddress(host, address == name ? "" : address, address, expires, now);
    return;
  }
  CrawlSummary::Dns& counts = crawl_.counters.summary.dns;
  const CrawlOptions& options = crawl_.options;
  std::string kind(DnsErrorKind(answer.kind));
  std::string message = name + ": " + answer.error;
  if (DnsMayPass(answer.kind)) {
    int& attempt = attempts_[host];
    if (attempt < options.retries) {
      ++attempt;
      ++counts.retries;
      const double wait = std::min(options.max_retry_wait, options.retry_delay * std::pow(2.0, attempt - 1));
      frontier.LookupFailed(host, kind, message, After(now, wait), now);
      return;
    }
  }
  attempts_.erase(host);
  ++counts.hosts_failed;
  if (DnsMayPass(answer.kind)) ++counts.hosts_unanswered;
  frontier.LookupFailed(host, std::move(kind), std::move(message), std::nullopt, now);
}

}  // namespace fanout
