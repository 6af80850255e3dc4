#include "parser/robots_txt.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/parser/robots_rfc_example.h"

namespace fanout {
namespace {

bool Allowed(const RobotsTxt& robots, std::string_view path) { return robots.Check(path).allowed; }

// Appends one comment line that brings `text` to exactly `size` bytes.
std::string PaddedTo(std::string text, size_t size) {
  text += '#';
  text += std::string(size - text.size() - 1, 'x');
  text += '\n';
  return text;
}

// ---------------------------------------------------------------------------------------------------
// RFC 9309 section 5.1: the example file, for each crawler it names and for one it does not

constexpr std::string_view kRfcExample = test::kRfc9309Example;

TEST(RobotsTxtRfcExample, AnUnnamedCrawlerFollowsTheStarGroup) {
  RobotsTxt robots = RobotsTxt::Parse(kRfcExample, "otherbot");
  EXPECT_EQ(robots.group(), "*");
  EXPECT_FALSE(Allowed(robots, "/example/page.html"));
  EXPECT_FALSE(Allowed(robots, "/images/logo.gif"));
  EXPECT_TRUE(Allowed(robots, "/images/logo.gif?size=2"));  // "$" anchors the end
  EXPECT_TRUE(Allowed(robots, "/publications/2022.html"));
  EXPECT_TRUE(Allowed(robots, "/about.html"));
}

TEST(RobotsTxtRfcExample, FoobotMayFetchOnlyItsTwoAllowedPaths) {
  RobotsTxt robots = RobotsTxt::Parse(kRfcExample, "foobot");
  EXPECT_EQ(robots.group(), "foobot");
  EXPECT_TRUE(Allowed(robots, "/example/page.html"));
  EXPECT_TRUE(Allowed(robots, "/example/allowed.gif"));
  EXPECT_FALSE(Allowed(robots, "/example/other.html"));
  EXPECT_FALSE(Allowed(robots, "/publications/2022.html"));  // the "*" group's Allow is not foobot's
  EXPECT_FALSE(Allowed(robots, "/"));
}

TEST(RobotsTxtRfcExample, BarbotAndBazbotShareOneGroup) {
  for (std::string_view bot : {"barbot", "bazbot"}) {
    SCOPED_TRACE(bot);
    RobotsTxt robots = RobotsTxt::Parse(kRfcExample, bot);
    EXPECT_EQ(robots.group(), bot);
    EXPECT_FALSE(Allowed(robots, "/example/page.html"));
    EXPECT_TRUE(Allowed(robots, "/example/other.html"));  // the "*" group's Disallow: /example/ is not theirs
    EXPECT_TRUE(Allowed(robots, "/images/logo.gif"));
  }
}

TEST(RobotsTxtRfcExample, QuxbotsEmptyGroupAllowsEverything) {
  RobotsTxt robots = RobotsTxt::Parse(kRfcExample, "quxbot");
  EXPECT_EQ(robots.group(), "quxbot");
  EXPECT_TRUE(Allowed(robots, "/example/page.html"));
  EXPECT_TRUE(Allowed(robots, "/images/logo.gif"));
}

// ---------------------------------------------------------------------------------------------------
// Which rule decides

TEST(RobotsTxtMatching, TheLongestMatchWins) {  // RFC 9309 5.2
  RobotsTxt robots = RobotsTxt::Parse(
      "User-Agent: foobot\n"
      "Allow: /example/page/\n"
      "Disallow: /example/page/disallowed.gif\n",
      "foobot");
  EXPECT_TRUE(Allowed(robots, "/example/page/"));
  EXPECT_TRUE(Allowed(robots, "/example/page/index.html"));
  EXPECT_FALSE(Allowed(robots, "/example/page/disallowed.gif"));
}

TEST(RobotsTxtMatching, TheLongestMatchWinsWhateverTheOrderInTheFile) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /shop/cart/\n"
      "Allow: /shop/\n"
      "Disallow: /\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/shop/cart/checkout"));
  EXPECT_TRUE(Allowed(robots, "/shop/shoes"));
  EXPECT_FALSE(Allowed(robots, "/blog"));
}

TEST(RobotsTxtMatching, AllowWinsATieWithDisallow) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /page\n"
      "Allow: /page\n"
      "Disallow: /a*c\n"
      "Allow: /ab*\n",
      "fanout");
  RobotsVerdict verdict = robots.Check("/page.html");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "Allow: /page (line 3)");
  EXPECT_TRUE(Allowed(robots, "/abc"));  // "/a*c" and "/ab*" are both 4 octets long
  EXPECT_FALSE(Allowed(robots, "/axc"));
}

TEST(RobotsTxtMatching, TheVerdictNamesTheRuleAsWrittenWithItsLine) {
  RobotsTxt robots = RobotsTxt::Parse(
      "# shop\n"
      "User-agent: *\n"
      "\n"
      "DISALLOW:   /private/   # staff only\n",
      "fanout");
  RobotsVerdict verdict = robots.Check("/private/payroll");
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "DISALLOW: /private/ (line 4)");
  verdict = robots.Check("/public/");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "");
}

TEST(RobotsTxtMatching, ARuleIsAPrefixOfThePathAndCaseMatters) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /fish\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/fish"));
  EXPECT_FALSE(Allowed(robots, "/fish.html"));
  EXPECT_FALSE(Allowed(robots, "/fishheads/yummy.html"));
  EXPECT_FALSE(Allowed(robots, "/fish?id=1"));
  EXPECT_TRUE(Allowed(robots, "/Fish.asp"));
  EXPECT_TRUE(Allowed(robots, "/catfish"));
  EXPECT_TRUE(Allowed(robots, "/"));
}

TEST(RobotsTxtMatching, StarMatchesAnySequenceIncludingNone) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /*/private/*.pdf\n"
      "Disallow: /*?session=\n"
      "Disallow: /tmp**x\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/team/private/plan.pdf"));
  EXPECT_FALSE(Allowed(robots, "/a/b/private/c/d.pdf.bak"));
  EXPECT_FALSE(Allowed(robots, "//private/.pdf"));
  EXPECT_TRUE(Allowed(robots, "/team/public/plan.pdf"));
  EXPECT_TRUE(Allowed(robots, "/private/plan.pdf"));  // the first "*" sits between two '/'
  EXPECT_FALSE(Allowed(robots, "/cart?session=42"));
  EXPECT_TRUE(Allowed(robots, "/cart?user=42"));
  EXPECT_FALSE(Allowed(robots, "/tmpx"));
  EXPECT_TRUE(Allowed(robots, "/tmp/y"));
}

TEST(RobotsTxtMatching, DollarAtTheEndAnchorsTheEndOfThePath) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /*.php$\n"
      "Disallow: /exact$\n"
      "Disallow: /$\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/index.php"));
  EXPECT_FALSE(Allowed(robots, "/a.php/b.php"));
  EXPECT_TRUE(Allowed(robots, "/index.php?x=1"));
  EXPECT_TRUE(Allowed(robots, "/index.php5"));
  EXPECT_FALSE(Allowed(robots, "/exact"));
  EXPECT_TRUE(Allowed(robots, "/exactly"));
  EXPECT_FALSE(Allowed(robots, "/"));
  EXPECT_FALSE(Allowed(robots, ""));  // "" is "/"
  EXPECT_TRUE(Allowed(robots, "/home"));
}

TEST(RobotsTxtMatching, DollarInsideAPatternIsLiteral) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /price$list\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/price$list"));
  EXPECT_FALSE(Allowed(robots, "/price%24list"));
  EXPECT_TRUE(Allowed(robots, "/price"));
  EXPECT_TRUE(Allowed(robots, "/pricelist"));
}

TEST(RobotsTxtMatching, PercentEncodedStarAndDollarMatchThemselves) {  // RFC 9309 2.2.3
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /path/file-with-a-%2A.html\n"
      "Disallow: /path/foo-%24\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/path/file-with-a-*.html"));
  EXPECT_TRUE(Allowed(robots, "/path/file-with-a-b.html"));
  EXPECT_FALSE(Allowed(robots, "/path/foo-$"));
  EXPECT_TRUE(Allowed(robots, "/path/foo-"));
}

// The definition the matcher must agree with: '*' is any sequence, '$' at the end the end of the path.
bool MatchesByDefinition(std::string_view pattern, bool anchored, std::string_view path) {
  if (pattern.empty()) return !anchored || path.empty();
  if (pattern[0] == '*') {
    for (size_t skip = 0; skip <= path.size(); ++skip) {
      if (MatchesByDefinition(pattern.substr(1), anchored, path.substr(skip))) return true;
    }
    return false;
  }
  return !path.empty() && path[0] == pattern[0] && MatchesByDefinition(pattern.substr(1), anchored, path.substr(1));
}

// Every word of up to `max_length` letters of `alphabet`.
std::vector<std::string> Words(std::string_view alphabet, size_t max_length) {
  std::vector<std::string> words = {""};
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i].size() == max_length) continue;
    for (char c : alphabet) words.push_back(words[i] + c);
  }
  return words;
}

TEST(RobotsTxtMatching, WildcardsAgreeWithTheirDefinitionOnEverySmallCase) {
  const std::vector<std::string> paths = Words("ab", 6);
  for (const std::string& pattern : Words("ab*", 5)) {
    for (bool anchored : {false, true}) {
      const std::string rule = "/" + pattern + (anchored ? "$" : "");
      RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: " + rule + "\n", "fanout");
      for (const std::string& path : paths) {
        ASSERT_EQ(!Allowed(robots, "/" + path), MatchesByDefinition(pattern, anchored, path))
            << "rule " << rule << ", path /" << path;
      }
    }
  }
}

TEST(RobotsTxtMatching, RobotsTxtItselfIsAlwaysAllowed) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /\n", "fanout");
  EXPECT_TRUE(Allowed(robots, "/robots.txt"));
  EXPECT_FALSE(Allowed(robots, "/robots.txt.bak"));
  EXPECT_FALSE(Allowed(robots, "/index.html"));
}

TEST(RobotsTxtMatching, AnEmptyDisallowIsNoRule) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow:\nDisallow:   # nothing\n", "fanout");
  RobotsVerdict verdict = robots.Check("/anything");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "");
}

// ---------------------------------------------------------------------------------------------------
// Percent-encoding: the table of RFC 9309 2.2.2, both ways round

TEST(RobotsTxtPercentEncoding, QueryCharactersAreComparedAsTheyAre) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /foo/bar?baz=quz\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/foo/bar?baz=quz"));
  EXPECT_TRUE(Allowed(robots, "/foo/bar?baz=qux"));
  EXPECT_TRUE(Allowed(robots, "/foo/bar%3Fbaz=quz"));  // an escaped '?' is not a query
}

TEST(RobotsTxtPercentEncoding, NonAsciiInTheFileMatchesItsEncodingInThePath) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /foo/bar/ツ\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/foo/bar/%E3%83%84"));
  EXPECT_FALSE(Allowed(robots, "/foo/bar/%e3%83%84"));
  EXPECT_FALSE(Allowed(robots, "/foo/bar/ツ"));
  EXPECT_TRUE(Allowed(robots, "/foo/bar/%E3%83%85"));
  RobotsVerdict verdict = robots.Check("/foo/bar/%E3%83%84/x");
  EXPECT_EQ(verdict.rule, "Disallow: /foo/bar/ツ (line 2)");
}

TEST(RobotsTxtPercentEncoding, EncodedNonAsciiInTheFileMatchesItRawInThePath) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /foo/bar/%e3%83%84\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/foo/bar/ツ"));
  EXPECT_FALSE(Allowed(robots, "/foo/bar/%E3%83%84"));
}

TEST(RobotsTxtPercentEncoding, EscapesOfUnreservedCharactersAreDecoded) {
  RobotsTxt in_file = RobotsTxt::Parse("User-agent: *\nDisallow: /foo/bar/%62%61%7A\n", "fanout");
  EXPECT_FALSE(Allowed(in_file, "/foo/bar/baz"));
  RobotsTxt in_path = RobotsTxt::Parse("User-agent: *\nDisallow: /foo/bar/baz\n", "fanout");
  EXPECT_FALSE(Allowed(in_path, "/foo/bar/%62%61%7a"));
  EXPECT_FALSE(Allowed(in_path, "/%66oo/bar/baz"));
}

TEST(RobotsTxtPercentEncoding, AnEncodedSlashIsNotASlash) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /a%2fb\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/a%2Fb"));
  EXPECT_TRUE(Allowed(robots, "/a/b"));
}

TEST(RobotsTxtPercentEncoding, SpacesAndStrayPercentSignsCompareEncoded) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /my docs/\nDisallow: /100%\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/my%20docs/a.txt"));
  EXPECT_FALSE(Allowed(robots, "/100%25"));
  EXPECT_FALSE(Allowed(robots, "/100%"));
  EXPECT_TRUE(Allowed(robots, "/100"));
}

TEST(RobotsTxtPercentEncoding, NonAsciiPathsMatchWhicheverSideIsEncoded) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /café/\n"
      "Allow: /caf%C3%A9/menu\n"
      "Disallow: /*ü$\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/café/wine"));
  EXPECT_FALSE(Allowed(robots, "/caf%c3%a9/wine"));
  EXPECT_TRUE(Allowed(robots, "/café/menu"));
  EXPECT_TRUE(Allowed(robots, "/cafe/wine"));
  EXPECT_FALSE(Allowed(robots, "/m%C3%BC"));
  EXPECT_FALSE(Allowed(robots, "/x/mü"));
  EXPECT_TRUE(Allowed(robots, "/x/mü/"));
  EXPECT_TRUE(Allowed(robots, "/caf\xC3"));  // invalid UTF-8 is encoded octet by octet, never a crash
}

// ---------------------------------------------------------------------------------------------------
// Which group applies

constexpr std::string_view kStarAndFanout =
    "User-agent: *\n"
    "Disallow: /\n"
    "\n"
    "User-agent: fanout\n"
    "Disallow: /private/\n";

TEST(RobotsTxtGroups, TheCrawlersOwnGroupBeatsStar) {
  RobotsTxt robots = RobotsTxt::Parse(kStarAndFanout, "fanout");
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
  EXPECT_FALSE(Allowed(robots, "/private/x"));
}

TEST(RobotsTxtGroups, TheUserAgentIsMatchedCaseInsensitively) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /\n\nUser-agent: FanOut\nDisallow: /x\n", "fanout");
  EXPECT_EQ(robots.group(), "FanOut");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
  RobotsTxt upper = RobotsTxt::Parse(kStarAndFanout, "FANOUT");
  EXPECT_EQ(upper.group(), "fanout");
  EXPECT_TRUE(Allowed(upper, "/index.html"));
}

TEST(RobotsTxtGroups, AUserAgentLineIsMatchedByItsProductToken) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: *\nDisallow: /\n\nUser-agent: fanout/2.0 (beta)\nDisallow: /x\n",
                                      "fanout");
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
}

TEST(RobotsTxtGroups, ALongerNameIsAnotherCrawler) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: fanoutbot\nDisallow: /\n\nUser-agent: fan\nDisallow: /\n\nUser-agent: *\nDisallow: /star\n",
      "fanout");
  EXPECT_EQ(robots.group(), "*");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
  EXPECT_FALSE(Allowed(robots, "/star"));
}

TEST(RobotsTxtGroups, ParseTakesTheProductTokenOfAWholeUserAgentHeader) {
  RobotsTxt robots = RobotsTxt::Parse(kStarAndFanout, "fanout/0.1 (+https://example.com/bot)");
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
}

TEST(RobotsTxtGroups, SeveralUserAgentLinesShareOneGroup) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: otherbot\n"
      "User-agent: fanout\n"
      "User-agent: thirdbot\n"
      "Disallow: /shared/\n"
      "\n"
      "User-agent: *\n"
      "Disallow: /\n",
      "fanout");
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_FALSE(Allowed(robots, "/shared/a"));
  EXPECT_TRUE(Allowed(robots, "/b"));
}

TEST(RobotsTxtGroups, BlankLinesAndUnknownFieldsDoNotEndAGroup) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: otherbot\n"
      "\n"
      "Host: example.com\n"
      "User-agent: fanout\n"
      "\n"
      "Disallow: /a\n"
      "\n"
      "# a comment\n"
      "\n"
      "Disallow: /b\n",
      "otherbot");
  EXPECT_EQ(robots.group(), "otherbot");
  EXPECT_FALSE(Allowed(robots, "/a"));
  EXPECT_FALSE(Allowed(robots, "/b"));
  EXPECT_TRUE(Allowed(robots, "/c"));
}

TEST(RobotsTxtGroups, AUserAgentLineAfterRulesStartsANewGroup) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: fanout\n"
      "Disallow: /mine\n"
      "User-agent: otherbot\n"
      "Disallow: /theirs\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/mine"));
  EXPECT_TRUE(Allowed(robots, "/theirs"));
}

TEST(RobotsTxtGroups, AnEmptyDisallowStillEndsTheUserAgentLines) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: fanout\n"
      "Disallow:\n"
      "User-agent: otherbot\n"
      "Disallow: /\n",
      "fanout");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
}

TEST(RobotsTxtGroups, GroupsNamingTheCrawlerAreMerged) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: fanout\n"
      "Disallow: /foo\n"
      "Disallow: /bar\n"
      "\n"
      "User-agent: *\n"
      "Disallow: /star\n"
      "\n"
      "user-agent: FANOUT\n"
      "Disallow: /baz\n"
      "Allow: /foo/open\n",
      "fanout");
  EXPECT_FALSE(Allowed(robots, "/foo"));
  EXPECT_FALSE(Allowed(robots, "/bar"));
  EXPECT_FALSE(Allowed(robots, "/baz"));
  EXPECT_TRUE(Allowed(robots, "/foo/open"));
  EXPECT_TRUE(Allowed(robots, "/star"));
}

TEST(RobotsTxtGroups, StarGroupsAreMerged) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\nDisallow: /one\n\nUser-agent: otherbot\nDisallow: /two\n\nUser-agent: *\nDisallow: /three\n",
      "fanout");
  EXPECT_EQ(robots.group(), "*");
  EXPECT_FALSE(Allowed(robots, "/one"));
  EXPECT_TRUE(Allowed(robots, "/two"));
  EXPECT_FALSE(Allowed(robots, "/three"));
}

TEST(RobotsTxtGroups, WithNoGroupForTheCrawlerEverythingIsAllowed) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: otherbot\nDisallow: /\n", "fanout");
  EXPECT_EQ(robots.group(), "");
  RobotsVerdict verdict = robots.Check("/index.html");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "");
}

TEST(RobotsTxtGroups, RulesBeforeAnyUserAgentAreIgnored) {
  RobotsTxt robots = RobotsTxt::Parse("Disallow: /\nCrawl-delay: 9\n\nUser-agent: *\nDisallow: /tmp\n", "fanout");
  EXPECT_TRUE(Allowed(robots, "/index.html"));
  EXPECT_FALSE(Allowed(robots, "/tmp"));
  EXPECT_EQ(robots.crawl_delay(), std::nullopt);
}

// ---------------------------------------------------------------------------------------------------
// When there is no file to read

TEST(RobotsTxtFallbacks, AllowAllAllowsEverythingAndSaysWhy) {
  RobotsTxt robots = RobotsTxt::AllowAll("robots.txt answered 404");
  RobotsVerdict verdict = robots.Check("/private/x");
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "robots.txt answered 404");
  EXPECT_EQ(robots.group(), "");
  EXPECT_EQ(robots.crawl_delay(), std::nullopt);
  EXPECT_TRUE(robots.sitemaps().empty());
}

TEST(RobotsTxtFallbacks, DisallowAllDisallowsEverythingButRobotsTxtAndSaysWhy) {
  RobotsTxt robots = RobotsTxt::DisallowAll("robots.txt answered 503");
  RobotsVerdict verdict = robots.Check("/index.html");
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "robots.txt answered 503");
  EXPECT_FALSE(Allowed(robots, ""));
  EXPECT_TRUE(Allowed(robots, "/robots.txt"));
}

// ---------------------------------------------------------------------------------------------------
// Product tokens, crawl-delay, sitemaps

TEST(RobotsProductToken, IsTheNameBeforeTheVersionAndComment) {
  EXPECT_EQ(RobotsProductToken("fanout/0.1 (+https://x)"), "fanout");
  EXPECT_EQ(RobotsProductToken("Mozilla/5.0 (compatible; Googlebot/2.1)"), "Mozilla");
  EXPECT_EQ(RobotsProductToken("  my_bot-2 crawler"), "my_bot-2");
  EXPECT_EQ(RobotsProductToken("fanout"), "fanout");
}

TEST(RobotsProductToken, IsEmptyWhenTheHeaderStartsWithoutOne) {
  EXPECT_EQ(RobotsProductToken(""), "");
  EXPECT_EQ(RobotsProductToken("(compatible) fanout"), "");
  EXPECT_EQ(RobotsProductToken("*"), "");
}

TEST(RobotsTxtCrawlDelay, IsTheSelectedGroupsFirstValidValue) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Crawl-delay: 30\n"
      "\n"
      "User-agent: fanout\n"
      "Crawl-delay: soon\n"
      "Crawl-delay: -1\n"
      "Crawl-delay: 5 seconds\n"
      "Crawl-delay: inf\n"
      "Crawl-delay:\n"
      "crawl-DELAY: 2.5\n"
      "Crawl-delay: 7\n",
      "fanout");
  EXPECT_EQ(robots.crawl_delay(), 2.5);
  EXPECT_EQ(RobotsTxt::Parse("User-agent: *\nCrawl-delay: 0\n", "fanout").crawl_delay(), 0.0);
}

TEST(RobotsTxtCrawlDelay, IsAbsentWhenTheSelectedGroupHasNone) {
  RobotsTxt robots = RobotsTxt::Parse("User-agent: otherbot\nCrawl-delay: 10\n\nUser-agent: *\nDisallow: /x\n", "fanout");
  EXPECT_EQ(robots.crawl_delay(), std::nullopt);
}

TEST(RobotsTxtCrawlDelay, MergedGroupsTakeTheFirstInTheFile) {
  RobotsTxt robots = RobotsTxt::Parse(
      "User-agent: fanout\nDisallow: /a\n\nUser-agent: fanout\nCrawl-delay: 4\n\nUser-agent: fanout\nCrawl-delay: 8\n",
      "fanout");
  EXPECT_EQ(robots.crawl_delay(), 4.0);
}

TEST(RobotsTxtSitemaps, AreEverySitemapLineInFileOrder) {
  RobotsTxt robots = RobotsTxt::Parse(
      "Sitemap: https://example.com/first.xml\n"
      "User-agent: otherbot\n"
      "SITEMAP:   https://example.com/second.xml   # theirs, still global\n"
      "Disallow: /\n"
      "sitemap:\n"
      "User-agent: fanout\n"
      "Sitemap:https://example.com/third.xml\n",
      "fanout");
  EXPECT_EQ(robots.sitemaps(), (std::vector<std::string>{"https://example.com/first.xml",
                                                         "https://example.com/second.xml",
                                                         "https://example.com/third.xml"}));
  EXPECT_TRUE(Allowed(robots, "/x"));  // a Sitemap line does not start or end a group
}

// ---------------------------------------------------------------------------------------------------
// Files as they come

TEST(RobotsTxtRobustness, AnEmptyFileAllowsEverything) {
  RobotsTxt robots = RobotsTxt::Parse("", "fanout");
  EXPECT_TRUE(Allowed(robots, "/"));
  EXPECT_EQ(robots.group(), "");
  EXPECT_TRUE(robots.sitemaps().empty());
}

TEST(RobotsTxtRobustness, AByteOrderMarkIsSkipped) {
  RobotsTxt robots = RobotsTxt::Parse("\xEF\xBB\xBFUser-agent: *\nDisallow: /x\n", "fanout");
  EXPECT_EQ(robots.group(), "*");
  EXPECT_FALSE(Allowed(robots, "/x"));
}

TEST(RobotsTxtRobustness, CrLfAndCrEndLinesLikeLf) {
  RobotsTxt crlf = RobotsTxt::Parse("User-agent: *\r\nDisallow: /a\r\n\r\nDisallow: /b\r\n", "fanout");
  EXPECT_FALSE(Allowed(crlf, "/a"));
  EXPECT_EQ(crlf.Check("/b").rule, "Disallow: /b (line 4)");
  RobotsTxt cr = RobotsTxt::Parse("User-agent: *\rDisallow: /a\r\rDisallow: /b", "fanout");
  EXPECT_FALSE(Allowed(cr, "/a"));
  EXPECT_EQ(cr.Check("/b").rule, "Disallow: /b (line 4)");
  EXPECT_TRUE(Allowed(cr, "/c"));
}

TEST(RobotsTxtRobustness, CommentsAreRemovedWhereverTheyStart) {
  RobotsTxt robots = RobotsTxt::Parse(
      "# User-agent: fanout\n"
      "User-agent: * # everyone\n"
      "Disallow: /secret# no space before the comment\n"
      "#Disallow: /commented\n"
      "Disallow: #/nothing\n",
      "fanout");
  EXPECT_EQ(robots.group(), "*");
  EXPECT_FALSE(Allowed(robots, "/secrets"));
  EXPECT_TRUE(Allowed(robots, "/commented"));
  EXPECT_TRUE(Allowed(robots, "/nothing"));
}

TEST(RobotsTxtRobustness, UnknownFieldsAndLinesThatAreNoFieldAreIgnored) {
  RobotsTxt robots = RobotsTxt::Parse(
      "<html><body>Not found</body></html>\n"
      "User-agent: *\n"
      "Noindex: /page\n"
      "Request-rate: 1/5\n"
      "just some words\n"
      "Disallow: /yes\n",
      "fanout");
  EXPECT_TRUE(Allowed(robots, "/page"));
  EXPECT_TRUE(Allowed(robots, "/just"));
  EXPECT_FALSE(Allowed(robots, "/yes"));
}

TEST(RobotsTxtRobustness, ALineMissingOnlyItsColonIsRead) {  // as Google's parser reads it
  RobotsTxt robots = RobotsTxt::Parse("User-agent fanout\nDisallow /no-colon\nCrawl-delay 2\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/no-colon"));
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_EQ(robots.crawl_delay(), 2.0);
}

TEST(RobotsTxtRobustness, FieldNamesAreCaseInsensitiveAndSpacesAroundThemAllowed) {
  RobotsTxt robots = RobotsTxt::Parse("  USER-AGENT  :  fanout  \n\tdisallow\t:\t/a\t\n  aLLow : /a/b\n", "fanout");
  EXPECT_EQ(robots.group(), "fanout");
  EXPECT_FALSE(Allowed(robots, "/a/c"));
  EXPECT_TRUE(Allowed(robots, "/a/b"));
}

TEST(RobotsTxtRobustness, VeryLongLinesAreRead) {
  const std::string long_segment(100 * 1024, 'x');
  std::string text = "User-agent: *\n# " + std::string(200 * 1024, 'c') + "\n";
  text += "Disallow: /" + long_segment + "\n";
  text += "Disallow: /after\n";
  RobotsTxt robots = RobotsTxt::Parse(text, "fanout");
  EXPECT_FALSE(Allowed(robots, "/after"));
  EXPECT_FALSE(Allowed(robots, "/" + long_segment + "/y"));
  EXPECT_TRUE(Allowed(robots, "/" + long_segment.substr(1)));
}

TEST(RobotsTxtRobustness, OnlyTheFirst500KiBAreParsed) {
  const std::string head = "User-agent: *\nDisallow: /before\n";
  RobotsTxt robots = RobotsTxt::Parse(PaddedTo(head, kMaxRobotsBytes) + "Disallow: /after\n", "fanout");
  EXPECT_FALSE(Allowed(robots, "/before"));
  EXPECT_TRUE(Allowed(robots, "/after"));

  // The same rule just inside the cap is applied.
  RobotsTxt inside = RobotsTxt::Parse(PaddedTo(head, kMaxRobotsBytes - 17) + "Disallow: /after\n", "fanout");
  EXPECT_FALSE(Allowed(inside, "/after"));
}

TEST(RobotsTxtRobustness, ARuleTheCapCutsInTwoIsNotApplied) {
  // The first 500 KiB end with "Disallow: /pri": read as a rule, it would disallow /print too.
  const std::string text =
      PaddedTo("User-agent: *\nDisallow: /before\n", kMaxRobotsBytes - 14) + "Disallow: /private\n";
  ASSERT_EQ(text.substr(kMaxRobotsBytes - 14, 14), "Disallow: /pri");
  RobotsTxt robots = RobotsTxt::Parse(text, "fanout");
  EXPECT_FALSE(Allowed(robots, "/before"));
  EXPECT_TRUE(Allowed(robots, "/print"));
  EXPECT_TRUE(Allowed(robots, "/private"));
}

TEST(RobotsTxtRobustness, HostileWildcardsTakeLinearTime) {
  // Thousands of distinct rules whose runs of 'a' almost match a long path of 'a's at every place: a
  // backtracking matcher never ends, a path-times-pattern one takes billions of steps.
  std::string text = "User-agent: *\n";
  for (int i = 0;; ++i) {
    std::string line = "Disallow: /";
    for (int stars = 0; stars <= i % 40; ++stars) line += "*a";
    line += "*" + std::string(1 + i % 97, 'a') + "b";
    line += i % 3 == 0 ? "$\n" : "\n";
    if (text.size() + line.size() > kMaxRobotsBytes) break;
    text += line;
  }
  RobotsTxt robots = RobotsTxt::Parse(text, "fanout");
  const std::string path = "/" + std::string(20000, 'a');
  EXPECT_TRUE(Allowed(robots, path));
  EXPECT_FALSE(Allowed(robots, path + "b"));

  // One 500 KiB rule of wildcards, against the same path.
  std::string one_line = "User-agent: *\nDisallow: /";
  while (one_line.size() < kMaxRobotsBytes - 4) one_line += "*a";
  one_line += "*b\n";
  RobotsTxt giant = RobotsTxt::Parse(one_line, "fanout");
  EXPECT_TRUE(Allowed(giant, path));
}

}  // namespace
}  // namespace fanout
