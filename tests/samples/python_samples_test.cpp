// Smoke tests for the Python samples (samples/python): each crawls a small synthetic site served
// on loopback, and what it reports must be what the server saw, as for the tutorial's C++ steps.
//
// They run under Debian's /usr/bin/python3 with Debian's python3-requests and python3-aiohttp
// (scripts/common.sh installs them). When one is missing the tests fail and name the package:
// a skipped test would hide that the samples were never run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/support/sample_crawler.h"
#include "tests/support/subprocess.h"
#include "testsite/server.h"

namespace fanout::test {
namespace {

// Debian's interpreter, not the first python3 on PATH: another one (pyenv's, a venv's) does not
// see the modules Debian's packages install.
constexpr const char* kPython = "/usr/bin/python3";

struct Sample {
  std::string script;   // in samples/python
  std::string module;   // the third-party module it imports
  std::string package;  // the Debian package that provides it
};

// gtest prints a parameter of a failed test with this, not as bytes.
void PrintTo(const Sample& sample, std::ostream* os) { *os << sample.script; }

// Success, or a failure that names the Debian package to install.
::testing::AssertionResult PythonCanImport(const Sample& sample) {
  if (access(kPython, X_OK) != 0) {
    return ::testing::AssertionFailure() << kPython << " is missing: install Debian's python3 package "
                                         << "(apt-get install python3, or bash scripts/test.sh as root)";
  }
  ProcessResult r = RunProcess({kPython, "-c", "import " + sample.module}, 30000);
  if (r.exit_code != 0) {
    return ::testing::AssertionFailure() << kPython << " cannot import " << sample.module << ": install Debian's "
                                         << sample.package << " (apt-get install " << sample.package
                                         << ", or bash scripts/test.sh as root)\n" << r.err;
  }
  return ::testing::AssertionSuccess();
}

class PythonSample : public ::testing::TestWithParam<Sample> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PythonCanImport(GetParam()));
    server_ = ServeSampleSite();
    ASSERT_TRUE(server_);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  ProcessResult Crawl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {kPython, std::string(FANOUT_SOURCE_DIR) + "/samples/python/" + GetParam().script};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, 60000);
  }

  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_P(PythonSample, CrawlsEveryPageOfTheSiteOnce) {
  ProcessResult run = Crawl({server_->url(), "--max-pages", "1000", "--concurrency", "8"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const CrawlReport report = ReadCrawlReport(run.out);
  EXPECT_EQ(report.pages, static_cast<int>(kSampleSitePages)) << run.out;
  EXPECT_EQ(report.errors, 0) << run.out;
  ExpectEachPageFetchedOnce(*server_);
}

TEST_P(PythonSample, StopsAtMaxPages) {
  ProcessResult run = Crawl({server_->url(), "--max-pages", "10", "--concurrency", "4"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadCrawlReport(run.out).pages, 10) << run.out;
  EXPECT_EQ(server_->stats().requests, 10u);
}

TEST_P(PythonSample, CountsAMissingPageAsAnError) {
  ProcessResult run = Crawl({server_->url() + "no-such-page.html"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const CrawlReport report = ReadCrawlReport(run.out);
  EXPECT_EQ(report.pages, 1) << run.out;
  EXPECT_EQ(report.errors, 1) << run.out;
}

TEST_P(PythonSample, RejectsABadArgument) {
  ProcessResult run = Crawl({"not-a-url"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("usage:"), std::string::npos) << run.err;
  EXPECT_EQ(server_->stats().requests, 0u);
}

INSTANTIATE_TEST_SUITE_P(Samples, PythonSample,
                         ::testing::Values(Sample{"crawl_blocking.py", "requests", "python3-requests"},
                                           Sample{"crawl_asyncio.py", "aiohttp", "python3-aiohttp"},
                                           Sample{"crawl_multiprocessing.py", "aiohttp", "python3-aiohttp"}),
                         [](const auto& info) { return info.param.script.substr(0, info.param.script.find('.')); });

}  // namespace
}  // namespace fanout::test
