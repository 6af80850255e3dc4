// serve_load: opens N connections to a fanout serve site at once, one GET on each, and reports
// how long they took and how many the server held in flight together (from its /__stats).
// Used by scripts/bench-serve.sh; talks only to the URL it is given, which must be loopback.
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include "tests/support/http_client.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: serve_load URL CONNECTIONS\n");
    return 2;
  }
  const std::string url = argv[1];
  const int n = std::atoi(argv[2]);
  if (!std::regex_search(url, std::regex(R"(^http://(127\.[0-9.]+|\[::1\]|localhost)[:/])")) || n <= 0) {
    std::fprintf(stderr, "serve_load: URL must be on loopback and CONNECTIONS positive\n");
    return 2;
  }
  fanout::test::HttpGet(fanout::test::HttpRequest{.url = url + "__stats/reset", .method = "POST"});
  std::vector<fanout::test::HttpRequest> requests(
      static_cast<size_t>(n), fanout::test::HttpRequest{.url = url, .timeout_ms = 120000});
  auto start = std::chrono::steady_clock::now();
  auto responses = fanout::test::HttpGetParallel(requests);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int ok = 0;
  for (const auto& r : responses) ok += r.status == 200;
  std::string stats = fanout::test::HttpGet(url + "__stats").body;
  std::smatch m;
  std::regex_search(stats, m, std::regex(R"("max_in_flight":([0-9]+))"));
  std::printf("%d requests at once: %d answered 200 in %.3f s, server max in flight %s\n", n, ok, wall,
              m.size() > 1 ? m[1].str().c_str() : "?");
  return ok == n ? 0 : 1;
}
