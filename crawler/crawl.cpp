#include "crawler/crawl.h"

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "crawler/crawl_async.h"
#include "crawler/crawl_blocking.h"
#include "crawler/crawl_core.h"
#include "crawler/shared_frontier.h"
#include "crawler/spill.h"
#include "crawler/url.h"
#include "storage/run_state.h"
#include "warc/warc_archive.h"

namespace fanout {

Result<std::vector<std::string>> NormalizeSeeds(const std::vector<std::string>& seeds, UrlRules rules) {
  std::vector<std::string> out;
  for (const std::string& seed : seeds) {
    Result<std::string> url = NormalizeUrl(seed, rules);
    if (!url.ok()) return Status::InvalidArgument("seed '" + seed + "': " + url.status().message());
    out.push_back(*url);
  }
  return out;
}

namespace {

// What a crawl starts from: the seeds as keyed, the options as this run applies them, and the
// frontier with the seeds (and a resumed run's state) in it.
struct CrawlPlan {
  std::vector<std::string> seeds;  // normalised by the run's rules
  CrawlOptions options;            // the run's: its URL rules, its page budget, sync's one transfer
  std::optional<Frontier> frontier;
  bool nothing_left = false;       // a resumed run whose --max-pages is spent
};

// The rules a run keys URLs by: a new run's, or, resumed, those it began with (its links already in
// the database say so).
Result<UrlRules> RulesOf(const RunState* resume) {
  if (resume == nullptr) return UrlRules::kWhatwg;
  std::optional<UrlRules> theirs = UrlRulesNamed(resume->url_normalization);
  if (!theirs) {
    return Status::InvalidArgument("run " + std::to_string(resume->run_id) + " normalised its URLs by '" +
                                   resume->url_normalization + "', which this fanout does not know");
  }
  return *theirs;
}

// Checks the options and seeds, and fills the frontier. Resuming: what the run fetched or refused
// is done, what it followed is seen, and what it followed but did not fetch (in flight when it
// stopped included) is the queue, which stays in the database until the crawl reads it back.
// --max-pages counts both parts.
Result<CrawlPlan> Plan(const CrawlOptions& options, const CrawlServices& services) {
  const RunState* resume = services.resume;
  const SharedFrontier* shared = services.shared_frontier;
  const std::vector<std::string>& seed_args = resume != nullptr ? resume->seeds : options.seeds;
  if (seed_args.empty()) return Status::InvalidArgument("no seed URL given");
  FANOUT_RETURN_IF_ERROR(ValidateOptions(options));
  FANOUT_ASSIGN_OR_RETURN(const UrlRules rules, RulesOf(resume));
  CrawlPlan plan;
  FANOUT_ASSIGN_OR_RETURN(plan.seeds, NormalizeSeeds(seed_args, rules));
  FANOUT_ASSIGN_OR_RETURN(Frontier frontier, Frontier::Create(options.scope, options.max_depth, options.frontier_window,
                                                              options.seen_filter, HostLimitsOf(options, shared != nullptr)));
  plan.frontier.emplace(std::move(frontier));
  Frontier& f = *plan.frontier;
  f.LimitHostUrls(options.max_pages_per_host);
  plan.options = options;
  plan.options.url_rules = rules;
  if (options.mode == CrawlMode::kSync) plan.options.concurrency = 1;  // one transfer at a time, whatever --concurrency says
  if (shared != nullptr) plan.options.max_pages = 0;  // the run's limit, which the shared frontier keeps
  if (resume != nullptr && shared == nullptr) {
    for (const std::string& url : resume->done) f.MarkFetched(url);
    FANOUT_RETURN_IF_ERROR(
        ForEachFollowedLink(services.store.path(), resume->run_id, [&](std::string_view url) { f.MarkSeen(url); }));
    if (options.max_pages > 0) plan.options.max_pages = std::max<int64_t>(0, options.max_pages - resume->pages);
  }
  plan.nothing_left = shared == nullptr && options.max_pages > 0 && plan.options.max_pages == 0;
  if (shared != nullptr) {
    for (const std::string& seed : plan.seeds) f.AddSeed(seed, /*queue=*/false);  // the run queued them
  } else if (!plan.nothing_left) {
    for (const std::string& seed : plan.seeds) f.AddSeed(seed);
    if (resume != nullptr) f.QueueOnDisk(static_cast<size_t>(resume->queued));
  }
  return plan;
}

// The run's row: a new one, or the resumed run's, open again. Returns its id.
Result<int64_t> OpenRun(const CrawlOptions& options, const CrawlPlan& plan, const CrawlServices& services) {
  Store& store = services.store;
  const SharedFrontier* shared = services.shared_frontier;
  int64_t run = 0;
  if (services.resume != nullptr) {
    run = services.resume->run_id;
    FANOUT_RETURN_IF_ERROR(store.ResumeRun(run));
  } else {
    FANOUT_ASSIGN_OR_RETURN(run, store.BeginRun(RunInfo{
                                     .mode = std::string(CrawlModeName(options.mode)), .seeds = plan.seeds,
                                     .options_json = OptionsJson(options),
                                     .url_normalization = std::string(UrlRulesName(plan.options.url_rules)),
                                     .worker = shared != nullptr ? shared->worker() : "",
                                     .frontier = shared != nullptr ? shared->address() : "",
                                     .frontier_run = shared != nullptr ? shared->run_id() : 0}));
  }
  if (services.archive != nullptr) {  // the file opened already, in case no page lands in it
    for (const std::string& file : services.archive->files()) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
  }
  return run;
}

// What the store and the archive say of the run, added to its summary once the mode is done; then
// the run's row is finished.
Status Conclude(const CrawlOptions& options, const CrawlServices& services, Frontier& frontier,
                const StoreStats& store_before, CrawlSummary& summary) {
  Store& store = services.store;
  FANOUT_RETURN_IF_ERROR(store.Flush());  // so the store's figures include this run's last batch
  const StoreStats after = store.stats();
  // The store's word on the last unsure links: duplicates, or more of the queue left on disk.
  frontier.Settle(after);
  const int64_t unsure_duplicates = frontier.unsure_links().duplicates();
  summary.queued_left = frontier.queued();
  summary.max_queued_on_disk = frontier.max_on_disk();
  if (unsure_duplicates > 0) summary.skipped_by_reason["duplicate"] += unsure_duplicates;
  summary.store_batches = after.batches - store_before.batches;
  summary.phases.store = after.store_seconds - store_before.store_seconds;
  summary.store_busy_fraction =
      summary.wall_seconds > 0 ? (after.write_seconds - store_before.write_seconds) / summary.wall_seconds : 0;
  summary.store_cpu_seconds = after.cpu_seconds - store_before.cpu_seconds;
  if (WarcArchive* archive = services.archive) {
    // Every file the run wrote is the run's, those no page row points into included (a last file
    // of robots.txt answers): export --format cdxj indexes them all.
    const std::vector<std::string> files = archive->files();
    for (const std::string& file : files) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
    const WarcStats st = archive->stats();
    summary.archive = {.files = st.files, .records = st.records, .revisits = st.revisits, .bytes = st.bytes_written,
                       .payload_bytes = st.payload_bytes, .write_seconds = st.write_seconds,
                       .first_file = files.empty() ? "" : files.front(), .last_file = files.empty() ? "" : files.back()};
  }
  summary.mode = CrawlModeName(options.mode);
  summary.parser = HtmlParserName(options.parser);
  summary.robots_ignored = options.ignore_robots;
  summary.tls_unverified = options.insecure;
  return store.FinishRun(RunSummary{.pages = summary.pages_before + summary.pages,
                                    .errors = summary.errors,
                                    .bytes = summary.bytes,
                                    .wall_seconds = summary.wall_seconds,
                                    .pages_per_second = summary.pages_per_second,
                                    .summary_json = summary.ToJson(),
                                    // Hosts the resolver failed to answer, and hosts given up for not
                                    // answering, are for --resume to ask again.
                                    .interrupted = summary.interrupted || summary.dns.hosts_unanswered > 0 ||
                                                   summary.hosts_failing > 0});
}

}  // namespace

Result<CrawlSummary> Crawl(const CrawlOptions& options, const CrawlServices& services,
                           std::function<void(const CrawlProgress&)> progress, CrawlControl* control) {
  CrawlControl never_stopped;
  if (control == nullptr) control = &never_stopped;
  FANOUT_ASSIGN_OR_RETURN(CrawlPlan plan, Plan(options, services));
  FANOUT_ASSIGN_OR_RETURN(const int64_t run, OpenRun(options, plan, services));
  Frontier& frontier = *plan.frontier;
  const StoreStats store_before = services.store.stats();
  frontier.unsure_links().SetBaseline(store_before);
  const SpillCursor spill_cursor{.after = 0,
                                 .resumed_up_to = services.resume != nullptr ? services.resume->last_link : 0};
  const ResourceUse resources_before = ResourceUse::Now();
  CrawlCore core(plan.options, frontier, services.store, services.shared_frontier, services.archive, run, spill_cursor);
  // A resumed run walks its sitemaps again: their URLs have no links row to be read back from.
  const std::vector<std::string> sitemap_seeds = plan.nothing_left ? std::vector<std::string>{} : plan.seeds;
  CrawlSummary summary;
  if (options.mode != CrawlMode::kAsync) {
    // sync: one worker; threads: one per --concurrency, each with its own blocking transfer.
    FANOUT_RETURN_IF_ERROR(RunBlockingCrawl(plan.options, core, services, sitemap_seeds, plan.options.concurrency,
                                            *control, summary, progress));
  } else {
    const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    FANOUT_RETURN_IF_ERROR(
        RunAsyncCrawl(plan.options, core, services, sitemap_seeds, threads, *control, summary, progress));
  }
  summary.interrupted = summary.interrupted || control->stop_requested();
  summary.pages_before = services.resume != nullptr ? services.resume->pages : 0;
  summary.run_id = run;
  SummariseResources(resources_before, ResourceUse::Now(), summary);
  FANOUT_RETURN_IF_ERROR(Conclude(options, services, frontier, store_before, summary));
  return summary;
}

}  // namespace fanout
