#include "crawler/run_stats.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>

namespace fanout {
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

double SecondsSince(CrawlClock::time_point t) { return std::chrono::duration<double>(CrawlClock::now() - t).count(); }

void CountSitemaps(const SitemapStats& stats, CrawlSummary& summary) {
  summary.sitemaps_fetched += stats.fetched;
  summary.sitemaps_failed += stats.failed;
  summary.sitemap_urls += stats.urls;
  summary.sitemap_queued += stats.queued;
}

void CountParse(bool fast_path, std::string_view bailout, CrawlSummary& summary) {
  ++summary.parsed_pages;
  if (fast_path) {
    ++summary.fast_path_pages;
  } else if (!bailout.empty()) {
    ++summary.parser_bailouts[std::string(bailout)];
  }
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
  ++summary.status_codes[record.status];
  // Kept sorted, slowest first: a page slower than the last one listed takes its place.
  std::vector<SlowPage>& slow = summary.slowest_pages;
  if (slow.size() < kSlowestPages || record.total > slow.back().seconds) {
    const SlowPage page{record.url, record.total, record.status, record.error_kind};
    slow.insert(std::upper_bound(slow.begin(), slow.end(), page,
                                 [](const SlowPage& a, const SlowPage& b) { return a.seconds > b.seconds; }),
                page);
    if (slow.size() > kSlowestPages) slow.pop_back();
  }
  summary.bytes += record.bytes;
  summary.links += static_cast<int64_t>(links);
  if (record.status >= 200 && record.status < 300) ++summary.ok_pages;
  if (!record.error_kind.empty()) {
    ++summary.errors;
    ++summary.errors_by_kind[record.error_kind];
  }
}

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

void InFlightMeter::SampleUntil(double now, std::vector<TimelinePoint>& timeline, double& interval) const {
  for (;;) {
    const double next = timeline.empty() ? 0 : timeline.back().seconds + interval;
    if (next > now) return;
    timeline.push_back({next, in_flight_, queued_});
    if (timeline.size() > kTimelinePoints) {
      // Keeping the samples at even multiples of the doubled interval keeps the spacing fixed.
      size_t kept = 0;
      for (size_t i = 0; i < timeline.size(); i += 2) timeline[kept++] = timeline[i];
      timeline.resize(kept);
      interval *= 2;
    }
  }
}

void InFlightMeter::Change(int delta, size_t queued) {
  const CrawlClock::time_point now = CrawlClock::now();
  SampleUntil(std::chrono::duration<double>(now - start_).count(), timeline_, interval_);
  Integrate(now);
  in_flight_ = static_cast<size_t>(static_cast<long>(in_flight_) + delta);
  max_ = std::max(max_, in_flight_);
  queued_ = queued;
  saturated_ = queued >= concurrency_;
}

void InFlightMeter::Report(double wall, CrawlSummary& s) const {
  s.in_flight_timeline = timeline_;
  s.in_flight_timeline_interval = interval_;
  SampleUntil(wall, s.in_flight_timeline, s.in_flight_timeline_interval);
  s.max_in_flight = max_;
  s.mean_in_flight = wall > 0 ? in_flight_seconds_ / wall : 0;
  s.saturated_seconds = saturated_seconds_;
  s.saturated_mean_in_flight = saturated_seconds_ > 0 ? saturated_in_flight_seconds_ / saturated_seconds_ : 0;
}

}  // namespace fanout
