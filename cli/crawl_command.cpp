#include "cli/crawl_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "cli/frontier_command.h"
#include "cli/signal_watcher.h"
#include "cli/text_table.h"
#include "crawler/crawl.h"
#include "crawler/page_content.h"
#include "pgfrontier/pg_frontier.h"
#include "storage/run_state.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "warc/warc_archive.h"

namespace fanout::cli {
namespace {

struct CrawlCommandOptions {
  CrawlOptions crawl;
  std::string db = "fanout.db";
  double timeout_s = 30;
  double connect_timeout_s = 10;
  bool quiet = false;
  std::string report;  // --report FILE.json
  bool resume = false;
  bool new_run = false;
  // As one worker of a shared frontier:
  std::string frontier;  // --frontier postgresql://...
  std::string worker;    // --worker NAME (default: the host's name)
  int64_t frontier_run = 0;
  double lease = 60;  // with --timeout's default of 30 s, the least a lease may be is 46.5 s
  size_t frontier_hosts = 0;  // 0: from --concurrency and --per-host
  // --warc PREFIX: archive every transfer.
  std::string warc;
  uint64_t warc_max_size = uint64_t{1} << 30;
  int warc_gzip_level = 6;
};

// What became of the seeds of run `run`, read back from the database: a line on stderr for each
// one its server did not answer (with the cause: no such host, could not connect, robots.txt
// unreachable so the origin is not crawled, refused by robots.txt) or answered with an HTTP error.
// Counts the seeds, those told of (fetched or not; a seed with no row, the crawl having stopped
// first, is neither) and those answered at all: a crawl that none was is the user's wrong URL, not
// a crawl of 0 pages.
struct SeedCounts {
  size_t seeds = 0, known = 0, answered = 0;
};
Result<SeedCounts> ReportSeeds(const std::string& db_path, int64_t run) {
  Result<CrawlDatabase> db = OpenCrawlDatabase(db_path);
  if (!db.ok()) return db.status();
  Result<SqliteStmt> seeds = db->db.Prepare("SELECT seeds FROM runs WHERE id = ?1");
  if (!seeds.ok()) return seeds.status();
  seeds->Bind(1, run);
  Result<bool> row = seeds->Step();
  if (!row.ok()) return row.status();
  const nlohmann::json list = *row ? nlohmann::json::parse(seeds->ColumnText(0), nullptr, false) : nlohmann::json();
  if (!list.is_array()) return Status::Corruption("runs.seeds of run " + std::to_string(run) + " is not a JSON array");
  Result<SqliteStmt> page = db->db.Prepare(
      "SELECT status, coalesce(error_kind, ''), coalesce(error, '') FROM pages WHERE run_id = ?1 AND url = ?2");
  if (!page.ok()) return page.status();
  Result<SqliteStmt> skip = db->db.Prepare(
      "SELECT coalesce(detail, '') FROM skipped WHERE run_id = ?1 AND url = ?2 AND reason = 'robots' LIMIT 1");
  if (!skip.ok()) return skip.status();
  SeedCounts counts;
  for (const auto& entry : list) {
    if (!entry.is_string()) continue;
    ++counts.seeds;
    const std::string seed = entry.get<std::string>();
    page->Reset();
    page->Bind(1, run).Bind(2, seed);
    if (Result<bool> fetched = page->Step(); !fetched.ok()) {
      return fetched.status();
    } else if (*fetched) {
      ++counts.known;
      const int64_t status = page->ColumnInt(0);
      if (status > 0) {
        ++counts.answered;
        if (status >= 400) std::cerr << "fanout crawl: seed " << seed << " answered HTTP " << status << "\n";
        continue;
      }
      const std::string_view meaning = ErrorKindMeaning(page->ColumnText(1));
      std::cerr << "fanout crawl: seed " << seed << " not fetched: "
                << (meaning.empty() ? page->ColumnText(1) : std::string(meaning)) << " (" << page->ColumnText(2) << ")\n";
      continue;
    }
    skip->Reset();
    skip->Bind(1, run).Bind(2, seed);
    Result<bool> skipped = skip->Step();
    if (!skipped.ok()) return skipped.status();
    if (!*skipped) continue;
    ++counts.known;
    const std::string detail = skip->ColumnText(0);
    std::cerr << "fanout crawl: seed " << seed << " not crawled: "
              << (detail.starts_with("robots.txt") ? detail : "robots.txt refuses it (" + detail + ")") << "\n";
  }
  return counts;
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return kExitUsage;
    case Status::Code::kUnavailable: return kExitUnavailable;
    default: return kExitDatabase;
  }
}

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
    run.AddRow({"robots.txt", robots});
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
  if (s.per_host_bound) fan_out += "; the per-host limit bounded it";
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

void PrintSummary(const CrawlSummary& s, const std::string& db, std::ostream& out) {
  PrintRunTable(s, db, out);
  out << "\n";
  PrintTimeTable(s, out);
}

// Decides between a new run and --resume; fills opt.crawl.resume. Returns an exit code, or -1 to go on.
int ChooseRun(CrawlCommandOptions& opt) {
  Result<std::optional<UnfinishedRun>> unfinished = FindUnfinishedRun(opt.db);
  if (!unfinished.ok()) {
    std::cerr << "fanout crawl: '" << opt.db << "': " << unfinished.status().message() << "\n";
    return ExitCodeFor(unfinished.status());
  }
  if (opt.resume) {
    if (!*unfinished) {
      std::cerr << "fanout crawl: nothing to resume: '" << opt.db << "' has no unfinished run\n";
      return kExitUsage;
    }
    Result<RunState> state = LoadRunState(opt.db, (*unfinished)->id);
    if (!state.ok()) {
      std::cerr << "fanout crawl: '" << opt.db << "': " << state.status().message() << "\n";
      return ExitCodeFor(state.status());
    }
    opt.crawl.resume = std::make_shared<RunState>(std::move(state).value());
    return -1;
  }
  if (*unfinished && !opt.new_run) {
    std::cerr << "fanout crawl: run " << (*unfinished)->id << " in '" << opt.db << "' is unfinished ("
              << (*unfinished)->pages << " pages): add --resume to continue it, or --new-run to start another\n";
    return kExitUsage;
  }
  if (opt.crawl.seeds.empty()) {
    std::cerr << "fanout crawl: no seed URL given (see fanout crawl --help)\n";
    return kExitUsage;
  }
  return -1;
}

// As a worker of a shared frontier: joins (or starts) the run there, and continues this worker's
// unfinished run of it in the local database if there is one. Returns an exit code, or -1 to go on.
int JoinSharedRun(CrawlCommandOptions& opt) {
  Result<std::vector<std::string>> seeds = NormalizeSeeds(opt.crawl.seeds);
  if (!seeds.ok()) {
    std::cerr << "fanout crawl: " << seeds.status().message() << "\n";
    return kExitUsage;
  }
  // --resume: continue the shared run (--run, this worker's unfinished one in --db, or the
  // frontier's newest unfinished one), never start one.
  if (opt.resume && opt.frontier_run == 0) {
    Result<std::optional<UnfinishedRun>> mine = FindWorkerRun(opt.db, opt.worker, 0);
    if (!mine.ok()) {
      std::cerr << "fanout crawl: '" << opt.db << "': " << mine.status().message() << "\n";
      return ExitCodeFor(mine.status());
    }
    if (*mine) opt.frontier_run = (*mine)->frontier_run;
  }
  const size_t hosts = opt.frontier_hosts > 0
                           ? opt.frontier_hosts
                           : std::max<size_t>(8, 2 * opt.crawl.concurrency / std::max<size_t>(1, opt.crawl.per_host));
  pg::PgFrontierOptions po{.conninfo = opt.frontier,
                           .worker = opt.worker,
                           .run = opt.frontier_run,
                           .lease_seconds = opt.lease,
                           .hosts = hosts,
                           .urls_per_host = std::max<size_t>(32, 4 * opt.crawl.per_host),
                           .max_pages = opt.crawl.max_pages,
                           .delay = opt.crawl.delay,
                           .options_json = OptionsJson(opt.crawl)};
  Result<std::unique_ptr<pg::PgFrontier>> frontier = pg::PgFrontier::Open(std::move(po), *seeds);
  if (!frontier.ok()) {
    std::cerr << "fanout crawl: " << frontier.status().message() << "\n";
    return FrontierExitCode(frontier.status());
  }
  opt.crawl.seeds = (*frontier)->seeds();  // the run's, as its first worker gave them
  Result<std::optional<UnfinishedRun>> mine = FindWorkerRun(opt.db, opt.worker, (*frontier)->run_id());
  if (!mine.ok()) {
    std::cerr << "fanout crawl: '" << opt.db << "': " << mine.status().message() << "\n";
    return ExitCodeFor(mine.status());
  }
  if (*mine) {
    auto state = std::make_shared<RunState>();
    state->run_id = (*mine)->id;
    state->seeds = opt.crawl.seeds;
    state->pages = (*mine)->pages;
    opt.crawl.resume = std::move(state);
  }
  std::cerr << "fanout crawl: worker " << opt.worker << " of run " << (*frontier)->run_id() << " in "
            << (*frontier)->address() << (*mine ? " (continuing this worker's run " + std::to_string((*mine)->id) + ")" : "")
            << "\n";
  opt.crawl.shared_frontier = std::move(*frontier);
  return -1;
}

// The id the run will have: its own when resuming, else the next the runs table gives (its rowid:
// one more than the largest), for the archive's warcinfo records, written before the run begins.
Result<int64_t> RunIdFor(const CrawlCommandOptions& opt, SqliteDb& db) {
  if (opt.crawl.resume) return opt.crawl.resume->run_id;
  Result<SqliteStmt> stmt = db.Prepare("SELECT coalesce(max(id), 0) + 1 FROM runs");
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return stmt->ColumnInt(0);
}

// A resumed run that was archived goes on archiving where it did, unless --warc says elsewhere:
// the prefix of its last file (PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz); "" when it was not archived.
Result<std::string> ArchivePrefixOf(SqliteDb& db, int64_t run) {
  Result<SqliteStmt> stmt = db.Prepare("SELECT path FROM warc_files WHERE run_id = ?1 ORDER BY id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, run);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::string();
  const std::string path = stmt->ColumnText(0);
  constexpr size_t kSuffix = std::string_view("-YYYYMMDDhhmmss-NNNNN.warc.gz").size();
  return path.size() > kSuffix ? path.substr(0, path.size() - kSuffix) : std::string();
}

// A resumed run's revisits may refer to what it archived before it stopped: the archive is taught
// the payloads of its page records (the first of each digest: the copy later ones refer to).
Status RememberArchived(SqliteDb& db, int64_t run, WarcArchive& archive) {
  Result<SqliteStmt> stmt = db.Prepare(
      "SELECT payload_digest, coalesce(final_url, url), warc_date FROM pages "
      "WHERE run_id = ?1 AND warc_type = 'response' AND payload_digest IS NOT NULL AND warc_date IS NOT NULL "
      "ORDER BY id");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, run);
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    archive.Remember(stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2));
  }
}

// --warc (or a resumed run that was archived): opens the archive's first file now, so that a
// prefix that cannot be written to stops the crawl before anything is fetched. A resumed run's
// files go on from the last serial number, and its revisits may refer to what it archived before.
int OpenArchive(CrawlCommandOptions& opt) {
  auto fail = [](const Status& s) {
    std::cerr << "fanout crawl: " << s.message() << "\n";
    return kExitDatabase;
  };
  if (opt.warc.empty() && !opt.crawl.resume) return -1;
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(opt.db);
  if (!db.ok()) return fail(db.status());
  if (opt.warc.empty()) {
    Result<std::string> prefix = ArchivePrefixOf(*db, opt.crawl.resume->run_id);
    if (!prefix.ok()) return fail(prefix.status());
    if (prefix->empty()) return -1;
    opt.warc = *prefix;
  }
  Result<int64_t> run = RunIdFor(opt, *db);
  if (!run.ok()) return fail(run.status());
  Result<std::unique_ptr<WarcArchive>> archive =
      WarcArchive::Open(WarcOptions{.prefix = opt.warc,
                                    .max_size = opt.warc_max_size,
                                    .gzip_level = opt.warc_gzip_level,
                                    .first_serial = NextWarcSerial(opt.warc),
                                    .software = "fanout/" FANOUT_VERSION,
                                    .run_id = *run,
                                    .options_json = OptionsJson(opt.crawl)});
  if (!archive.ok()) {
    std::cerr << "fanout crawl: --warc: " << archive.status().message() << "\n";
    return kExitUnavailable;
  }
  if (opt.crawl.resume) {
    if (Status taught = RememberArchived(*db, *run, **archive); !taught.ok()) return fail(taught);
  }
  opt.crawl.archive = std::move(*archive);
  return -1;
}

int RunCrawl(CrawlCommandOptions& opt) {
  opt.crawl.timeout_ms = static_cast<long>(opt.timeout_s * 1000);
  opt.crawl.connect_timeout_ms = static_cast<long>(opt.connect_timeout_s * 1000);
  const bool shared = !opt.frontier.empty();
  if (shared) {
    if (opt.new_run) {
      std::cerr << "fanout crawl: with --frontier the run is the shared one: --new-run does not apply\n";
      return kExitUsage;
    }
    if (Status s = ValidateSharedOptions(opt.crawl, opt.lease); !s.ok()) {
      std::cerr << "fanout crawl: " << s.message() << "\n";
      return kExitUsage;
    }
    if (opt.worker.empty()) {
      char name[256] = {};
      gethostname(name, sizeof name - 1);
      opt.worker = name;
    }
    if (opt.resume) opt.crawl.seeds.clear();  // the shared run's, whichever JoinSharedRun finds
  } else if (int code = ChooseRun(opt); code >= 0) {
    return code;
  }
  // Opened before the crawl: a --report path that cannot be written is found before the work.
  std::optional<OutputFile> report;
  if (!opt.report.empty()) {
    Result<OutputFile> opened = OutputFile::Open(opt.report, "--report");
    if (!opened.ok()) {
      std::cerr << "fanout crawl: " << opened.status().message() << "\n";
      return kExitUnavailable;
    }
    report.emplace(std::move(opened).value());
  }
  // Before any thread starts (the store's writer is one): they all inherit the blocked signals.
  CrawlControl control;
  SignalWatcher signals(control);
  Result<std::unique_ptr<Store>> store = Store::Open(opt.db);
  if (!store.ok()) {
    std::cerr << "fanout crawl: " << store.status().message() << "\n";
    return ExitCodeFor(store.status());
  }
  if (shared) {
    if (int code = JoinSharedRun(opt); code >= 0) return code;
  }
  if (int code = OpenArchive(opt); code >= 0) return code;
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
  Result<CrawlSummary> summary = Crawl(opt.crawl, **store, progress, &control);
  if (live) std::fprintf(stderr, "\r\033[K");
  Status closed = (*store)->Close();
  if (opt.crawl.archive) {
    Status archived = opt.crawl.archive->Close();
    if (closed.ok()) closed = archived;
  }
  if (!summary.ok()) {
    std::cerr << "fanout crawl: " << summary.status().message() << "\n";
    return ExitCodeFor(summary.status());
  }
  if (!closed.ok()) {
    std::cerr << "fanout crawl: " << closed.message() << "\n";
    return kExitDatabase;
  }
  if (report) {
    report->stream() << summary->ToJson() << "\n";
    if (Status written = report->Close(); !written.ok()) {
      std::cerr << "fanout crawl: " << written.message() << "\n";
      return kExitUnavailable;
    }
  }
  // With the report on standard output, the summary a person reads goes to stderr.
  if (!opt.quiet) PrintSummary(*summary, opt.db, report && OutputFile::IsStdout(opt.report) ? std::cerr : std::cout);
  if (summary->interrupted) {
    if (shared) {
      std::cerr << "fanout crawl: interrupted; this worker's hosts went back to the run's other workers; run the "
                << "same command again to rejoin\n";
    } else {
      std::cerr << "fanout crawl: interrupted; run " << summary->run_id << " is unfinished: continue it with "
                << "fanout crawl --db " << opt.db << " --resume\n";
    }
    return signals.first_signal() == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  // A worker of a shared run may rightly fetch none of the seeds: the others may have.
  if (!shared) {
    Result<SeedCounts> seeds = ReportSeeds(opt.db, summary->run_id);
    if (!seeds.ok()) {
      std::cerr << "fanout crawl: " << seeds.status().message() << "\n";
      return kExitDatabase;
    }
    if (seeds->known > 0 && seeds->answered == 0) {
      // One seed's line says it all; of several, each had its line.
      if (seeds->seeds > 1) std::cerr << "fanout crawl: none of the " << seeds->seeds << " seeds could be fetched\n";
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace

void SetupCrawlCommand(CLI::App& app) {
  auto opt = std::make_shared<CrawlCommandOptions>();
  CrawlOptions& c = opt->crawl;
  CLI::App* cmd = app.add_subcommand("crawl", "Crawl from seed URLs into an SQLite database");
  cmd->add_option("seeds", c.seeds, "Start URLs (http or https); none with --resume");
  cmd->add_option("--db", opt->db, "SQLite database to write (created if missing; a new run is added)")
      ->capture_default_str();
  cmd->add_option("--mode", c.mode,
                  "How fetches are scheduled: async (event loop), threads (one blocking transfer per thread, "
                  "--concurrency threads) or sync (one at a time)")
      ->capture_default_str()->check(CLI::IsMember({"async", "threads", "sync"}));
  cmd->add_option("--parser", c.parser,
                  "How HTML is parsed: auto (a one-pass fast path, with gumbo's tree for what it does not "
                  "handle) or gumbo (always the tree); both give the same links")
      ->capture_default_str()->check(CLI::IsMember({"auto", "gumbo"}));
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
  cmd->add_option("--connect-to", c.connect_to,
                  "HOST:PORT:TO_HOST:TO_PORT: connect there instead, as curl's --connect-to (empty parts match "
                  "any; repeatable)");
  cmd->add_option("--cacert", c.cacert, "Trust this CA file (PEM) besides the system's CAs")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure,-k", c.insecure, "Do not verify TLS certificates (the summary says so)");
  cmd->add_flag("!--no-http2", c.http2, "Speak HTTP/1.1 over TLS too (no HTTP/2, no multiplexing)");
  cmd->add_option("--timeout", opt->timeout_s, "Seconds a whole transfer may take")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--connect-timeout", opt->connect_timeout_s, "Seconds to connect")
      ->capture_default_str()->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--max-bytes", c.max_bytes, "Largest body kept; longer transfers are cut and marked truncated")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 32));
  cmd->add_option("--max-redirects", c.max_redirects, "Redirects followed per URL (0: none)")
      ->capture_default_str()->check(CLI::Range(0L, 100L));
  cmd->add_option("--max-meta-refresh-delay", c.max_meta_refresh_delay,
                  "A <meta http-equiv=refresh> of at most this many seconds is followed as a redirect; "
                  "a longer one is only a link (negative: always a link)")
      ->capture_default_str()->check(CLI::Range(-1.0, 1e9));
  cmd->add_option("--low-speed-limit", c.low_speed_bytes,
                  "A transfer slower than this many bytes/s for --low-speed-time is cut as a timeout")
      ->capture_default_str()->check(CLI::Range(0L, 1L << 30));
  cmd->add_option("--low-speed-time", c.low_speed_seconds, "Seconds of --low-speed-limit before the cut (0: never)")
      ->capture_default_str()->check(CLI::Range(0L, 86400L));
  cmd->add_option("--retries", c.retries,
                  "Retries after a connection error, a timeout or HTTP 429/500/502/503/504")
      ->capture_default_str()->check(CLI::Range(0, 100));
  cmd->add_option("--retry-delay", c.retry_delay, "Seconds before the first retry; doubled for each next one")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--max-retry-wait", c.max_retry_wait, "Longest wait before a retry, Retry-After included")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--delay", c.delay, "Seconds between two requests to one host")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--delay-jitter", c.delay_jitter, "Vary each --delay by up to this fraction, at random")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-delay", c.max_delay, "Largest robots.txt Crawl-delay obeyed, seconds")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  cmd->add_flag("--ignore-robots", c.ignore_robots, "Neither fetch nor obey robots.txt (the summary says so)");
  cmd->add_flag("--sitemaps", c.sitemaps,
                "Also queue the URLs of the seeds' sitemaps (robots.txt Sitemap: lines and /sitemap.xml)");
  cmd->add_option("--frontier-window", c.frontier_window,
                  "Queued URLs held in memory at most; more wait in the database (0: no limit)")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{1} << 32));
  cmd->add_option("--max-url-length", c.max_url_length, "Links longer than this are not followed")
      ->capture_default_str()->check(CLI::Range(size_t{16}, size_t{1} << 20));
  cmd->add_flag("--follow-nofollow", c.follow_nofollow, "Follow rel=nofollow links and links of nofollow pages");
  cmd->add_flag("--quiet,-q", opt->quiet, "No progress line and no summary");
  cmd->add_option("--report", opt->report, "Also write the summary to this file as JSON");
  cmd->add_flag("--resume", opt->resume,
                "Continue the database's unfinished run (after Ctrl-C, a kill or a crash) with its seeds");
  cmd->add_flag("--new-run", opt->new_run, "Start a new run even though the database has an unfinished one");
  auto* frontier = cmd->add_option("--frontier", opt->frontier,
                                   "Crawl as one worker of a run shared through this PostgreSQL database "
                                   "(postgresql://USER@HOST/DB): the first worker starts the run with its seeds, "
                                   "others join it; limits hold for the run");
  cmd->add_option("--worker", opt->worker, "With --frontier: this worker's name (default: the host name)")
      ->needs(frontier);
  cmd->add_option("--run", opt->frontier_run,
                  "With --frontier: join this run (default: the newest unfinished one with the same seeds, or a new one)")
      ->needs(frontier)->check(CLI::PositiveNumber);
  cmd->add_option("--lease", opt->lease,
                  "With --frontier: seconds a host stays with this worker unless renewed; a dead worker's hosts "
                  "go to the others after it")
      ->capture_default_str()->needs(frontier)->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--frontier-hosts", opt->frontier_hosts,
                  "With --frontier: hosts held at once at most (default: 2 x --concurrency / --per-host, at least 8)")
      ->needs(frontier)->check(CLI::Range(size_t{1}, size_t{100000}));
  auto* warc = cmd->add_option("--warc", opt->warc,
                               "Archive every transfer as WARC 1.1 in PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz files "
                               "(one gzip member per record); the pages table says where each page's record is");
  cmd->add_option("--warc-max-size", opt->warc_max_size,
                  "With --warc: start a new file before one would grow past this size (bytes, or 100MB, 1GB...)")
      ->transform(CLI::AsSizeValue(false))->capture_default_str()->needs(warc)
      ->check(CLI::Range(uint64_t{1} << 12, uint64_t{1} << 50));
  cmd->add_option("--warc-gzip-level", opt->warc_gzip_level, "With --warc: gzip level of the records, 1 (fast) to 9")
      ->capture_default_str()->needs(warc)->check(CLI::Range(1, 9));
  cmd->callback([opt] { throw CLI::RuntimeError(RunCrawl(*opt)); });
}

}  // namespace fanout::cli
