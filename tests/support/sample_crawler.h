// What the smoke tests of the tutorial's programs and of the Python samples share: the small site
// they crawl, the report line they all print last, and the check that the server saw each page of
// the site exactly once.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>
#include <string>

#include "tests/support/status_matchers.h"
#include "testsite/server.h"

namespace fanout::test {

inline constexpr uint64_t kSampleSitePages = 60;

// A started server with a kSampleSitePages synthetic site; nullptr (and a test failure) if it
// could not start. 5 ms of latency: enough that a crawler which serialises its transfers is
// visibly slower, not enough to slow the suite.
inline std::unique_ptr<testsite::SiteServer> ServeSampleSite() {
  testsite::ServerOptions o;
  o.synthetic = testsite::SyntheticOptions{.pages = kSampleSitePages, .links = 8, .page_bytes = 2000, .seed = 7};
  o.latency_ms = 5;
  auto server = testsite::SiteServer::Create(o);
  EXPECT_OK(server);
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(server).value();
}

struct CrawlReport {
  int pages = -1, errors = -1;  // -1: no report line
};

// The last line of `out`, which must be the report: "pages: N  errors: E  seconds: S  pages/s: R".
inline CrawlReport ReadCrawlReport(const std::string& out) {
  static const std::regex line(R"(pages: (\d+)  errors: (\d+)  seconds: [0-9]+\.[0-9]{3}  pages/s: [0-9]+\.[0-9])");
  std::string last = out;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  last = last.substr(last.find_last_of('\n') == std::string::npos ? 0 : last.find_last_of('\n') + 1);
  CrawlReport r;
  std::smatch m;
  if (std::regex_match(last, m, line)) {
    r.pages = std::stoi(m[1]);
    r.errors = std::stoi(m[2]);
  }
  return r;
}

// Every page of the sample site requested once, by the server's log.
inline void ExpectEachPageFetchedOnce(const testsite::SiteServer& server) {
  std::map<std::string, int> fetched;
  for (const testsite::LogEntry& e : server.log()) ++fetched[e.target];
  EXPECT_EQ(fetched.size(), kSampleSitePages);
  for (const auto& [target, times] : fetched) EXPECT_EQ(times, 1) << target << " fetched " << times << " times";
}

}  // namespace fanout::test
