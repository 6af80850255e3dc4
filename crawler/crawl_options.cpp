#include "crawler/crawl_options.h"

#include "crawler/dns_channel.h"

#include <nlohmann/json.hpp>

#include "crawler/fetch.h"
#include "parser/robots_txt.h"

#ifndef FANOUT_VERSION
#define FANOUT_VERSION "0.0.0"
#endif

namespace fanout {

Status ValidateOptions(const CrawlOptions& options) {
  if (options.concurrency == 0 || options.per_host == 0) {
    return Status::InvalidArgument("--concurrency and --per-host must be at least 1");
  }
  if (options.retries < 0 || options.retry_delay < 0 || options.max_retry_wait < 0 || options.delay < 0 ||
      options.max_delay < 0 || options.delay_jitter < 0 || options.delay_jitter > 1) {
    return Status::InvalidArgument("--retries, --retry-delay, --max-retry-wait, --delay and --max-delay must not be "
                                   "negative, and --delay-jitter must be in [0, 1]");
  }
  if (options.ip_delay < 0) return Status::InvalidArgument("--ip-delay must not be negative");
  if (!(options.robots_ttl > 0)) return Status::InvalidArgument("--robots-ttl must be positive");
  if (options.traps.max_repeats < 0 || options.traps.max_segments < 0) {
    return Status::InvalidArgument("--max-repeats and --max-path-segments must not be negative (0: no limit)");
  }
  const DnsOptions& dns = options.dns;
  if (!(dns.timeout > 0) || dns.min_ttl < 0 || dns.max_ttl < dns.min_ttl || dns.concurrency == 0) {
    return Status::InvalidArgument("--dns-timeout and --dns-concurrency must be positive, and --dns-max-ttl at least "
                                   "--dns-min-ttl (at least 0)");
  }
  if (!dns.servers.empty()) FANOUT_RETURN_IF_ERROR(AresChannel::Create(dns, nullptr, nullptr).status());
  for (const std::string& pin : options.resolve) {
    if (std::string why = CheckPin(pin); !why.empty()) {
      return Status::InvalidArgument("--resolve '" + pin + "': " + why);
    }
  }
  return Status::Ok();
}

Status ValidateSharedOptions(const CrawlOptions& options, double lease_seconds) {
  FANOUT_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.mode != CrawlMode::kAsync) return Status::InvalidArgument("--frontier needs --mode async");
  // A sitemap walk is requests to the seeds' hosts outside any lease.
  if (options.sitemaps) return Status::InvalidArgument("--sitemaps cannot be combined with --frontier yet");
  // A transfer may start only while it would end before the lease does, and leases are renewed
  // every quarter of their length: a lease must hold a whole --timeout (and a second) with a third
  // of it to spare, so that transfers can start until the next renewal.
  const double least = 1.5 * (static_cast<double>(options.timeout_ms) / 1000 + 1);
  if (lease_seconds < least) {
    return Status::InvalidArgument("--lease must be at least 1.5 x (--timeout + 1 s) = " + std::to_string(least).substr(0, 5) +
                                   " s, so that no transfer outlives it");
  }
  return Status::Ok();
}

std::string OptionsJson(const CrawlOptions& options) {
  nlohmann::json json = {
      {"mode", CrawlModeName(options.mode)}, {"parser", HtmlParserName(options.parser)},
      {"concurrency", options.concurrency}, {"per_host", options.per_host},   {"threads", options.threads},
      {"max_pages", options.max_pages},     {"max_depth", options.max_depth}, {"timeout_ms", options.timeout_ms},
      {"max_bytes", options.max_bytes},     {"max_redirects", options.max_redirects},
      {"max_meta_refresh_delay", options.max_meta_refresh_delay},
      {"user_agent", options.user_agent.empty() ? DefaultUserAgent() : options.user_agent},
      {"allow_domain", options.scope.allowed_domains}, {"include", options.scope.include},
      {"exclude", options.scope.exclude}, {"follow_nofollow", options.follow_nofollow},
      {"max_url_length", options.max_url_length}, {"max_repeats", options.traps.max_repeats},
      {"max_path_segments", options.traps.max_segments}, {"max_pages_per_host", options.max_pages_per_host},
      {"max_host_errors", options.max_host_errors}, {"robots_ttl", options.robots_ttl}, {"retries", options.retries}, {"retry_delay", options.retry_delay},
      {"max_retry_wait", options.max_retry_wait}, {"delay", options.delay}, {"delay_jitter", options.delay_jitter},
      {"max_delay", options.max_delay}, {"ignore_robots", options.ignore_robots}, {"sitemaps", options.sitemaps},
      {"low_speed_bytes", options.low_speed_bytes}, {"low_speed_seconds", options.low_speed_seconds},
      {"per_ip", options.per_ip}, {"ip_delay", options.ip_delay}, {"dns_timeout", options.dns.timeout},
      {"dns_min_ttl", options.dns.min_ttl}, {"dns_max_ttl", options.dns.max_ttl},
      {"dns_concurrency", options.dns.concurrency}, {"dns_server", options.dns.servers}, {"resolve", options.resolve}};
  return json.dump();
}

FetcherOptions FetcherOptionsOf(const CrawlOptions& options, const std::atomic<bool>* abort, bool archive) {
  return FetcherOptions{.user_agent = options.user_agent.empty() ? DefaultUserAgent() : options.user_agent,
                        .http2 = options.http2,
                        .ca_file = options.cacert,
                        .verify_tls = !options.insecure,
                        .abort = abort,
                        .connect_to = MakeSlist(options.connect_to),
                        .record_exchange = archive};
}

HostLimits HostLimitsOf(const CrawlOptions& options, bool shared) {
  return HostLimits{.per_host = options.per_host,
                    .delay = options.delay,
                    .delay_jitter = options.delay_jitter,
                    .max_delay = options.max_delay,
                    .robots = !options.ignore_robots,
                    .robots_ttl = options.robots_ttl,
                    .per_ip = options.per_ip == 0 ? SIZE_MAX : options.per_ip,
                    .ip_delay = options.ip_delay,
                    .lookups = true,
                    .address_leases = shared && LeasesAddresses(options),
                    .kept_hosts = options.concurrency,
                    .seed = 20261121};
}

std::string_view CrawlModeName(CrawlMode mode) {
  switch (mode) {
    case CrawlMode::kAsync: return "async";
    case CrawlMode::kThreads: return "threads";
    case CrawlMode::kSync: return "sync";
  }
  return "";
}

std::optional<CrawlMode> CrawlModeNamed(std::string_view name) {
  for (CrawlMode mode : {CrawlMode::kAsync, CrawlMode::kThreads, CrawlMode::kSync}) {
    if (CrawlModeName(mode) == name) return mode;
  }
  return std::nullopt;
}

std::string_view HtmlParserName(HtmlParser parser) { return parser == HtmlParser::kGumbo ? "gumbo" : "auto"; }

std::optional<HtmlParser> HtmlParserNamed(std::string_view name) {
  if (name == "auto") return HtmlParser::kAuto;
  if (name == "gumbo") return HtmlParser::kGumbo;
  return std::nullopt;
}

std::string DefaultUserAgent() { return "fanout/" FANOUT_VERSION; }

std::string UserAgentOf(const CrawlOptions& options) {
  return RobotsProductToken(options.user_agent.empty() ? DefaultUserAgent() : options.user_agent);
}

}  // namespace fanout
