// url_bench: what resolving a page's links costs, per link, by the three ways fanout has: the
// WHATWG rules with the resolver's fast path (what a crawl does), the WHATWG parser for every href,
// and the RFC 3986 rules (curl's URL API) that runs before schema version 8 used. On a synthetic page
// and on the real pages named by FANOUT_BENCH_HTML (paths separated by ':'; scripts/bench-urls.sh
// picks Debian's JDK, Python and PostgreSQL documentation). Google Benchmark prints the figures.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crawler/url.h"
#include "parser/html_parser.h"
#include "testsite/synthetic.h"

namespace {

using fanout::UrlResolver;
using fanout::UrlRules;

// One resolver per page, as a crawl makes one: what it remembers within a page counts, as in a crawl.
void ResolvePage(benchmark::State& state, const std::string& base, const std::vector<std::string>& hrefs,
                 UrlRules rules, UrlResolver::How how) {
  size_t resolved = 0;
  for (auto _ : state) {
    UrlResolver resolver(base, rules, how);
    for (const std::string& href : hrefs) {
      fanout::Result<std::string> url = resolver.Resolve(href);
      resolved += url.ok() ? 1 : 0;
      benchmark::DoNotOptimize(url);
    }
  }
  state.counters["links"] = static_cast<double>(hrefs.size());
  state.counters["ok"] = static_cast<double>(resolved) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["links/s"] = benchmark::Counter(static_cast<double>(hrefs.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void Register(const std::string& name, const std::string& base, const std::string& html) {
  std::vector<std::string> hrefs;
  for (const fanout::HtmlLink& link : fanout::ParseHtml(html).links) hrefs.push_back(link.href);
  const struct {
    const char* way;
    UrlRules rules;
    UrlResolver::How how;
  } ways[] = {{"whatwg", UrlRules::kWhatwg, UrlResolver::How::kFastPath},
              {"whatwg-parser-only", UrlRules::kWhatwg, UrlResolver::How::kFullParser},
              {"rfc3986-curl", UrlRules::kRfc3986, UrlResolver::How::kFullParser}};
  for (const auto& w : ways) {
    benchmark::RegisterBenchmark((name + "/" + w.way).c_str(), [=](benchmark::State& s) {
      ResolvePage(s, base, hrefs, w.rules, w.how);
    })->Unit(benchmark::kMicrosecond);
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  fanout::testsite::SyntheticSite site({.pages = 20000, .links = 10, .page_bytes = 20000, .seed = 1});
  Register("synthetic-20kB", "http://127.0.0.1:8080/p/1234.html", site.Render(1234, "http://127.0.0.1:8080"));
  if (const char* paths = std::getenv("FANOUT_BENCH_HTML")) {
    std::stringstream list(paths);
    for (std::string path; std::getline(list, path, ':');) {
      if (path.empty()) continue;
      const std::string name = path.substr(path.rfind('/') + 1);
      // Served on loopback under its own path, as a crawl of the documentation would see it.
      Register(name, "http://127.0.0.1:8080" + path, Slurp(path));
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
