#include "crawler/url.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "parser/html_parser.h"
#include "tests/support/debian_docs.h"

namespace fanout {
namespace {

std::string Resolve(std::string_view base, std::string_view href) {
  Result<std::string> r = ResolveUrl(base, href);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

// RFC 3986 section 5.4.1 and 5.4.2, on an http base (fragments dropped, as the frontier wants).
TEST(ResolveUrl, FollowsRfc3986Examples) {
  const std::string base = "http://a/b/c/d;p?q";
  const std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},          {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},        {"/g", "http://a/g"},
      {"?y", "http://a/b/c/d;p?y"},     {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},     {"g#s", "http://a/b/c/g"},
      {";x", "http://a/b/c/;x"},        {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},           {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},            {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},         {"../..", "http://a/"},
      {"../../g", "http://a/g"},        {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},  {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},          {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},        {"g..", "http://a/b/c/g.."},
      {"./../g", "http://a/b/g"},       {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},    {"g/../h", "http://a/b/c/h"},
      {"//g", "http://g/"},
  };
  for (const auto& [href, want] : cases) EXPECT_EQ(Resolve(base, href), want) << "href: " << href;
}

TEST(NormalizeUrl, GivesOnePageOneKey) {
  EXPECT_EQ(*NormalizeUrl("HTTP://Example.COM:80/a/./b/../c.html#frag"), "http://example.com/a/c.html");
  EXPECT_EQ(*NormalizeUrl("https://example.com:443"), "https://example.com/");
  EXPECT_EQ(*NormalizeUrl("http://example.com:8080/x"), "http://example.com:8080/x");
  EXPECT_EQ(*NormalizeUrl("http://example.com/%7euser/a%2fb"), "http://example.com/~user/a%2Fb");
  EXPECT_EQ(*NormalizeUrl("http://[::1]:8080/p?b=2&a=1"), "http://[::1]:8080/p?b=2&a=1");
}

TEST(ResolveUrl, EncodesSpacesAndNonAsciiAndTrimsWhitespace) {
  EXPECT_EQ(Resolve("http://h/d/", "  a b.html \n"), "http://h/d/a%20b.html");
  EXPECT_EQ(Resolve("http://h/", "caf\xC3\xA9.html"), "http://h/caf%C3%A9.html");
}

TEST(ResolveUrl, RefusesOtherSchemes) {
  EXPECT_FALSE(ResolveUrl("http://h/", "mailto:someone@example.com").ok());
  EXPECT_FALSE(ResolveUrl("http://h/", "javascript:void(0)").ok());
  EXPECT_FALSE(ResolveUrl("http://h/", "ftp://h/file").ok());
  EXPECT_FALSE(ResolveUrl("not a url", "g").ok());
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

// The resolver's fast path against curl alone: the same answer for every href, and the fast path
// taking the common ones.
std::string Answer(UrlResolver& r, std::string_view href) {
  Result<std::string> url = r.Resolve(href);
  return url.ok() ? *url : "ERROR";
}

TEST(UrlResolver, FastPathGivesCurlsAnswer) {
  const char* bases[] = {"http://a/b/c/d;p?q", "http://h:8080/", "https://h/dir/page.html", "http://h/x/y/",
                         "http://h/a%20b/c", "http://u@h/p", "http://H/P"};
  const char* hrefs[] = {"g", "./g", "g/", "/g", "?y", "g?y", ";x", "g;x", "g;x?y", "", ".", "./", "..", "../",
                         "../g", "../..", "../../", "../../g", "../../../g", "../../../../g", "/./g", "/../g",
                         "g.", ".g", "g..", "..g", "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y",
                         "a//b", "//g", "g?", "?", "g?a?b", "g?a=1&b=2", "/", "x/y/../../..", "~u/p", "p@q",
                         "a(b)*c,d+e!$'", "g:h", "http:g", "a%41", "a b", "a\\b", "ünï", "mailto:x"};
  size_t fast = 0;
  for (const char* base : bases) {
    UrlResolver with(base), without(base, UrlResolver::How::kCurlOnly);
    for (const char* href : hrefs) EXPECT_EQ(Answer(with, href), Answer(without, href)) << base << " + " << href;
    fast += with.fast_resolved();
  }
  EXPECT_GT(fast, 100u) << "the fast path takes the plain relative hrefs";
}

TEST(UrlResolver, FastPathGivesCurlsAnswerOnRandomHrefs) {
  static const char* kPieces[] = {"..", ".", "/", "a", "bc", "?", "=", "&", ";", "@", "//", "~", "%41", ":", "../",
                                  "./", "x.html", "'", "(", "+", ",", "!", "$", "*", "-", "_", " ", "#"};
  std::mt19937_64 rng(13);
  size_t fast = 0;
  for (const char* base : {"http://h/", "http://h/a/b/c", "https://h:8443/a/b/?q=1", "http://h/a/b/c/", "http://h/a;b/c=d/e@f"}) {
    UrlResolver with(base), without(base, UrlResolver::How::kCurlOnly);
    for (int i = 0; i < 20000; ++i) {
      std::string href;
      for (size_t n = 1 + rng() % 8; n-- > 0;) href += kPieces[rng() % std::size(kPieces)];
      ASSERT_EQ(Answer(with, href), Answer(without, href)) << base << " + [" << href << "]";
    }
    fast += with.fast_resolved();
  }
  EXPECT_GT(fast, 5000u);
}

TEST(UrlResolver, FastPathLeavesAnUnusualBaseToCurl) {
  for (const char* base : {"http://h/a%20b/c", "http://u@h/p", "http://H/P", "http://h:80/p"}) {
    UrlResolver r(base);
    (void)r.Resolve("g");
    EXPECT_EQ(r.fast_resolved(), 0u) << base;
  }
}

// Every link of the documentation Debian ships, resolved against its page as a crawl of it served
// on loopback would (scripts/test.sh installs the packages).
TEST(UrlResolver, FastPathGivesCurlsAnswerOnEveryLinkOfTheDebianDocs) {
  size_t links = 0, fast = 0, curl = 0;
  for (const char* root : testing::kDebianDocs) {
    testing::ForEachDocPage(root, [&](const std::filesystem::path& path, const std::string& body) {
      const std::string base = "http://127.0.0.1:8080/doc/" + std::filesystem::relative(path, root).generic_string();
      UrlResolver with(base), without(base, UrlResolver::How::kCurlOnly);
      for (const HtmlLink& link : ParseHtml(body).links) {
        EXPECT_EQ(Answer(with, link.href), Answer(without, link.href)) << base << " + " << link.href;
        if (::testing::Test::HasFailure()) return false;
        ++links;
      }
      fast += with.fast_resolved();
      curl += with.curl_resolved();
      return true;
    });
  }
  if (links == 0) GTEST_SKIP() << "no Debian documentation installed";
  std::cout << links << " links: " << fast << " resolved by the fast path, " << curl
            << " by curl, the rest remembered\n";
  EXPECT_GT(fast, 3 * curl) << "the fast path takes the common links";
}

}  // namespace
}  // namespace fanout
