// `fanout serve` as a user runs it: a child process, its first stdout line, its exit codes.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/support/http_client.h"
#include "tests/support/lines.h"
#include "tests/support/subprocess.h"

namespace fanout {
namespace {

using test::LineCount;

using test::RunProcess;
using test::Subprocess;

const std::string kFanout = FANOUT_BINARY;

TEST(ServeCommand, PrintsItsUrlFirstServesAndStopsOnSigterm) {
  Subprocess serve({kFanout, "serve", "--synthetic", "30", "--port", "0"});
  std::string url = serve.ReadStdoutLine(10000);
  ASSERT_TRUE(std::regex_match(url, std::regex(R"(http://127\.0\.0\.1:[0-9]+/)"))) << "first line: " << url;
  test::HttpResponse home = test::HttpGet(url);
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("<title>Page 0 of 30"), std::string::npos);
  serve.Signal(SIGTERM);
  test::ProcessResult done = serve.Wait(10000);
  EXPECT_FALSE(done.timed_out);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.err.find("stopped after 1 requests"), std::string::npos) << done.err;
}

TEST(ServeCommand, ServesTheSampleSiteWithItsFaultFile) {
  Subprocess serve({kFanout, "serve", "--root", std::string(FANOUT_SOURCE_DIR) + "/samples/site", "--fault-file",
                    std::string(FANOUT_SOURCE_DIR) + "/samples/site.faults", "--port", "0"});
  std::string url = serve.ReadStdoutLine(10000);
  ASSERT_FALSE(url.empty());
  test::HttpResponse old = test::HttpGet(url + "old-news.html");
  EXPECT_EQ(old.status, 301);
  EXPECT_EQ(old.headers["location"], "/news/index.html");
  serve.Signal(SIGINT);
  EXPECT_EQ(serve.Wait(10000).exit_code, 0);
}

TEST(ServeCommand, HostsPrintsTheFirstHostsUrlAndServesEveryHost) {
  Subprocess serve({kFanout, "serve", "--synthetic", "3", "--hosts", "4", "--robots-mix", "--port", "0"});
  std::string url = serve.ReadStdoutLine(10000);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(url, m, std::regex(R"(http://h0\.localhost:([0-9]+)/)"))) << "first line: " << url;
  test::HttpResponse h3 = test::HttpGet("http://h3.localhost:" + m[1].str() + "/");
  EXPECT_EQ(h3.status, 200) << h3.error;
  EXPECT_NE(h3.body.find("on h3.localhost"), std::string::npos);
  EXPECT_EQ(test::HttpGet("http://h4.localhost:" + m[1].str() + "/").status, 421);
  serve.Signal(SIGTERM);
  test::ProcessResult done = serve.Wait(10000);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.err.find("synthetic web of 4 hosts"), std::string::npos) << done.err;
}

TEST(ServeCommand, DurationStopsItByItself) {
  test::ProcessResult r = RunProcess({kFanout, "serve", "--synthetic", "5", "--duration", "0.3"}, 10000);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Wrong input: exit code 2 and one line on stderr that names the problem.
TEST(ServeCommand, BadInputIsOneClearLineAndExitCodeTwo) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"serve", "--synthetic", "5", "--host", "10.0.0.1"}, "not a loopback address"},
      {{"serve", "--synthetic", "5", "--root", "/"}, "excludes"},
      {{"serve"}, "exactly one of --root DIR and --synthetic N"},
      {{"serve", "--synthetic", "5", "--fault", "explode@/x"}, "unknown kind 'explode'"},
      {{"serve", "--synthetic", "-3"}, "--synthetic"},
      {{"serve", "--synthetic", "5", "--latency", "soon"}, "--latency"},
      {{"serve", "--root", "/no/such/dir"}, "--root"},
      {{"serve", "--synthetic", "5", "--bogus"}, "--bogus"},
      {{"serve", "--synthetic", "5", "--cross-links", "0.3"}, "--hosts"},
      {{"serve", "--synthetic", "5", "--robots-mix"}, "--hosts"},
      {{"serve", "--root", "/", "--hosts", "3"}, "--synthetic"},
      {{"serve", "--synthetic", "5", "--hosts", "0"}, "--hosts"},
      {{"serve", "--synthetic", "5", "--hosts", "3", "--cross-links", "1.5"}, "--cross-links"},
      {{"serve", "--synthetic", "5", "--hosts", "3", "--links", "0"}, "--links of at least 1"},
      {{"serve", "--synthetic", "5", "--hosts", "3", "--host", "::1"}, "use --host 127.0.0.1"},
      {{"serve", "--synthetic", "5", "--hosts", "3", "--robots-mix", "--robots", FANOUT_SOURCE_DIR "/samples/site/robots.txt"},
       "exclude each other"},
      {{"fly"}, "fly"},
  };
  for (const auto& [args, words] : cases) {
    std::vector<std::string> argv = {kFanout};
    argv.insert(argv.end(), args.begin(), args.end());
    test::ProcessResult r = RunProcess(argv, 10000);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << cmd << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << cmd;
  }
}

TEST(ServeCommand, PortInUseIsExitCodeThree) {
  Subprocess first({kFanout, "serve", "--synthetic", "5", "--port", "0"});
  std::string url = first.ReadStdoutLine(10000);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(url, m, std::regex(R"(:([0-9]+)/)")));
  test::ProcessResult second = RunProcess({kFanout, "serve", "--synthetic", "5", "--port", m[1].str()}, 10000);
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("cannot listen"), std::string::npos) << second.err;
}

TEST(ServeCommand, HelpListsEveryOption) {
  test::ProcessResult r = RunProcess({kFanout, "serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--root", "--synthetic", "--links", "--page-bytes", "--seed", "--port", "--latency",
                             "--jitter", "--fault", "--fault-file", "--faults", "--robots", "--log", "--duration",
                             "--hosts", "--cross-links", "--robots-mix", "--cross-redirects"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
}

// What a recrawl meets: validators on every synthetic page, 304 for a request that has the page's
// current ones, and POST /__mutate changing a share of the pages (their body and validators).
TEST(ServeCommand, SyntheticPagesHaveValidatorsAnswer304AndMutateChangesAShareOfThem) {
  Subprocess server({kFanout, "serve", "--synthetic", "300", "--mutate", "0.1", "--port", "0", "--duration", "30"});
  const std::string url = server.ReadStdoutLine(10000);
  ASSERT_FALSE(url.empty());
  const std::vector<std::string> pages = {"", "p3.html", "p6.html", "p9.html", "p12.html", "p15.html", "p18.html",
                                          "p21.html", "p24.html", "p30.html", "p33.html", "p36.html"};
  std::map<std::string, std::pair<std::string, std::string>> validators;  // page -> ETag, Last-Modified
  for (const std::string& page : pages) {
    test::HttpResponse r = test::HttpGet(url + page);
    ASSERT_EQ(r.status, 200) << page;
    ASSERT_FALSE(r.headers["etag"].empty()) << page;
    EXPECT_EQ(r.headers["last-modified"], "Thu, 01 Jan 2026 00:00:00 GMT") << page;
    validators[page] = {r.headers["etag"], r.headers["last-modified"]};
    test::HttpResponse again = test::HttpGet({.url = url + page, .headers = {"If-None-Match: " + r.headers["etag"]}});
    EXPECT_EQ(again.status, 304) << page;
    EXPECT_TRUE(again.body.empty()) << page;
    test::HttpResponse since =
        test::HttpGet({.url = url + page, .headers = {"If-Modified-Since: " + r.headers["last-modified"]}});
    EXPECT_EQ(since.status, 304) << page;
  }
  EXPECT_EQ(test::HttpGet({.url = url + "p3.html", .headers = {"If-None-Match: \"other\""}}).status, 200);

  test::HttpResponse mutated = test::HttpGet({.url = url + "__mutate", .method = "POST"});
  ASSERT_EQ(mutated.status, 200);
  const int changed = nlohmann::json::parse(mutated.body)["changed"].get<int>();
  EXPECT_GT(changed, 300 * 0.1 / 3) << "about a tenth of the pages";
  EXPECT_LT(changed, 300 * 0.1 * 3);
  int now_200 = 0;
  for (const std::string& page : pages) {
    const auto& [etag, modified] = validators[page];
    test::HttpResponse r = test::HttpGet({.url = url + page, .headers = {"If-None-Match: " + etag}});
    if (r.status == 304) continue;
    ++now_200;
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_NE(r.headers["etag"], etag) << page;
    EXPECT_EQ(r.headers["last-modified"], "Fri, 02 Jan 2026 00:00:00 GMT") << page;
    EXPECT_NE(r.body.find("Revision 1."), std::string::npos) << page;
  }
  EXPECT_LT(now_200, static_cast<int>(pages.size())) << "not every page changed";
}

}  // namespace
}  // namespace fanout
