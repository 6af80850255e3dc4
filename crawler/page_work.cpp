#include "crawler/page_work.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cctype>

#include "crawler/url.h"
#include "parser/charset.h"
#include "parser/html_parser.h"

namespace fanout {
namespace {

const char* ErrorKindOf(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "dns";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_TOO_MANY_REDIRECTS: return "redirect_loop";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return "tls";
    case CURLE_UNSUPPORTED_PROTOCOL: return "unsupported";
    default: return "network";
  }
}

bool IsHtml(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "text/html" || type == "application/xhtml+xml";
}

// Does the href start with a scheme other than http(s) ("mailto:", "javascript:")? Then it is not
// a broken link to a page but a link to something else.
bool HasOtherScheme(std::string_view href) {
  while (!href.empty() && (href.front() == ' ' || href.front() == '\t' || href.front() == '\n')) href.remove_prefix(1);
  size_t colon = href.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string scheme;
  for (size_t i = 0; i < colon; ++i) {
    char c = href[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
    scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::isalpha(static_cast<unsigned char>(href[0])) && scheme != "http" && scheme != "https";
}

}  // namespace

double SecondsSince(CrawlClock::time_point t) { return std::chrono::duration<double>(CrawlClock::now() - t).count(); }

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

FetchRequest RequestFor(const CrawlOptions& options, const std::string& url) {
  return FetchRequest{.url = url,
                      .timeout_ms = options.timeout_ms,
                      .connect_timeout_ms = options.connect_timeout_ms,
                      .max_bytes = options.max_bytes,
                      .max_redirects = options.max_redirects,
                      .low_speed_bytes = options.low_speed_bytes,
                      .low_speed_seconds = options.low_speed_seconds};
}

void FillRecord(const FetchResponse& response, PageRecord& record) {
  record.status = static_cast<int>(response.status);
  record.content_type = response.content_type;
  record.bytes = static_cast<int64_t>(response.body.size());
  record.truncated = response.truncated;
  record.http_version = response.http_version;
  record.new_connections = response.new_connections;
  record.redirects = static_cast<int>(response.redirects);
  record.dns = response.timings.dns;
  record.connect = response.timings.connect;
  record.tls = response.timings.tls;
  record.first_byte = response.timings.first_byte;
  record.transfer = response.timings.transfer;
  record.total = response.timings.total;
  if (!response.ok()) {
    record.error_kind = ErrorKindOf(response.curl_code);
    record.error = response.error;
  } else if (response.status >= 400) {
    record.error_kind = "http";
    record.error = "HTTP " + std::to_string(response.status);
  }
}

bool ShouldParse(const FetchResponse& response) {
  return response.ok() && response.status >= 200 && response.status < 300 && IsHtml(response.content_type);
}

std::vector<LinkCandidate> ParsePage(const std::string& page_url, const FetchResponse& response,
                                     const CrawlOptions& options, PageRecord& record) {
  const double start = ThreadCpuSeconds();  // CPU time: what parsing costs, not waiting for a core
  const bool follow_nofollow = options.follow_nofollow;
  DecodedText text = DecodeToUtf8(response.body, response.content_type);
  record.charset = text.charset;
  ParsedPage parsed = ParseHtml(text.utf8);
  record.title = parsed.title;
  record.noindex = parsed.meta_noindex;
  std::string base = page_url;
  if (!parsed.base_href.empty()) {
    if (Result<std::string> b = ResolveUrl(page_url, parsed.base_href); b.ok()) base = *b;
  }
  if (!parsed.canonical.empty()) {
    if (Result<std::string> c = ResolveUrl(base, parsed.canonical); c.ok()) record.canonical = *c;
  }
  std::vector<LinkCandidate> out;
  out.reserve(parsed.links.size());
  for (const HtmlLink& link : parsed.links) {
    Result<std::string> url = ResolveUrl(base, link.href);
    if (!url.ok()) {
      out.push_back({link.href, HasOtherScheme(link.href) ? "not_http" : "bad_url"});
    } else if ((link.nofollow || parsed.meta_nofollow) && !follow_nofollow) {
      out.push_back({*url, "nofollow"});
    } else {
      out.push_back({*url, ""});
    }
  }
  record.parse = ThreadCpuSeconds() - start;
  return out;
}

std::vector<LinkRecord> DecideLinks(std::vector<LinkCandidate> candidates, const std::string& page_url, int page_depth,
                                    const CrawlOptions& options, Frontier& frontier,
                                    std::map<std::string, int64_t>& skipped_by_reason) {
  std::vector<LinkRecord> links;
  links.reserve(candidates.size());
  for (LinkCandidate& c : candidates) {
    if (c.reason.empty() && c.url.size() > options.max_url_length) c.reason = "too_long";
    Frontier::Verdict verdict = Frontier::Verdict::kDuplicate;
    if (c.reason.empty()) {
      verdict = frontier.Offer(c.url, page_depth + 1, page_url);
      c.reason = Frontier::ReasonFor(verdict);
    }
    if (!c.reason.empty()) ++skipped_by_reason[c.reason];
    const bool unsure = verdict == Frontier::Verdict::kUnsure;
    links.push_back(LinkRecord{.to_url = std::move(c.url),
                               .followed = c.reason.empty(),
                               .reason = std::move(c.reason),
                               .on_disk = unsure || verdict == Frontier::Verdict::kQueuedOnDisk,
                               .unsure = unsure});
  }
  return links;
}

RedirectVerdict JudgeRedirect(const std::string& target, Frontier& frontier, const RobotsTxt* robots) {
  if (robots != nullptr) {
    RobotsVerdict allowed = robots->Check(PathAndQueryOf(target));
    if (!allowed.allowed) return {.follow = false, .reason = "robots", .detail = allowed.rule};
  }
  const Frontier::Verdict verdict = frontier.ClaimRedirect(target);
  if (verdict != Frontier::Verdict::kQueued) return {.follow = false, .reason = Frontier::ReasonFor(verdict), .detail = ""};
  return {.follow = true, .reason = "", .detail = ""};
}

FetchRequest RobotsRequest(const CrawlOptions& options, const std::string& origin) {
  FetchRequest request = RequestFor(options, origin + "/robots.txt");
  request.max_bytes = kMaxRobotsBytes;
  request.max_redirects = 5;
  return request;
}

RobotsTxt RobotsFromResponse(const FetchResponse& response, const std::string& origin, const CrawlOptions& options,
                             RobotsRecord& record) {
  record.origin = origin;
  record.status = static_cast<int>(response.status);
  record.bytes = static_cast<int64_t>(response.body.size());
  const std::string what = origin + "/robots.txt";
  if (!response.ok()) {
    record.verdict = "disallow_all";
    record.error = what + " unreachable (" + response.error + "): the origin is not crawled";
    return RobotsTxt::DisallowAll(record.error);
  }
  if (response.status >= 500 || response.status < 200) {
    record.verdict = "disallow_all";
    record.error = what + " answered " + std::to_string(response.status) + ": the origin is not crawled";
    return RobotsTxt::DisallowAll(record.error);
  }
  // 4xx: no robots.txt. More than five redirects counts the same (RFC 9309 2.3.1.2).
  if (response.status >= 300) {
    record.verdict = "allow_all";
    record.error = what + " answered " + std::to_string(response.status) + ": every URL allowed";
    return RobotsTxt::AllowAll(record.error);
  }
  RobotsTxt robots = RobotsTxt::Parse(response.body, UserAgentOf(options));
  record.verdict = "rules";
  record.user_agent = robots.group();
  if (std::optional<double> delay = robots.crawl_delay()) record.crawl_delay = *delay;
  record.sitemaps = robots.sitemaps();
  return robots;
}

FetchRequest SitemapRequest(const CrawlOptions& options, const std::string& url) {
  FetchRequest request = RequestFor(options, url);
  request.max_bytes = std::max<size_t>(options.max_bytes, 50 << 20);
  return request;
}

CrawlClock::time_point HostPace::Book(std::mt19937_64& random) {
  const CrawlClock::time_point start = std::max(CrawlClock::now(), next_start_);
  double gap = delay_;
  if (delay_ > 0 && options_.delay_jitter > 0) {
    gap *= std::uniform_real_distribution<double>(1 - options_.delay_jitter, 1 + options_.delay_jitter)(random);
  }
  next_start_ = start + std::chrono::duration_cast<CrawlClock::duration>(std::chrono::duration<double>(gap));
  return start;
}

void HostPace::ObeyCrawlDelay(double crawl_delay) {
  delay_ = std::max(options_.delay, std::min(crawl_delay, options_.max_delay));
  next_start_ = std::max(next_start_, CrawlClock::now() + std::chrono::duration_cast<CrawlClock::duration>(
                                                             std::chrono::duration<double>(delay_)));
}

bool ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, CrawlSummary& summary,
                   std::optional<SkipRecord>& skip) {
  if (fetch.response().curl_code == CURLE_ABORTED_BY_CALLBACK) {
    ++summary.dropped;
    return false;
  }
  fetch.Fill(record);
  summary.retries += fetch.retries();
  skip = fetch.skipped_target();
  if (skip) {
    ++summary.skipped_by_reason[skip->reason];
    skip->depth = depth;
  }
  return true;
}

SkipRecord RobotsRefusal(const FrontierItem& item, const RobotsVerdict& verdict, CrawlSummary& summary) {
  ++summary.skipped_by_reason["robots"];
  return {.url = item.url, .reason = "robots", .detail = verdict.rule, .found_on = item.parent, .depth = item.depth};
}

Result<SpillRead> ReadSpilled(Store& store, int64_t run_id, const SpillCursor& cursor, size_t room) {
  if (Status flushed = store.Flush(); !flushed.ok()) return flushed;
  const StoreStats now = store.stats();
  Result<std::vector<SpilledLink>> rows = ReadSpilledLinks(store.path(), run_id, cursor.after, cursor.resumed_up_to, room);
  if (!rows.ok()) return rows.status();
  return SpillRead{.rows = std::move(rows).value(),
                   .unsure_new = now.unsure_new - cursor.baseline.unsure_new,
                   .unsure_duplicates = now.unsure_duplicates - cursor.baseline.unsure_duplicates};
}

size_t RestoreSpilled(SpillRead& read, Frontier& frontier, SpillCursor& cursor) {
  const size_t unsure = frontier.unsure();
  frontier.Settle(read.unsure_new, read.unsure_duplicates);  // first: the new ones join on_disk
  for (SpilledLink& row : read.rows) {
    cursor.after = row.rowid;
    frontier.Restore({std::move(row.queued.url), row.queued.depth, std::move(row.queued.parent), CrawlClock::now()});
  }
  return read.rows.size() + (unsure - frontier.unsure());
}

void CountSitemaps(const SitemapStats& stats, CrawlSummary& summary) {
  summary.sitemaps_fetched += stats.fetched;
  summary.sitemaps_failed += stats.failed;
  summary.sitemap_urls += stats.urls;
  summary.sitemap_queued += stats.queued;
}

std::vector<std::string> OriginsOf(const std::vector<std::string>& seeds) {
  std::vector<std::string> origins;
  for (const std::string& seed : seeds) {
    std::string origin(OriginOf(seed));
    if (std::find(origins.begin(), origins.end(), origin) == origins.end()) origins.push_back(std::move(origin));
  }
  return origins;
}

std::string UserAgentOf(const CrawlOptions& options) {
  return RobotsProductToken(options.user_agent.empty() ? DefaultUserAgent() : options.user_agent);
}

void CountPage(const PageRecord& record, size_t links, CrawlSummary& summary, PageSamples& samples) {
  PhaseSeconds& t = summary.phases;
  t.queue_wait += record.queue_wait;
  t.dns += record.dns;
  t.connect += record.connect;
  t.tls += record.tls;
  t.first_byte += record.first_byte;
  t.transfer += record.transfer;
  t.parse += record.parse;
  samples.fetch.push_back(record.total);
  if (record.parse > 0) samples.parse.push_back(record.parse);
  ++summary.pages;
  summary.bytes += record.bytes;
  summary.links += static_cast<int64_t>(links);
  if (record.status >= 200 && record.status < 300) ++summary.ok_pages;
  if (!record.error_kind.empty()) {
    ++summary.errors;
    ++summary.errors_by_kind[record.error_kind];
  }
}

namespace {

Percentiles PercentilesOf(std::vector<double>& v) {
  if (v.empty()) return {};
  auto at = [&v](double q) {
    size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
  };
  return {at(0.50), at(0.90), at(0.99)};
}

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

}  // namespace

void SummariseRun(PageSamples& samples, const InFlightMeter& meter, const CrawlOptions& options, double wall,
                  CrawlSummary& s) {
  s.fetch_seconds = PercentilesOf(samples.fetch);
  s.parse_seconds = PercentilesOf(samples.parse);
  meter.Report(wall, s);
  s.wall_seconds = wall;
  s.pages_per_second = wall > 0 ? static_cast<double>(s.pages) / wall : 0;
  s.bytes_per_second = wall > 0 ? static_cast<double>(s.bytes) / wall : 0;
  s.concurrency = options.concurrency;
  s.per_host = options.per_host;
  s.mean_parse_seconds = s.parsed_pages > 0 ? s.phases.parse / static_cast<double>(s.parsed_pages) : 0;
}

ResourceUse ResourceUse::Now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {Seconds(ru.ru_utime), Seconds(ru.ru_stime), ru.ru_maxrss, ru.ru_nvcsw, ru.ru_nivcsw};
}

void SummariseResources(const ResourceUse& before, const ResourceUse& after, CrawlSummary& s) {
  s.cpu_user_seconds = after.user - before.user;
  s.cpu_system_seconds = after.system - before.system;
  s.peak_rss_kb = after.max_rss_kb;
  s.voluntary_switches = after.voluntary - before.voluntary;
  s.involuntary_switches = after.involuntary - before.involuntary;
}

void InFlightMeter::Integrate(CrawlClock::time_point now) {
  const double dt = std::chrono::duration<double>(now - mark_).count();
  in_flight_seconds_ += dt * static_cast<double>(in_flight_);
  if (saturated_) {
    saturated_seconds_ += dt;
    saturated_in_flight_seconds_ += dt * static_cast<double>(in_flight_);
  }
  mark_ = now;
}

void InFlightMeter::Change(int delta, size_t queued) {
  Integrate(CrawlClock::now());
  in_flight_ = static_cast<size_t>(static_cast<long>(in_flight_) + delta);
  max_ = std::max(max_, in_flight_);
  saturated_ = queued >= concurrency_;
}

void InFlightMeter::Report(double wall, CrawlSummary& s) const {
  s.max_in_flight = max_;
  s.mean_in_flight = wall > 0 ? in_flight_seconds_ / wall : 0;
  s.saturated_seconds = saturated_seconds_;
  s.saturated_mean_in_flight = saturated_seconds_ > 0 ? saturated_in_flight_seconds_ / saturated_seconds_ : 0;
}

}  // namespace fanout
