#include "crawler/url.h"

#include <gtest/gtest.h>

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
