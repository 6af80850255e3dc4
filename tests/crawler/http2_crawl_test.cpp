// HTTPS against a real server: the sample site served by a private nginx (tests/support/nginx.h),
// TLS 1.2 and 1.3, HTTP/2 offered by ALPN, and a certificate made by the openssl command line for
// this test. What the tests assert about connections, protocols and TLS sessions is read from
// nginx's access log, where the server counted them, and checked against what the crawl stored.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/crawl_fixture.h"
#include "tests/support/nginx.h"
#include "tests/support/poll.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_ca.h"

namespace fanout {
namespace {

using test::NginxRequest;
using test::NginxServer;

class Http2Crawl : public test::CrawlFixture {
 protected:
  void SetUp() override {
    ASSERT_OK(ca_.Create());
    ASSERT_OK(ca_.Sign("server", "IP:127.0.0.1"));
  }

  // nginx serving samples/site over HTTPS; null (and the test failed) when it does not start.
  // In front of `backend` ("" : nginx serves the files itself).
  std::unique_ptr<NginxServer> StartNginx(bool http2, const std::string& tls_protocols = "TLSv1.2 TLSv1.3",
                                          const std::string& backend = "") {
    auto nginx = std::make_unique<NginxServer>(test::NginxOptions{.dir = dir_.File("nginx"),
                                                                  .root = std::string(FANOUT_SOURCE_DIR) + "/samples/site",
                                                                  .backend = backend,
                                                                  .cert_file = ca_.Cert("server"),
                                                                  .key_file = ca_.server_key(),
                                                                  .http2 = http2,
                                                                  .tls_protocols = tls_protocols});
    EXPECT_EQ(nginx->error(), "") << "the HTTP/2 tests need Debian's nginx (nginx-light), as CI installs it";
    return nginx->error().empty() ? std::move(nginx) : nullptr;
  }

  // The sample site from the test's own server, each answer 20 ms late: nginx answers files in
  // microseconds, so that a crawl might never have two transfers in flight, and one HTTP/1.1
  // connection would carry them all.
  std::unique_ptr<testsite::SiteServer> ServeSlowly() {
    testsite::ServerOptions o;
    o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
    o.latency_ms = 20;
    return Serve(o);
  }
  static std::string HostPort(const std::string& url) {
    const size_t start = url.find("//") + 2;
    return url.substr(start, url.find('/', start) - start);
  }

  CrawlOptions Options(const NginxServer& nginx, const std::string& mode) {
    CrawlOptions options;
    options.seeds = {nginx.url()};
    options.cacert = ca_.cert();  // what --cacert sets
    options.per_host = 8;
    options.concurrency = 8;
    options.threads = 2;
    options.mode = CrawlModeNamed(mode).value();
    return options;
  }

  // The crawl's requests as nginx logged them, once it has logged `count` of them (it logs a
  // request as it ends it, which may be just after the crawler has read the answer).
  static std::vector<NginxRequest> Logged(const NginxServer& nginx, size_t count) {
    std::vector<NginxRequest> requests;
    test::PollUntil(10, [&] {
      requests = nginx.Requests();
      return requests.size() >= count;
    });
    return requests;
  }

  // Whether each connection resumed a TLS session, by nginx's serial number (the order it accepted them).
  static std::map<long, bool> Resumed(const std::vector<NginxRequest>& requests) {
    std::map<long, bool> resumed;
    for (const NginxRequest& r : requests) resumed.emplace(r.connection, r.session_reused);
    return resumed;
  }

  // The log as nginx wrote it, for failure messages.
  static std::string Describe(const std::vector<NginxRequest>& requests) {
    std::string out;
    for (const NginxRequest& r : requests) {
      out += std::to_string(r.connection) + (r.session_reused ? " r " : " . ") + r.protocol + " " + r.uri + "\n";
    }
    return out;
  }

  // What each page's URL asks nginx for: its path and query.
  std::multiset<std::string> PagePaths(const std::string& origin) {
    std::multiset<std::string> paths;
    auto database = SqliteDb::OpenReadOnly(db());
    EXPECT_OK(database);
    if (!database.ok()) return paths;
    for (const std::string& url : test::QueryRows(*database, "SELECT url FROM pages")) {
      EXPECT_EQ(url.rfind(origin, 0), 0u) << url;
      paths.insert(url.substr(origin.size() - 1));
    }
    return paths;
  }

  test::TestCa ca_{dir_.path()};
};

// Each crawl mode over HTTP/2: what holds in all of them, and how many connections each opens.
class Http2CrawlModes : public Http2Crawl, public ::testing::WithParamInterface<std::string> {};

TEST_P(Http2CrawlModes, EveryPageIsAskedForOnceOverHttp2) {
  auto nginx = StartNginx(/*http2=*/true);
  ASSERT_NE(nginx, nullptr);
  const CrawlOptions options = Options(*nginx, GetParam());
  CrawlSummary s = CrawlInto(options);
  ASSERT_GE(s.pages, 30);
  // Every page answered (the site's broken links with 404s), none lost to TLS or the connection.
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE status = 0"), 0)
      << Query("SELECT group_concat(url || ' ' || error_kind, ', ') FROM pages WHERE status = 0");
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE http_version IS NOT '2'"), 0)
      << Query("SELECT group_concat(DISTINCT http_version) FROM pages");

  // robots.txt first, then each page once: nothing asked for twice, nothing the crawl did not store.
  const std::vector<NginxRequest> requests = Logged(*nginx, static_cast<size_t>(s.pages) + 1);
  ASSERT_EQ(requests.size(), static_cast<size_t>(s.pages) + 1);
  EXPECT_EQ(requests.front().uri, "/robots.txt");
  std::multiset<std::string> asked;
  for (const NginxRequest& r : requests) {
    EXPECT_EQ(r.protocol, "HTTP/2.0") << r.uri;
    if (r.uri != "/robots.txt") asked.insert(r.uri);
  }
  EXPECT_EQ(std::count_if(requests.begin(), requests.end(), [](const NginxRequest& r) { return r.uri == "/robots.txt"; }), 1);
  EXPECT_EQ(asked, PagePaths(nginx->url()));

  std::set<long> connections;
  for (const NginxRequest& r : requests) connections.insert(r.connection);
  if (GetParam() == "threads") {
    // libcurl runs no connection's streams on two threads: each thread multiplexes over its own
    // (one per thread at most), and the second connection resumes the first's TLS session.
    EXPECT_LE(connections.size(), options.concurrency) << Describe(requests);
    const std::map<long, bool> resumed = Resumed(requests);
    EXPECT_FALSE(resumed.begin()->second);
    if (resumed.size() > 1) {
      EXPECT_TRUE(std::next(resumed.begin())->second) << Describe(requests);
    }
  } else {
    // robots.txt and every page multiplexed over one connection, which robots.txt opened.
    EXPECT_EQ(connections.size(), 1u);
    EXPECT_EQ(Count("SELECT sum(new_connections) FROM pages"), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, Http2CrawlModes, ::testing::Values("async", "sync", "threads"),
                         [](const auto& info) { return info.param; });

TEST_F(Http2Crawl, WithoutRobotsTheSeedOpensTheOneConnectionAndEveryOtherPageReusesIt) {
  auto nginx = StartNginx(/*http2=*/true);
  ASSERT_NE(nginx, nullptr);
  CrawlOptions options = Options(*nginx, "async");
  options.ignore_robots = true;
  CrawlSummary s = CrawlInto(options);
  ASSERT_GE(s.pages, 30);
  EXPECT_EQ(Count("SELECT new_connections FROM pages WHERE depth = 0"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE depth > 0"), s.pages - 1);
  EXPECT_EQ(Count("SELECT sum(new_connections) FROM pages WHERE depth > 0"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE http_version IS NOT '2'"), 0);
  const std::vector<NginxRequest> requests = Logged(*nginx, static_cast<size_t>(s.pages));
  ASSERT_EQ(requests.size(), static_cast<size_t>(s.pages));
  std::set<long> connections;
  for (const NginxRequest& r : requests) connections.insert(r.connection);
  EXPECT_EQ(connections.size(), 1u);
}

// Over HTTP/1.1 each transfer in flight needs a connection of its own, and those opened after the
// first resume its TLS session: every one of them under TLS 1.2, where a session may be resumed
// again and again.
TEST_F(Http2Crawl, EveryConnectionAfterTheFirstResumesTheCrawlsTls12Session) {
  auto site = ServeSlowly();
  ASSERT_NE(site, nullptr);
  // h2 offered: --no-http2 must keep to HTTP/1.1 all the same.
  auto nginx = StartNginx(/*http2=*/true, "TLSv1.2", HostPort(site->url()));
  ASSERT_NE(nginx, nullptr);
  CrawlOptions options = Options(*nginx, "async");
  options.http2 = false;
  CrawlSummary s = CrawlInto(options);
  ASSERT_GE(s.pages, 30);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE http_version IS NOT '1.1'"), 0);
  const std::vector<NginxRequest> requests = Logged(*nginx, static_cast<size_t>(s.pages) + 1);
  ASSERT_EQ(requests.size(), static_cast<size_t>(s.pages) + 1);
  for (const NginxRequest& r : requests) EXPECT_EQ(r.protocol, "HTTP/1.1") << r.uri;
  const std::map<long, bool> resumed = Resumed(requests);
  ASSERT_GE(resumed.size(), 2u) << "the seed's links go out at once, " << options.per_host << " at a time\n"
                                << Describe(requests);
  EXPECT_FALSE(resumed.begin()->second) << "the first connection has no session to resume";
  for (auto it = std::next(resumed.begin()); it != resumed.end(); ++it) {
    EXPECT_TRUE(it->second) << "connection " << it->first << " did a full handshake\n" << Describe(requests);
  }
}

// Under TLS 1.3 (OpenSSL 3) a session is good for one resumption, and curl 7.88 keeps one per
// host: the newest ticket, which a connection receives with its first answer. The second
// connection, opened once robots.txt's connection has its ticket, resumes it; connections whose
// handshakes begin in the window before the second one's own ticket arrives start afresh.
TEST_F(Http2Crawl, TheSecondConnectionResumesTheFirstsTls13Session) {
  auto site = ServeSlowly();
  ASSERT_NE(site, nullptr);
  auto nginx = StartNginx(/*http2=*/false, "TLSv1.3", HostPort(site->url()));
  ASSERT_NE(nginx, nullptr);
  CrawlOptions options = Options(*nginx, "async");
  options.http2 = false;
  CrawlSummary s = CrawlInto(options);
  ASSERT_GE(s.pages, 30);
  const std::vector<NginxRequest> requests = Logged(*nginx, static_cast<size_t>(s.pages) + 1);
  ASSERT_EQ(requests.size(), static_cast<size_t>(s.pages) + 1);
  const std::map<long, bool> resumed = Resumed(requests);
  ASSERT_GE(resumed.size(), 2u) << Describe(requests);
  EXPECT_FALSE(resumed.begin()->second);
  EXPECT_TRUE(std::next(resumed.begin())->second) << Describe(requests);
}

}  // namespace
}  // namespace fanout
