#include "cli/bench_command.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/text_table.h"
#include "testsite/server.h"

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
};

// One cell of the table: a mode at a concurrency, the median of its repeats by pages/s.
struct Cell {
  std::string mode;
  size_t concurrency = 0;
  json report;  // the crawl's --report
  double speedup = 0, efficiency = 0;
};

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

void PrintTable(const std::vector<Cell>& cells, const BenchOptions& o, std::ostream& out) {
  out << "fanout bench: " << o.pages << " pages, " << o.links << " links, ~" << o.page_bytes << " bytes, latency "
      << o.latency_ms << " ms; sync limited to " << o.sync_pages << " pages; median of " << o.repeat << "\n";
  TextTable table({"mode", "conc", "pages", "wall s", "pages/s", "speed-up", "efficiency", "CPU s/1k pages",
                   "peak RSS MB", "ctx switches"});
  for (const Cell& c : cells) {
    const json& r = c.report;
    table.AddRow({c.mode, std::to_string(c.concurrency), std::to_string(r.value("pages", int64_t{0})),
                  Fixed(r.value("wall_seconds", 0.0), 2), Fixed(r.value("pages_per_second", 0.0), 1),
                  Fixed(c.speedup, 1) + "x", c.efficiency > 0 ? Fixed(100 * c.efficiency, 0) + "%" : "-",
                  Fixed(CpuPerThousand(r), 2), Fixed(r.value("peak_rss_kb", 0) / 1024.0, 1),
                  std::to_string(r.value("voluntary_switches", int64_t{0}) + r.value("involuntary_switches", int64_t{0}))});
  }
  table.Print(out);
  out << "speed-up: pages/s over sync. efficiency: pages/s against the latency-bound ideal, concurrency / latency.\n";
}

json CellJson(const Cell& c) {
  return {{"mode", c.mode}, {"concurrency", c.concurrency}, {"speedup", c.speedup}, {"efficiency", c.efficiency},
          {"cpu_seconds_per_1000_pages", CpuPerThousand(c.report)}, {"report", c.report}};
}

// A bar chart as inline SVG: one bar per label, values to scale, numbers at the bar ends.
std::string BarChart(const std::string& title, const std::vector<std::pair<std::string, double>>& bars,
                     const std::string& unit) {
  double max = 1e-9;
  for (const auto& b : bars) max = std::max(max, b.second);
  const int row = 22, left = 120, width = 460;
  std::ostringstream svg;
  svg << "<figure><figcaption>" << title << "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
      << left + width + 90 << "\" height=\"" << row * bars.size() + 10 << "\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = static_cast<int>(i) * row + 5;
    const int w = static_cast<int>(width * bars[i].second / max);
    svg << "<text x=\"0\" y=\"" << y + 14 << "\">" << bars[i].first << "</text><rect x=\"" << left << "\" y=\"" << y
        << "\" width=\"" << std::max(w, 1) << "\" height=\"16\" fill=\"#3b7dd8\"/><text x=\"" << left + w + 6
        << "\" y=\"" << y + 14 << "\">" << Fixed(bars[i].second, 1) << " " << unit << "</text>";
  }
  svg << "</svg></figure>";
  return svg.str();
}

// Stacked bars: per cell, the mean seconds per page in each phase.
std::string BreakdownChart(const std::vector<Cell>& cells) {
  static const char* kPhases[] = {"queue_wait", "dns", "connect", "tls", "first_byte", "transfer", "parse", "store"};
  static const char* kColours[] = {"#999999", "#e0a040", "#d06030", "#a040a0", "#3b7dd8", "#40a070", "#202020", "#70b0e0"};
  static_assert(std::size(kPhases) == std::size(kColours), "a colour per phase");
  double max = 1e-9;
  std::vector<std::vector<double>> per_page;
  for (const Cell& c : cells) {
    double pages = std::max(1.0, c.report.value("pages", 0.0));
    std::vector<double> v;
    double sum = 0;
    for (const char* p : kPhases) {
      v.push_back(1e3 * c.report["phase_seconds"].value(p, 0.0) / pages);
      sum += v.back();
    }
    max = std::max(max, sum);
    per_page.push_back(v);
  }
  const int row = 22, left = 120, width = 460;
  std::ostringstream svg;
  svg << "<figure><figcaption>Where the time went: milliseconds per page, by phase</figcaption>"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + width + 10 << "\" height=\""
      << row * (cells.size() + 1) + 10 << "\">";
  for (size_t i = 0; i < cells.size(); ++i) {
    const int y = static_cast<int>(i) * row + 5;
    svg << "<text x=\"0\" y=\"" << y + 14 << "\">" << cells[i].mode << " " << cells[i].concurrency << "</text>";
    double x = left;
    for (size_t k = 0; k < per_page[i].size(); ++k) {
      double w = width * per_page[i][k] / max;
      svg << "<rect x=\"" << Fixed(x, 1) << "\" y=\"" << y << "\" width=\"" << Fixed(w, 1)
          << "\" height=\"16\" fill=\"" << kColours[k] << "\"><title>" << kPhases[k] << " "
          << Fixed(per_page[i][k], 2) << " ms</title></rect>";
      x += w;
    }
  }
  const int legend_y = static_cast<int>(cells.size()) * row + 18;
  for (size_t k = 0; k < std::size(kPhases); ++k) {
    svg << "<rect x=\"" << k * 72 << "\" y=\"" << legend_y - 10 << "\" width=\"10\" height=\"10\" fill=\""
        << kColours[k] << "\"/><text x=\"" << k * 72 + 14 << "\" y=\"" << legend_y << "\">" << kPhases[k]
        << "</text>";
  }
  svg << "</svg></figure>";
  return svg.str();
}

std::string Html(const std::vector<Cell>& cells, const BenchOptions& o) {
  std::vector<std::pair<std::string, double>> throughput;
  for (const Cell& c : cells) {
    throughput.emplace_back(c.mode + " " + std::to_string(c.concurrency), c.report.value("pages_per_second", 0.0));
  }
  std::ostringstream table;
  PrintTable(cells, o, table);
  std::string escaped;
  for (char ch : table.str()) escaped += ch == '<' ? "&lt;" : ch == '&' ? "&amp;" : std::string(1, ch);
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fanout bench</title>"
         "<style>body{font:14px sans-serif;margin:2em}svg text{font:12px sans-serif}figure{margin:1.5em 0}"
         "figcaption{font-weight:bold;margin-bottom:.5em}</style></head><body><h1>fanout bench</h1><pre>" +
         escaped + "</pre>" + BarChart("Throughput (pages/s)", throughput, "pages/s") + BreakdownChart(cells) +
         "</body></html>\n";
}

int RunBench(const BenchOptions& o) {
  std::unique_ptr<testsite::SiteServer> server;
  std::string url = o.url;
  if (url.empty()) {
    testsite::ServerOptions so;
    so.synthetic = testsite::SyntheticOptions{.pages = o.pages, .links = o.links, .page_bytes = o.page_bytes, .seed = 1};
    so.latency_ms = o.latency_ms;
    so.log_capacity = 0;
    auto created = testsite::SiteServer::Create(so);
    if (!created.ok()) {
      std::cerr << "fanout bench: " << created.status().message() << "\n";
      return kExitUnavailable;
    }
    server = std::move(created.value());
    server->Start();
    url = server->url();
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const fs::path dir = fs::temp_directory_path() / ("fanout-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);

  std::vector<Cell> cells;
  double sync_rate = 0;
  for (const std::string& mode : o.modes) {
    std::vector<size_t> levels = mode == "sync" ? std::vector<size_t>{1} : o.concurrency;
    for (size_t c : levels) {
      std::vector<json> runs;
      for (int r = 0; r < o.repeat; ++r) {
        Result<json> report = RunCrawl(self, url, mode, c, mode == "sync" ? std::min(o.sync_pages, o.pages) : o.pages, dir);
        if (!report.ok()) {
          std::cerr << "fanout bench: " << report.status().message() << "\n";
          fs::remove_all(dir);
          return kExitFailure;
        }
        runs.push_back(std::move(report.value()));
      }
      std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
        return a.value("pages_per_second", 0.0) < b.value("pages_per_second", 0.0);
      });
      Cell cell{mode, c, runs[runs.size() / 2]};
      if (mode == "sync") sync_rate = cell.report.value("pages_per_second", 0.0);
      if (o.latency_ms > 0) {
        cell.efficiency = cell.report.value("pages_per_second", 0.0) / (static_cast<double>(c) * 1000.0 / o.latency_ms);
      }
      cells.push_back(std::move(cell));
      std::cerr << "fanout bench: " << mode << " at " << c << " done\n";
    }
  }
  for (Cell& c : cells) c.speedup = sync_rate > 0 ? c.report.value("pages_per_second", 0.0) / sync_rate : 0;
  fs::remove_all(dir);

  PrintTable(cells, o, std::cout);
  if (!o.json_file.empty()) {
    json rows = json::array();
    for (const Cell& c : cells) rows.push_back(CellJson(c));
    std::ofstream(o.json_file) << json{{"pages", o.pages}, {"latency_ms", o.latency_ms}, {"sync_pages", o.sync_pages},
                                       {"repeat", o.repeat}, {"url", url}, {"cells", rows}}
                                         .dump(2)
                               << "\n";
  }
  if (!o.csv_file.empty()) {
    std::ofstream csv(o.csv_file);
    csv << "mode,concurrency,pages,wall_seconds,pages_per_second,speedup,efficiency,cpu_seconds_per_1000_pages,"
           "peak_rss_kb,context_switches\n";
    for (const Cell& c : cells) {
      const json& r = c.report;
      csv << c.mode << "," << c.concurrency << "," << r.value("pages", 0) << "," << r.value("wall_seconds", 0.0) << ","
          << r.value("pages_per_second", 0.0) << "," << c.speedup << "," << c.efficiency << "," << CpuPerThousand(r)
          << "," << r.value("peak_rss_kb", 0) << ","
          << r.value("voluntary_switches", 0) + r.value("involuntary_switches", 0) << "\n";
    }
  }
  if (!o.html_file.empty()) std::ofstream(o.html_file) << Html(cells, o);
  return kExitOk;
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
  cmd->callback([opt] { throw CLI::RuntimeError(RunBench(*opt)); });
}

}  // namespace fanout::cli
