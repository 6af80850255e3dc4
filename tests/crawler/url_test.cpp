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
  EXPECT_EQ(*NormalizeUrl("http://[::1]:8080/p?b=2&a=1"), "http://[::1]:8080/p?b=2&a=1");
}

// The crawler's normalisation on top of the standard is the fragment, and nothing the server sees.
TEST(NormalizeUrl, KeepsWhatTheServerSees) {
  EXPECT_EQ(*NormalizeUrl("http://example.com/%7euser/a%2fb"), "http://example.com/%7euser/a%2fb");
  EXPECT_EQ(*NormalizeUrl("http://example.com/page?"), "http://example.com/page?");
  EXPECT_EQ(*NormalizeUrl("http://example.com/p?b=2&a=1#x"), "http://example.com/p?b=2&a=1");
}

// Runs from before schema version 8 keyed URLs by RFC 3986 6.2.2; their rules are kept for them.
TEST(NormalizeUrl, Rfc3986RulesAreTheOldKeys) {
  EXPECT_EQ(*NormalizeUrl("http://example.com/%7euser/a%2fb", UrlRules::kRfc3986), "http://example.com/~user/a%2Fb");
  EXPECT_EQ(*NormalizeUrl("http://example.com/page?", UrlRules::kRfc3986), "http://example.com/page");
  EXPECT_EQ(*ResolveUrl("http://h/base/page.html", "\\docs\\intro.html", UrlRules::kRfc3986),
            "http://h/base/%5Cdocs%5Cintro.html");
  EXPECT_EQ(*ResolveUrl("http://h/base/page.html", "\\docs\\intro.html"), "http://h/docs/intro.html");
  EXPECT_EQ(UrlRulesNamed(UrlRulesName(UrlRules::kRfc3986)), UrlRules::kRfc3986);
  EXPECT_EQ(UrlRulesNamed(UrlRulesName(UrlRules::kWhatwg)), UrlRules::kWhatwg);
  EXPECT_EQ(UrlRulesNamed("rfc3987"), std::nullopt);
}

// What the issue found real pages to hold, resolved as a browser resolves them.
TEST(ResolveUrl, ResolvesAsBrowsersDo) {
  const std::string base = "http://host/base/page.html";
  const std::pair<const char*, const char*> cases[] = {
      {"\\docs\\intro.html", "http://host/docs/intro.html"},  // IE-era backslashes
      {"http:other.html", "http://host/base/other.html"},     // same scheme, no slashes: relative
      {"http://\xEF\xBC\xA7\xEF\xBD\x8F" ".com", "http://go.com/"},  // fullwidth letters
      {"http://www.foo\xE3\x80\x82" "bar.com", "http://www.foo.bar.com/"},  // ideographic full stop
      {"http://\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xBD\xA0\xE5\xA5\xBD", "http://xn--6qqa088eba/"},
      {"http://0xc0.0250.01", "http://192.168.0.1/"},
      {"http://192.168.257.", "http://192.168.1.1/"},
      {"http://999999999.", "http://59.154.201.255/"},
      {" \tpa\nge.html\r\n", "http://host/base/page.html"},  // tab and newlines inside, space before
      {"page?", "http://host/base/page?"},                     // an empty query is kept
      {"http://us[er@host/", "http://us%5Ber@host/"},
      {"https://@@@example", "https://%40%40@example/"},  // the later '@'s are the user name's
  };
  for (const auto& [href, want] : cases) EXPECT_EQ(Resolve(base, href), want) << "href: " << href;
  EXPECT_FALSE(ResolveUrl(base, "https://user@").ok()) << "credentials without a host";
  EXPECT_FALSE(ResolveUrl(base, "http://1.2.3.4.5").ok()) << "an IPv4 address of five parts";
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

// The resolver's fast path against the full parser alone: the same answer for every href, and the
// fast path taking the common ones.
std::string Answer(UrlResolver& r, std::string_view href) {
  Result<std::string> url = r.Resolve(href);
  return url.ok() ? *url : "ERROR";
}

TEST(UrlResolver, FastPathGivesTheFullParsersAnswer) {
  const char* bases[] = {"http://a/b/c/d;p?q", "http://h:8080/", "https://h/dir/page.html", "http://h/x/y/",
                         "http://h/a%20b/c", "http://u@h/p", "http://H/P"};
  const char* hrefs[] = {"g", "./g", "g/", "/g", "?y", "g?y", ";x", "g;x", "g;x?y", "", ".", "./", "..", "../",
                         "../g", "../..", "../../", "../../g", "../../../g", "../../../../g", "/./g", "/../g",
                         "g.", ".g", "g..", "..g", "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y",
                         "a//b", "//g", "g?", "?", "g?a?b", "g?a=1&b=2", "/", "x/y/../../..", "~u/p", "p@q",
                         "a(b)*c,d+e!$'", "g:h", "http:g", "a%41", "a b", "a\\b", "ünï", "mailto:x", "%2e%2E/g",
                         "a/%2e/b", "a/.%2E/b", "?a'b", "g?x.y/z", "?a=..", "%zz", "a/%2fb"};
  size_t fast = 0;
  for (const char* base : bases) {
    UrlResolver with(base), without(base, UrlRules::kWhatwg, UrlResolver::How::kFullParser);
    for (const char* href : hrefs) EXPECT_EQ(Answer(with, href), Answer(without, href)) << base << " + " << href;
    fast += with.fast_resolved();
  }
  EXPECT_GT(fast, 100u) << "the fast path takes the plain relative hrefs";
}

TEST(UrlResolver, FastPathGivesTheFullParsersAnswerOnRandomHrefs) {
  static const char* kPieces[] = {"..", ".", "/", "a", "bc", "?", "=", "&", ";", "@", "//", "~", "%41", ":", "../",
                                  "./", "x.html", "'", "(", "+", ",", "!", "$", "*", "-", "_", " ", "#", "%2e", "%2E", "\\", "%",
                                  "\t"};
  std::mt19937_64 rng(13);
  size_t fast = 0;
  for (const char* base : {"http://h/", "http://h/a/b/c", "https://h:8443/a/b/?q=1", "http://h/a/b/c/", "http://h/a;b/c=d/e@f"}) {
    UrlResolver with(base), without(base, UrlRules::kWhatwg, UrlResolver::How::kFullParser);
    for (int i = 0; i < 20000; ++i) {
      std::string href;
      for (size_t n = 1 + rng() % 8; n-- > 0;) href += kPieces[rng() % std::size(kPieces)];
      ASSERT_EQ(Answer(with, href), Answer(without, href)) << base << " + [" << href << "]";
    }
    fast += with.fast_resolved();
  }
  EXPECT_GT(fast, 5000u);
}

TEST(UrlResolver, FastPathLeavesAnUnusualBaseToTheFullParser) {
  for (const char* base : {"http://u@h/p", "http://H/P", "http://h:80/p", "http://h/a//b", "http://h?q"}) {
    UrlResolver r(base);
    (void)r.Resolve("g");
    EXPECT_EQ(r.fast_resolved(), 0u) << base;
  }
}

// Every link of the documentation Debian ships, resolved against its page as a crawl of it served
// on loopback would (scripts/test.sh installs the packages).
TEST(UrlResolver, FastPathGivesTheFullParsersAnswerOnEveryLinkOfTheDebianDocs) {
  size_t links = 0, fast = 0, curl = 0;
  for (const char* root : testing::kDebianDocs) {
    testing::ForEachDocPage(root, [&](const std::filesystem::path& path, const std::string& body) {
      const std::string base = "http://127.0.0.1:8080/doc/" + std::filesystem::relative(path, root).generic_string();
      UrlResolver with(base), without(base, UrlRules::kWhatwg, UrlResolver::How::kFullParser);
      for (const HtmlLink& link : ParseHtml(body).links) {
        EXPECT_EQ(Answer(with, link.href), Answer(without, link.href)) << base << " + " << link.href;
        if (::testing::Test::HasFailure()) return false;
        ++links;
      }
      fast += with.fast_resolved();
      curl += with.full_resolved();
      return true;
    });
  }
  if (links == 0) GTEST_SKIP() << "no Debian documentation installed";
  std::cout << links << " links: " << fast << " resolved by the fast path, " << curl
            << " by the full parser, the rest remembered\n";
  EXPECT_GT(fast, 3 * curl) << "the fast path takes the common links";
}

}  // namespace
}  // namespace fanout
