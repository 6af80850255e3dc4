#include "cli/crawl_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/exit_codes.h"
#include "crawler/crawl.h"
#include "storage/store.h"

namespace fanout::cli {
namespace {

struct CrawlCommandOptions {
  CrawlOptions crawl;
  std::string db = "fanout.db";
  double timeout_s = 30;
  double connect_timeout_s = 10;
  bool quiet = false;
  std::string report;  // --report FILE.json
};

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return kExitUsage;
    case Status::Code::kUnavailable: return kExitUnavailable;
    default: return kExitDatabase;
  }
}

std::string Fixed(double v, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}

void PrintSummary(const CrawlSummary& s, const std::string& db, std::ostream& out) {
  out << "crawled " << s.pages << " pages (" << s.mode << ") in " << Fixed(s.wall_seconds, 2) << " s (" << Fixed(s.pages_per_second, 1)
      << " pages/s), " << s.ok_pages << " ok, " << s.errors << " errors, " << Fixed(static_cast<double>(s.bytes) / 1e6, 2)
      << " MB\n";
  if (!s.errors_by_kind.empty()) {
    out << "  errors:";
    for (const auto& [kind, n] : s.errors_by_kind) out << " " << kind << " " << n;
    out << "\n";
  }
  out << "  links: " << s.links << " found";
  for (const auto& [reason, n] : s.skipped_by_reason) out << ", " << n << " " << reason;
  out << "\n";
  out << "  fan-out: at most " << s.max_in_flight << " transfers at once, " << Fixed(s.mean_in_flight, 1)
      << " on average (--concurrency " << s.concurrency << ", --per-host " << s.per_host << ")";
  if (s.per_host_bound) out << "; the per-host limit, not --concurrency, bounded the fan-out";
  out << "\n";
  if (s.saturated_seconds > 0) {
    out << "  while the queue held at least " << s.concurrency << " URLs (" << Fixed(s.saturated_seconds, 2)
        << " s): " << Fixed(s.saturated_mean_in_flight, 1) << " transfers in flight on average\n";
  }
  if (s.parsed_pages > 0) {
    out << "  parse: " << Fixed(1e6 * s.mean_parse_seconds, 0) << " us of CPU per page on a pool thread\n";
  }
  if (s.mode == "async") {
    out << "  loop thread busy " << Fixed(100 * s.loop_busy_fraction, 0) << "%, " << s.threads << " pool threads busy "
        << Fixed(100 * s.pool_busy_fraction, 0) << "%";
  } else {
    out << "  " << s.threads << " worker thread" << (s.threads == 1 ? "" : "s") << " (blocking transfers)";
  }
  out << ", store writer busy " << Fixed(100 * s.store_busy_fraction, 0) << "% (" << s.store_batches
      << " transactions)\n";
  const PhaseSeconds& t = s.phases;
  const double fetch_sum = t.dns + t.connect + t.tls + t.first_byte + t.transfer;
  out << "  where the time went, summed over pages: queue wait " << Fixed(t.queue_wait, 2) << " s, dns "
      << Fixed(t.dns, 2) << ", connect " << Fixed(t.connect, 2) << ", tls " << Fixed(t.tls, 2) << ", first byte "
      << Fixed(t.first_byte, 2) << ", transfer " << Fixed(t.transfer, 2) << " (fetching " << Fixed(fetch_sum, 2)
      << " s), parse " << Fixed(t.parse, 2) << " s CPU\n";
  out << "  fetch p50/p90/p99 " << Fixed(1e3 * s.fetch_seconds.p50, 1) << "/" << Fixed(1e3 * s.fetch_seconds.p90, 1)
      << "/" << Fixed(1e3 * s.fetch_seconds.p99, 1) << " ms; parse " << Fixed(1e3 * s.parse_seconds.p50, 2) << "/"
      << Fixed(1e3 * s.parse_seconds.p90, 2) << "/" << Fixed(1e3 * s.parse_seconds.p99, 2) << " ms\n";
  out << "  process: " << Fixed(s.cpu_user_seconds, 2) << " s user, " << Fixed(s.cpu_system_seconds, 2)
      << " s system, peak RSS " << s.peak_rss_kb / 1024 << " MB, context switches " << s.voluntary_switches
      << " voluntary, " << s.involuntary_switches << " involuntary\n";
  if (s.queued_left > 0) out << "  " << s.queued_left << " URLs left in the queue (--max-pages reached)\n";
  out << "  run " << s.run_id << " in " << db << "\n";
}

int RunCrawl(CrawlCommandOptions& opt) {
  opt.crawl.timeout_ms = static_cast<long>(opt.timeout_s * 1000);
  opt.crawl.connect_timeout_ms = static_cast<long>(opt.connect_timeout_s * 1000);
  Result<std::unique_ptr<Store>> store = Store::Open(opt.db);
  if (!store.ok()) {
    std::cerr << "fanout crawl: " << store.status().message() << "\n";
    return ExitCodeFor(store.status());
  }
  const bool live = !opt.quiet && isatty(STDERR_FILENO);
  std::function<void(const CrawlProgress&)> progress;
  if (live) {
    progress = [](const CrawlProgress& p) {
      std::fprintf(stderr, "\r\033[K%lld pages, %.1f pages/s, %zu in flight, %zu queued, %lld errors",
                   static_cast<long long>(p.pages), p.elapsed_seconds > 0 ? static_cast<double>(p.pages) / p.elapsed_seconds : 0,
                   p.in_flight, p.queued, static_cast<long long>(p.errors));
      std::fflush(stderr);
    };
  }
  Result<CrawlSummary> summary = Crawl(opt.crawl, **store, progress);
  if (live) std::fprintf(stderr, "\r\033[K");
  Status closed = (*store)->Close();
  if (!summary.ok()) {
    std::cerr << "fanout crawl: " << summary.status().message() << "\n";
    return ExitCodeFor(summary.status());
  }
  if (!closed.ok()) {
    std::cerr << "fanout crawl: " << closed.message() << "\n";
    return kExitDatabase;
  }
  if (!opt.report.empty()) {
    std::ofstream out(opt.report);
    out << summary->ToJson() << "\n";
    if (!out) {
      std::cerr << "fanout crawl: cannot write --report file '" << opt.report << "'\n";
      return kExitUnavailable;
    }
  }
  if (!opt.quiet) PrintSummary(*summary, opt.db, std::cout);
  return kExitOk;
}

}  // namespace

void SetupCrawlCommand(CLI::App& app) {
  auto opt = std::make_shared<CrawlCommandOptions>();
  CrawlOptions& c = opt->crawl;
  CLI::App* cmd = app.add_subcommand("crawl", "Crawl from seed URLs into an SQLite database");
  cmd->add_option("seeds", c.seeds, "Start URLs (http or https)")->required();
  cmd->add_option("--db", opt->db, "SQLite database to write (created if missing; a new run is added)")
      ->capture_default_str();
  cmd->add_option("--mode", c.mode,
                  "How fetches are scheduled: async (event loop), threads (one blocking transfer per thread, "
                  "--concurrency threads) or sync (one at a time)")
      ->capture_default_str()->check(CLI::IsMember({"async", "threads", "sync"}));
  cmd->add_option("--concurrency,-c", c.concurrency, "Transfers in flight at most")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->add_option("--per-host", c.per_host, "Transfers in flight to one host at most")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->add_option("--threads", c.threads, "Parser and store threads (default: the number of cores)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->add_option("--max-pages", c.max_pages, "Stop after fetching this many pages (0: no limit)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-depth", c.max_depth, "Follow links this many hops from the seeds (-1: no limit)")
      ->capture_default_str()->check(CLI::Range(-1, 1000000));
  cmd->add_option("--allow-domain", c.scope.allowed_domains,
                  "Crawl this domain and its subdomains (repeatable; default: the seeds' hosts)");
  cmd->add_option("--include", c.scope.include, "Only follow URLs matching this regex (repeatable)");
  cmd->add_option("--exclude", c.scope.exclude, "Never follow URLs matching this regex (repeatable)");
  cmd->add_option("--user-agent", c.user_agent, "User-Agent header (default: fanout/VERSION)");
  cmd->add_option("--timeout", opt->timeout_s, "Seconds a whole transfer may take")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--connect-timeout", opt->connect_timeout_s, "Seconds to connect")
      ->capture_default_str()->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--max-bytes", c.max_bytes, "Largest body kept; longer transfers are cut and marked truncated")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 32));
  cmd->add_option("--max-redirects", c.max_redirects, "Redirects followed per URL (0: none)")
      ->capture_default_str()->check(CLI::Range(0L, 100L));
  cmd->add_flag("--follow-nofollow", c.follow_nofollow, "Follow rel=nofollow links and links of nofollow pages");
  cmd->add_flag("--quiet,-q", opt->quiet, "No progress line and no summary");
  cmd->add_option("--report", opt->report, "Also write the summary to this file as JSON");
  cmd->callback([opt] { throw CLI::RuntimeError(RunCrawl(*opt)); });
}

}  // namespace fanout::cli
