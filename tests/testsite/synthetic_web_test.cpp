#include "testsite/synthetic_web.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "crawler/url.h"
#include "tests/support/links.h"
#include "tests/support/status_matchers.h"

namespace fanout::testsite {
namespace {

constexpr uint16_t kPort = 8080;

SyntheticWeb MakeWeb(uint64_t hosts, uint64_t pages, int links, double cross = 0.5, uint64_t seed = 3,
                     bool robots_mix = false, bool redirects = false) {
  return SyntheticWeb({.pages = pages, .links = links, .page_bytes = 800, .seed = seed},
                      {.hosts = hosts, .cross_links = cross, .robots_mix = robots_mix, .cross_redirects = redirects});
}

uint64_t Key(const SyntheticWeb& web, WebPage p) { return p.host * web.site().size() + p.page; }

std::string UrlOf(const SyntheticWeb& web, WebPage p) {
  return SyntheticWeb::OriginOf(p.host, kPort) + web.site().PathOf(p.page);
}

// Whether a crawler that obeys the host's robots.txt may fetch the page (RFC 9309: 404 allows
// all, 5xx disallows all).
bool Allowed(const SyntheticWeb& web, WebPage p) {
  HostRobots robots = web.RobotsOf(p.host);
  if (robots.kind == HostRobots::Kind::kUnavailable) return false;
  if (robots.kind == HostRobots::Kind::kDisallow) return web.site().PathOf(p.page).rfind(robots.prefix, 0) != 0;
  return true;
}

struct Walk {
  std::vector<bool> seen;   // by Key
  uint64_t seen_count = 0;
  int depth = 0;            // BFS levels
};

// Breadth-first over the generator's links from h0's root. `polite`: as a crawler that obeys
// robots.txt and follows cross-host redirects sees the web (a page it may not fetch is seen, but
// its links are not).
Walk WalkFromH0(const SyntheticWeb& web, bool polite) {
  Walk walk;
  walk.seen.assign(web.hosts() * web.site().size(), false);
  std::vector<WebPage> level = {{0, 0}};
  walk.seen[0] = true;
  walk.seen_count = 1;
  while (!level.empty()) {
    std::vector<WebPage> next;
    for (WebPage p : level) {
      std::vector<WebPage> out;
      if (polite && !Allowed(web, p)) continue;
      if (auto moved = polite ? web.CrossRedirectOf(p.host, p.page) : std::nullopt) {
        out = {*moved};
      } else {
        out = web.LinksOf(p.host, p.page);
      }
      for (WebPage to : out) {
        if (walk.seen[Key(web, to)]) continue;
        walk.seen[Key(web, to)] = true;
        ++walk.seen_count;
        next.push_back(to);
      }
    }
    if (!next.empty()) ++walk.depth;
    level = std::move(next);
  }
  return walk;
}

TEST(SyntheticWeb, NamesItsHostsAndKnowsNoOthers) {
  SyntheticWeb web = MakeWeb(10, 3, 4);
  EXPECT_EQ(SyntheticWeb::HostName(3), "h3.localhost");
  EXPECT_EQ(SyntheticWeb::OriginOf(3, 8080), "http://h3.localhost:8080");
  EXPECT_EQ(web.HostOf("h3.localhost"), 3u);
  EXPECT_EQ(web.HostOf("H3.LocalHost:8080"), 3u);
  EXPECT_EQ(web.HostOf("h0.localhost:1"), 0u);
  EXPECT_EQ(web.HostOf("h9.localhost"), 9u);
  for (const char* foreign : {"h10.localhost", "h03.localhost", "127.0.0.1:8080", "localhost", "[::1]:8080",
                              "h3.localhost.example.com", "xh3.localhost", "h.localhost", "h3.localhost:80a",
                              "h-1.localhost", "", "h3.localhost."}) {
    EXPECT_FALSE(web.HostOf(foreign).has_value()) << foreign;
  }
}

// Under a domain of its own (a web named by a real DNS, scripts/weblab.sh), the links name it too.
TEST(SyntheticWeb, NamesItsHostsUnderItsDomain) {
  SyntheticWeb web({.pages = 3, .links = 4, .page_bytes = 800, .seed = 3}, {.hosts = 10, .domain = "web.test"});
  EXPECT_EQ(SyntheticWeb::HostName(3, "web.test"), "h3.web.test");
  EXPECT_EQ(SyntheticWeb::OriginOf(3, 8080, "web.test"), "http://h3.web.test:8080");
  EXPECT_EQ(SyntheticWeb::OriginOf(3, 80, "web.test"), "http://h3.web.test");  // the default port goes unsaid
  EXPECT_EQ(web.HostOf("h3.web.test"), 3u);
  EXPECT_EQ(web.HostOf("H3.Web.Test:80"), 3u);
  for (const char* foreign : {"h3.localhost", "h3.xweb.test", "h3web.test", "h3.web.test.example", "h.web.test",
                              "web.test", "h10.web.test"}) {
    EXPECT_FALSE(web.HostOf(foreign).has_value()) << foreign;
  }
  const std::string root = web.Render(0, 0, 80);
  EXPECT_NE(root.find("<h1>Page 0 on h0.web.test</h1>"), std::string::npos) << root;
  EXPECT_NE(root.find("http://h1.web.test/"), std::string::npos) << "h0 links h1's root: " << root;
  EXPECT_EQ(root.find("localhost"), std::string::npos) << root;
}

TEST(SyntheticWeb, SameSeedGivesSameWebOtherSeedAnother) {
  SyntheticWeb a = MakeWeb(300, 4, 6, 0.5, 11, true, true), b = MakeWeb(300, 4, 6, 0.5, 11, true, true);
  SyntheticWeb c = MakeWeb(300, 4, 6, 0.5, 12, true, true);
  int links_differ = 0, robots_differ = 0;
  for (uint64_t h = 0; h < 300; ++h) {
    for (uint64_t p = 0; p < 4; ++p) {
      ASSERT_EQ(a.Render(h, p, kPort), b.Render(h, p, kPort)) << h << "/" << p;
      ASSERT_EQ(a.CrossRedirectOf(h, p), b.CrossRedirectOf(h, p));
      links_differ += a.LinksOf(h, p) != c.LinksOf(h, p);
    }
    ASSERT_EQ(a.RobotsOf(h).ToString(), b.RobotsOf(h).ToString());
    robots_differ += a.RobotsOf(h).ToString() != c.RobotsOf(h).ToString();
  }
  EXPECT_GT(links_differ, 600);
  EXPECT_GT(robots_differ, 30);
}

// Every page of every host is reachable from h0's root, for the shapes a benchmark uses (one page a
// host, up to 100,000 hosts) and for the awkward ones (one or two links a page, no cross links
// asked for, only cross links).
TEST(SyntheticWeb, EveryPageOfEveryHostIsReachableFromH0) {
  struct Shape {
    uint64_t hosts, pages;
    int links;
    double cross;
  };
  for (Shape s : {Shape{100000, 1, 10, 0.5}, Shape{40000, 1, 3, 0.2}, Shape{1000, 20, 10, 0.5},
                  Shape{200, 50, 4, 0.1}, Shape{50, 20, 1, 0.5}, Shape{300, 7, 2, 0.0}, Shape{100, 10, 10, 1.0},
                  Shape{1, 30, 5, 0.5}, Shape{7, 1, 1, 0.5}}) {
    SyntheticWeb web = MakeWeb(s.hosts, s.pages, s.links, s.cross);
    Walk walk = WalkFromH0(web, /*polite=*/false);
    EXPECT_EQ(walk.seen_count, s.hosts * s.pages)
        << s.hosts << " hosts x " << s.pages << " pages, " << s.links << " links, cross " << s.cross;
    if (s.hosts == 100000) {
      EXPECT_LE(walk.depth, 12) << "the hosts are linked too deep for a crawl to fan out";
    }
  }
}

// Obeying robots.txt (a Disallow hides pages, a 503 closes its host) and following the redirects
// instead of a page's links still discovers every host: the mix never cuts the host tree.
TEST(SyntheticWeb, RobotsMixAndRedirectsNeverCutAHostOff) {
  for (auto [hosts, pages, links] : {std::tuple<uint64_t, uint64_t, int>{20000, 1, 10}, {2000, 6, 4}, {300, 5, 1}}) {
    SyntheticWeb web = MakeWeb(hosts, pages, links, 0.5, 5, /*robots_mix=*/true, /*redirects=*/true);
    Walk walk = WalkFromH0(web, /*polite=*/true);
    for (uint64_t h = 0; h < hosts; ++h) {
      ASSERT_TRUE(walk.seen[Key(web, {h, 0})]) << "h" << h << " of " << hosts << " x " << pages << ", " << links;
    }
  }
}

TEST(SyntheticWeb, CrossLinkShareIsAboutTheAskedShare) {
  for (double cross : {0.1, 0.5, 0.9}) {
    SyntheticWeb web = MakeWeb(500, 20, 10, cross);
    uint64_t all = 0, off_host = 0;
    for (uint64_t h = 0; h < 500; ++h) {
      for (uint64_t p = 0; p < 20; ++p) {
        for (WebPage to : web.LinksOf(h, p)) {
          ++all;
          off_host += to.host != h;
        }
      }
    }
    EXPECT_NEAR(static_cast<double>(off_host) / static_cast<double>(all), cross, 0.02) << cross;
  }
  // Asked for none, only the host tree leaves its host: N-1 links.
  SyntheticWeb none = MakeWeb(400, 5, 6, 0.0);
  uint64_t off_host = 0;
  for (uint64_t h = 0; h < 400; ++h) {
    for (uint64_t p = 0; p < 5; ++p) {
      for (WebPage to : none.LinksOf(h, p)) off_host += to.host != h;
    }
  }
  EXPECT_EQ(off_host, 399u);
}

// The HTML says what LinksOf says: every href, resolved against the page's URL and normalised as a
// crawler does (upper-case schemes and hosts, fragments), is the target's one URL.
TEST(SyntheticWeb, LinksAsWrittenResolveToTheirTargets) {
  SyntheticWeb web = MakeWeb(50, 30, 8, 0.5);
  std::set<std::string> spellings;
  for (uint64_t h : {0, 1, 17, 49}) {
    for (uint64_t p = 0; p < 30; ++p) {
      const std::string html = web.Render(h, p, kPort);
      EXPECT_NE(html.find("<h1>Page " + std::to_string(p) + " on h" + std::to_string(h) + ".localhost</h1>"),
                std::string::npos);
      std::vector<std::string> hrefs = test::ExtractHrefs(html);
      std::vector<WebPage> targets = web.LinksOf(h, p);
      ASSERT_EQ(hrefs.size(), targets.size());
      for (size_t j = 0; j < hrefs.size(); ++j) {
        Result<std::string> url = ResolveUrl(UrlOf(web, {h, p}), hrefs[j]);
        ASSERT_OK(url) << hrefs[j];
        EXPECT_EQ(*url, UrlOf(web, targets[j])) << hrefs[j] << " on " << UrlOf(web, {h, p});
        if (targets[j].host != h) spellings.insert(hrefs[j].substr(0, 8));
      }
    }
  }
  EXPECT_TRUE(spellings.count("http://h")) << "no plain absolute cross link";
  EXPECT_TRUE(spellings.count("HTTP://H")) << "no upper-case cross link";
}

TEST(SyntheticWeb, RobotsMixHasEveryKindAndKeepsH0Open) {
  constexpr uint64_t kHosts = 5000;
  SyntheticWeb web = MakeWeb(kHosts, 3, 6, 0.5, 7, /*robots_mix=*/true);
  std::map<HostRobots::Kind, uint64_t> kinds;
  std::set<uint64_t> parents;
  for (uint64_t h = 1; h < kHosts; ++h) parents.insert(*web.HostParent(h));
  for (uint64_t h = 0; h < kHosts; ++h) {
    HostRobots robots = web.RobotsOf(h);
    ++kinds[robots.kind];
    if (robots.kind == HostRobots::Kind::kUnavailable) {
      EXPECT_FALSE(parents.count(h)) << "h" << h << " answers 503 but links other hosts";
    }
    if (robots.kind == HostRobots::Kind::kDisallow) {
      EXPECT_EQ(robots.body(), "User-agent: *\nDisallow: " + robots.prefix + "\n");
      EXPECT_NE(robots.prefix, "/");
    }
    if (robots.kind == HostRobots::Kind::kCrawlDelay) {
      EXPECT_GE(robots.crawl_delay, 0.05);
      EXPECT_LE(robots.crawl_delay, 0.2);
      EXPECT_NE(robots.body().find("Crawl-delay: "), std::string::npos);
    }
  }
  EXPECT_EQ(web.RobotsOf(0).kind, HostRobots::Kind::kAllow);
  EXPECT_GT(kinds[HostRobots::Kind::kAllow], kHosts * 6 / 10);
  for (auto kind : {HostRobots::Kind::kDisallow, HostRobots::Kind::kCrawlDelay, HostRobots::Kind::kNotFound,
                    HostRobots::Kind::kUnavailable}) {
    EXPECT_GT(kinds[kind], kHosts / 100) << "kind " << static_cast<int>(kind);
  }
  // Without the mix, every host allows all.
  SyntheticWeb plain = MakeWeb(kHosts, 3, 6);
  for (uint64_t h = 0; h < kHosts; ++h) ASSERT_EQ(plain.RobotsOf(h).ToString(), "allow");
}

TEST(SyntheticWeb, CrossRedirectsGoToTheSamePathOnAnotherHostOnce) {
  SyntheticWeb web = MakeWeb(1000, 10, 6, 0.5, 2, false, /*redirects=*/true);
  uint64_t redirects = 0;
  for (uint64_t h = 0; h < 1000; ++h) {
    for (uint64_t p = 0; p < 10; ++p) {
      std::optional<WebPage> moved = web.CrossRedirectOf(h, p);
      if (!moved) continue;
      ++redirects;
      EXPECT_NE(moved->host, h);
      EXPECT_EQ(moved->page, p);
      EXPECT_FALSE(web.CrossRedirectOf(moved->host, moved->page).has_value()) << "a chain from h" << h;
    }
  }
  // 1 in 50 of the pages that may redirect: the page tree's leaves, here 7 of each host's 10.
  EXPECT_GT(redirects, 70u);
  EXPECT_LT(redirects, 220u);
  SyntheticWeb plain = MakeWeb(1000, 10, 6);
  for (uint64_t h = 0; h < 1000; ++h) ASSERT_FALSE(plain.CrossRedirectOf(h, 9).has_value());
}

}  // namespace
}  // namespace fanout::testsite
