// What a new user hits first: a seed that cannot be crawled is one line that names it and says why,
// and exit 1 when none could be; `-` for a report file means standard output, as everywhere.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/fanout_binary.h"
#include "tests/support/lines.h"
#include "tests/support/scratch_netns.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using test::LineCount;

// A loopback port nothing listens on: bound, so that the kernel picks a free one, then closed.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class NewUser : public ::testing::Test {
 protected:
  // Runs fanout in the test's directory, where a report file named "-" would be made.
  test::ProcessResult Fanout(const std::vector<std::string>& args, const std::vector<std::string>& prefix = {}) {
    return test::Fanout(args, {.cwd = dir_.path().string(), .prefix = prefix});
  }
  std::unique_ptr<testsite::SiteServer> Serve() {
    testsite::ServerOptions o;
    o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
    auto server = testsite::SiteServer::Create(o);
    EXPECT_OK(server);
    (*server)->Start();
    return std::move(server).value();
  }
  std::string db() const { return dir_.File("crawl.db"); }
  test::TempDir dir_;
};

TEST_F(NewUser, ASeedWithNothingListeningIsOneLineAndExitOne) {
  const std::string seed = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/";
  test::ProcessResult r = Fanout({"crawl", seed, "--db", db(), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("seed " + seed + " not crawled: robots.txt unreachable: could not connect"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("per RFC 9309 the origin is not crawled"), std::string::npos) << r.err;

  // Without robots.txt, the seed itself is what could not be fetched.
  r = Fanout({"crawl", seed, "--db", db(), "--quiet", "--new-run", "--ignore-robots", "--retries", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("seed " + seed + " not fetched: could not connect (Failed to connect"), std::string::npos)
      << r.err;
}

// A host no DNS knows, looked up inside a network namespace with no route out, so that the
// question never leaves this machine.
TEST_F(NewUser, ASeedWhoseNameGetsNoAnswerIsNamedAndExitOne) {
  test::ScratchNetns netns("fanout-nohost-" + std::to_string(getpid()));
  ASSERT_TRUE(netns.ok()) << netns.why();
  test::ProcessResult r = Fanout({"crawl", "http://no-such-host.invalid/", "--db", db(), "--quiet"},
                                 netns.Exec({}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(LineCount(r.err), 2) << "the seed's line, and how to ask again: " << r.err;
  EXPECT_NE(r.err.find("--resume asks again"), std::string::npos) << r.err;
  // A namespace of its own has no resolver to reach: the lookup fails, is retried, then given up.
  EXPECT_NE(r.err.find("seed http://no-such-host.invalid/ not crawled: dns-servfail, the resolver failed for its host"),
            std::string::npos)
      << r.err;
}

TEST_F(NewUser, OneBadSeedAmongGoodOnesIsNamedAndTheCrawlSucceeds) {
  auto server = Serve();
  const std::string bad = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/";
  test::ProcessResult r = Fanout({"crawl", server->url(), bad, "--db", db(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("fanout crawl: seed " + bad + " not crawled: robots.txt unreachable: could not connect", 0), 0u)
      << r.err;
}

TEST_F(NewUser, ASeedThatIsAnHttpErrorIsNamed) {
  auto server = Serve();
  test::ProcessResult r = Fanout({"crawl", server->url() + "no-such-page.html", "--db", db(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << "the server answered: " << r.err;
  EXPECT_EQ(r.err, "fanout crawl: seed " + server->url() + "no-such-page.html answered HTTP 404\n");
}

TEST_F(NewUser, DashMeansStandardOutput) {
  auto server = Serve();
  test::ProcessResult r = Fanout({"crawl", server->url(), "--db", db(), "--report", "-"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << "stdout is the report alone: " << r.out;
  EXPECT_GT(report.value("pages", 0), 5);
  EXPECT_NE(r.err.find("pages fetched"), std::string::npos) << "the summary went to stderr: " << r.err;

  r = Fanout({"export", "--db", db(), "--what", "pages", "--format", "csv", "--output", "-"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("id,run_id,url,", 0), 0u) << r.out;
  EXPECT_EQ(LineCount(r.out), report.value("pages", 0) + 1);

  for (const char* flag : {"--json", "--csv", "--html"}) {
    r = Fanout({"bench", "--pages", "20", "--latency", "0", "--modes", "async", "--concurrency", "4", flag, "-"});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_NE(r.err.find("pages/s"), std::string::npos) << flag << ": the table went to stderr: " << r.err;
    const std::string& out = r.out;
    const std::string f = flag;
    if (f == "--json") {
      EXPECT_TRUE(nlohmann::json::parse(out, nullptr, false).is_object()) << out;
    } else if (f == "--csv") {
      EXPECT_EQ(out.rfind("mode,concurrency,", 0), 0u) << out;
    } else {
      EXPECT_NE(out.find("<html"), std::string::npos) << out.substr(0, 200);
    }
  }
  r = Fanout({"bench", "--pages", "20", "--json", "-", "--csv", "-"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("-"))) << "a file named '-' was made";
}

TEST_F(NewUser, AReportThatCannotBeWrittenStopsTheCrawlBeforeItStarts) {
  auto server = Serve();
  test::ProcessResult r = Fanout({"crawl", server->url(), "--db", db(), "--quiet", "--report", dir_.File("no/such/dir/r.json")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot write --report file"), std::string::npos) << r.err;
  EXPECT_EQ(server->stats().requests, 0u) << "nothing is fetched for a report that cannot be written";
}

}  // namespace
}  // namespace fanout
