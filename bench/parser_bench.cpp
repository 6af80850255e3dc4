// parser_bench: microseconds per page for ParseHtml (gumbo), on synthetic pages of two sizes and
// on a large real page given by FANOUT_BENCH_HTML (a path; scripts/bench-parser.sh picks one that
// a Debian package ships). Google Benchmark prints the figures.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "parser/html_parser.h"
#include "testsite/synthetic.h"

namespace {

void ParsePage(benchmark::State& state, const std::string& html) {
  size_t links = 0;
  for (auto _ : state) {
    fanout::ParsedPage page = fanout::ParseHtml(html);
    links += page.links.size();
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * html.size()));
  state.counters["links"] = static_cast<double>(links) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["bytes"] = static_cast<double>(html.size());
}

void BM_SyntheticPage(benchmark::State& state) {
  fanout::testsite::SyntheticSite site(
      {.pages = 20000, .links = 10, .page_bytes = static_cast<size_t>(state.range(0)), .seed = 1});
  ParsePage(state, site.Render(1234, "http://127.0.0.1:8080"));
}
BENCHMARK(BM_SyntheticPage)->Arg(10000)->Arg(20000)->Unit(benchmark::kMicrosecond);

void BM_RealPage(benchmark::State& state) {
  const char* path = std::getenv("FANOUT_BENCH_HTML");
  std::ifstream in(path ? path : "");
  if (!in) {
    state.SkipWithError("set FANOUT_BENCH_HTML to a large HTML file");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  state.SetLabel(path);
  ParsePage(state, ss.str());
}
BENCHMARK(BM_RealPage)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
