// A <meta http-equiv=refresh> followed as a redirect hop, end to end in every mode, judged at the
// server: what it was asked for, and how often.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/crawl_fixture.h"
#include "tests/support/debian_docs.h"
#include "tests/support/subprocess.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using testsite::ServerOptions;

class MetaRefreshCrawl : public test::CrawlFixture {
 protected:
  void Write(const std::string& path, const std::string& html) {
    const std::filesystem::path file = std::filesystem::path(dir_.File("site")) / path;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << html;
  }
  static std::string Refresh(const std::string& content, const std::string& body = "") {
    return "<!DOCTYPE html><html><head><meta http-equiv=\"refresh\" content=\"" + content + "\"></head><body>" + body +
           "</body></html>";
  }
  // The site: the OpenJDK documentation's root shape, a slow refresh, a refresh loop, one into a
  // directory robots.txt refuses, one off the site, and one whose page has links of its own.
  void WriteSite() {
    Write("robots.txt", "User-agent: *\nDisallow: /api/private/\n");
    Write("index.html", Refresh("0;url=api/index.html"));
    Write("api/index.html",
          "<title>API</title><a href=a.html>a</a> <a href=b.html>b</a> <a href=c.html>c</a> <a href=d.html>d</a> "
          "<a href=e.html>e</a>");
    Write("api/a.html", Refresh("60; url=far.html"));
    Write("api/far.html", "<title>far</title>");
    Write("api/b.html", Refresh("0; url=loop.html"));
    Write("api/loop.html", Refresh("1; url=b.html"));
    Write("api/c.html", Refresh("0; url=private/p.html"));
    Write("api/private/p.html", "<title>private</title>");
    Write("api/d.html", Refresh("0; url=http://elsewhere.localhost:1/x.html"));
    Write("api/e.html", Refresh("2; url=target.html", "<a href=extra.html>extra</a>"));
    Write("api/target.html", "<title>target</title>");
    Write("api/extra.html", "<title>extra</title>");
  }
  std::unique_ptr<testsite::SiteServer> ServeSite() {
    ServerOptions o;
    o.root = dir_.File("site");
    return Serve(o);
  }
  std::map<std::string, int> Requests(const testsite::SiteServer& site) {
    std::map<std::string, int> count;
    for (const testsite::LogEntry& e : site.log()) ++count[e.target];
    return count;
  }
  std::string Row(const std::string& column, const std::string& url) {
    return Query("SELECT " + column + " FROM pages WHERE url = '" + url + "'");
  }
};

TEST_F(MetaRefreshCrawl, ARefreshIsARedirectHopJudgedLikeOneInEveryMode) {
  WriteSite();
  for (const std::string mode : {"sync", "threads", "async"}) {
    SCOPED_TRACE(mode);
    std::filesystem::remove(db());
    auto site = ServeSite();
    const std::string u = site->url();
    CrawlOptions options;
    options.seeds = {u};
    options.mode = CrawlModeNamed(mode).value();
    CrawlSummary s = CrawlInto(options);
    const std::map<std::string, int> asked = Requests(*site);
    // Every page fetched exactly once, the refused and off-site targets never.
    for (const char* path : {"/", "/api/index.html", "/api/a.html", "/api/far.html", "/api/b.html", "/api/loop.html",
                             "/api/c.html", "/api/d.html", "/api/e.html", "/api/target.html", "/api/extra.html"}) {
      EXPECT_EQ(asked.count(path) ? asked.at(path) : 0, 1) << path;
    }
    EXPECT_EQ(asked.count("/api/private/p.html"), 0u);

    // The root is a hop to api/index.html: its row is that page, with the hop in its chain.
    EXPECT_EQ(Row("final_url", u), u + "api/index.html");
    EXPECT_EQ(Row("title", u), "API");
    EXPECT_EQ(Row("redirects", u), "1");
    EXPECT_EQ(Row("json_extract(redirect_chain, '$[0].via')", u), "meta_refresh");
    EXPECT_EQ(Row("json_extract(redirect_chain, '$[0].status')", u), "200");
    EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url = '" + u + "api/index.html'"), 0);  // fetched once, as the hop
    // 60 s is past --max-meta-refresh-delay: only a link, followed as one.
    EXPECT_EQ(Row("final_url", u + "api/a.html"), "");
    EXPECT_EQ(Row("status", u + "api/far.html"), "200");
    // A loop ends at the page that closes it, which is the result.
    EXPECT_EQ(Row("final_url", u + "api/b.html"), u + "api/loop.html");
    EXPECT_EQ(Row("status", u + "api/b.html"), "200");
    // Refused by robots.txt and out of scope: the refresh page stays the page, the target is a skip.
    EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'redirect_robots' AND url = '" + u +
                    "api/private/p.html' AND detail LIKE 'Disallow: /api/private/%'"),
              1);
    EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'redirect_out_of_scope' AND url = "
                    "'http://elsewhere.localhost:1/x.html'"),
              1);
    EXPECT_EQ(Row("status", u + "api/c.html"), "200");
    EXPECT_EQ(Row("error", u + "api/c.html"), "meta refresh to " + u + "api/private/p.html, not followed: robots");
    // The refresh page's own links are found all the same, and the target is its row's final URL.
    EXPECT_EQ(Row("final_url", u + "api/e.html"), u + "api/target.html");
    EXPECT_EQ(Row("title", u + "api/e.html"), "target");
    EXPECT_EQ(Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE p.url = '" + u +
                    "api/e.html' AND l.to_url = '" + u + "api/extra.html'"),
              1);
    EXPECT_EQ(s.pages, Count("SELECT count(*) FROM pages"));

    if (mode == "async") {
      test::ProcessResult why = test::RunProcess({FANOUT_BINARY, "why", u, "--db", db()});
      EXPECT_EQ(why.exit_code, 0) << why.err;
      EXPECT_NE(why.out.find("1. 200 " + u + " -> " + u + "api/index.html (meta refresh after 0 s)"), std::string::npos)
          << why.out;
    }
  }
}

TEST_F(MetaRefreshCrawl, ANegativeLimitMakesEveryRefreshOnlyALink) {
  WriteSite();
  auto site = ServeSite();
  const std::string u = site->url();
  CrawlOptions options;
  options.seeds = {u};
  options.max_meta_refresh_delay = -1;
  CrawlInto(options);
  EXPECT_EQ(Row("final_url", u), "");
  EXPECT_EQ(Row("status", u + "api/index.html"), "200");
  EXPECT_EQ(Count("SELECT count(*) FROM links WHERE to_url = '" + u + "api/index.html'"), 1);
}

// The OpenJDK 17 API documentation Debian ships: its root is only a refresh, which a crawl follows.
TEST_F(MetaRefreshCrawl, TheJdkDocumentationIsCrawledPastItsRefreshingRoot) {
  // Served as a user serves it: openjdk-17-doc's folder is links into openjdk-17-jre-headless's.
  const std::filesystem::path root = std::filesystem::path(testing::kJdkDocs).parent_path();
  ASSERT_TRUE(std::filesystem::exists(root / "index.html")) << "openjdk-17-doc is not installed (scripts/test.sh installs it)";
  ServerOptions o;
  o.root = root.string();
  o.follow_symlinks = true;
  auto site = Serve(o);
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .max_pages = 200});  // seeds and max_pages lead the struct
  EXPECT_EQ(s.pages, 200);
  EXPECT_EQ(Row("final_url", site->url()), site->url() + "api/index.html");
  int index = 0;
  for (const testsite::LogEntry& e : site->log()) index += e.target == "/api/index.html";
  EXPECT_EQ(index, 1);
}

}  // namespace
}  // namespace fanout
