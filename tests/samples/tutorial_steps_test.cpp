// Smoke tests for the tutorial's programs (samples/tutorial): each step crawls a small synthetic
// site served on loopback, and what it reports must be what the server saw. A step that lost
// pages, fetched one twice or miscounted fails here before a reader finds out.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "testsite/server.h"

namespace fanout::test {
namespace {

constexpr uint64_t kSitePages = 60;

struct Report {
  int pages = -1, errors = -1;
};

// The step's last line: "pages: N  errors: E  seconds: S  pages/s: R".
Report ReadReport(const std::string& out) {
  static const std::regex line(R"(pages: (\d+)  errors: (\d+)  seconds: [0-9.]+  pages/s: [0-9.]+)");
  Report r;
  std::smatch m;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it) {
    r.pages = std::stoi((*it)[1]);
    r.errors = std::stoi((*it)[2]);
  }
  return r;
}

class TutorialStep : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testsite::ServerOptions o;
    o.synthetic = testsite::SyntheticOptions{.pages = kSitePages, .links = 8, .page_bytes = 2000, .seed = 7};
    o.latency_ms = 5;  // enough that a step which serialises its transfers is visibly slower, not enough to slow CI
    auto server = testsite::SiteServer::Create(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server.value());
    server_->Start();
  }
  void TearDown() override { server_->Stop(); }

  std::string Binary() const { return std::string(FANOUT_TUTORIAL_DIR) + "/" + GetParam(); }

  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_P(TutorialStep, CrawlsEveryPageOfTheSiteOnce) {
  ProcessResult run = RunProcess({Binary(), server_->url(), "--max-pages", "1000", "--concurrency", "8"}, 60000);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Report report = ReadReport(run.out);
  EXPECT_EQ(report.pages, static_cast<int>(kSitePages)) << run.out;
  EXPECT_EQ(report.errors, 0) << run.out;
  std::map<std::string, int> fetched;
  for (const testsite::LogEntry& e : server_->log()) ++fetched[e.target];
  EXPECT_EQ(fetched.size(), kSitePages);
  for (const auto& [target, times] : fetched) EXPECT_EQ(times, 1) << target << " fetched " << times << " times";
}

TEST_P(TutorialStep, StopsAtMaxPages) {
  ProcessResult run = RunProcess({Binary(), server_->url(), "--max-pages", "10", "--concurrency", "4"}, 60000);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadReport(run.out).pages, 10) << run.out;
  EXPECT_EQ(server_->stats().requests, 10u);
}

TEST_P(TutorialStep, RejectsABadArgument) {
  ProcessResult run = RunProcess({Binary(), "not-a-url"}, 10000);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("usage:"), std::string::npos) << run.err;
}

// Steps are added here as they are written: the name of the program in samples/tutorial.
INSTANTIATE_TEST_SUITE_P(Steps, TutorialStep,
                         ::testing::Values("step1_blocking", "step2_threads", "step3_multi", "step4_event_loop",
                                           "step5_coroutines", "step6_limits", "step7_pool"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fanout::test
