// HTTPS for real: `fanout serve --tls-cert` on loopback, certificates made by the openssl command
// line at test time (a CA, a good server certificate, an expired one, one for another name, one
// signed by nobody we trust), and a crawl that verifies them, or is told not to.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "tests/support/crawl_fixture.h"
#include "tests/support/lines.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_ca.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using test::LineCount;

using testsite::ServerOptions;

class TlsCrawl : public test::CrawlFixture {
 protected:
  void SetUp() override {
    ASSERT_OK(ca_.Create());
    ASSERT_OK(ca_.Sign("good", "IP:127.0.0.1,DNS:localhost", 2));
    ASSERT_OK(ca_.Sign("expired", "IP:127.0.0.1,DNS:localhost", -1));
    ASSERT_OK(ca_.Sign("other-name", "DNS:other.example", 2));
    ASSERT_OK(ca_.Sign("self-signed", "IP:127.0.0.1,DNS:localhost", 2, /*by_ca=*/false));
  }
  std::string Cert(const std::string& name) const { return ca_.Cert(name); }

  std::unique_ptr<testsite::SiteServer> ServeHttps(const std::string& cert) {
    ServerOptions o;
    o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
    o.tls_cert = Cert(cert);
    o.tls_key = ca_.server_key();
    return Serve(o);
  }
  // Crawls only the seed, robots.txt not asked for, so that the seed's own row tells the failure.
  std::string SeedErrorKind(const std::string& cert, const std::string& cacert) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db() + suffix);  // one run per database
    auto site = ServeHttps(cert);
    CrawlOptions options;
    options.seeds = {site->url()};
    options.max_pages = 1;
    options.ignore_robots = true;
    options.cacert = cacert;
    options.retries = 0;
    CrawlInto(options);
    EXPECT_EQ(site->log().size(), 0u) << "no request goes out over a connection that failed verification";
    return Query("SELECT error_kind FROM pages");
  }

  test::TestCa ca_{dir_.path()};
};

TEST_F(TlsCrawl, ASiteWhoseCaIsGivenIsCrawledOverHttpsWithKeptConnections) {
  auto site = ServeHttps("good");
  ASSERT_EQ(site->url().rfind("https://127.0.0.1:", 0), 0u) << site->url();
  CrawlOptions options;
  options.seeds = {site->url()};
  options.cacert = ca_.cert();
  CrawlSummary s = CrawlInto(options);
  EXPECT_GE(s.pages, 36);
  EXPECT_FALSE(s.tls_unverified);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE error_kind LIKE 'tls%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url NOT LIKE 'https://%'"), 0);
  // Every page was asked for once, over connections kept alive: no more than the per-host limit.
  EXPECT_EQ(static_cast<int64_t>(site->log().size()), s.pages + 1);  // robots.txt too
  EXPECT_LE(Count("SELECT sum(new_connections) FROM pages"), static_cast<int64_t>(options.per_host));
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE tls > 0"), Count("SELECT count(*) FROM pages WHERE new_connections > 0"));
}

TEST_F(TlsCrawl, EachVerificationFailureIsItsOwnErrorKind) {
  const std::string ca = ca_.cert();
  EXPECT_EQ(SeedErrorKind("good", ""), "tls-unknown-ca");  // the test CA is not the system's
  EXPECT_EQ(SeedErrorKind("self-signed", ca), "tls-unknown-ca");
  EXPECT_EQ(SeedErrorKind("expired", ca), "tls-expired");
  EXPECT_EQ(SeedErrorKind("other-name", ca), "tls-hostname");
}

// A user who crawls an HTTPS site whose CA is not trusted is told so, by `fanout crawl` itself:
// robots.txt is the first thing that fails, and per RFC 9309 the origin is then not crawled.
TEST_F(TlsCrawl, ASeedWhoseRobotsTxtFailsVerificationIsOneLineAndExitOne) {
  auto site = ServeHttps("good");
  test::ProcessResult r = test::RunProcess({FANOUT_BINARY, "crawl", site->url(), "--db", dir_.File("cli.db"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("fanout crawl: seed " + site->url() + " not crawled: robots.txt unreachable: its TLS "
                        "certificate is signed by no CA fanout trusts (--cacert adds one)", 0),
            0u)
      << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_EQ(site->log().size(), 0u);
}

TEST_F(TlsCrawl, AServerThatSpeaksNoTlsIsAHandshakeFailure) {
  ServerOptions o;
  o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
  auto site = Serve(o);
  std::string url = site->url();
  url.replace(0, 4, "https");
  CrawlOptions options;
  options.seeds = {url};
  options.max_pages = 1;
  options.ignore_robots = true;
  options.retries = 0;
  CrawlInto(options);
  EXPECT_EQ(Query("SELECT error_kind FROM pages"), "tls-handshake");
}

TEST_F(TlsCrawl, InsecureCrawlsWhatItCannotVerifyAndSaysSo) {
  auto site = ServeHttps("self-signed");
  CrawlOptions options;
  options.seeds = {site->url()};
  options.insecure = true;
  CrawlSummary s = CrawlInto(options);
  EXPECT_TRUE(s.tls_unverified);
  EXPECT_GE(s.pages, 36);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE error_kind LIKE 'tls%'"), 0);
}

}  // namespace
}  // namespace fanout
