// parser_bench: ParseHtml's speed (MB/s, us per page) with the fast path (auto) and with gumbo's tree
// alone, side by side, on synthetic pages of two sizes and on the real pages named by
// FANOUT_BENCH_HTML (paths separated by ':'; scripts/bench-parser.sh picks the largest pages Debian's
// JDK, Python and PostgreSQL documentation ship). Google Benchmark prints the figures.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parser/html_parser.h"
#include "testsite/synthetic.h"

namespace {

void ParsePage(benchmark::State& state, const std::string& html, fanout::HtmlParser parser) {
  size_t links = 0;
  bool fast = false;
  for (auto _ : state) {
    fanout::ParsedPage page = fanout::ParseHtml(html, {.parser = parser});
    links += page.links.size();
    fast = page.fast_path;
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * html.size()));
  state.counters["links"] = static_cast<double>(links) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["kB"] = static_cast<double>(html.size()) / 1000;
  state.counters["fast"] = fast ? 1 : 0;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Register(const std::string& name, const std::string& html) {
  benchmark::RegisterBenchmark((name + "/auto").c_str(), [html](benchmark::State& s) {
    ParsePage(s, html, fanout::HtmlParser::kAuto);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark((name + "/gumbo").c_str(), [html](benchmark::State& s) {
    ParsePage(s, html, fanout::HtmlParser::kGumbo);
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  for (size_t bytes : {10000, 20000}) {
    fanout::testsite::SyntheticSite site({.pages = 20000, .links = 10, .page_bytes = bytes, .seed = 1});
    Register("synthetic-" + std::to_string(bytes / 1000) + "kB", site.Render(1234, "http://127.0.0.1:8080"));
  }
  if (const char* paths = std::getenv("FANOUT_BENCH_HTML")) {
    std::stringstream list(paths);
    for (std::string path; std::getline(list, path, ':');) {
      if (path.empty()) continue;
      std::string html = Slurp(path);
      if (html.empty()) continue;
      Register(path.substr(path.rfind('/', path.rfind('/') - 1) + 1), html);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
