#include "testsite/synthetic.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "crawler/url.h"
#include "tests/support/links.h"
#include "tests/support/status_matchers.h"

namespace fanout::testsite {
namespace {

constexpr const char* kBase = "http://127.0.0.1:8080";

SyntheticSite MakeSite(uint64_t pages, int links, uint64_t seed, size_t bytes = 3000) {
  return SyntheticSite({.pages = pages, .links = links, .page_bytes = bytes, .seed = seed});
}

TEST(SyntheticSite, SameSeedGivesSameBytes) {
  SyntheticSite a = MakeSite(500, 8, 42), b = MakeSite(500, 8, 42);
  for (uint64_t i : {0, 1, 7, 123, 499}) EXPECT_EQ(a.Render(i, kBase), b.Render(i, kBase)) << "page " << i;
}

TEST(SyntheticSite, OtherSeedGivesOtherLinks) {
  SyntheticSite a = MakeSite(500, 8, 1), b = MakeSite(500, 8, 2);
  int differing = 0;
  for (uint64_t i = 0; i < 50; ++i) differing += a.LinksOf(i) != b.LinksOf(i);
  EXPECT_GT(differing, 25);
}

TEST(SyntheticSite, EveryPathMapsBackToItsPage) {
  SyntheticSite site = MakeSite(1000, 4, 3);
  for (uint64_t i = 0; i < site.size(); ++i) {
    std::string path = site.PathOf(i);
    size_t q = path.find('?');
    std::string_view p = std::string_view(path).substr(0, q);
    std::string_view query = q == std::string::npos ? "" : std::string_view(path).substr(q + 1);
    ASSERT_EQ(site.PageAt(p, query), i) << path;
  }
  EXPECT_FALSE(site.PageAt("/p1000.html", "").has_value());  // out of range
  EXPECT_FALSE(site.PageAt("/p01.html", "").has_value());    // not the canonical spelling
  EXPECT_FALSE(site.PageAt("/s0/p3.html", "").has_value());  // p3 lives at /p3.html
  EXPECT_FALSE(site.PageAt("/list", "page=8").has_value());  // page 8 is not a list page
}

TEST(SyntheticSite, PagesAreAboutTheAskedSize) {
  SyntheticSite site = MakeSite(100, 10, 5, 20000);
  for (uint64_t i : {0, 17, 99}) {
    size_t size = site.Render(i, kBase).size();
    EXPECT_GE(size, 19000u);
    EXPECT_LE(size, 21000u);
  }
}

// Following the links as written, resolved as RFC 3986 says, reaches every page exactly at its
// canonical URL: no link leads outside the site or to a missing page.
// The levels bench's ideal crawl is computed from: those a crawler finds by following the pages'
// rendered links breadth-first from "/".
TEST(SyntheticSite, LevelSizesAreTheBreadthFirstLevelsOfTheRenderedLinks) {
  for (auto [pages, links] : {std::pair<uint64_t, int>{300, 10}, {60, 2}, {1, 4}}) {
    SyntheticSite site = MakeSite(pages, links, 1);
    std::map<std::string, uint64_t> page_of;
    for (uint64_t i = 0; i < pages; ++i) page_of[std::string(kBase) + site.PathOf(i)] = i;
    std::map<std::string, size_t> depth = {{std::string(kBase) + "/", 0}};
    std::deque<uint64_t> queue = {0};
    std::vector<uint64_t> levels = {1};
    while (!queue.empty()) {
      const uint64_t page = queue.front();
      queue.pop_front();
      const std::string page_url = std::string(kBase) + site.PathOf(page);
      for (const std::string& href : test::ExtractHrefs(site.Render(page, kBase))) {
        Result<std::string> url = ResolveUrl(page_url, href);
        ASSERT_OK(url) << href;
        if (depth.count(*url) != 0) continue;
        const size_t d = depth[page_url] + 1;
        depth[*url] = d;
        if (levels.size() <= d) levels.resize(d + 1, 0);
        ++levels[d];
        ASSERT_EQ(page_of.count(*url), 1u) << *url;
        queue.push_back(page_of[*url]);
      }
    }
    EXPECT_EQ(site.LevelSizes(), levels) << pages << " pages, " << links << " links";
  }
}

TEST(SyntheticSite, EveryPageIsReachableFromTheRootByItsLinks) {
  for (auto [pages, links] : {std::pair<uint64_t, int>{1000, 10}, {257, 2}, {50, 1}}) {
    SyntheticSite site = MakeSite(pages, links, 9);
    std::set<std::string> seen = {std::string(kBase) + "/"};
    std::deque<uint64_t> queue = {0};
    std::set<std::string> forms;
    while (!queue.empty()) {
      uint64_t page = queue.front();
      queue.pop_front();
      std::string page_url = std::string(kBase) + site.PathOf(page);
      std::vector<std::string> hrefs = test::ExtractHrefs(site.Render(page, kBase));
      std::vector<uint64_t> targets = site.LinksOf(page);
      ASSERT_EQ(hrefs.size(), targets.size());
      for (size_t j = 0; j < hrefs.size(); ++j) {
        Result<std::string> url = ResolveUrl(page_url, hrefs[j]);
        ASSERT_OK(url) << hrefs[j];
        ASSERT_EQ(*url, std::string(kBase) + site.PathOf(targets[j])) << "href " << hrefs[j] << " on " << page_url;
        forms.insert(hrefs[j].substr(0, 3));
        if (seen.insert(*url).second) queue.push_back(targets[j]);
      }
    }
    EXPECT_EQ(seen.size(), pages) << pages << " pages, " << links << " links";
    if (pages == 1000) {
      // The relative forms the site promises all occur.
      for (const char* form : {"../", "./s", "/s", "/p", "/x", "HTT", "htt", "p"}) {
        bool found = std::any_of(forms.begin(), forms.end(),
                                 [&](const std::string& f) { return f.rfind(form, 0) == 0; });
        EXPECT_TRUE(found) << "no link starts with " << form;
      }
    }
  }
}

TEST(SyntheticSite, BrokenFlavoursKeepTheirLinks) {
  SyntheticSite site = MakeSite(300, 6, 4);
  std::string malformed = site.Render(12, kBase, PageFlavor::kMalformed);
  EXPECT_EQ(test::ExtractHrefs(malformed).size(), 6u);
  EXPECT_EQ(malformed.find("</html>"), std::string::npos);

  std::string latin1 = site.Render(12, kBase, PageFlavor::kLatin1);
  EXPECT_NE(latin1.find("caf\xE9"), std::string::npos);         // é as one Latin-1 byte
  EXPECT_EQ(latin1.find("caf\xC3\xA9"), std::string::npos);     // not as UTF-8
  EXPECT_NE(site.Render(12, kBase, PageFlavor::kLatin1Meta).find("charset=\"iso-8859-1\""), std::string::npos);
}

}  // namespace
}  // namespace fanout::testsite
