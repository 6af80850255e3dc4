#include "testsite/server.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "crawler/url.h"
#include "tests/support/http_client.h"
#include "tests/support/links.h"
#include "tests/support/scratch_netns.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "testsite/net_namespace.h"
#include "util/http_body.h"

namespace fanout::testsite {
namespace {

using test::HttpGet;
using test::HttpRequest;
using test::HttpResponse;
namespace fs = std::filesystem;

const std::string kSampleSite = std::string(FANOUT_SOURCE_DIR) + "/samples/site";

std::unique_ptr<SiteServer> StartServer(ServerOptions options) {
  Result<std::unique_ptr<SiteServer>> server = SiteServer::Create(std::move(options));
  EXPECT_OK(server);
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(server.value());
}

ServerOptions Synthetic(uint64_t pages, int links, size_t bytes = 2000) {
  ServerOptions o;
  o.synthetic = SyntheticOptions{.pages = pages, .links = links, .page_bytes = bytes, .seed = 7};
  return o;
}

ServerOptions Directory(const std::string& root) {
  ServerOptions o;
  o.root = root;
  return o;
}

FaultRule Rule(const std::string& spec) {
  Result<FaultRule> r = ParseFaultRule(spec);
  EXPECT_OK(r) << spec;
  return r.ok() ? *r : FaultRule{};
}

using test::TempDir;

TEST(SiteServer, StartsOnAnEphemeralPortAndStopsCleanly) {
  auto server = StartServer(Synthetic(10, 3));
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()) + "/");
  EXPECT_EQ(HttpGet(server->url()).status, 200);
  const std::string url = server->url();
  server.reset();  // stops and frees everything
  HttpResponse after = HttpGet(HttpRequest{.url = url, .timeout_ms = 2000});
  EXPECT_EQ(after.status, 0);
  EXPECT_NE(after.curl_code, 0);
}

TEST(SiteServer, ServesIpv6Loopback) {
  ServerOptions o = Synthetic(5, 2);
  o.host = "::1";
  Result<std::unique_ptr<SiteServer>> server = SiteServer::Create(o);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status().ToString();
  (*server)->Start();
  EXPECT_EQ((*server)->url().rfind("http://[::1]:", 0), 0u);
  EXPECT_EQ(HttpGet((*server)->url()).status, 200);
}

TEST(SiteServer, RefusesAnythingButLoopbackInTheInitialNetworkNamespace) {
  if (InOwnNetNamespace().ok()) GTEST_SKIP() << "this test runs inside a network namespace of its own";
  for (const char* host : {"0.0.0.0", "10.1.2.3", "192.168.0.1", "::", "example.com"}) {
    ServerOptions o = Synthetic(5, 2);
    o.host = host;
    Result<std::unique_ptr<SiteServer>> server = SiteServer::Create(o);
    ASSERT_FALSE(server.ok()) << host;
    EXPECT_EQ(server.status().code(), Status::Code::kInvalidArgument) << host;
  }
  ServerOptions o = Synthetic(5, 2);
  o.host = "10.1.2.3";
  const std::string why = SiteServer::Create(o).status().message();
  EXPECT_NE(why.find("not a loopback address"), std::string::npos) << why;
  EXPECT_NE(why.find("runs in the initial network namespace"), std::string::npos) << "say why: " << why;
}

// In a namespace of the test's own, 10.203.0.9 exists nowhere else: the server binds it, a site as
// a web, and answers there.
TEST(SiteServer, BindsAnyAddressInsideANetworkNamespaceOfItsOwn) {
  test::ScratchNetns ns("fanout-server-test-" + std::to_string(getpid()));
  if (!ns.ok()) GTEST_SKIP() << "cannot make a network namespace here: " << ns.why();
  ASSERT_EQ(ns.Ip({"addr", "add", "10.203.0.9/32", "dev", "lo"}).exit_code, 0);
  const bool entered = ns.RunInside([] {
    ASSERT_OK(InOwnNetNamespace());
    ServerOptions site = Synthetic(5, 2);
    site.host = "10.203.0.9";
    auto server = StartServer(site);
    ASSERT_TRUE(server);
    EXPECT_EQ(server->url(), "http://10.203.0.9:" + std::to_string(server->port()) + "/");
    EXPECT_EQ(HttpGet(server->url()).status, 200);

    ServerOptions web = Synthetic(3, 2);
    web.web = SyntheticWebOptions{.hosts = 2};
    web.host = "10.203.0.9";
    auto webserver = StartServer(web);
    ASSERT_TRUE(webserver);
    const std::string port = std::to_string(webserver->port());
    EXPECT_EQ(webserver->url(), "http://h0.localhost:" + port + "/");
    HttpResponse h1 = HttpGet(HttpRequest{.url = "http://10.203.0.9:" + port + "/", .headers = {"Host: h1.localhost:" + port}});
    EXPECT_EQ(h1.status, 200);
    EXPECT_NE(h1.body.find("on h1.localhost"), std::string::npos);
  });
  EXPECT_TRUE(entered) << "could not enter " << ns.name();
}

TEST(SiteServer, ServesADirectoryWithContentTypes) {
  auto server = StartServer(Directory(kSampleSite));
  ASSERT_TRUE(server);
  HttpResponse home = HttpGet(server->url());
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(home.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(home.body.find("<title>"), std::string::npos);

  const std::pair<const char*, const char*> files[] = {
      {"style.css", "text/css; charset=utf-8"},
      {"images/lighthouse.png", "image/png"},
      {"files/opening-hours.pdf", "application/pdf"},
      {"robots.txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [path, type] : files) {
    HttpResponse r = HttpGet(server->url() + path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.headers["content-type"], type) << path;
    EXPECT_EQ(r.body.size(), fs::file_size(kSampleSite + "/" + path)) << path;
  }

  HttpResponse dir = HttpGet(server->url() + "news");
  EXPECT_EQ(dir.status, 301);
  EXPECT_EQ(dir.headers["location"], "/news/");
  HttpResponse index = HttpGet(server->url() + "news/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, HttpGet(server->url() + "news/index.html").body);
  EXPECT_EQ(HttpGet(server->url() + "catalogue/missing-book.html").status, 404);
}

TEST(SiteServer, NoPathEscapesTheRoot) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "root" / "sub");
  std::ofstream(tmp.path() / "root" / "sub" / "page.html") << "<title>inside</title>";
  std::ofstream(tmp.path() / "secret.txt") << "TOP SECRET";
  fs::create_symlink(tmp.path() / "secret.txt", tmp.path() / "root" / "link-out.txt");
  fs::create_directory_symlink(tmp.path(), tmp.path() / "root" / "dir-out");
  fs::create_symlink(tmp.path() / "root" / "sub" / "page.html", tmp.path() / "root" / "link-in.html");

  auto server = StartServer(Directory(tmp.path() / "root"));
  ASSERT_TRUE(server);
  const std::string base = server->url();
  for (const char* path : {"../secret.txt", "sub/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt",
                           "sub/..%2f..%2fsecret.txt", "link-out.txt", "dir-out/secret.txt", "sub/%00page.html"}) {
    HttpResponse r = HttpGet(base + path);
    EXPECT_TRUE(r.status == 403 || r.status == 404 || r.status == 400) << path << " -> " << r.status;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << path;
  }
  EXPECT_EQ(HttpGet(base + "sub/page.html").status, 200);
  EXPECT_EQ(HttpGet(base + "link-in.html").status, 200);  // a symlink that stays inside is fine
}

TEST(SiteServer, FollowSymlinksLetsALinkInTheRootLeadOutButNoPathClimb) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "root");
  fs::create_directories(tmp.path() / "elsewhere");
  std::ofstream(tmp.path() / "elsewhere" / "page.html") << "<title>linked</title>";
  std::ofstream(tmp.path() / "secret.txt") << "TOP SECRET";
  fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "root" / "docs");
  ServerOptions o = Directory(tmp.path() / "root");
  o.follow_symlinks = true;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  EXPECT_EQ(HttpGet(server->url() + "docs/page.html").body, "<title>linked</title>");
  for (const char* path : {"../secret.txt", "docs/../../secret.txt", "%2e%2e/secret.txt"}) {
    HttpResponse r = HttpGet(server->url() + path);
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << path;
  }
}

// A breadth-first walk over HTTP from `start`, with its own link extraction and RFC 3986
// resolution: every page answers 200 and every link stays where `inside` says ("link leaves
// `what`" otherwise). Fills `seen` with the URLs reached.
void WalkOverHttp(const std::string& start, const std::function<bool(const std::string&)>& inside,
                  const std::string& what, std::set<std::string>& seen) {
  seen = {start};
  std::deque<std::string> queue = {start};
  while (!queue.empty()) {
    std::string url = queue.front();
    queue.pop_front();
    HttpResponse r = HttpGet(url);
    ASSERT_EQ(r.status, 200) << url;
    for (const std::string& href : test::ExtractHrefs(r.body)) {
      Result<std::string> next = ResolveUrl(url, href);
      ASSERT_OK(next) << href;
      ASSERT_TRUE(inside(*next)) << "link leaves " << what << ": " << *next;
      if (seen.insert(*next).second) queue.push_back(*next);
    }
  }
}

TEST(SiteServer, SyntheticSiteIsFullyReachableOverHttp) {
  constexpr uint64_t kPages = 300;
  auto server = StartServer(Synthetic(kPages, 5));
  ASSERT_TRUE(server);
  std::set<std::string> seen;
  const std::string site = server->url();
  ASSERT_NO_FATAL_FAILURE(
      WalkOverHttp(site, [&](const std::string& url) { return url.rfind(site, 0) == 0; }, "the site", seen));
  EXPECT_EQ(seen.size(), kPages);
  EXPECT_EQ(server->stats().requests, kPages);
  EXPECT_EQ(server->stats().by_status[200], kPages);
}

// The latency is a timer, not a thread: a thousand delayed requests wait together.
TEST(SiteServer, LatencyHoldsAThousandConcurrentRequests) {
  constexpr int kRequests = 1000;
  constexpr double kLatency = 0.100;
  ServerOptions o = Synthetic(kRequests, 4, 1000);
  o.latency_ms = 100;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  std::vector<HttpRequest> requests;
  SyntheticSite site(*o.synthetic);
  for (int i = 0; i < kRequests; ++i) {
    requests.push_back(HttpRequest{.url = server->url() + site.PathOf(static_cast<uint64_t>(i)).substr(1),
                                   .timeout_ms = 60000});
  }
  std::vector<HttpResponse> responses = test::HttpGetParallel(requests);

  for (const HttpResponse& r : responses) {
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_GE(r.total_seconds, kLatency * 0.99);  // every answer was really delayed
  }
  ServerStats stats = server->stats();
  EXPECT_EQ(stats.requests, static_cast<uint64_t>(kRequests));
  EXPECT_GT(stats.max_in_flight, 100u) << "the requests did not overlap";
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST(SiteServer, JitterSpreadsTheLatency) {
  ServerOptions o = Synthetic(50, 2, 500);
  o.latency_ms = 60;
  o.jitter_ms = 40;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  std::vector<HttpRequest> requests(40, HttpRequest{.url = server->url()});
  double low = 1e9, high = 0;
  for (const HttpResponse& r : test::HttpGetParallel(requests)) {
    ASSERT_EQ(r.status, 200);
    low = std::min(low, r.total_seconds);
    high = std::max(high, r.total_seconds);
  }
  EXPECT_GE(low, 0.019);
  EXPECT_GT(high - low, 0.02) << "40 answers all took about the same time";
}

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o = Synthetic(100, 4, 5000);
    for (const char* spec :
         {"status:404@/gone", "status:500@/broken", "status:503@/busy", "status:429:2@/slow-down",
          "redirect:301:/p3.html@/old", "redirect:302:/p3.html@/temp", "chain:3:/p3.html@/chain", "loop@/loop",
          "slow:20000@/p3.html", "reset@/reset", "huge:3000000@/huge", "huge:3000000:chunked@/huge-chunked",
          "type:application/pdf@/doc", "type:image/png@/img", "malformed@/s1/p4.html", "latin1@/p6.html",
          "latin1:meta@/p9.html", "delay:300@/delayed/*"}) {
      o.faults.push_back(Rule(spec));
    }
    server_ = StartServer(o);
    ASSERT_TRUE(server_);
  }
  HttpResponse Get(const std::string& path, bool follow = false) {
    return HttpGet(HttpRequest{.url = server_->url() + path, .follow_redirects = follow});
  }
  std::unique_ptr<SiteServer> server_;
};

TEST_F(FaultInjection, StatusCodesWithRetryAfter) {
  EXPECT_EQ(Get("gone").status, 404);
  EXPECT_EQ(Get("broken").status, 500);
  HttpResponse busy = Get("busy");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.headers["retry-after"], "1");
  HttpResponse limited = Get("slow-down");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "2");
}

TEST_F(FaultInjection, RedirectsChainsAndLoops) {
  HttpResponse moved = Get("old");
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.headers["location"], "/p3.html");
  EXPECT_EQ(Get("temp").status, 302);

  HttpResponse chain = Get("chain", true);
  EXPECT_EQ(chain.status, 200);
  EXPECT_EQ(chain.redirects, 4);  // /chain -> ?hop=1 -> ?hop=2 -> ?hop=3 -> /p3.html
  EXPECT_EQ(chain.effective_url, server_->url() + "p3.html");

  HttpResponse loop = Get("loop", true);
  EXPECT_EQ(loop.curl_code, 47);  // CURLE_TOO_MANY_REDIRECTS
}

TEST_F(FaultInjection, SlowBodyIsDribbledButComplete) {
  HttpResponse slow = Get("p3.html");  // ~5000 bytes at 20000 B/s
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.total_seconds, 0.15);
  EXPECT_NE(slow.body.find("</html>"), std::string::npos);
  EXPECT_EQ(slow.body.size(), std::stoul(slow.headers["content-length"]));
}

TEST_F(FaultInjection, ResetAbortsTheConnection) {
  HttpResponse reset = Get("reset");
  EXPECT_EQ(reset.status, 0);
  EXPECT_EQ(reset.curl_code, 56) << reset.error;  // CURLE_RECV_ERROR: connection reset by peer
  EXPECT_EQ(server_->stats().resets, 1u);
  EXPECT_EQ(Get("").status, 200);  // the server carries on
}

TEST_F(FaultInjection, HugeBodiesWithAndWithoutLength) {
  HttpResponse sized = Get("huge");
  EXPECT_EQ(sized.body.size(), 3000000u);
  EXPECT_EQ(sized.headers["content-length"], "3000000");
  HttpResponse chunked = Get("huge-chunked");
  EXPECT_EQ(chunked.body.size(), 3000000u);
  EXPECT_EQ(chunked.headers.count("content-length"), 0u);
  EXPECT_EQ(chunked.headers["transfer-encoding"], "chunked");
}

TEST_F(FaultInjection, NonHtmlMalformedAndLatin1Pages) {
  HttpResponse pdf = Get("doc");
  EXPECT_EQ(pdf.headers["content-type"], "application/pdf");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(Get("img").headers["content-type"], "image/png");

  HttpResponse broken = Get("s1/p4.html");
  EXPECT_EQ(broken.status, 200);
  EXPECT_EQ(broken.body.find("</html>"), std::string::npos);
  EXPECT_EQ(test::ExtractHrefs(broken.body).size(), 4u);

  HttpResponse latin1 = Get("p6.html");
  EXPECT_EQ(latin1.headers["content-type"], "text/html; charset=ISO-8859-1");
  EXPECT_NE(latin1.body.find("caf\xE9"), std::string::npos);
  HttpResponse meta = Get("p9.html");
  EXPECT_EQ(meta.headers["content-type"], "text/html");
  EXPECT_NE(meta.body.find("charset=\"iso-8859-1\""), std::string::npos);
}

TEST_F(FaultInjection, DelayAppliesToAPrefix) {
  HttpResponse delayed = Get("delayed/anything");
  EXPECT_EQ(delayed.status, 404);  // delayed, then answered as usual
  EXPECT_GE(delayed.total_seconds, 0.29);
}

class EncodingFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o = Directory(kSampleSite);
    for (const char* spec : {"encoding:gzip@/index.html", "encoding:deflate@/about.html", "encoding:br:chunked@/contact.html",
                             "encoding:zstd@/news/*", "chunked@/search.html", "encoding:gzip@/missing.html"}) {
      o.faults.push_back(Rule(spec));
    }
    server_ = StartServer(o);
    ASSERT_TRUE(server_);
  }
  // The body as sent: chunked framing kept, nothing decoded.
  HttpResponse Raw(const std::string& path, const std::string& accept_encoding) {
    HttpRequest r{.url = server_->url() + path, .transfer_decoding = false, .content_decoding = false};
    if (!accept_encoding.empty()) r.headers.push_back("Accept-Encoding: " + accept_encoding);
    return HttpGet(r);
  }
  std::string FileOf(const std::string& path) {
    std::ifstream in(kSampleSite + path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::unique_ptr<SiteServer> server_;
};

TEST_F(EncodingFaults, CompressOnlyForAClientThatAsks) {
  const std::pair<std::string, std::string> pages[] = {
      {"/index.html", "gzip"}, {"/about.html", "deflate"}, {"/news/index.html", "zstd"}};
  for (const auto& [path, coding] : pages) {
    const std::string file = FileOf(path);
    ASSERT_FALSE(file.empty()) << path;
    HttpResponse plain = Raw(path.substr(1), "");
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(plain.body, file) << path;
    EXPECT_EQ(plain.headers.count("content-encoding"), 0u) << path;
    EXPECT_EQ(plain.headers["vary"], "Accept-Encoding") << path;
    // Another coding asked for, or this one refused: still the identity body.
    EXPECT_EQ(Raw(path.substr(1), coding == "gzip" ? "br" : "gzip").body, file) << path;
    EXPECT_EQ(Raw(path.substr(1), coding + ";q=0").body, file) << path;

    HttpResponse packed = Raw(path.substr(1), "gzip, deflate, br, zstd");
    EXPECT_EQ(packed.status, 200);
    EXPECT_EQ(packed.headers["content-encoding"], coding) << path;
    EXPECT_EQ(packed.headers["vary"], "Accept-Encoding") << path;
    EXPECT_EQ(packed.headers["content-length"], std::to_string(packed.body.size())) << path;
    EXPECT_NE(packed.body, file) << path;
    Result<DecodedBody> decoded = DecodeContent(packed.headers["content-encoding"], packed.body, 1 << 20, false);
    ASSERT_OK(decoded) << path;
    EXPECT_EQ(decoded->bytes, file) << path;
    EXPECT_EQ(Raw(path.substr(1), coding).body, packed.body) << path << ": the same page, other bytes";
  }
}

TEST_F(EncodingFaults, ChunkedBodiesHaveNoLengthAndDechunkToThePage) {
  const std::string search = FileOf("/search.html");
  HttpResponse chunked = Raw("search.html", "gzip");
  EXPECT_EQ(chunked.status, 200);
  EXPECT_TRUE(IsChunked(chunked.headers["transfer-encoding"]));
  EXPECT_EQ(chunked.headers.count("content-length"), 0u);
  EXPECT_EQ(chunked.headers.count("content-encoding"), 0u);  // chunked alone compresses nothing
  Result<std::string> body = Dechunk(chunked.body, false);
  ASSERT_OK(body);
  EXPECT_NE(chunked.body, search) << "curl removed the framing";
  EXPECT_EQ(*body, search);

  const std::string contact = FileOf("/contact.html");
  HttpResponse both = Raw("contact.html", "br");
  EXPECT_EQ(both.headers["content-encoding"], "br");
  EXPECT_TRUE(IsChunked(both.headers["transfer-encoding"]));
  EXPECT_EQ(both.headers.count("content-length"), 0u);
  Result<std::string> unframed = Dechunk(both.body, false);
  ASSERT_OK(unframed);
  Result<DecodedBody> page = DecodeContent("br", *unframed, 1 << 20, false);
  ASSERT_OK(page);
  EXPECT_EQ(page->bytes, contact);
  // Without the Accept-Encoding: chunked still, and the page itself.
  HttpResponse plain = Raw("contact.html", "");
  EXPECT_TRUE(IsChunked(plain.headers["transfer-encoding"]));
  EXPECT_EQ(Dechunk(plain.body, false).value(), contact);
}

TEST_F(EncodingFaults, AnErrorPageIsEncodedToo) {
  HttpResponse missing = Raw("missing.html", "gzip");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers["content-encoding"], "gzip");
  Result<DecodedBody> page = DecodeContent("gzip", missing.body, 1 << 20, false);
  ASSERT_OK(page);
  EXPECT_NE(page->bytes.find("404 Not Found"), std::string::npos);
}

TEST_F(EncodingFaults, CurlDecodesWhatItAskedFor) {
  // The client's defaults: transfer framing removed by curl, and no coding asked for by curl itself.
  HttpResponse page = HttpGet(server_->url() + "contact.html");
  EXPECT_EQ(page.body, FileOf("/contact.html"));
}

TEST(SiteServer, RateFaultsHitTheirShareOfRequests) {
  ServerOptions o = Synthetic(10, 2);
  o.faults.push_back(Rule("status:500@0.3"));
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  int failures = 0;
  for (int i = 0; i < 200; ++i) failures += HttpGet(server->url()).status == 500;
  EXPECT_GT(failures, 30);   // expected 60; these bounds are more than 4 standard deviations out
  EXPECT_LT(failures, 90);
}

// --faults RATE mixes faults into a synthetic site; /__faults tells a test which pages have which.
TEST(SiteServer, SyntheticFaultsAreListedAndServedAsListed) {
  ServerOptions o = Synthetic(400, 4);
  o.synthetic_fault_rate = 0.2;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  nlohmann::json faults = nlohmann::json::parse(HttpGet(server->url() + "__faults").body);
  const auto& pages = faults["pages"];
  EXPECT_GT(pages.size(), 40u);
  EXPECT_LT(pages.size(), 120u);
  int checked = 0;
  for (const auto& [path, fault] : pages.items()) {
    const std::string kind = fault.get<std::string>();
    if (kind.rfind("status:", 0) != 0) continue;
    EXPECT_EQ(HttpGet(server->url() + path.substr(1)).status, std::stoi(kind.substr(7, 3))) << path;
    ++checked;
  }
  EXPECT_GT(checked, 0);
  // The same seed puts the same faults on the same pages.
  auto again = StartServer(o);
  EXPECT_EQ(nlohmann::json::parse(HttpGet(again->url() + "__faults").body)["pages"], pages);
}

TEST(SiteServer, RobotsTxtIsAllowAllOrTheGivenFile) {
  auto synthetic = StartServer(Synthetic(5, 2));
  ASSERT_TRUE(synthetic);
  HttpResponse robots = HttpGet(synthetic->url() + "robots.txt");
  EXPECT_EQ(robots.status, 200);
  EXPECT_EQ(robots.body, "User-agent: *\nDisallow:\n");

  TempDir tmp;
  std::ofstream(tmp.path() / "robots.txt") << "User-agent: *\nDisallow: /private/\n";
  ServerOptions o = Synthetic(5, 2);
  o.robots_file = (tmp.path() / "robots.txt").string();
  auto custom = StartServer(o);
  ASSERT_TRUE(custom);
  EXPECT_EQ(HttpGet(custom->url() + "robots.txt").body, "User-agent: *\nDisallow: /private/\n");
}

TEST(SiteServer, StatsCountWhatWasServedAndReset) {
  auto server = StartServer(Synthetic(20, 3));
  ASSERT_TRUE(server);
  for (int i = 0; i < 3; ++i) HttpGet(server->url());
  HttpGet(server->url() + "missing.html");
  HttpGet(HttpRequest{.url = server->url() + "p3.html", .user_agent = "probe/1.0"});

  nlohmann::json stats = nlohmann::json::parse(HttpGet(server->url() + "__stats").body);
  EXPECT_EQ(stats["requests"], 5);
  EXPECT_EQ(stats["by_status"]["200"], 4);
  EXPECT_EQ(stats["by_status"]["404"], 1);
  EXPECT_EQ(stats["in_flight"], 0);
  EXPECT_GE(stats["max_in_flight"], 1);

  nlohmann::json log = nlohmann::json::parse(HttpGet(server->url() + "__log").body);
  ASSERT_EQ(log.size(), 5u);  // /__stats itself is neither counted nor logged
  EXPECT_EQ(log[3]["target"], "/missing.html");
  EXPECT_EQ(log[3]["status"], 404);
  EXPECT_EQ(log[4]["target"], "/p3.html");
  EXPECT_EQ(log[4]["user_agent"], "probe/1.0");
  EXPECT_LE(log[4]["received"].get<double>(), log[4]["answered"].get<double>());

  HttpResponse reset = HttpGet(HttpRequest{.url = server->url() + "__stats/reset", .method = "POST"});
  EXPECT_EQ(reset.status, 200);
  stats = nlohmann::json::parse(HttpGet(server->url() + "__stats").body);
  EXPECT_EQ(stats["requests"], 0);
  EXPECT_TRUE(stats["by_status"].empty());
  EXPECT_TRUE(nlohmann::json::parse(HttpGet(server->url() + "__log").body).empty());
}

TEST(SiteServer, LogFileGetsOneJsonLinePerRequest) {
  TempDir tmp;
  ServerOptions o = Synthetic(20, 3);
  o.log_file = (tmp.path() / "requests.jsonl").string();
  o.log_capacity = 2;  // memory keeps the last two; the file keeps all
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  for (const char* path : {"", "p3.html", "nope"}) HttpGet(server->url() + path);
  server.reset();
  std::ifstream in(tmp.path() / "requests.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["target"], "/");
  EXPECT_EQ(lines[2]["status"], 404);
}

TEST(SiteServer, ConnectionsAreKeptAlive) {
  ServerOptions o = Synthetic(20, 3);
  o.latency_ms = 5;  // delayed answers must keep the connection open as well
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  std::vector<HttpRequest> requests;
  for (const char* path : {"", "p3.html", "missing.html", "p6.html"}) {
    requests.push_back(HttpRequest{.url = server->url() + path});
  }
  std::vector<HttpResponse> responses = test::HttpGetSequential(requests);
  EXPECT_EQ(responses[0].new_connections, 1);
  for (size_t i = 1; i < responses.size(); ++i) {
    EXPECT_EQ(responses[i].new_connections, 0) << "request " << i << " needed a new connection";
  }
  EXPECT_EQ(responses[2].status, 404);
}


// --- A web of hosts (ServerOptions::web) --------------------------------------------------------

ServerOptions Web(uint64_t hosts, uint64_t pages, int links, SyntheticWebOptions web = {}) {
  ServerOptions o = Synthetic(pages, links, 1500);
  web.hosts = hosts;
  o.web = web;
  return o;
}

std::string HostUrl(const SiteServer& server, uint64_t host, const std::string& path = "/") {
  return SyntheticWeb::OriginOf(host, server.port()) + path;
}

// A request to the server's port that names `host` in its Host header.
HttpResponse GetWithHost(const SiteServer& server, const std::string& host, const std::string& path = "") {
  return HttpGet(HttpRequest{.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/" + path,
                             .headers = {"Host: " + host}});
}

TEST(SiteServerWeb, RoutesByTheHostHeader) {
  ServerOptions o = Web(10, 20, 4);
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->url(), "http://h0.localhost:" + std::to_string(server->port()) + "/");
  SyntheticWeb web(*o.synthetic, *o.web);

  HttpResponse h3 = HttpGet(HostUrl(*server, 3));  // curl resolves *.localhost to loopback itself
  ASSERT_EQ(h3.status, 200) << h3.error;
  EXPECT_EQ(h3.body, web.Render(3, 0, server->port()));
  EXPECT_NE(h3.body.find("<h1>Page 0 on h3.localhost</h1>"), std::string::npos);
  EXPECT_NE(h3.body, HttpGet(HostUrl(*server, 4)).body);
  // The name is case-insensitive and its port is ignored.
  EXPECT_EQ(GetWithHost(*server, "H3.LocalHost:1").body, h3.body);
  ASSERT_EQ(web.site().PathOf(4), "/s1/p4.html");
  EXPECT_EQ(HttpGet(HostUrl(*server, 7, "/s1/p4.html")).body, web.Render(7, 4, server->port()));
  EXPECT_EQ(HttpGet(HostUrl(*server, 7, "/p4.html")).status, 404);  // not where page 4 lives
}

// A crawl cannot wander: any other name for the port, the bare address included, is misdirected.
TEST(SiteServerWeb, AnswersMisdirectedToAHostItDoesNotServe) {
  auto server = StartServer(Web(10, 5, 4));
  ASSERT_TRUE(server);
  const std::string port = std::to_string(server->port());
  for (const std::string& host : std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port,
                                                           "h10.localhost:" + port, "h03.localhost", "example.com"}) {
    HttpResponse r = GetWithHost(*server, host);
    EXPECT_EQ(r.status, 421) << host;
    EXPECT_NE(r.body.find("Misdirected"), std::string::npos) << host;
  }
  // The admin endpoints answer on any name.
  nlohmann::json hosts = nlohmann::json::parse(GetWithHost(*server, "127.0.0.1", "__hosts").body);
  EXPECT_EQ(hosts["totals"]["misdirected"], 5);
  EXPECT_EQ(hosts["totals"]["requests"], 0);
  EXPECT_TRUE(hosts["hosts"].empty());
  EXPECT_EQ(server->stats().by_status[421], 5u);
}

TEST(SiteServerWeb, CountsEachHostsRequestsPagesAndRobotsFetches) {
  auto server = StartServer(Web(5, 10, 4));
  ASSERT_TRUE(server);
  std::vector<HttpRequest> requests;
  for (const char* path : {"/robots.txt", "/", "/p3.html", "/missing.html"}) {
    requests.push_back(HttpRequest{.url = HostUrl(*server, 1, path)});
  }
  for (const HttpResponse& r : test::HttpGetSequential(requests)) ASSERT_NE(r.status, 0) << r.error;
  HttpGet(HostUrl(*server, 2));

  std::optional<HostStats> h1 = server->HostStatsOf(1);
  ASSERT_TRUE(h1);
  EXPECT_EQ(h1->name, "h1.localhost");
  EXPECT_EQ(h1->robots, "allow");
  EXPECT_EQ(h1->requests, 4u);
  EXPECT_EQ(h1->pages, 2u);           // robots.txt and the 404 are not pages
  EXPECT_EQ(h1->robots_fetches, 1u);
  EXPECT_EQ(h1->by_status, (std::map<int, uint64_t>{{200, 3}, {404, 1}}));
  EXPECT_EQ(h1->max_in_flight, 1u);
  EXPECT_EQ(h1->in_flight, 0u);
  ASSERT_TRUE(h1->min_gap_ms.has_value());
  EXPECT_FALSE(server->HostStatsOf(2)->min_gap_ms.has_value());  // one request: no gap yet
  EXPECT_EQ(server->HostStatsOf(3)->requests, 0u);
  EXPECT_FALSE(server->HostStatsOf(5).has_value());

  std::vector<HostStats> active = server->ActiveHostStats();
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].host, 1u);
  EXPECT_EQ(active[1].host, 2u);

  // The same, over HTTP.
  nlohmann::json hosts = nlohmann::json::parse(HttpGet(server->url() + "__hosts").body);
  ASSERT_EQ(hosts["hosts"].size(), 2u);
  const nlohmann::json& j1 = hosts["hosts"]["h1.localhost"];
  EXPECT_EQ(j1["requests"], 4);
  EXPECT_EQ(j1["pages"], 2);
  EXPECT_EQ(j1["robots_fetches"], 1);
  EXPECT_EQ(j1["statuses"], nlohmann::json({{"200", 3}, {"404", 1}}));
  EXPECT_NEAR(j1["min_gap_ms"].get<double>(), *h1->min_gap_ms, 0.001);
  EXPECT_TRUE(hosts["hosts"]["h2.localhost"]["min_gap_ms"].is_null());
  EXPECT_EQ(hosts["totals"]["requests"], 5);
  EXPECT_EQ(hosts["totals"]["pages"], 3);
  EXPECT_EQ(hosts["totals"]["active_hosts"], 2);
  EXPECT_EQ(hosts["totals"]["hosts"], 5);
  EXPECT_EQ(nlohmann::json::parse(HttpGet(server->url() + "__hosts?all=1").body)["hosts"].size(), 5u);
}

// With 200 ms of latency, requests sent one after another reach a host at least 200 ms apart, and
// requests sent together overlap there: the gap and the in-flight peak are what a politeness test reads.
TEST(SiteServerWeb, HostGapsAndPeaksFollowHowRequestsArrive) {
  ServerOptions o = Web(5, 10, 4);
  o.latency_ms = 200;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  test::HttpGetSequential({HttpRequest{.url = HostUrl(*server, 1)}, HttpRequest{.url = HostUrl(*server, 1, "/p3.html")}});
  std::vector<HttpRequest> together(6, HttpRequest{.url = HostUrl(*server, 2)});
  together.push_back(HttpRequest{.url = HostUrl(*server, 3)});
  test::HttpGetParallel(together);

  HostStats h1 = *server->HostStatsOf(1), h2 = *server->HostStatsOf(2), h3 = *server->HostStatsOf(3);
  EXPECT_EQ(h1.max_in_flight, 1u);
  EXPECT_GE(*h1.min_gap_ms, 199.0);
  EXPECT_EQ(h2.requests, 6u);
  EXPECT_EQ(h2.max_in_flight, 6u);
  EXPECT_LT(*h2.min_gap_ms, 200.0);
  EXPECT_EQ(h3.max_in_flight, 1u);  // the other host's burst is not this host's
  EXPECT_EQ(h2.in_flight, 0u);
}

TEST(SiteServerWeb, ResetZeroesEveryHost) {
  auto server = StartServer(Web(5, 10, 4));
  ASSERT_TRUE(server);
  for (uint64_t h : {0, 1, 1, 4}) HttpGet(HostUrl(*server, h));
  GetWithHost(*server, "elsewhere.example");
  ASSERT_EQ(server->ActiveHostStats().size(), 3u);

  HttpResponse reset = HttpGet(HttpRequest{.url = server->url() + "__stats/reset", .method = "POST"});
  EXPECT_EQ(reset.status, 200);
  EXPECT_TRUE(server->ActiveHostStats().empty());
  HostStats h1 = *server->HostStatsOf(1);
  EXPECT_EQ(h1.requests, 0u);
  EXPECT_TRUE(h1.by_status.empty());
  EXPECT_FALSE(h1.min_gap_ms.has_value());
  nlohmann::json hosts = nlohmann::json::parse(HttpGet(server->url() + "__hosts").body);
  EXPECT_TRUE(hosts["hosts"].empty());
  EXPECT_EQ(hosts["totals"]["requests"], 0);
  EXPECT_EQ(hosts["totals"]["misdirected"], 0);

  // After a reset, the first request again has no gap before it.
  HttpGet(HostUrl(*server, 1));
  EXPECT_FALSE(server->HostStatsOf(1)->min_gap_ms.has_value());
  server->ResetStats();
  EXPECT_EQ(server->HostStatsOf(1)->requests, 0u);
}

// Each host answers robots.txt as /__hosts?all=1 says it will.
TEST(SiteServerWeb, RobotsMixIsServedAsListed) {
  auto server = StartServer(Web(200, 3, 4, {.robots_mix = true}));
  ASSERT_TRUE(server);
  nlohmann::json hosts = nlohmann::json::parse(HttpGet(server->url() + "__hosts?all=1").body);
  ASSERT_EQ(hosts["hosts"].size(), 200u);
  std::map<std::string, int> seen;
  for (uint64_t h = 0; h < 200; ++h) {
    const std::string kind = hosts["hosts"][SyntheticWeb::HostName(h)]["robots"];
    HttpResponse r = HttpGet(HostUrl(*server, h, "/robots.txt"));
    const std::string family = kind.substr(0, kind.find(':'));
    ++seen[family];
    if (family == "404" || family == "503") {
      EXPECT_EQ(r.status, std::stoi(family)) << "h" << h;
    } else {
      EXPECT_EQ(r.status, 200) << "h" << h;
      if (family == "disallow") {
        EXPECT_NE(r.body.find("Disallow: " + kind.substr(9)), std::string::npos) << r.body;
      } else if (family == "crawl-delay") {
        EXPECT_NE(r.body.find("Crawl-delay: " + kind.substr(12)), std::string::npos) << r.body;
      } else {
        EXPECT_EQ(r.body, "User-agent: *\nDisallow:\n");
      }
    }
  }
  EXPECT_EQ(hosts["hosts"]["h0.localhost"]["robots"], "allow");
  for (const char* family : {"allow", "disallow", "crawl-delay", "404", "503"}) {
    EXPECT_GT(seen[family], 0) << family;
    EXPECT_EQ(hosts["totals"]["robots"][family], seen[family]) << family;
  }
  hosts = nlohmann::json::parse(HttpGet(server->url() + "__hosts").body);
  EXPECT_EQ(hosts["totals"]["robots_fetches"], 200);
}

TEST(SiteServerWeb, CrossRedirectsMoveToTheSamePathOnAnotherHost) {
  ServerOptions o = Web(100, 10, 4, {.cross_redirects = true});
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  SyntheticWeb web(*o.synthetic, *o.web);
  std::optional<WebPage> from, to;
  for (uint64_t h = 0; h < 100 && !from; ++h) {
    for (uint64_t p = 0; p < 10 && !from; ++p) {
      if ((to = web.CrossRedirectOf(h, p))) from = WebPage{h, p};
    }
  }
  ASSERT_TRUE(from) << "no page of the web redirects";
  const std::string path = web.site().PathOf(from->page);
  HttpResponse moved = HttpGet(HostUrl(*server, from->host, path));
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.headers["location"], HostUrl(*server, to->host, path));
  HttpResponse followed = HttpGet(HttpRequest{.url = HostUrl(*server, from->host, path), .follow_redirects = true});
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.body, web.Render(to->host, to->page, server->port()));
  EXPECT_EQ(server->HostStatsOf(from->host)->cross_redirects, 2u);
  EXPECT_EQ(server->HostStatsOf(from->host)->pages, 0u);
  EXPECT_EQ(server->HostStatsOf(to->host)->pages, 1u);
}

TEST(SiteServerWeb, LogEntriesCarryTheirHost) {
  TempDir tmp;
  ServerOptions o = Web(5, 10, 4);
  o.log_file = (tmp.path() / "requests.jsonl").string();
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  HttpGet(HostUrl(*server, 4, "/p3.html"));
  GetWithHost(*server, "stray.example");
  const std::string port = std::to_string(server->port());
  std::vector<LogEntry> log = server->log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].host, "h4.localhost:" + port);
  EXPECT_EQ(log[1].host, "stray.example");
  EXPECT_EQ(log[1].status, 421);
  nlohmann::json over_http = nlohmann::json::parse(HttpGet(server->url() + "__log").body);
  EXPECT_EQ(over_http[0]["host"], "h4.localhost:" + port);
  server.reset();
  std::ifstream in(tmp.path() / "requests.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["host"], "h4.localhost:" + port);
}

// The knobs of a single site hold for a web: fault rules by path hit that path on every host,
// and --faults RATE spreads faults over the hosts' pages as /__faults lists them.
TEST(SiteServerWeb, FaultsApplyOnEveryHost) {
  ServerOptions o = Web(20, 30, 4);
  o.faults.push_back(Rule("status:500@/p3.html"));
  o.synthetic_fault_rate = 0.1;
  auto server = StartServer(o);
  ASSERT_TRUE(server);
  for (uint64_t h : {0, 7, 19}) EXPECT_EQ(HttpGet(HostUrl(*server, h, "/p3.html")).status, 500) << h;
  nlohmann::json pages = nlohmann::json::parse(HttpGet(server->url() + "__faults").body)["pages"];
  EXPECT_GT(pages.size(), 20u);
  std::set<std::string> faulted_hosts;
  int checked = 0;
  for (const auto& [where, fault] : pages.items()) {
    const std::string host = where.substr(0, where.find('/'));
    faulted_hosts.insert(host);
    const std::string kind = fault.get<std::string>();
    if (kind.rfind("status:", 0) != 0 || where.find("/p3.html") != std::string::npos) continue;
    HttpResponse r = HttpGet("http://" + host + ":" + std::to_string(server->port()) + where.substr(host.size()));
    EXPECT_EQ(r.status, std::stoi(kind.substr(7, 3))) << where;
    ++checked;
  }
  EXPECT_GT(checked, 0);
  EXPECT_GT(faulted_hosts.size(), 10u);
}

// A breadth-first walk over HTTP from the printed URL: every page of every host, and no link
// leads off the web.
TEST(SiteServerWeb, EveryPageOfEveryHostIsReachableOverHttp) {
  constexpr uint64_t kHosts = 30, kPages = 4;
  auto server = StartServer(Web(kHosts, kPages, 4));
  ASSERT_TRUE(server);
  std::set<std::string> seen;
  const std::string suffix = ".localhost:" + std::to_string(server->port()) + "/";
  ASSERT_NO_FATAL_FAILURE(WalkOverHttp(
      server->url(), [&](const std::string& url) { return url.find(suffix) != std::string::npos; }, "the web", seen));
  EXPECT_EQ(seen.size(), kHosts * kPages);
  nlohmann::json totals = nlohmann::json::parse(HttpGet(server->url() + "__hosts").body)["totals"];
  EXPECT_EQ(totals["active_hosts"], kHosts);
  EXPECT_EQ(totals["pages"], kHosts * kPages);
}

TEST(SiteServerWeb, RefusesOptionsThatCannotMakeAWeb) {
  auto refused = [](ServerOptions o) { return SiteServer::Create(std::move(o)).status().code(); };
  ServerOptions no_links = Web(3, 5, 0);
  EXPECT_EQ(refused(no_links), Status::Code::kInvalidArgument);
  ServerOptions share = Web(3, 5, 4, {.cross_links = 1.5});
  EXPECT_EQ(refused(share), Status::Code::kInvalidArgument);
  ServerOptions v6 = Web(3, 5, 4);
  v6.host = "::1";
  EXPECT_EQ(refused(v6), Status::Code::kInvalidArgument);
  ServerOptions directory = Directory(kSampleSite);
  directory.web = SyntheticWebOptions{.hosts = 3};
  EXPECT_EQ(refused(directory), Status::Code::kInvalidArgument);
  // A single site knows nothing of hosts: /__hosts is an ordinary missing page there.
  auto single = StartServer(Synthetic(5, 2));
  ASSERT_TRUE(single);
  EXPECT_EQ(HttpGet(single->url() + "__hosts").status, 404);
  EXPECT_FALSE(single->HostStatsOf(0).has_value());
}

}  // namespace
}  // namespace fanout::testsite
