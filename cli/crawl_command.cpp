#include "cli/crawl_command.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/crawl_report.h"
#include "cli/exit_codes.h"
#include "cli/frontier_command.h"
#include "cli/output_file.h"
#include "cli/signal_watcher.h"
#include "crawler/crawl.h"
#include "pgfrontier/pg_frontier.h"
#include "storage/run_queries.h"
#include "storage/run_state.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "warc/warc_archive.h"

namespace fanout::cli {
namespace {

struct CrawlCommandOptions {
  CrawlOptions crawl;
  std::string mode = "async";   // --mode, CLI11 checks the name; into crawl.mode
  std::string parser = "auto";  // --parser, likewise
  std::string db = "fanout.db";
  double timeout_s = 30;
  double connect_timeout_s = 10;
  bool quiet = false;
  std::string report;  // --report FILE.json
  std::string html;    // --html FILE.html
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

// What the crawl continues, joins and archives to, found before it starts; the crawl gets them as
// its services (ServicesOf).
struct RunSetup {
  std::shared_ptr<RunState> resume;                // --resume, or this worker's run of a shared one
  std::shared_ptr<pg::PgFrontier> shared_frontier;  // --frontier
  std::shared_ptr<WarcArchive> archive;            // --warc, or a resumed run that was archived
};

CrawlServices ServicesOf(const RunSetup& setup, Store& store) {
  CrawlServices services(store);
  services.resume = setup.resume.get();
  services.shared_frontier = setup.shared_frontier.get();
  services.archive = setup.archive.get();
  return services;
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return kExitUsage;
    case Status::Code::kUnavailable: return kExitUnavailable;
    default: return kExitDatabase;
  }
}

// Decides between a new run and --resume; fills setup.resume. Returns an exit code, or -1 to go on.
int ChooseRun(const CrawlCommandOptions& opt, RunSetup& setup) {
  Result<std::optional<UnfinishedRun>> unfinished = FindUnfinishedRun(opt.db);
  if (!unfinished.ok()) return Fail("crawl", "'" + opt.db + "': " + unfinished.status().message(), ExitCodeFor(unfinished.status()));
  if (opt.resume) {
    if (!*unfinished) return Fail("crawl", "nothing to resume: '" + opt.db + "' has no unfinished run", kExitUsage);
    Result<RunState> state = LoadRunState(opt.db, (*unfinished)->id);
    if (!state.ok()) return Fail("crawl", "'" + opt.db + "': " + state.status().message(), ExitCodeFor(state.status()));
    setup.resume = std::make_shared<RunState>(std::move(state).value());
    return -1;
  }
  if (*unfinished && !opt.new_run) {
    return Fail("crawl",
                "run " + std::to_string((*unfinished)->id) + " in '" + opt.db + "' is unfinished (" +
                    std::to_string((*unfinished)->pages) +
                    " pages): add --resume to continue it, or --new-run to start another",
                kExitUsage);
  }
  if (opt.crawl.seeds.empty()) return Fail("crawl", "no seed URL given (see fanout crawl --help)", kExitUsage);
  return -1;
}

// As a worker of a shared frontier: joins (or starts) the run there, and continues this worker's
// unfinished run of it in the local database if there is one. Fills setup.shared_frontier and
// setup.resume. Returns an exit code, or -1 to go on.
int JoinSharedRun(CrawlCommandOptions& opt, RunSetup& setup) {
  Result<std::vector<std::string>> seeds = NormalizeSeeds(opt.crawl.seeds);
  if (!seeds.ok()) return Fail("crawl", seeds.status(), kExitUsage);
  // --resume: continue the shared run (--run, this worker's unfinished one in --db, or the
  // frontier's newest unfinished one), never start one.
  if (opt.resume && opt.frontier_run == 0) {
    Result<std::optional<UnfinishedRun>> mine = FindWorkerRun(opt.db, opt.worker, 0);
    if (!mine.ok()) return Fail("crawl", "'" + opt.db + "': " + mine.status().message(), ExitCodeFor(mine.status()));
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
  if (!frontier.ok()) return Fail("crawl", frontier.status(), FrontierExitCode(frontier.status()));
  opt.crawl.seeds = (*frontier)->seeds();  // the run's, as its first worker gave them
  Result<std::optional<UnfinishedRun>> mine = FindWorkerRun(opt.db, opt.worker, (*frontier)->run_id());
  if (!mine.ok()) return Fail("crawl", "'" + opt.db + "': " + mine.status().message(), ExitCodeFor(mine.status()));
  if (*mine) {
    auto state = std::make_shared<RunState>();
    state->run_id = (*mine)->id;
    state->seeds = opt.crawl.seeds;
    state->pages = (*mine)->pages;
    setup.resume = std::move(state);
  }
  Say("crawl", "worker " + opt.worker + " of run " + std::to_string((*frontier)->run_id()) + " in " +
                   (*frontier)->address() +
                   (*mine ? " (continuing this worker's run " + std::to_string((*mine)->id) + ")" : ""));
  setup.shared_frontier = std::move(*frontier);
  return -1;
}

// --warc (or a resumed run that was archived): opens the archive's first file now, so that a
// prefix that cannot be written to stops the crawl before anything is fetched. A resumed run's
// files go on from the last serial number, and its revisits may refer to what it archived before
// it stopped: the archive is taught the payloads of its page records. Fills setup.archive.
// Returns an exit code, or -1 to go on.
int OpenArchive(CrawlCommandOptions& opt, RunSetup& setup) {
  if (opt.warc.empty() && !setup.resume) return -1;
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(opt.db);
  if (!db.ok()) return Fail("crawl", db.status(), kExitDatabase);
  if (opt.warc.empty()) {
    Result<std::string> prefix = ArchivePrefixOfRun(*db, setup.resume->run_id);
    if (!prefix.ok()) return Fail("crawl", prefix.status(), kExitDatabase);
    if (prefix->empty()) return -1;
    opt.warc = *prefix;
  }
  // The id the run will have, for the archive's warcinfo records, written before the run begins.
  Result<int64_t> run = setup.resume ? Result<int64_t>(setup.resume->run_id) : NextRunId(*db);
  if (!run.ok()) return Fail("crawl", run.status(), kExitDatabase);
  Result<std::unique_ptr<WarcArchive>> archive =
      WarcArchive::Open(WarcOptions{.prefix = opt.warc,
                                    .max_size = opt.warc_max_size,
                                    .gzip_level = opt.warc_gzip_level,
                                    .first_serial = NextWarcSerial(opt.warc),
                                    .software = "fanout/" FANOUT_VERSION,
                                    .run_id = *run,
                                    .options_json = OptionsJson(opt.crawl)});
  if (!archive.ok()) return Fail("crawl", "--warc: " + archive.status().message(), kExitUnavailable);
  if (setup.resume) {
    WarcArchive& warc = **archive;
    Status taught = ForEachArchivedPayload(*db, *run, [&warc](const ArchivedPayload& p) {
      warc.Remember(p.payload_digest, p.url, p.warc_date);
    });
    if (!taught.ok()) return Fail("crawl", taught, kExitDatabase);
  }
  setup.archive = std::move(*archive);
  return -1;
}

// Opens --report or --html (`what`) into `out` unless `path` is empty. Returns an exit code, or -1
// to go on.
int OpenOutput(const std::string& path, const char* what, std::optional<OutputFile>& out) {
  if (path.empty()) return -1;
  Result<OutputFile> opened = OutputFile::Open(path, what);
  if (!opened.ok()) return Fail("crawl", opened.status(), kExitUnavailable);
  out.emplace(std::move(opened).value());
  return -1;
}

// Writes `text` to `out` (when open) and closes it. Returns an exit code, or -1 to go on.
int WriteOutput(std::optional<OutputFile>& out, const std::string& text) {
  if (!out) return -1;
  out->stream() << text;
  if (Status written = out->Close(); !written.ok()) return Fail("crawl", written, kExitUnavailable);
  return -1;
}

int RunCrawl(CrawlCommandOptions& opt) {
  opt.crawl.mode = CrawlModeNamed(opt.mode).value();  // CLI11 took only a known name
  opt.crawl.parser = HtmlParserNamed(opt.parser).value();
  opt.crawl.timeout_ms = static_cast<long>(opt.timeout_s * 1000);
  opt.crawl.connect_timeout_ms = static_cast<long>(opt.connect_timeout_s * 1000);
  const bool shared = !opt.frontier.empty();
  RunSetup setup;
  if (shared) {
    // --new-run does not apply (the run is the shared one): CLI11 refuses it with --frontier.
    if (Status s = ValidateSharedOptions(opt.crawl, opt.lease); !s.ok()) return Fail("crawl", s, kExitUsage);
    if (opt.worker.empty()) {
      char name[256] = {};
      gethostname(name, sizeof name - 1);
      opt.worker = name;
    }
    if (opt.resume) opt.crawl.seeds.clear();  // the shared run's, whichever JoinSharedRun finds
  } else if (int code = ChooseRun(opt, setup); code >= 0) {
    return code;
  }
  // Opened before the crawl: a --report path that cannot be written is found before the work.
  std::optional<OutputFile> report, page;
  if (int code = OpenOutput(opt.report, "--report", report); code >= 0) return code;
  if (!opt.html.empty() && OutputFile::IsStdout(opt.html) && OutputFile::IsStdout(opt.report)) {
    return Fail("crawl", "only one of --report and --html can be '-' (standard output)", kExitUsage);
  }
  if (int code = OpenOutput(opt.html, "--html", page); code >= 0) return code;
  // Before any thread starts (the store's writer is one): they all inherit the blocked signals.
  CrawlControl control;
  SignalWatcher signals(control);
  Result<std::unique_ptr<Store>> store = Store::Open(opt.db);
  if (!store.ok()) return Fail("crawl", store.status(), ExitCodeFor(store.status()));
  if (shared) {
    if (int code = JoinSharedRun(opt, setup); code >= 0) return code;
  }
  if (int code = OpenArchive(opt, setup); code >= 0) return code;
  const bool live = !opt.quiet && isatty(STDERR_FILENO);
  std::function<void(const CrawlProgress&)> progress;
  if (live) progress = PrintProgressLine;
  Result<CrawlSummary> summary = Crawl(opt.crawl, ServicesOf(setup, **store), progress, &control);
  if (live) ClearProgressLine();
  Status closed = (*store)->Close();
  if (setup.archive) {
    Status archived = setup.archive->Close();
    if (closed.ok()) closed = archived;
  }
  if (!summary.ok()) return Fail("crawl", summary.status(), ExitCodeFor(summary.status()));
  if (!closed.ok()) return Fail("crawl", closed, kExitDatabase);
  if (report) {
    if (int code = WriteOutput(report, summary->ToJson() + "\n"); code >= 0) return code;
  }
  if (page) {
    if (int code = WriteOutput(page, CrawlHtml(*summary, opt.db)); code >= 0) return code;
  }
  // With a report on standard output, the summary a person reads goes to stderr.
  const bool piped = OutputFile::IsStdout(opt.report) || OutputFile::IsStdout(opt.html);
  if (!opt.quiet) PrintSummary(*summary, opt.db, piped ? std::cerr : std::cout);
  if (summary->interrupted) {
    Say("crawl", shared ? "interrupted; this worker's hosts went back to the run's other workers; run the same "
                          "command again to rejoin"
                        : "interrupted; run " + std::to_string(summary->run_id) +
                              " is unfinished: continue it with fanout crawl --db " + opt.db + " --resume");
    return signals.first_signal() == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  if (summary->dns.hosts_unanswered > 0 && !shared) {
    Say("crawl", std::to_string(summary->dns.hosts_unanswered) +
                     (summary->dns.hosts_unanswered == 1 ? " host" : " hosts") +
                     " got no answer from the resolver (dns-servfail, dns-timeout): run " +
                     std::to_string(summary->run_id) + " is left unfinished; fanout crawl --db " + opt.db +
                     " --resume asks again");
  }
  if (summary->hosts_failing > 0 && !shared) {
    Say("crawl", std::to_string(summary->hosts_failing) + (summary->hosts_failing == 1 ? " host was" : " hosts were") +
                     " given up after " + std::to_string(opt.crawl.max_host_errors) +
                     " requests in a row got no answer (host-failing): run " + std::to_string(summary->run_id) +
                     " is left unfinished; fanout crawl --db " + opt.db + " --resume tries them again");
  }
  // A worker of a shared run may rightly fetch none of the seeds: the others may have.
  if (!shared) {
    Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
    if (!db.ok()) return Fail("crawl", db.status(), kExitDatabase);
    Result<std::vector<SeedOutcome>> outcomes = ReadSeedOutcomes(db->db, summary->run_id);
    if (!outcomes.ok()) return Fail("crawl", outcomes.status(), kExitDatabase);
    const SeedCounts seeds = ReportSeeds(*outcomes);
    if (seeds.known > 0 && seeds.answered == 0) {
      // One seed's line says it all; of several, each had its line.
      if (seeds.seeds > 1) Say("crawl", "none of the " + std::to_string(seeds.seeds) + " seeds could be fetched");
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
  cmd->add_option("--mode", opt->mode,
                  "How fetches are scheduled: async (event loop), threads (one blocking transfer per thread, "
                  "--concurrency threads) or sync (one at a time)")
      ->capture_default_str()->check(CLI::IsMember({"async", "threads", "sync"}));
  cmd->add_option("--parser", opt->parser,
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
  cmd->add_option("--resolve", c.resolve,
                  "HOST:PORT:ADDRESS[,ADDRESS...]: use these addresses for HOST, as curl's --resolve (PORT may be *; "
                  "repeatable)");
  cmd->add_option("--per-ip", c.per_ip, "Transfers in flight to one IP address at most, all its hosts together (0: no limit)")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{100000}));
  cmd->add_option("--ip-delay", c.ip_delay, "Seconds between two requests to one IP address, all its hosts together")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--dns-timeout", c.dns.timeout, "Seconds a name lookup may take (two tries within it)")
      ->capture_default_str()->check(CLI::Range(0.01, 300.0));
  cmd->add_option("--dns-min-ttl", c.dns.min_ttl, "Seconds an answer is believed at least, whatever its TTL")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0 * 365));
  cmd->add_option("--dns-max-ttl", c.dns.max_ttl, "Seconds an answer is believed at most, whatever its TTL")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0 * 365));
  cmd->add_option("--dns-server", c.dns.servers,
                  "ADDRESS[:PORT][,...]: ask these resolvers instead of /etc/resolv.conf's (IPv6 as [ADDRESS]:PORT)");
  cmd->add_option("--dns-concurrency", c.dns.concurrency, "Name lookups in flight at most")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{10000}));
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
  cmd->add_option("--max-repeats", c.traps.max_repeats,
                  "Links in which one path segment, or one query parameter with its value, appears more than this "
                  "many times are not followed (0: no limit)")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  cmd->add_option("--max-path-segments", c.traps.max_segments,
                  "Links with more path segments than this are not followed (0: no limit)")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  cmd->add_option("--max-pages-per-host", c.max_pages_per_host,
                  "Follow at most this many URLs of one host, the seeds included (0: no limit)")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{1} << 40));
  cmd->add_option("--robots-ttl", c.robots_ttl,
                  "Seconds a robots.txt is obeyed before it is fetched again (RFC 9309: 24 hours at most); when "
                  "that fetch fails (5xx, no answer) the copy before stays in force")
      ->capture_default_str()->check(CLI::Range(0.001, 1e9));
  cmd->add_option("--max-host-errors", c.max_host_errors,
                  "Give a host up after this many requests in a row got no answer; its URLs are skipped "
                  "(host-failing) and --resume asks again (0: never)")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_flag("--follow-nofollow", c.follow_nofollow, "Follow rel=nofollow links and links of nofollow pages");
  cmd->add_flag("--quiet,-q", opt->quiet, "No progress line and no summary");
  cmd->add_option("--report", opt->report, "Also write the summary to this file as JSON");
  cmd->add_option("--html", opt->html,
                  "Also write the summary as a self-contained HTML page with charts: where the time went, fetches "
                  "in flight over time, status codes, errors, the slowest pages");
  cmd->add_flag("--resume", opt->resume,
                "Continue the database's unfinished run (after Ctrl-C, a kill or a crash) with its seeds");
  auto* new_run = cmd->add_flag("--new-run", opt->new_run, "Start a new run even though the database has an unfinished one");
  auto* frontier = cmd->add_option("--frontier", opt->frontier,
                                   "Crawl as one worker of a run shared through this PostgreSQL database "
                                   "(postgresql://USER@HOST/DB): the first worker starts the run with its seeds, "
                                   "others join it; limits hold for the run");
  frontier->excludes(new_run);  // the run is the shared one
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
