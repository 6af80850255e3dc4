// <meta http-equiv=refresh>: the content read as the HTML Standard's refresh steps read it, and the
// element found by every path of the parser (the fast path, gumbo's tree, the flat scan).
#include "parser/meta_refresh.h"

#include <gtest/gtest.h>

#include <string>

#include "parser/html_parser.h"

namespace fanout {
namespace {

struct RefreshCase {
  std::string content;
  bool refreshes;
  double delay = 0;
  std::string url;
};

TEST(MetaRefresh, ContentIsReadAsTheHtmlStandardReadsIt) {
  const RefreshCase cases[] = {
      {"0;url=api/index.html", true, 0, "api/index.html"},  // the OpenJDK documentation's root
      {"5; URL=next.html", true, 5, "next.html"},
      {"5 ; url = 'next.html' trailing", true, 5, "next.html"},
      {"3,url=\"a b.html\"x", true, 3, "a b.html"},
      {"  7", true, 7, ""},  // a refresh of the page itself
      {"7;", true, 7, ""},
      {"1.5; url=x.html", true, 1, "x.html"},  // the fraction is read past, not counted
      {".5; url=x.html", true, 0, "x.html"},
      {"0; next.html", true, 0, "next.html"},  // "url=" may be left out
      {"0; 'quoted.html'", true, 0, "quoted.html"},
      {"0; urlx.html", true, 0, "urlx.html"},  // "url" not followed by '=' is part of the URL
      {"0; u.html", true, 0, "u.html"},
      {"0; url =  spaced.html", true, 0, "spaced.html"},
      {"0 url=x.html", true, 0, "x.html"},     // whitespace alone separates too
      {"", false, 0, ""},
      {"soon", false, 0, ""},
      {"5x; url=a.html", false, 0, ""},
      {"; url=a.html", false, 0, ""},
      {"-1; url=a.html", false, 0, ""},
  };
  for (const RefreshCase& c : cases) {
    std::optional<MetaRefresh> refresh = ParseMetaRefresh(c.content);
    ASSERT_EQ(refresh.has_value(), c.refreshes) << "'" << c.content << "'";
    if (!refresh) continue;
    EXPECT_EQ(refresh->delay_seconds, c.delay) << c.content;
    EXPECT_EQ(refresh->url, c.url) << c.content;
  }
}

// The same page through the fast path and through gumbo's tree gives the same refresh: the first
// one that parses, whatever the attributes' case or order, with character references decoded.
TEST(MetaRefresh, EveryParserPathFindsTheFirstRefreshThatParses) {
  const std::string page =
      "<!DOCTYPE html><html><head><title>Moved</title>"
      "<meta http-equiv=\"refresh\" content=\"soon\">"
      "<META CONTENT=\"2;URL=new.html?a=1&amp;b=2\" HTTP-EQUIV=\"Refresh\">"
      "<meta http-equiv=refresh content=\"0;url=later.html\">"
      "</head><body><a href=\"new.html\">here</a></body></html>";
  for (HtmlParser parser : {HtmlParser::kAuto, HtmlParser::kGumbo}) {
    ParsedPage parsed = ParseHtml(page, {.parser = parser});
    ASSERT_TRUE(parsed.refresh.has_value());
    EXPECT_EQ(parsed.refresh->delay_seconds, 2);
    EXPECT_EQ(parsed.refresh->url, "new.html?a=1&b=2");
  }
  EXPECT_FALSE(ParseHtml("<meta name=robots content=\"0;url=x.html\">", {}).refresh.has_value());
  EXPECT_FALSE(ParseHtml("<meta http-equiv=content-type content=\"text/html\">", {}).refresh.has_value());
}

TEST(MetaRefresh, ThePartParsedFlatStillHasItsRefresh) {
  // Formatting elements nested this deep make the parser scan the rest of the page flat (see
  // html_parser.h); a refresh in that part must still be found.
  std::string page = "<html><body>";
  for (int i = 0; i < 20000; ++i) page += "<b><i>";
  page += "<meta http-equiv=refresh content=\"0;url=deep.html\">x</body></html>";
  ParsedPage parsed = ParseHtml(page, {.parser = HtmlParser::kGumbo});
  ASSERT_TRUE(parsed.flattened);
  ASSERT_TRUE(parsed.refresh.has_value());
  EXPECT_EQ(parsed.refresh->url, "deep.html");
}

}  // namespace
}  // namespace fanout
