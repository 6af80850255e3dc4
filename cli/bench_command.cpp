#include "cli/bench_command.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/command_error.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "cli/external_command.h"
#include "cli/html_report.h"
#include "cli/text_table.h"
#include "testsite/server.h"
#include "testsite/synthetic.h"

extern char** environ;

namespace fanout::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BenchOptions {
  std::string url;  // "" : serve a synthetic site ourselves
  std::vector<std::string> modes = {"sync", "threads", "async"};
  std::vector<size_t> concurrency = {1, 16, 128, 512};
  uint64_t pages = 2000;
  int links = 10;
  size_t page_bytes = 10000;
  int latency_ms = 50;
  uint64_t sync_pages = 200;  // the page budget of the sync mode (it is slow on purpose)
  int repeat = 1;
  std::string json_file, csv_file, html_file;
  std::vector<std::string> vs_commands;  // --vs: other crawlers, as shell command lines
  std::vector<std::string> vs_names;     // --vs-name: their labels, in --vs order
  double vs_timeout_seconds = 300;
};

// One cell of the table: a mode at a concurrency, the median of its repeats by pages/s. A --vs
// command's cell has the same shape, its `report` made by bench from the server's count and the
// command's rusage, so that every output treats both kinds of row alike.
struct Cell {
  std::string mode;  // "sync", "threads", "async", or a --vs command's label
  size_t concurrency = 0;
  json report;  // the crawl's --report
  double speedup = 0, efficiency = 0;
  double ideal_pages_per_second = 0;  // 0: no ideal (a URL, or no latency)
  double slowest{}, fastest{};  // pages/s of the slowest and fastest of the repeats: the spread
  bool has_concurrency = true;  // false for a --vs command without {concurrency}
  // A --vs row's own ({} so that -Wextra accepts Cell{.mode = ...} leaving them empty):
  std::optional<ExternalRun> external{};  // how its command ended
  std::string command{};                  // the command as given
};

// "async 16", or a --vs command's label alone when it has no concurrency: for the charts.
std::string Label(const Cell& c) {
  return c.has_concurrency ? c.mode + " " + std::to_string(c.concurrency) : c.mode;
}

// "async at 16", or the label alone: for messages.
std::string Describe(const Cell& c) {
  return c.has_concurrency ? c.mode + " at " + std::to_string(c.concurrency) : c.mode;
}

std::string StatusOf(const Cell& c) { return c.external ? c.external->Describe() : "ok"; }

bool HasExternalRows(const std::vector<Cell>& cells) {
  return std::any_of(cells.begin(), cells.end(), [](const Cell& c) { return c.external.has_value(); });
}

// Runs `fanout crawl` as a child process, so each cell has its own CPU, RSS and database.
Result<json> RunCrawl(const std::string& self, const std::string& url, const std::string& mode, size_t c,
                      uint64_t max_pages, const fs::path& dir) {
  const std::string db = (dir / "bench.db").string();
  const std::string report = (dir / "report.json").string();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
  std::vector<std::string> args = {self,          "crawl",      url,       "--db",           db,
                                   "--mode",      mode,         "--quiet", "--report",       report,
                                   "--concurrency", std::to_string(c), "--per-host", std::to_string(c),
                                   "--max-pages", std::to_string(max_pages)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    return Status::IOError("cannot start " + self);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError("the " + mode + " crawl at concurrency " + std::to_string(c) + " failed");
  }
  std::ifstream in(report);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return Status::IOError("unreadable report " + report);
  return j;
}

double CpuPerThousand(const json& r) {
  double pages = r.value("pages", 0.0);
  return pages > 0 ? 1000 * (r.value("cpu_user_seconds", 0.0) + r.value("cpu_system_seconds", 0.0)) / pages : 0;
}

// What bench ran on: the synthetic site's shape or the URL, for the table's title and the page's.
std::string SiteDescription(const BenchOptions& o) {
  if (!o.url.empty()) return o.url;
  return "synthetic site of " + std::to_string(o.pages) + " pages, " + std::to_string(o.links) + " links, ~" +
         std::to_string(o.page_bytes) + " bytes, latency " + std::to_string(o.latency_ms) + " ms";
}

// The table's rows, as the text table prints them and the HTML page shows them.
html::Table TableOf(const std::vector<Cell>& cells, int repeat) {
  // A status column only beside --vs rows: fanout's own crawls either succeed or stop the bench.
  const bool with_status = HasExternalRows(cells);
  // With repeats, the spread of pages/s beside the median: on a busy machine one run says little.
  const bool with_range = repeat > 1;
  html::Table table{.id = "cells", .header = {"mode", "conc", "pages", "wall s", "pages/s"}, .rows = {}, .align = ""};
  if (with_range) table.header.push_back("min-max");
  for (const char* h : {"speed-up", "efficiency", "CPU s/1k pages", "peak RSS MB", "ctx switches"}) {
    table.header.push_back(h);
  }
  if (with_status) table.header.push_back("status");
  for (const Cell& c : cells) {
    const json& r = c.report;
    std::vector<std::string> row = {
        c.mode, c.has_concurrency ? std::to_string(c.concurrency) : "-", std::to_string(r.value("pages", int64_t{0})),
        Fixed(r.value("wall_seconds", 0.0), 2), Fixed(r.value("pages_per_second", 0.0), 1)};
    if (with_range) row.push_back(Fixed(c.slowest, 1) + "-" + Fixed(c.fastest, 1));
    row.insert(row.end(), {
        c.speedup > 0 ? Fixed(c.speedup, 1) + "x" : "-", c.efficiency > 0 ? Fixed(100 * c.efficiency, 0) + "%" : "-",
        Fixed(CpuPerThousand(r), 2), Fixed(r.value("peak_rss_kb", 0) / 1024.0, 1),
        std::to_string(r.value("voluntary_switches", int64_t{0}) + r.value("involuntary_switches", int64_t{0}))});
    if (with_status) row.push_back(StatusOf(c));
    table.rows.push_back(std::move(row));
  }
  return table;
}

const char* kTableNotes =
    "speed-up: pages/s over sync (- without sync). efficiency: pages/s against the latency-bound ideal, "
    "concurrency / latency.";
const char* kVsNotes =
    "--vs rows: pages are the page requests bench's server answered with 200 during the run; CPU, RSS and "
    "switches are the command's own, from wait4.";

void PrintTable(const std::vector<Cell>& cells, const BenchOptions& o, std::ostream& out) {
  // Worded as it always was: docs/tutorial.md quotes this line.
  out << "fanout bench: " << o.pages << " pages, " << o.links << " links, ~" << o.page_bytes << " bytes, latency "
      << o.latency_ms << " ms; sync limited to " << o.sync_pages << " pages; median of " << o.repeat << "\n";
  const html::Table rows = TableOf(cells, o.repeat);
  TextTable table(rows.header);
  for (const std::vector<std::string>& row : rows.rows) table.AddRow(row);
  table.Print(out);
  out << kTableNotes << "\n";
  if (o.repeat > 1) out << "min-max: pages/s of the slowest and the fastest of the " << o.repeat << " runs.\n";
  if (HasExternalRows(cells)) out << kVsNotes << "\n";
}

// The shortest time any crawler could fetch `pages` pages of the synthetic site whose breadth-first
// levels are `levels`, `concurrency` at a time, each request taking `latency_ms` and nothing else
// taking time: robots.txt is the first round, and a page at depth k waits for the k rounds of its
// ancestors after that (its link is not known before). So with n_k of the pages at depth k or deeper, the
// rounds are 1 + max over k of (k + ceil(n_k / concurrency)): the level-by-level sum would be no
// bound, since a crawl overlaps one level's tail with the next level's head. The pages are the
// shallowest `pages`, which minimise every n_k. Returns seconds; 0 with no latency.
double IdealSeconds(const std::vector<uint64_t>& levels, uint64_t pages, size_t concurrency, int latency_ms) {
  std::vector<uint64_t> taken;  // the shallowest `pages` pages, by level
  for (uint64_t left = pages, k = 0; left > 0 && k < levels.size(); ++k) {
    taken.push_back(std::min(left, levels[k]));
    left -= taken.back();
  }
  uint64_t deeper = 0, rounds = 0;
  for (size_t k = taken.size(); k-- > 0;) {
    deeper += taken[k];
    rounds = std::max<uint64_t>(rounds, k + (deeper + concurrency - 1) / concurrency);
  }
  return static_cast<double>(1 + rounds) * latency_ms / 1000.0;
}

json CellJson(const Cell& c) {
  json j = {{"mode", c.mode},
            {"concurrency", c.has_concurrency ? json(c.concurrency) : json(nullptr)},
            {"speedup", c.speedup},
            {"efficiency", c.efficiency},
            {"pages_per_second_min", c.slowest},
            {"pages_per_second_max", c.fastest},
            {"cpu_seconds_per_1000_pages", CpuPerThousand(c.report)},
            {"ideal_pages_per_second", c.ideal_pages_per_second > 0 ? json(c.ideal_pages_per_second) : json(nullptr)},
            {"report", c.report}};
  if (c.external) {
    j["external"] = {{"command", c.command},
                     {"status", c.external->Describe()},
                     {"exit_code", c.external->exit_code},
                     {"signal", c.external->signal},
                     {"timed_out", c.external->timed_out},
                     {"stdout_last_line", LastLine(c.external->stdout_tail)},
                     {"stderr_last_line", LastLine(c.external->stderr_tail)}};
  }
  return j;
}

// A point of the latency-bound ideal line (IdealSeconds).
struct IdealPoint {
  size_t concurrency = 0;
  uint64_t pages = 0;
  double seconds = 0;
  double pages_per_second() const { return seconds > 0 ? static_cast<double>(pages) / seconds : 0; }
};

// The bench as a page: the charts a talk would show, then the table.
std::string Html(const std::vector<Cell>& cells, const BenchOptions& o, const std::vector<IdealPoint>& ideal) {
  using html::Escape;
  // A line per mode and per --vs label, in the order they ran, so every chart colours them alike.
  std::vector<std::pair<std::string, std::vector<const Cell*>>> groups;
  std::vector<double> levels;
  for (const Cell& c : cells) {
    auto group = std::find_if(groups.begin(), groups.end(), [&c](const auto& g) { return g.first == c.mode; });
    if (group == groups.end()) group = groups.insert(groups.end(), {c.mode, {}});
    group->second.push_back(&c);
    if (c.has_concurrency) levels.push_back(static_cast<double>(c.concurrency));
  }
  for (const IdealPoint& p : ideal) levels.push_back(static_cast<double>(p.concurrency));
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  auto chart = [&](const std::string& id, const std::string& title, const std::string& y_label, auto value) {
    html::LineChart line{.id = id, .title = title, .x_label = "concurrency: transfers in flight at most (log scale)",
                         .y_label = y_label, .log_x = true, .x_ticks = levels, .y_max = 0, .series = {},
                         .note = "", .small = false};
    for (const auto& [label, members] : groups) {
      html::Series series;
      series.name = label;
      for (const Cell* c : members) series.points.push_back({static_cast<double>(c->concurrency), value(*c)});
      // A --vs command without {concurrency} has one figure and no x: a level across the chart.
      series.constant = !members.front()->has_concurrency;
      line.series.push_back(std::move(series));
    }
    return line;
  };
  html::LineChart throughput = chart("throughput", "Throughput against concurrency", "pages/s",
                                     [](const Cell& c) { return c.report.value("pages_per_second", 0.0); });
  if (!ideal.empty()) {
    html::Series line;
    line.name = "ideal: latency-bound";
    line.colour = "#777777";
    line.dashed = true;
    for (const IdealPoint& p : ideal) line.points.push_back({static_cast<double>(p.concurrency), p.pages_per_second()});
    throughput.series.push_back(std::move(line));
    throughput.note = "ideal: every request takes the site's " + std::to_string(o.latency_ms) +
                      " ms and nothing else takes time; at most C at once, and a page waits for the page linking "
                      "to it (the site's breadth-first levels), robots.txt first. Sync ran " +
                      std::to_string(std::min(o.sync_pages, o.pages)) + " pages, the others " +
                      std::to_string(o.pages) + ".";
  }
  const html::LineChart cpu = chart("cpu", "CPU seconds per 1,000 pages", "CPU seconds (user + system)",
                                    [](const Cell& c) { return CpuPerThousand(c.report); });
  const html::LineChart rss = chart("rss", "Peak resident memory", "peak RSS, MB",
                                    [](const Cell& c) { return c.report.value("peak_rss_kb", 0.0) / 1024.0; });
  std::vector<std::pair<std::string, const json*>> own;  // a --vs command is timed from outside: no phases
  std::string timelines;
  for (const Cell& c : cells) {
    if (c.external) continue;
    own.emplace_back(Label(c), &c.report);
    timelines += html::Render(html::InFlightChart("in-flight-" + c.mode + "-" + std::to_string(c.concurrency),
                                                  Label(c), c.report, true));
  }
  html::StackedBars phases = html::PhaseBars("phases", own);
  std::string body = "<p class=\"meta\">" + Escape(SiteDescription(o)) + "; sync limited to " +
                     std::to_string(o.sync_pages) + " pages; median of " + std::to_string(o.repeat) +
                     " run(s) per cell, each a fresh <code>fanout crawl</code> process and database.</p>" + html::Provenance();
  body += "<h2>Throughput</h2>" + html::Render(throughput);
  body += "<h2>Cost</h2>" + html::Render(cpu) + html::Render(rss);
  body += "<h2>Where the time went</h2>" + html::Render(phases);
  body += "<h2>Fetches in flight over time</h2><p class=\"note\">Per cell: transfers in flight and URLs queued "
          "in the frontier, sampled at a fixed interval (the crawl's in_flight_timeline). In flight under the limit "
          "while URLs are queued is starvation; the queue empty, the site's breadth.</p><div class=\"grid\">" +
          timelines + "</div>";
  body += "<h2>The numbers</h2>" + html::Render(TableOf(cells, o.repeat)) + "<p class=\"note\">" + Escape(kTableNotes) + "</p>";
  if (HasExternalRows(cells)) body += "<p class=\"note\">" + Escape(kVsNotes) + "</p>";
  return html::Page("fanout bench", body);
}
// A directory removed with everything in it when it goes out of scope.
class ScopedDir {
 public:
  explicit ScopedDir(fs::path path) : path_(std::move(path)) { fs::create_directories(path_); }
  ~ScopedDir() {
    std::error_code ignored;  // a directory we cannot remove is left in /tmp, not an error to report
    fs::remove_all(path_, ignored);
  }
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Whether a request target is a page: robots.txt and sitemaps are the crawl's bookkeeping.
bool IsPageTarget(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/robots.txt") return false;
  const std::string_view file = path.substr(path.rfind('/') + 1);
  return !file.starts_with("sitemap");
}

// The page requests the server answered with 200 since its last ResetStats (/__* are never
// logged): what a --vs crawler fetched, counted without anything from the crawler itself.
uint64_t PagesServed(const std::vector<testsite::LogEntry>& log) {
  return static_cast<uint64_t>(std::count_if(log.begin(), log.end(), [](const testsite::LogEntry& e) {
    return e.status == 200 && e.method == "GET" && IsPageTarget(e.target);
  }));
}

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

// The log must hold every request of a --vs run for the count to be exact: room for each page
// several times over (robots.txt, errors, a crawler that fetches twice).
size_t VsLogCapacity(const BenchOptions& o) {
  return o.vs_commands.empty() ? 0 : std::max<size_t>(100'000, 4 * o.pages + 1'000);
}

// One run of a --vs command against bench's own server. The server's counters are zeroed first
// and read once the command has exited; {outdir} is a fresh directory, removed afterwards.
Result<Cell> RunVsOnce(const std::string& command, const std::string& label, std::optional<size_t> concurrency,
                       testsite::SiteServer& server, const fs::path& outdir, const BenchOptions& o) {
  std::map<std::string, std::string> values = {{"url", server.url()}, {"outdir", outdir.string()}};
  if (concurrency) values["concurrency"] = std::to_string(*concurrency);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(o.vs_timeout_seconds * 1000));
  Result<ExternalRun> run = [&] {
    ScopedDir scratch(outdir);
    server.ResetStats();
    return RunShellCommand(ExpandPlaceholders(command, values), timeout);
  }();
  if (!run.ok()) return Status::IOError("cannot run --vs " + label + ": " + run.status().message());
  const std::vector<testsite::LogEntry> log = server.log();
  const testsite::ServerStats stats = server.stats();
  if (log.size() >= VsLogCapacity(o)) {
    std::cerr << "fanout bench: warning: the server's log filled up during " << label
              << ": its page count may be short\n";
  }
  const uint64_t pages = PagesServed(log);
  const rusage& ru = run->usage;
  Cell cell;
  cell.mode = label;
  cell.command = command;
  cell.has_concurrency = concurrency.has_value();
  cell.concurrency = concurrency.value_or(0);
  // The fields of a crawl's --report that bench can know from outside the command.
  cell.report = {{"pages", pages},
                 {"requests", stats.requests},
                 {"max_in_flight", stats.max_in_flight},
                 {"wall_seconds", run->wall_seconds},
                 {"pages_per_second", run->wall_seconds > 0 ? static_cast<double>(pages) / run->wall_seconds : 0.0},
                 {"cpu_user_seconds", Seconds(ru.ru_utime)},
                 {"cpu_system_seconds", Seconds(ru.ru_stime)},
                 {"peak_rss_kb", ru.ru_maxrss},
                 {"voluntary_switches", ru.ru_nvcsw},
                 {"involuntary_switches", ru.ru_nivcsw}};
  cell.external = std::move(run.value());
  return cell;
}

// Says on stderr why a --vs run failed: its status and the last line it wrote there.
void WarnFailedRun(const Cell& cell, const BenchOptions& o) {
  const ExternalRun& run = *cell.external;
  std::cerr << "fanout bench: warning: --vs " << Describe(cell);
  if (run.timed_out) {
    std::cerr << " timed out after " << o.vs_timeout_seconds << " s; its process group was killed";
  } else {
    std::cerr << " failed (" << run.Describe() << ")";
  }
  if (const std::string last = LastLine(run.stderr_tail); !last.empty()) std::cerr << ": " << last;
  std::cerr << "\n";
}

// Labels for the --vs commands: --vs-name where given, else CommandLabel; a repeated label gets
// "#2", "#3", so that each row of the outputs can be told apart.
std::vector<std::string> VsLabels(const BenchOptions& o) {
  std::vector<std::string> labels;
  for (size_t i = 0; i < o.vs_commands.size(); ++i) {
    const std::string base = i < o.vs_names.size() ? o.vs_names[i] : CommandLabel(o.vs_commands[i]);
    std::string label = base;
    for (int n = 2; std::find(labels.begin(), labels.end(), label) != labels.end(); ++n) {
      label = base + "#" + std::to_string(n);
    }
    labels.push_back(label);
  }
  return labels;
}

// Checks the --vs options together, which CLI11 sees one at a time. Returns the one-line message
// of a usage error, or "".
std::string VsUsageError(const BenchOptions& o) {
  if (o.vs_names.size() > o.vs_commands.size()) {
    return std::to_string(o.vs_names.size()) + " --vs-name for " + std::to_string(o.vs_commands.size()) +
           " --vs command(s): give at most one name per --vs, in the same order";
  }
  if (!o.vs_commands.empty() && !o.url.empty()) {
    return "--vs needs bench's own site (no URL): its pages are counted by that server";
  }
  for (const std::string& command : o.vs_commands) {
    // Bench's site is on a port chosen at run time: a command without {url} cannot be crawling it.
    if (command.find("{url}") == std::string::npos) return "--vs '" + command + "' has no {url}: it would not crawl bench's site";
  }
  return "";
}

int RunBench(const BenchOptions& o) {
  if (const std::string error = VsUsageError(o); !error.empty()) {
    return Fail("bench", error, kExitUsage);
  }
  // The reports are opened first, so that a path that cannot be written is found before the runs.
  std::optional<OutputFile> json_out, csv_out, html_out;
  int to_stdout = 0;
  for (auto [path, what, out] : {std::tuple{&o.json_file, "--json", &json_out}, std::tuple{&o.csv_file, "--csv", &csv_out},
                                 std::tuple{&o.html_file, "--html", &html_out}}) {
    if (path->empty()) continue;
    to_stdout += OutputFile::IsStdout(*path) ? 1 : 0;
    Result<OutputFile> opened = OutputFile::Open(*path, what);
    if (!opened.ok()) return Fail("bench", opened.status(), kExitUnavailable);
    out->emplace(std::move(opened).value());
  }
  if (to_stdout > 1) {
    return Fail("bench", "only one of --json, --csv and --html can be '-' (standard output)", kExitUsage);
  }
  std::unique_ptr<testsite::SiteServer> server;
  std::string url = o.url;
  if (url.empty()) {
    testsite::ServerOptions so;
    so.synthetic = testsite::SyntheticOptions{.pages = o.pages, .links = o.links, .page_bytes = o.page_bytes, .seed = 1};
    so.latency_ms = o.latency_ms;
    so.log_capacity = VsLogCapacity(o);
    auto created = testsite::SiteServer::Create(so);
    if (!created.ok()) return Fail("bench", created.status(), kExitUnavailable);
    server = std::move(created.value());
    server->Start();
    url = server->url();
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const ScopedDir dir(fs::temp_directory_path() / ("fanout-bench-" + std::to_string(getpid())));

  // The site's breadth limits the fan-out any crawler can reach: the ideal is computed from it.
  const std::vector<uint64_t> site_levels =
      o.url.empty() && o.latency_ms > 0
          ? testsite::SyntheticSite({.pages = o.pages, .links = o.links, .page_bytes = o.page_bytes, .seed = 1})
                .LevelSizes()
          : std::vector<uint64_t>{};
  auto ideal_rate = [&](uint64_t pages, size_t c) {
    if (site_levels.empty()) return 0.0;
    return IdealPoint{c, pages, IdealSeconds(site_levels, pages, c, o.latency_ms)}.pages_per_second();
  };
  auto efficiency = [&o](const json& report, size_t c) {
    return o.latency_ms > 0 ? report.value("pages_per_second", 0.0) / (static_cast<double>(c) * 1000.0 / o.latency_ms)
                            : 0.0;
  };
  std::vector<Cell> cells;
  double sync_rate = 0;
  for (const std::string& mode : o.modes) {
    std::vector<size_t> levels = mode == "sync" ? std::vector<size_t>{1} : o.concurrency;
    for (size_t c : levels) {
      std::vector<json> runs;
      const uint64_t budget = mode == "sync" ? std::min(o.sync_pages, o.pages) : o.pages;
      for (int r = 0; r < o.repeat; ++r) {
        Result<json> report = RunCrawl(self, url, mode, c, budget, dir.path());
        if (!report.ok()) return Fail("bench", report.status(), kExitFailure);
        runs.push_back(std::move(report.value()));
      }
      std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
        return a.value("pages_per_second", 0.0) < b.value("pages_per_second", 0.0);
      });
      Cell cell{.mode = mode, .concurrency = c, .report = runs[runs.size() / 2]};
      cell.slowest = runs.front().value("pages_per_second", 0.0);
      cell.fastest = runs.back().value("pages_per_second", 0.0);
      if (mode == "sync") sync_rate = cell.report.value("pages_per_second", 0.0);
      cell.efficiency = efficiency(cell.report, c);
      cell.ideal_pages_per_second = ideal_rate(budget, c);
      cells.push_back(std::move(cell));
      std::cerr << "fanout bench: " << mode << " at " << c << " done\n";
    }
  }

  bool vs_failed = false;
  const std::vector<std::string> labels = VsLabels(o);
  for (size_t i = 0; i < o.vs_commands.size(); ++i) {
    const std::string& command = o.vs_commands[i];
    // Like threads and async, once per concurrency level; once in all if it takes none.
    std::vector<std::optional<size_t>> levels;
    if (command.find("{concurrency}") != std::string::npos) {
      levels.assign(o.concurrency.begin(), o.concurrency.end());
    } else {
      levels.push_back(std::nullopt);
    }
    for (const std::optional<size_t>& c : levels) {
      std::vector<Cell> runs;
      for (int r = 0; r < o.repeat; ++r) {
        const fs::path outdir = dir.path() / ("vs-" + std::to_string(i) + "-" + std::to_string(c.value_or(0)) + "-" +
                                              std::to_string(r));
        Result<Cell> run = RunVsOnce(command, labels[i], c, *server, outdir, o);
        if (!run.ok()) return Fail("bench", run.status(), kExitFailure);
        if (!run->external->ok()) WarnFailedRun(run.value(), o);
        runs.push_back(std::move(run.value()));
      }
      // The median by pages/s, as for fanout's cells; but a failed run is the row if there is one,
      // so that a failure is never hidden behind a good median.
      std::sort(runs.begin(), runs.end(), [](const Cell& a, const Cell& b) {
        return a.report.value("pages_per_second", 0.0) < b.report.value("pages_per_second", 0.0);
      });
      auto failed = std::find_if(runs.begin(), runs.end(), [](const Cell& run) { return !run.external->ok(); });
      const double slowest = runs.front().report.value("pages_per_second", 0.0);
      const double fastest = runs.back().report.value("pages_per_second", 0.0);
      Cell cell = std::move(failed != runs.end() ? *failed : runs[runs.size() / 2]);
      cell.slowest = slowest;
      cell.fastest = fastest;
      vs_failed = vs_failed || failed != runs.end();
      if (c) {
        cell.efficiency = efficiency(cell.report, *c);
        cell.ideal_pages_per_second = ideal_rate(o.pages, *c);
      }
      std::cerr << "fanout bench: " << Describe(cell) << " done (" << cell.external->Describe() << ")\n";
      cells.push_back(std::move(cell));
    }
  }
  for (Cell& c : cells) c.speedup = sync_rate > 0 ? c.report.value("pages_per_second", 0.0) / sync_rate : 0;

  // The ideal line: at every level run, and at 1 where sync ran, for the threads and async budget.
  std::vector<IdealPoint> ideal;
  if (!site_levels.empty()) {
    std::vector<size_t> levels = o.concurrency;
    if (std::find(o.modes.begin(), o.modes.end(), "sync") != o.modes.end()) levels.push_back(1);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    for (size_t c : levels) ideal.push_back({c, o.pages, IdealSeconds(site_levels, o.pages, c, o.latency_ms)});
  }

  // A report on standard output is what a pipe gets: the table a person reads goes to stderr then.
  PrintTable(cells, o, to_stdout > 0 ? std::cerr : std::cout);
  const bool with_status = HasExternalRows(cells);
  if (json_out) {
    json rows = json::array();
    for (const Cell& c : cells) rows.push_back(CellJson(c));
    json ideal_rows = json::array();
    for (const IdealPoint& p : ideal) {
      ideal_rows.push_back({{"concurrency", p.concurrency}, {"pages", p.pages}, {"seconds", p.seconds},
                            {"pages_per_second", p.pages_per_second()}});
    }
    json_out->stream() << json{{"pages", o.pages},         {"latency_ms", o.latency_ms}, {"sync_pages", o.sync_pages},
                               {"repeat", o.repeat},       {"url", url},                 {"links", o.links},
                               {"page_bytes", o.page_bytes}, {"site_levels", site_levels}, {"ideal", ideal_rows},
                               {"cells", rows}}
                              .dump(2)
                       << "\n";
  }
  if (csv_out) {
    std::ostream& csv = csv_out->stream();
    csv << "mode,concurrency,pages,wall_seconds,pages_per_second,speedup,efficiency,cpu_seconds_per_1000_pages,"
           "peak_rss_kb,context_switches"
        << (with_status ? ",status" : "") << "\n";
    for (const Cell& c : cells) {
      const json& r = c.report;
      // A --vs label is the user's own text: quoted as CSV needs it.
      std::string mode = c.mode;
      if (mode.find_first_of(",\"\n") != std::string::npos) {
        std::string quoted = "\"";
        for (char ch : mode) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        mode = quoted + "\"";
      }
      csv << mode << "," << (c.has_concurrency ? std::to_string(c.concurrency) : "") << "," << r.value("pages", 0)
          << "," << r.value("wall_seconds", 0.0) << "," << r.value("pages_per_second", 0.0) << "," << c.speedup << ","
          << c.efficiency << "," << CpuPerThousand(r) << "," << r.value("peak_rss_kb", 0) << ","
          << r.value("voluntary_switches", 0) + r.value("involuntary_switches", 0);
      if (with_status) csv << "," << StatusOf(c);
      csv << "\n";
    }
  }
  if (html_out) html_out->stream() << Html(cells, o, ideal);
  for (std::optional<OutputFile>* out : {&json_out, &csv_out, &html_out}) {
    if (!*out) continue;
    if (Status closed = (*out)->Close(); !closed.ok()) return Fail("bench", closed, kExitUnavailable);
  }
  // Everything is printed and written first: a failed --vs run is a result to see, not a reason to lose the rest.
  return vs_failed ? kExitFailure : kExitOk;
}

}  // namespace

void SetupBenchCommand(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Compare sync, threads and async crawling of the same site");
  cmd->add_option("url", opt->url, "Site to crawl (default: a synthetic site served on loopback by bench itself)");
  cmd->add_option("--modes", opt->modes, "Modes to run")->delimiter(',')->capture_default_str()
      ->check(CLI::IsMember({"sync", "threads", "async"}));
  cmd->add_option("--concurrency", opt->concurrency, "Concurrency levels (threads and async)")->delimiter(',')
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{4096}));
  cmd->add_option("--pages", opt->pages, "Pages of the synthetic site, and pages crawled per cell")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  cmd->add_option("--links", opt->links, "Links per synthetic page")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--page-bytes", opt->page_bytes, "Size of a synthetic page")->capture_default_str();
  cmd->add_option("--latency", opt->latency_ms, "Latency of the synthetic site, ms")->capture_default_str()
      ->check(CLI::Range(0, 60000));
  cmd->add_option("--sync-pages", opt->sync_pages, "Page budget of the sync mode (it is measured, not extrapolated)")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  cmd->add_option("--repeat", opt->repeat, "Runs per cell; the median (by pages/s) is reported")
      ->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--json", opt->json_file, "Write the results as JSON");
  cmd->add_option("--csv", opt->csv_file, "Write the table as CSV");
  cmd->add_option("--html", opt->html_file, "Write a self-contained HTML page with charts");
  // Each --vs, --vs-name takes exactly one value, so a URL after one is not read as a second command.
  const auto not_blank = [](const std::string& value) {
    return value.find_first_not_of(" \t\n") == std::string::npos ? std::string("must not be empty") : std::string();
  };
  cmd->add_option("--vs", opt->vs_commands,
                  "Also run this crawler command (by /bin/sh -c) against the same site, as a row of its own; "
                  "{url}, {concurrency} and {outdir} are replaced. Repeatable")
      ->allow_extra_args(false)->check(not_blank);
  cmd->add_option("--vs-name", opt->vs_names, "The label of the --vs command in the same position (default: its "
                  "program's name, or its script's after an interpreter). Repeatable")
      ->allow_extra_args(false)->check(not_blank);
  cmd->add_option("--vs-timeout", opt->vs_timeout_seconds,
                  "Time limit of one --vs run, seconds; past it the command's process group is killed")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  cmd->callback([opt] { throw CLI::RuntimeError(RunBench(*opt)); });
}

}  // namespace fanout::cli
