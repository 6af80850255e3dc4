// The trap rules and session-id removal of crawler/url_traps.h, on URLs as the crawl meets them.
#include "crawler/url_traps.h"

#include <gtest/gtest.h>

namespace fanout {
namespace {

std::string RuleOf(std::string_view url, TrapLimits limits = {}) {
  std::optional<TrapFinding> f = FindTrap(url, limits);
  return f ? f->rule + " " + f->part + " " + std::to_string(f->count) : "";
}

TEST(UrlTraps, APathSegmentSeenMoreThanTwiceIsATrapSideBySideOrApart) {
  EXPECT_EQ(RuleOf("http://h/docs/a/a/"), "");
  EXPECT_EQ(RuleOf("http://h/docs/a/a/a/"), "repeated_segment a 3");
  EXPECT_EQ(RuleOf("http://h/a/b/a/c/a/page.html"), "repeated_segment a 3") << "apart, as a loop of relative links makes them";
  EXPECT_EQ(RuleOf("http://h/x/y/x/y/"), "") << "twice each is allowed";
  EXPECT_EQ(RuleOf("http://h/a//a///a"), "repeated_segment a 3") << "empty segments do not hide a repeat";
  EXPECT_EQ(RuleOf("http://h/docs/a/a/a/", {.max_repeats = 3}), "");
  EXPECT_EQ(RuleOf("http://h/docs/a/a/a/a/a/", {.max_repeats = 0}), "") << "0: no limit";
}

TEST(UrlTraps, AQueryPairRepeatedIsATrapButOneNameWithOtherValuesIsNot) {
  EXPECT_EQ(RuleOf("http://h/s?q=x&q=x&q=x"), "repeated_parameter q=x 3");
  EXPECT_EQ(RuleOf("http://h/s?tag=a&tag=b&tag=c&tag=d"), "");
  EXPECT_EQ(RuleOf("http://h/cal?y=2026&m=1"), "") << "a calendar has no shape of its own: --max-depth ends it";
}

TEST(UrlTraps, MoreThanTwentySegmentsIsATrap) {
  std::string url = "http://h";
  for (int i = 0; i < 20; ++i) url += "/s" + std::to_string(i);
  EXPECT_EQ(RuleOf(url), "");
  EXPECT_EQ(RuleOf(url + "/last"), "too_many_segments  21");
  EXPECT_EQ(RuleOf(url + "/last", {.max_segments = 0}), "");
  TrapFinding f = *FindTrap(url + "/last", {});
  EXPECT_EQ(ExplainTrap(f, {}), "its path has 21 segments, more than --max-path-segments 20");
}

std::string Stripped(std::string url) {
  StripSessionIds(url);
  return url;
}

TEST(UrlTraps, SessionIdsLeaveTheKeyAndNothingElseDoes) {
  EXPECT_EQ(Stripped("http://h/app/p1;jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9"), "http://h/app/p1");
  EXPECT_EQ(Stripped("http://h/app/p1;JSESSIONID=abc?x=1"), "http://h/app/p1?x=1");
  EXPECT_EQ(Stripped("http://h/a;jsessionid=abc/b.html"), "http://h/a/b.html");
  EXPECT_EQ(Stripped("http://h/p?PHPSESSID=abc&page=2"), "http://h/p?page=2");
  EXPECT_EQ(Stripped("http://h/p?page=2&ASPSESSIONIDQQGGGQSB=ABCDEFGH&sessionid=1"), "http://h/p?page=2");
  EXPECT_EQ(Stripped("http://h/p?CFID=12&CFTOKEN=34"), "http://h/p") << "a query left empty goes with its ?";
  EXPECT_EQ(Stripped("http://h/p?sid=0123456789abcdef01"), "http://h/p");
  EXPECT_EQ(Stripped("http://h/p?sid=3"), "http://h/p?sid=3") << "a short sid is a site's own id";
  EXPECT_EQ(Stripped("http://h/p?sessionx=1&sidebar=2"), "http://h/p?sessionx=1&sidebar=2");
  std::string untouched = "http://h/p?x=1";
  EXPECT_FALSE(StripSessionIds(untouched));
}

}  // namespace
}  // namespace fanout
