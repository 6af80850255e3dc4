#include "cli/crawl_report.h"

#include <cstdio>
#include <map>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/command_error.h"
#include "cli/html_report.h"
#include "cli/text_table.h"
#include "crawler/page_content.h"

namespace fanout::cli {
namespace {

std::string Count(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Millis(double seconds, int digits = 1) { return Fixed(1e3 * seconds, digits); }

// "kind n, kind n" from a count per key.
std::string ByKey(const std::map<std::string, int64_t>& counts) {
  std::string text;
  for (const auto& [key, n] : counts) text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + key;
  return text;
}

void PrintRunTable(const CrawlSummary& s, const std::string& db, std::ostream& out) {
  TextTable run({"run " + std::to_string(s.run_id) + " (" + s.mode + ")", ""}, "ll");
  std::string pages = Count(s.pages, "page", "pages") + " fetched, " + std::to_string(s.ok_pages) + " ok, " +
                      std::to_string(s.parsed_pages) + " parsed, " + Count(s.errors, "error", "errors");
  if (!s.errors_by_kind.empty()) pages += " (" + ByKey(s.errors_by_kind) + ")";
  run.AddRow({"pages", pages});
  if (s.parsed_pages > 0) {
    std::string parser = std::to_string(s.fast_path_pages) + " by the fast path, " +
                         std::to_string(s.parsed_pages - s.fast_path_pages) + " by gumbo";
    if (!s.parser_bailouts.empty()) parser += " (handed over: " + ByKey(s.parser_bailouts) + ")";
    if (s.parser == "gumbo") parser += " (--parser gumbo)";
    run.AddRow({"parser", parser});
  }
  run.AddRow({"wall time", Fixed(s.wall_seconds, s.wall_seconds < 1 ? 3 : 2) + " s"});
  run.AddRow({"throughput", Fixed(s.pages_per_second, 1) + " pages/s, " + Fixed(s.bytes_per_second / 1e6, 2) +
                                " MB/s (" + Fixed(static_cast<double>(s.bytes) / 1e6, 2) + " MB of bodies)"});
  if (s.archive.files > 0) {
    run.AddRow({"archive", Count(static_cast<int64_t>(s.archive.records), "record", "records") + " (" +
                               Count(static_cast<int64_t>(s.archive.revisits), "revisit", "revisits") + "), " +
                               Fixed(static_cast<double>(s.archive.bytes) / 1e6, 2) + " MB in " +
                               Count(static_cast<int64_t>(s.archive.files), "file", "files") + ": " +
                               s.archive.first_file +
                               (s.archive.files > 1 ? " .. " + s.archive.last_file : std::string())});
  }
  std::string links = std::to_string(s.links) + " found";
  if (!s.skipped_by_reason.empty()) links += "; not followed: " + ByKey(s.skipped_by_reason);
  run.AddRow({"links", links});
  if (s.tls_unverified) run.AddRow({"TLS", "certificates not verified (--insecure)"});
  if (s.robots_ignored) {
    run.AddRow({"robots.txt", "IGNORED (--ignore-robots): no site's robots.txt was fetched or obeyed"});
  } else {
    std::string robots = Count(s.robots_fetched, "file", "files") + " fetched (one per origin)";
    if (s.robots_refused_origins > 0) {
      robots += "; " + Count(s.robots_refused_origins, "origin", "origins") +
                " not crawled: robots.txt answered 5xx or not at all (see the robots table)";
    }
    if (s.robots_refetched > 0) {
      robots += "; " + std::to_string(s.robots_refetched) + " fetched again after --robots-ttl";
      if (s.robots_kept > 0) {
        robots += ", " + std::to_string(s.robots_kept) + " of them unreachable: the copy before stays in force";
      }
    }
    run.AddRow({"robots.txt", robots});
  }
  if (const CrawlSummary::Dns& d = s.dns; d.lookups + d.local + d.cache_hits + d.joined > 0) {
    std::string names = Count(d.lookups, "name", "names") + " looked up (" + Fixed(d.seconds, 3) + " s), " +
                        std::to_string(d.cache_hits + d.joined) + " hosts answered by an earlier lookup, " +
                        std::to_string(d.local) + " without a query";
    if (d.hosts_failed > 0) {
      names += "; " + Count(d.hosts_failed, "host", "hosts") + " given up (" + ByKey(d.failures) + ")";
    }
    if (d.max_per_ip > 0) {
      names += "; " + Count(static_cast<int64_t>(d.addresses), "address", "addresses") + ", at most " +
               std::to_string(d.max_per_ip) + " transfers at once to one";
    }
    run.AddRow({"names", names});
  }
  if (s.sitemaps_fetched > 0) {
    run.AddRow({"sitemaps", Count(s.sitemaps_fetched, "file", "files") + " (" + std::to_string(s.sitemaps_failed) +
                                " unreadable) listing " + Count(s.sitemap_urls, "URL", "URLs") + ", " +
                                std::to_string(s.sitemap_queued) + " new in scope"});
  }
  if (s.retries > 0) run.AddRow({"retries", Count(s.retries, "transfer", "transfers") + " tried again"});
  std::string fan_out = "at most " + std::to_string(s.max_in_flight) + " transfers at once, " +
                        Fixed(s.mean_in_flight, 1) + " on average (--concurrency " + std::to_string(s.concurrency) +
                        ", --per-host " + std::to_string(s.per_host) + ")";
  if (s.per_host_bound) {
    fan_out += s.dns.max_per_ip > 0 ? "; the per-host and per-address limits bounded it" : "; the per-host limit bounded it";
  }
  run.AddRow({"fan-out", fan_out});
  if (s.hosts > 0) {
    std::string hosts = Count(static_cast<int64_t>(s.hosts), "host", "hosts") + ", " +
                        Fixed(static_cast<double>(s.host_memory_bytes) / static_cast<double>(s.hosts), 0) +
                        " bytes each with nothing queued (robots.txt verdict included)";
    if (s.page_turn_waits > 0) {
      hosts += "; pages waited " + Fixed(s.page_turn_wait_seconds, 2) + " s for " +
               Count(static_cast<int64_t>(s.page_turn_waits), "turn", "turns") + " (retries, redirect hops)";
    }
    run.AddRow({"hosts", hosts});
  }
  if (s.saturated_seconds > 0) {
    run.AddRow({"  with a full queue", Fixed(s.saturated_mean_in_flight, 1) + " in flight on average over " +
                                           Fixed(s.saturated_seconds, 2) + " s with >= " +
                                           std::to_string(s.concurrency) + " URLs queued"});
  }
  if (s.mode == "async") {
    run.AddRow({"threads", "loop busy " + Fixed(100 * s.loop_busy_fraction, 0) + "% (" +
                               Fixed(s.pages > 0 ? 1e6 * s.loop_cpu_seconds / static_cast<double>(s.pages) : 0, 0) +
                               " us of CPU a page), " + std::to_string(s.threads) + " pool threads busy " +
                               Fixed(100 * s.pool_busy_fraction, 0) + "%"});
  } else {
    run.AddRow({"threads", Count(static_cast<int64_t>(s.threads), "worker thread", "worker threads") +
                               " with blocking transfers"});
  }
  run.AddRow({"store", "writer busy " + Fixed(100 * s.store_busy_fraction, 0) + "%, " +
                           Count(s.store_batches, "transaction", "transactions")});
  run.AddRow({"process", Fixed(s.cpu_user_seconds, 2) + " s user, " + Fixed(s.cpu_system_seconds, 2) +
                             " s system, peak RSS " + std::to_string(s.peak_rss_kb / 1024) + " MB"});
  run.AddRow({"context switches", std::to_string(s.voluntary_switches) + " voluntary, " +
                                      std::to_string(s.involuntary_switches) + " involuntary"});
  if (s.queued_left > 0) run.AddRow({"left", std::to_string(s.queued_left) + " URLs queued (--max-pages reached)"});
  if (s.max_queued_on_disk > 0) {
    run.AddRow({"frontier", "up to " + std::to_string(s.max_queued_on_disk) + " queued URLs waited in the database (" +
                                Count(s.frontier_refills, "read", "reads") + " back)"});
  }
  run.AddRow({"database", db});
  run.Print(out);
}

// Each phase summed over pages, per page, as a share of the pages' time, and percentiles where
// the run kept samples.
void PrintTimeTable(const CrawlSummary& s, std::ostream& out) {
  const PhaseSeconds& t = s.phases;
  const double fetch = t.dns + t.connect + t.tls + t.first_byte + t.transfer;
  const double all = t.queue_wait + fetch + t.parse + t.store;
  TextTable time({"where the time went", "summed s", "ms/page", "share", "p50 ms", "p90 ms", "p99 ms"});
  auto row = [&](const std::string& name, double seconds, int64_t pages, const Percentiles* p = nullptr) {
    std::vector<std::string> cells = {name, Fixed(seconds, 3),
                                      pages > 0 ? Millis(seconds / static_cast<double>(pages), 3) : "-",
                                      all > 0 ? Fixed(100 * seconds / all, 1) + "%" : "-"};
    if (p != nullptr) {
      const int digits = p->p99 < 0.01 ? 3 : 1;
      cells.insert(cells.end(), {Millis(p->p50, digits), Millis(p->p90, digits), Millis(p->p99, digits)});
    }
    time.AddRow(std::move(cells));
  };
  row("queue wait", t.queue_wait, s.pages);
  row("dns", t.dns, s.pages);
  row("connect", t.connect, s.pages);
  row("tls", t.tls, s.pages);
  row("first byte", t.first_byte, s.pages);
  row("transfer", t.transfer, s.pages);
  row("  fetch, all phases", fetch, s.pages, &s.fetch_seconds);
  row("parse (CPU)", t.parse, s.parsed_pages, &s.parse_seconds);
  row("store", t.store, s.pages);
  time.Print(out);
}

// A bar chart of counts by key (status codes, error kinds, skip reasons): one segment per bar.
html::StackedBars CountBars(const std::string& id, const std::string& title, const std::string& unit,
                            const nlohmann::json& counts) {
  html::StackedBars chart{.id = id, .title = title, .x_label = unit, .segments = {unit}, .bars = {}, .note = "",
                          .counts = true};
  for (const auto& [key, count] : counts.items()) {
    chart.bars.push_back({key == "0" && id == "status" ? "0 (no answer)" : key, {count.get<double>()}});
  }
  return chart;
}

}  // namespace

void PrintSummary(const CrawlSummary& s, const std::string& db, std::ostream& out) {
  PrintRunTable(s, db, out);
  out << "\n";
  PrintTimeTable(s, out);
}

// The crawl as a page, from its --report (one source of truth) and its text summary.
std::string CrawlHtml(const CrawlSummary& s, const std::string& db) {
  using html::Escape;
  const nlohmann::json j = nlohmann::json::parse(s.ToJson());
  std::ostringstream text;
  PrintSummary(s, db, text);
  std::string body = "<p class=\"meta\">Run " + std::to_string(s.run_id) + " in " + Escape(db) + ": mode " +
                     Escape(s.mode) + ", concurrency " + std::to_string(s.concurrency) + ", per host " +
                     std::to_string(s.per_host) + ". " + std::to_string(s.pages) + " pages in " +
                     Fixed(s.wall_seconds, 2) + " s, " + Fixed(s.pages_per_second, 1) + " pages/s.</p>" + html::Provenance();
  body += "<h2>Summary</h2><pre data-summary=\"text\">" + Escape(text.str()) + "</pre>";
  body += "<h2>Where the time went</h2>" + html::Render(html::PhaseBars("phases", {{s.mode, &j}}));
  body += "<h2>Fetches in flight over time</h2>" +
          html::Render(html::InFlightChart("in-flight", "Transfers in flight and URLs queued", j, false));
  body += "<h2>Answers</h2>" + html::Render(CountBars("status", "Pages by HTTP status", "pages", j["status_codes"]));
  if (!j["errors_by_kind"].empty()) {
    body += html::Render(CountBars("errors", "Errors by kind", "pages", j["errors_by_kind"]));
  }
  if (!j["skipped_by_reason"].empty()) {
    body += html::Render(CountBars("skipped", "Links and URLs not followed, by reason", "links",
                                   j["skipped_by_reason"]));
  }
  html::Table slowest{.id = "slowest", .header = {"URL", "seconds", "status", "error"}, .rows = {}, .align = "lrrl"};
  for (const SlowPage& p : s.slowest_pages) {
    slowest.rows.push_back({p.url, Fixed(p.seconds, 3), std::to_string(p.status), p.error_kind});
  }
  body += "<h2>The slowest pages</h2><p class=\"note\">The whole fetch of each: retries and redirect hops "
          "included.</p>" + html::Render(slowest);
  return html::Page("fanout crawl", body);
}

void PrintProgressLine(const CrawlProgress& p) {
  std::fprintf(stderr, "\r\033[K%lld pages, %.1f pages/s, %zu in flight, %zu queued, %lld errors",
               static_cast<long long>(p.pages), p.elapsed_seconds > 0 ? static_cast<double>(p.pages) / p.elapsed_seconds : 0,
               p.in_flight, p.queued, static_cast<long long>(p.errors));
  std::fflush(stderr);
}

void ClearProgressLine() { std::fprintf(stderr, "\r\033[K"); }

SeedCounts ReportSeeds(const std::vector<SeedOutcome>& seeds) {
  SeedCounts counts;
  for (const SeedOutcome& seed : seeds) {
    ++counts.seeds;
    switch (seed.fate) {
      case SeedOutcome::Fate::kUnknown: break;
      case SeedOutcome::Fate::kFetched: {
        ++counts.known;
        if (seed.status > 0) {
          ++counts.answered;
          if (seed.status >= 400) Say("crawl", "seed " + seed.url + " answered HTTP " + std::to_string(seed.status));
          break;
        }
        const std::string_view meaning = ErrorKindMeaning(seed.error_kind);
        Say("crawl", "seed " + seed.url + " not fetched: " + (meaning.empty() ? seed.error_kind : std::string(meaning)) +
                         " (" + seed.error + ")");
        break;
      }
      case SeedOutcome::Fate::kNoHost: {
        ++counts.known;
        const std::string_view meaning = ErrorKindMeaning(seed.skip_reason);
        Say("crawl", "seed " + seed.url + " not crawled: " + seed.skip_reason + ", " +
                         (meaning.empty() ? std::string("its host did not resolve") : std::string(meaning)) + " (" +
                         seed.robots_detail + ")");
        break;
      }
      case SeedOutcome::Fate::kRobots:
        ++counts.known;
        Say("crawl", "seed " + seed.url + " not crawled: " +
                         (seed.robots_detail.starts_with("robots.txt") ? seed.robots_detail
                                                                       : "robots.txt refuses it (" + seed.robots_detail + ")"));
        break;
    }
  }
  return counts;
}

}  // namespace fanout::cli
