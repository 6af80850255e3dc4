// Smoke tests for the tutorial's programs (samples/tutorial): each step crawls a small synthetic
// site served on loopback, and what it reports must be what the server saw. A step that lost
// pages, fetched one twice or miscounted fails here before a reader finds out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/sample_crawler.h"
#include "tests/support/subprocess.h"
#include "testsite/server.h"

namespace fanout::test {
namespace {

class TutorialStep : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = ServeSampleSite();
    ASSERT_TRUE(server_);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Binary() const { return std::string(FANOUT_TUTORIAL_DIR) + "/" + GetParam(); }

  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_P(TutorialStep, CrawlsEveryPageOfTheSiteOnce) {
  ProcessResult run = RunProcess({Binary(), server_->url(), "--max-pages", "1000", "--concurrency", "8"}, 60000);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const CrawlReport report = ReadCrawlReport(run.out);
  EXPECT_EQ(report.pages, static_cast<int>(kSampleSitePages)) << run.out;
  EXPECT_EQ(report.errors, 0) << run.out;
  ExpectEachPageFetchedOnce(*server_);
}

TEST_P(TutorialStep, StopsAtMaxPages) {
  ProcessResult run = RunProcess({Binary(), server_->url(), "--max-pages", "10", "--concurrency", "4"}, 60000);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadCrawlReport(run.out).pages, 10) << run.out;
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
