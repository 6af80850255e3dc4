// robots.txt conformance: every ID_* case of google/robotstxt's robots_test.cc (the cases it marks as
// the protocol's, not Google's own extensions) and every example of RFC 9309, written out again as one
// table of our own. Where the two disagree the RFC wins, and the case says what Google's parser answers.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "parser/robots_txt.h"
#include "tests/parser/robots_rfc_example.h"

namespace fanout {
namespace {

struct Case {
  const char* source;    // where the case comes from
  std::string file;      // the robots.txt
  std::string agent;     // the crawler's product token
  std::string url;       // the URL asked about
  bool allowed;
  // Set where Google's parser answers otherwise: why fanout follows RFC 9309 there.
  const char* google_differs = nullptr;
};

// The path and query of `url` ("http://foo.bar/x?y" -> "/x?y"), what Check is asked about.
std::string PathOf(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

constexpr const char* kUnencodedPath =
    "RFC 9309 2.2.2: octets outside ASCII MUST be percent-encoded before comparison, on both sides; "
    "Google's parser leaves encoding the URL to its caller";
constexpr const char* kQueryDelimiters =
    "RFC 9309 2.2.2's table encodes the query's ':' and '/' before comparison; Google's parser only "
    "encodes non-ASCII octets";
constexpr const char* kUnreservedEscape =
    "RFC 9309 2.2.2: an escaped unreserved octet MUST be unencoded before comparison (its table maps "
    "/foo/bar/%62%61%7A to /foo/bar/baz); Google's parser compares the escape as written";

const std::string kGroups =
    "allow: /foo/bar/\n"
    "\n"
    "user-agent: FooBot\n"
    "disallow: /\n"
    "allow: /x/\n"
    "user-agent: BarBot\n"
    "disallow: /\n"
    "allow: /y/\n"
    "\n"
    "\n"
    "allow: /w/\n"
    "user-agent: BazBot\n"
    "\n"
    "user-agent: FooBot\n"
    "allow: /z/\n"
    "disallow: /\n";

const std::string kUpper = "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n";
const std::string kLower = "user-agent: FooBot\nallow: /x/\ndisallow: /\n";
const std::string kCamel = "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n";
const std::string kAgentUpper = "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n";
const std::string kAgentLower = "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n";
const std::string kAgentCamel = "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n";
const std::string kGlobal = "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n";
const std::string kOnlySpecific =
    "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\ndisallow: /\n";

const std::string kRfcExample(test::kRfc9309Example);

std::vector<Case> Cases() {
  const std::string fb = "FooBot";
  return {
      // ID_LineSyntax_Line
      {"ID_LineSyntax_Line", "user-agent: FooBot\ndisallow: /\n", fb, "http://foo.bar/x/y", false},
      {"ID_LineSyntax_Line", "foo: FooBot\nbar: /\n", fb, "http://foo.bar/x/y", true},
      {"ID_LineSyntax_Line", "user-agent FooBot\ndisallow /\n", fb, "http://foo.bar/x/y", false},
      // ID_LineSyntax_Groups
      {"ID_LineSyntax_Groups", kGroups, "FooBot", "http://foo.bar/x/b", true},
      {"ID_LineSyntax_Groups", kGroups, "FooBot", "http://foo.bar/z/d", true},
      {"ID_LineSyntax_Groups", kGroups, "FooBot", "http://foo.bar/y/c", false},
      {"ID_LineSyntax_Groups", kGroups, "BarBot", "http://foo.bar/y/c", true},
      {"ID_LineSyntax_Groups", kGroups, "BarBot", "http://foo.bar/w/a", true},
      {"ID_LineSyntax_Groups", kGroups, "BarBot", "http://foo.bar/z/d", false},
      {"ID_LineSyntax_Groups", kGroups, "BazBot", "http://foo.bar/z/d", true},
      {"ID_LineSyntax_Groups", kGroups, "FooBot", "http://foo.bar/foo/bar/", false},
      {"ID_LineSyntax_Groups", kGroups, "BarBot", "http://foo.bar/foo/bar/", false},
      {"ID_LineSyntax_Groups", kGroups, "BazBot", "http://foo.bar/foo/bar/", false},
      // ID_REPLineNamesCaseInsensitive
      {"ID_REPLineNamesCaseInsensitive", kUpper, fb, "http://foo.bar/x/y", true},
      {"ID_REPLineNamesCaseInsensitive", kLower, fb, "http://foo.bar/x/y", true},
      {"ID_REPLineNamesCaseInsensitive", kCamel, fb, "http://foo.bar/x/y", true},
      {"ID_REPLineNamesCaseInsensitive", kUpper, fb, "http://foo.bar/a/b", false},
      {"ID_REPLineNamesCaseInsensitive", kLower, fb, "http://foo.bar/a/b", false},
      {"ID_REPLineNamesCaseInsensitive", kCamel, fb, "http://foo.bar/a/b", false},
      // ID_UserAgentValueCaseInsensitive
      {"ID_UserAgentValueCaseInsensitive", kAgentUpper, "Foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentLower, "Foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentCamel, "Foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentUpper, "Foo", "http://foo.bar/a/b", false},
      {"ID_UserAgentValueCaseInsensitive", kAgentLower, "Foo", "http://foo.bar/a/b", false},
      {"ID_UserAgentValueCaseInsensitive", kAgentCamel, "Foo", "http://foo.bar/a/b", false},
      {"ID_UserAgentValueCaseInsensitive", kAgentUpper, "foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentLower, "foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentCamel, "foo", "http://foo.bar/x/y", true},
      {"ID_UserAgentValueCaseInsensitive", kAgentUpper, "foo", "http://foo.bar/a/b", false},
      {"ID_UserAgentValueCaseInsensitive", kAgentLower, "foo", "http://foo.bar/a/b", false},
      {"ID_UserAgentValueCaseInsensitive", kAgentCamel, "foo", "http://foo.bar/a/b", false},
      // ID_GlobalGroups_Secondary
      {"ID_GlobalGroups_Secondary", "", fb, "http://foo.bar/x/y", true},
      {"ID_GlobalGroups_Secondary", kGlobal, fb, "http://foo.bar/x/y", false},
      {"ID_GlobalGroups_Secondary", kGlobal, "BarBot", "http://foo.bar/x/y", true},
      {"ID_GlobalGroups_Secondary", kOnlySpecific, "QuxBot", "http://foo.bar/x/y", true},
      // ID_AllowDisallow_Value_CaseSensitive
      {"ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /x/\n", fb, "http://foo.bar/x/y", false},
      {"ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /X/\n", fb, "http://foo.bar/x/y", true},
      // ID_LongestMatch
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", fb, "http://foo.bar/x/page.html", false},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", fb, "http://foo.bar/x/page.html", true},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", fb, "http://foo.bar/x/", false},
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: \nallow: \n", fb, "http://foo.bar/x/page.html", true},
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: /\nallow: /\n", fb, "http://foo.bar/x/page.html", true},
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: /x\nallow: /x/\n", fb, "http://foo.bar/x", false},
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: /x\nallow: /x/\n", fb, "http://foo.bar/x/", true},
      {"ID_LongestMatch", "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n", fb, "http://foo.bar/x/page.html", true},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", fb, "http://foo.bar/page.html", false},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", fb, "http://foo.bar/page", true},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n", fb, "http://foo.bar/x/page.html", true},
      {"ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n", fb, "http://foo.bar/x/y.html", false},
      {"ID_LongestMatch", "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n", fb, "http://foo.bar/x/page", true},
      {"ID_LongestMatch", "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n", fb, "http://foo.bar/y/page", false},
      // ID_Encoding
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n", fb,
       "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", true},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n", fb, "http://foo.bar/foo/bar/%E3%83%84", true},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n", fb, "http://foo.bar/foo/bar/ツ", true, kUnencodedPath},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", fb, "http://foo.bar/foo/bar/%E3%83%84", true},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", fb, "http://foo.bar/foo/bar/ツ", true, kUnencodedPath},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", fb, "http://foo.bar/foo/bar/baz", true, kUnreservedEscape},
      {"ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", fb, "http://foo.bar/foo/bar/%62%61%7A", true},
      // ID_SpecialCharacters
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", fb, "http://foo.bar/foo/bar/quz", false},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", fb, "http://foo.bar/foo/quz", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", fb, "http://foo.bar/foo//quz", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", fb, "http://foo.bar/foo/bax/quz", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", fb, "http://foo.bar/foo/bar", false},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", fb, "http://foo.bar/foo/bar/qux", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", fb, "http://foo.bar/foo/bar/", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", fb, "http://foo.bar/foo/bar/baz", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n", fb, "http://foo.bar/foo/bar", true},
      {"ID_SpecialCharacters", "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n", fb, "http://foo.bar/foo/quz", false},

      // RFC 9309 2.2.1: groups for one crawler are merged.
      {"RFC 9309 2.2.1", "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n",
       "ExampleBot", "https://www.example.com/baz", false},
      {"RFC 9309 2.2.1", "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n",
       "ExampleBot", "https://www.example.com/foo", false},
      {"RFC 9309 2.2.1", "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n",
       "ExampleBot", "https://www.example.com/qux", true},
      // RFC 9309 2.2.1: the product token of the crawler's User-Agent header is what groups name.
      {"RFC 9309 2.2.1", "user-agent: ExampleBot\ndisallow: /\n", "ExampleBot/1.1 (+https://www.example.com/bot.html)",
       "https://www.example.com/", false},
      // RFC 9309 2.2.2: the percent-encoding table, each row both ways round.
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar?baz=quz\n", "x", "https://www.example.com/foo/bar?baz=quz", false},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar?baz=https://foo.bar\n", "x",
       "https://www.example.com/foo/bar?baz=https%3A%2F%2Ffoo.bar", false, kQueryDelimiters},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar?baz=https%3A%2F%2Ffoo.bar\n", "x",
       "https://www.example.com/foo/bar?baz=https://foo.bar", false, kQueryDelimiters},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar/ツ\n", "x", "https://www.example.com/foo/bar/%E3%83%84", false},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar/%E3%83%84\n", "x", "https://www.example.com/foo/bar/ツ", false,
       kUnencodedPath},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar/%E3%83%84\n", "x", "https://www.example.com/foo/bar/%E3%83%84", false},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar/%62%61%7A\n", "x", "https://www.example.com/foo/bar/baz", false,
       kUnreservedEscape},
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /foo/bar/baz\n", "x", "https://www.example.com/foo/bar/%62%61%7A", false,
       kUnreservedEscape},
      // RFC 9309 2.2.2: /robots.txt is implicitly allowed.
      {"RFC 9309 2.2.2", "user-agent: *\ndisallow: /\n", "x", "https://www.example.com/robots.txt", true},
      // RFC 9309 2.2.3: the special characters' examples, and their percent-encoded forms as literals.
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: / # comment in line\n\n# comment on its own line\n", "x",
       "https://www.example.com/a", false},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /\nallow: /this/path/exactly$\n", "x", "https://www.example.com/this/path/exactly", true},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /\nallow: /this/path/exactly$\n", "x",
       "https://www.example.com/this/path/exactly/not", false},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /\nallow: /this/*/exactly\n", "x", "https://www.example.com/this/any/exactly", true},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /\nallow: /this/*/exactly\n", "x", "https://www.example.com/this/exactly", false},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /path/file-with-a-%2A.html\n", "x",
       "https://www.example.com/path/file-with-a-*.html", false},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /path/file-with-a-%2A.html\n", "x",
       "https://www.example.com/path/file-with-a-b.html", true},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /path/foo-%24\n", "x", "https://www.example.com/path/foo-$", false},
      {"RFC 9309 2.2.3", "user-agent: *\ndisallow: /path/foo-%24\n", "x", "https://www.example.com/path/foo-", true},
      // RFC 9309 5.1: the simple example, for each crawler it names and one it does not.
      {"RFC 9309 5.1", kRfcExample, "foobot", "https://www.example.com/example/page.html", true},
      {"RFC 9309 5.1", kRfcExample, "foobot", "https://www.example.com/example/allowed.gif", true},
      {"RFC 9309 5.1", kRfcExample, "foobot", "https://www.example.com/", false},
      {"RFC 9309 5.1", kRfcExample, "foobot", "https://www.example.com/publications/", false},
      {"RFC 9309 5.1", kRfcExample, "barbot", "https://www.example.com/example/page.html", false},
      {"RFC 9309 5.1", kRfcExample, "bazbot", "https://www.example.com/example/page.html", false},
      {"RFC 9309 5.1", kRfcExample, "barbot", "https://www.example.com/example/other.gif", true},
      {"RFC 9309 5.1", kRfcExample, "quxbot", "https://www.example.com/example/page.html", true},
      {"RFC 9309 5.1", kRfcExample, "otherbot", "https://www.example.com/images/a.gif", false},
      {"RFC 9309 5.1", kRfcExample, "otherbot", "https://www.example.com/images/a.gif?x", true},
      {"RFC 9309 5.1", kRfcExample, "otherbot", "https://www.example.com/example/page.html", false},
      {"RFC 9309 5.1", kRfcExample, "otherbot", "https://www.example.com/publications/a.html", true},
      // RFC 9309 5.2: the longest match.
      {"RFC 9309 5.2", "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n", "foobot",
       "https://www.example.com/example/page/", true},
      {"RFC 9309 5.2", "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n", "foobot",
       "https://www.example.com/example/page/disallowed.gif", false},
  };
}

TEST(RobotsConformance, EveryCaseOfGoogleAndOfTheRfcGetsItsVerdict) {
  for (const Case& c : Cases()) {
    const RobotsTxt robots = RobotsTxt::Parse(c.file, c.agent);
    const RobotsVerdict verdict = robots.Check(PathOf(c.url));
    EXPECT_EQ(verdict.allowed, c.allowed) << c.source << ": " << c.agent << " asking for " << c.url << " in\n"
                                          << c.file << "decided by: " << verdict.rule
                                          << (c.google_differs != nullptr ? std::string("\nRFC over Google: ") + c.google_differs : "");
  }
}

// ID_VerifyValidUserAgentsToObey: a product token is letters, digits, '-' and '_'. fanout takes the
// token of a whole User-Agent header, so a valid token is one that is its own, non-empty, token.
TEST(RobotsConformance, OnlyLettersDigitsDashAndUnderscoreMakeAProductToken) {
  const auto valid = [](std::string_view s) { return !s.empty() && RobotsProductToken(s) == s; };
  for (std::string_view token : {"Foobot", "Foobot-Bar", "Foo_Bar"}) EXPECT_TRUE(valid(token)) << token;
  for (std::string_view token : {"", "ツ", "Foobot*", " Foobot ", "Foobot/2.1", "Foobot Bar"}) {
    EXPECT_FALSE(valid(token)) << token;
  }
}

// ID_LinesNumbersAreCountedCorrectly: LF, CRLF, CR, mixed, and no final newline count lines alike.
TEST(RobotsConformance, LineNumbersAreCountedForEveryKindOfLineEnd) {
  const std::vector<std::string> files = {
      "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /\n",
      "User-Agent: foo\r\nAllow: /some/path\r\nUser-Agent: bar\r\n\r\n\r\nDisallow: /\r\n",
      "User-Agent: foo\rAllow: /some/path\rUser-Agent: bar\r\r\rDisallow: /\r",
      "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /",
      "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /",
  };
  for (const std::string& file : files) {
    EXPECT_EQ(RobotsTxt::Parse(file, "foo").Check("/some/path").rule, "Allow: /some/path (line 2)") << file;
    EXPECT_EQ(RobotsTxt::Parse(file, "bar").Check("/x").rule, "Disallow: / (line 6)") << file;
  }
}

// ID_UTF8ByteOrderMarkIsSkipped: a whole or partial byte order mark is skipped; a broken one spoils the
// first line, and one in the middle of the file spoils its own line.
TEST(RobotsConformance, AWholeOrPartialByteOrderMarkIsSkipped) {
  const std::string rest = "User-Agent: foo\nAllow: /AnyValue\n";
  for (const std::string bom : {"\xEF\xBB\xBF", "\xEF\xBB", "\xEF"}) {
    EXPECT_EQ(RobotsTxt::Parse(bom + rest, "foo").Check("/AnyValue").rule, "Allow: /AnyValue (line 2)");
  }
  // "\xEF" is skipped, then the line reads "\x11\xBFUser-Agent: foo": no user-agent, so no group.
  EXPECT_EQ(RobotsTxt::Parse("\xEF\x11\xBF" + rest, "foo").Check("/AnyValue").rule, "");
  EXPECT_EQ(RobotsTxt::Parse("User-Agent: foo\n\xEF\xBB\xBF" "Allow: /AnyValue\n", "foo").Check("/AnyValue").rule, "");
}

// ID_NonStandardLineExample_Sitemap (and RFC 9309 2.2.4): a Sitemap line counts wherever it is.
TEST(RobotsConformance, ASitemapLineCountsAnywhereInTheFile) {
  const std::string loc = "http://foo.bar/sitemap.xml";
  const std::string groups = "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\n";
  EXPECT_EQ(RobotsTxt::Parse(groups + "Sitemap: " + loc + "\n", "foo").sitemaps(), std::vector<std::string>{loc});
  EXPECT_EQ(RobotsTxt::Parse("Sitemap: " + loc + "\n" + groups, "foo").sitemaps(), std::vector<std::string>{loc});
}

// Google's colon-less lines are read only when they are two words: more is not a rule.
TEST(RobotsConformance, AColonlessLineOfMoreThanTwoWordsIsNoRule) {
  const RobotsTxt robots = RobotsTxt::Parse("user-agent FooBot\ndisallow /a /b\ndisallow\t/c\n", "FooBot");
  EXPECT_TRUE(robots.Check("/a").allowed);
  EXPECT_FALSE(robots.Check("/c").allowed);
  EXPECT_EQ(robots.Check("/c").rule, "disallow: /c (line 3)");
}

}  // namespace
}  // namespace fanout
