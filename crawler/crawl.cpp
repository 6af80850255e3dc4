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

Result<CrawlSummary> Crawl(const CrawlOptions& options, Store& store,
                           std::function<void(const CrawlProgress&)> progress, CrawlControl* control) {
  CrawlControl never_stopped;
  if (control == nullptr) control = &never_stopped;
  const RunState* resume = options.resume.get();
  const std::vector<std::string>& seed_args = resume != nullptr ? resume->seeds : options.seeds;
  if (seed_args.empty()) return Status::InvalidArgument("no seed URL given");
  FANOUT_RETURN_IF_ERROR(ValidateOptions(options));
  // A resumed run goes on keying URLs as it began: its links already in the database say so.
  UrlRules rules = UrlRules::kWhatwg;
  if (resume != nullptr) {
    std::optional<UrlRules> theirs = UrlRulesNamed(resume->url_normalization);
    if (!theirs) {
      return Status::InvalidArgument("run " + std::to_string(resume->run_id) + " normalised its URLs by '" +
                                     resume->url_normalization + "', which this fanout does not know");
    }
    rules = *theirs;
  }
  Result<std::vector<std::string>> normalized = NormalizeSeeds(seed_args, rules);
  if (!normalized.ok()) return normalized.status();
  const std::vector<std::string>& seeds = *normalized;
  Result<Frontier> frontier = Frontier::Create(options.scope, options.max_depth, options.frontier_window,
                                              options.seen_filter, HostLimitsOf(options));
  if (!frontier.ok()) return frontier.status();
  // Resuming: what the run fetched or refused is done, what it followed is seen, and what it
  // followed but did not fetch (in flight when it stopped included) is the queue, which stays in
  // the database until the crawl reads it back. --max-pages counts both parts.
  CrawlOptions run_options = options;
  run_options.url_rules = rules;
  SharedFrontier* shared = options.shared_frontier.get();
  if (shared != nullptr) run_options.max_pages = 0;  // the run's limit, which the shared frontier keeps
  if (resume != nullptr && shared == nullptr) {
    for (const std::string& url : resume->done) frontier->MarkFetched(url);
    FANOUT_RETURN_IF_ERROR(ForEachFollowedLink(store.path(), resume->run_id,
                                               [&](std::string_view url) { frontier->MarkSeen(url); }));
    if (options.max_pages > 0) run_options.max_pages = std::max<int64_t>(0, options.max_pages - resume->pages);
  }
  const bool nothing_left = shared == nullptr && options.max_pages > 0 && run_options.max_pages == 0;
  if (shared != nullptr) {
    for (const std::string& seed : seeds) frontier->AddSeed(seed, /*queue=*/false);  // the run queued them
  } else if (!nothing_left) {
    for (const std::string& seed : seeds) frontier->AddSeed(seed);
    if (resume != nullptr) frontier->QueueOnDisk(static_cast<size_t>(resume->queued));
  }

  Result<int64_t> run = resume != nullptr ? Result<int64_t>(resume->run_id)
                                           : store.BeginRun(RunInfo{
                                                 .mode = options.mode, .seeds = seeds,
                                                 .options_json = OptionsJson(options),
                                                 .url_normalization = std::string(UrlRulesName(rules)),
                                                 .worker = shared != nullptr ? shared->worker() : "",
                                                 .frontier = shared != nullptr ? shared->address() : "",
                                                 .frontier_run = shared != nullptr ? shared->run_id() : 0});
  if (!run.ok()) return run.status();
  if (resume != nullptr) FANOUT_RETURN_IF_ERROR(store.ResumeRun(resume->run_id));
  if (options.archive != nullptr) {  // the file opened already, in case no page lands in it
    for (const std::string& file : options.archive->files()) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
  }

  const StoreStats store_before = store.stats();
  const SpillCursor spill_cursor{.after = 0, .resumed_up_to = resume != nullptr ? resume->last_link : 0};
  frontier->unsure_links().SetBaseline(store_before);
  const ResourceUse resources_before = ResourceUse::Now();
  const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  CrawlSummary summary;
  // sync: one transfer at a time, whatever --concurrency says.
  if (options.mode == "sync") run_options.concurrency = 1;
  CrawlCore core(run_options, *frontier, store, shared, options.archive.get(), *run, spill_cursor);
  // A resumed run walks its sitemaps again: their URLs have no links row to be read back from.
  const std::vector<std::string> sitemap_seeds = nothing_left ? std::vector<std::string>{} : seeds;
  if (options.mode != "async") {
    // sync: one worker; threads: one per --concurrency, each with its own blocking transfer.
    FANOUT_RETURN_IF_ERROR(
        RunBlockingCrawl(run_options, core, sitemap_seeds, run_options.concurrency, *control, summary, progress));
  } else {
    FANOUT_RETURN_IF_ERROR(
        RunAsyncCrawl(run_options, core, store, sitemap_seeds, threads, *control, summary, progress));
  }
  summary.interrupted = summary.interrupted || control->stop_requested();
  summary.pages_before = resume != nullptr ? resume->pages : 0;
  SummariseResources(resources_before, ResourceUse::Now(), summary);
  FANOUT_RETURN_IF_ERROR(store.Flush());  // so the store's figures include this run's last batch
  const StoreStats after = store.stats();
  // The store's word on the last unsure links: duplicates, or more of the queue left on disk.
  frontier->Settle(after);
  const int64_t unsure_duplicates = frontier->unsure_links().duplicates();
  summary.queued_left = frontier->queued();
  summary.max_queued_on_disk = frontier->max_on_disk();
  if (unsure_duplicates > 0) summary.skipped_by_reason["duplicate"] += unsure_duplicates;
  summary.store_batches = after.batches - store_before.batches;
  summary.phases.store = after.store_seconds - store_before.store_seconds;
  summary.store_busy_fraction =
      summary.wall_seconds > 0 ? (after.write_seconds - store_before.write_seconds) / summary.wall_seconds : 0;
  summary.store_cpu_seconds = after.cpu_seconds - store_before.cpu_seconds;
  if (options.archive != nullptr) {
    // Every file the run wrote is the run's, those no page row points into included (a last file
    // of robots.txt answers): export --format cdxj indexes them all.
    const std::vector<std::string> files = options.archive->files();
    for (const std::string& file : files) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
    const WarcStats st = options.archive->stats();
    summary.archive = {.files = st.files, .records = st.records, .revisits = st.revisits, .bytes = st.bytes_written,
                       .payload_bytes = st.payload_bytes, .write_seconds = st.write_seconds,
                       .first_file = files.empty() ? "" : files.front(), .last_file = files.empty() ? "" : files.back()};
  }
  summary.run_id = *run;
  summary.mode = options.mode;
  summary.parser = options.parser;
  summary.robots_ignored = options.ignore_robots;
  summary.tls_unverified = options.insecure;
  FANOUT_RETURN_IF_ERROR(store.FinishRun(RunSummary{.pages = summary.pages_before + summary.pages,
                                                    .errors = summary.errors,
                                                    .bytes = summary.bytes,
                                                    .wall_seconds = summary.wall_seconds,
                                                    .pages_per_second = summary.pages_per_second,
                                                    .summary_json = summary.ToJson(),
                                                    .interrupted = summary.interrupted}));
  return summary;
}

}  // namespace fanout
