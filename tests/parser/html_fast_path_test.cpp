// The fast path against gumbo, field by field: on cases written for each state it handles and each
// reason it hands a page over, on the real documentation Debian ships, on the synthetic sites, on
// hostile pages and on random tag soup. Where the fast path takes a page, its result must be
// gumbo's; and it must take the pages it is for, or it would be correct and useless.
#include "parser/html_fast_path.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parser/html_parser.h"
#include "tests/support/debian_docs.h"
#include "tests/support/parsed_page_text.h"
#include "testsite/synthetic.h"

namespace fanout {
namespace {

ParsedPage Gumbo(std::string_view html) { return ParseHtml(html, {.parser = HtmlParser::kGumbo}); }


// Parses `html` as ParseHtml does by default; where the fast path took the page, expects gumbo's
// result. Returns why the fast path did not ("" when it did).
std::string ExpectGumbos(std::string_view html, const std::string& label = "") {
  const ParsedPage page = ParseHtml(html);
  if (page.fast_path) {
    EXPECT_EQ(testing::ComparedFields(page), testing::ComparedFields(Gumbo(html))) << label << "\n" << html.substr(0, 2000);
  }
  return std::string(page.bailout);
}

struct Case {
  const char* name;
  std::string html;
  FastPathBailout expected = FastPathBailout::kNone;
};

// One case per tokenizer state and tree rule the fast path follows, and per reason it stops.
std::vector<Case> Cases() {
  using B = FastPathBailout;
  return {
      {"plain links", "<!DOCTYPE html><html><head><title>T</title></head><body><a href=/a>a</a><p><a href='/b'>b</a>"},
      {"area and nofollow", "<map><area href=/m rel='x NoFollow'></map><a href=/n rel=nofollowx>x</a>"},
      {"uppercase", "<A HREF=/UP REL=NOFOLLOW>x</A><TITLE>Up</TITLE><BASE HREF=/b/>"},
      {"duplicate attributes", "<a href=/first href=/second rel=nofollow rel=x>x</a>"},
      {"attribute quoting", "<a href = \"/d q\" x='s q' y=u/v href=2>1</a><a href='/s'rel=\"nofollow\">2</a><a/href=/slash>3</a>"},
      {"attribute edge names", "<a =x href=/eq>1</a><a \"q=1 href=/q>2</a><a href=>3</a><a href>4</a><a href=/x/>5</a>"},
      {"entities in attributes", "<a href='/e?a=1&amp;b=2&lt;&GT;&quot;&apos;&nbsp;&eacute;&Eacute;&amp'>1</a>"},
      {"legacy entities in attributes",
       "<a href='?x=1&notify=2&copy=3&copy-4&amp5&ampx;&not;&noti;&notin;&AMP;&lt'>1</a><a href=&copy2>2</a>"},
      {"numeric references", "<a href='&#65;&#x42;&#X43&#100x&#;&#x;&#8364;&#x1F600;&#xa0;'>1</a>"},
      {"unknown names", "<a href='&zzz;&zzz&;&&#&x&a b&amp c'>1</a><title>&zzz; &notit; &copy2 &amp= &#x41</title>"},
      {"CR in values", "<a href=\"/a\r\nb\rc\">1</a><title>a\r\nb</title>"},
      {"title whitespace and entities", "<title>\n  A  &mdash;\tB&nbsp;C \n</title><title>second</title>"},
      {"title not closed", "<title>open <a href=/no>"},
      {"title end at the end", "<title>x</title"},
      {"title end with attributes", "<title>x</title foo=bar><a href=/after>a</a>"},
      {"title near misses", "<title>a</titlex> b</ title> c</title>"},
      {"first base with href", "<base target=x><base href=/one/><base href=/two/>"},
      {"canonical", "<link rel=stylesheet href=/s><link rel='Canonical alternate' href=/c><link rel=canonical href=/d>"},
      {"meta robots", "<meta name=' ROBOTS ' content='NoIndex,follow'><meta name=robots content=none><meta name=x content=nofollow>"},
      {"comments", "<!--><a href=/1></a>--><!---><a href=/2></a><!-- <a href=/no></a> --!><a href=/3></a><!-- a -- b --><a href=/4></a>"},
      {"comment not closed", "<a href=/1><!-- <a href=/no>"},
      {"doctype and bogus comments", "<!DOCTYPE html PUBLIC \"a>b\" \"c\"><a href=/1></a><?php <a href=/no></a> ?><a href=/2></a></ x><a href=/3></a></><a href=/4></a>"},
      {"stray lt", "a < b <1 <a href=/1> </"},
      {"raw text elements",
       "<style><a href=/no></style><xmp><a href=/no></xmp><iframe><a href=/no></iframe><noembed><a href=/no></noembed>"
       "<noframes><a href=/no></noframes><textarea><a href=/no></textarea><a href=/yes>"},
      {"script", "<script>if (a<b) document.write('<a href=/no>')</script ><a href=/1>"},
      {"script escapes", "<script><!--<script>x</script><a href=/no>--></script><a href=/1>"},
      {"script escape without double", "<script><!-- x </script><a href=/1>"},
      {"script double escape ended", "<script><!--<script></script></script><a href=/no></a>--></script><a href=/2></a>"},
      {"script dashes", "<script><!--- -- -><a href=/no></a>--></script><a href=/3></a><script><!--></script><a href=/4></a>"},
      {"script not closed", "<script>x <a href=/no>"},
      {"noscript is markup", "<head><noscript><a href=/1></a></noscript></head><noscript><a href=/2></a></noscript>"},
      {"plaintext", "<a href=/1><plaintext><a href=/no></plaintext><a href=/no>"},
      {"misnested anchors", "<a href=/1><p>x<a href=/2>y</a></p>z</a><b><a href=/3><div>q</b><a href=/4>", B::kMisnested},
      {"anchors reopened", "<p><a href=/1>x</p>y<p>z</a><a href=/2>", B::kMisnested},
      {"adoption moves a block", "<a><code><sp><e><si><li><a href><li><a href=l>", B::kMisnested},
      {"formatting closed in order", "<p><b>x<i>y</i></b><a href=/1>a</a><em><a href=/2>b</a></em></p><a href=/3>c</a>"},
      {"stray formatting end tags", "</b></a><a href=/1>x</a></i>"},
      {"links in table cells", "<table><tr><td><a href=/1></a><td><a href=/2></a><table><caption><a href=/3></a></caption>"
                               "<tr><th><a href=/4></a></table></td></tr></table><a href=/5></a>"},
      {"table structure", "<table> <colgroup><col></colgroup><thead><tr><th>h</th></tr></thead><tbody><tr><td>"
                          "<a href=/1></a></td></tr></tbody><tfoot><tr><td><a href=/2></a></tfoot></table>"},
      {"table with script and input", "<table><script>x</script><style>y</style><input type=hidden><form></form><tr><td><a href=/1></table>"},
      {"cell closed by row", "<table><tr><td>a<tr><td><a href=/1></a></tr><tr><td><a href=/2></a></tbody><td><a href=/3></a></table>"},
      {"mismatched cell end", "<table><tr><th><a href=/1></a></td><a href=/2></a></th></table>"},
      {"text in table", "<table>text<tr>more<td><a href=/1></table>"},
      {"table after table", "<table><tr><td>1</td></tr><table><tr><td><a href=/1></table>"},
      {"tags outside tables", "<td><tr></table></td><caption><a href=/1>"},
      {"tag cut by the end", "<a href=/1><a href=/2"},
      {"value cut by the end", "<a href=/1><a href=\"/2>"},
      {"empty", ""},
      {"svg icon", "<a href=/1><svg viewBox='0 0 1 1'><path d='M0'/><g><a href=/svg-a></a><circle/></g></svg></a><a href=/2>"},
      {"svg holds markup", "<svg><script><a href=/no></script><style><a href=/no2></style></svg><a href=/3>"},
      {"svg self-closing", "<svg/><a href=/1></a><math/><a href=/2></a>"},
      {"svg end tags", "<svg><g><rect></svg><a href=/1></a><math><mrow><mfrac></MATH><a href=/2></a>"},
      {"html in svg", "<svg><p><a href=/x>", B::kForeignContent},
      {"svg title", "<svg><title>t</title></svg><title>real</title>", B::kForeignContent},
      {"svg foreignObject", "<svg><foreignObject><a href=/x></foreignObject></svg>", B::kForeignContent},
      {"svg CDATA", "<svg><![CDATA[<a href=/x>]]></svg>", B::kForeignContent},
      {"svg unmatched end tag", "<div><svg></div><a href=/x>", B::kForeignContent},
      {"math", "<math><mi><a href=/x>", B::kForeignContent},
      {"template", "<template><a href=/x></template>", B::kTemplate},
      {"select", "<select><a href=/x></select>", B::kSelect},
      {"frameset", "<frameset><a href=/x>", B::kFrameset},
      {"foster parented link", "<table><a href=/x></a><tr><td><a href=/y></table>", B::kFosterParent},
      {"foster parented title", "<table><tr><title>t</title></table>", B::kFosterParent},
      {"foster parented after a cell", "<table><tr><td>x</td><div><a href=/x></table>", B::kFosterParent},
      {"NUL", std::string("<a href=/x\0y>", 12), B::kEncoding},
      {"invalid UTF-8", "<a href=/\xff>", B::kEncoding},
      {"control character", "<a href=/\x01>", B::kEncoding},
      {"C1 control", "<a href=/\xc2\x80>", B::kEncoding},
      {"noncharacter", "<a href=/\xef\xbf\xbe>", B::kEncoding},
      {"replaced reference", "<a href=/&#128;>", B::kCharRef},
      {"reference to NUL", "<a href=/&#0;>", B::kCharRef},
      {"reference past Unicode", "<title>&#x110000;</title>", B::kCharRef},
  };
}

TEST(HtmlFastPath, GivesGumbosResultOnEveryStateItHandlesAndStopsWhereItMust) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ExpectGumbos(c.html, c.name), FastPathBailoutName(c.expected));
  }
}

TEST(HtmlFastPath, IsWhatParseHtmlUsesAndSaysWhy) {
  const ParsedPage fast = ParseHtml("<title>x</title><a href=/a>a</a>");
  EXPECT_TRUE(fast.fast_path);
  EXPECT_EQ(fast.bailout, "");
  const ParsedPage select = ParseHtml("<select><a href=/x></a></select><a href=/a>");
  EXPECT_FALSE(select.fast_path);
  EXPECT_EQ(select.bailout, "select");
  ASSERT_EQ(select.links.size(), 1u);  // gumbo's: <select> drops the <a> inside it
  EXPECT_EQ(select.links[0].href, "/a");
  const ParsedPage tree = ParseHtml("<a href=/a>", {.parser = HtmlParser::kGumbo});
  EXPECT_FALSE(tree.fast_path);
  EXPECT_EQ(tree.bailout, "");
}

TEST(HtmlFastPath, KeepsTheLimitsOnLinksAndBytes) {
  std::string html;
  for (int i = 0; i < 10; ++i) html += "<a href=/" + std::to_string(i) + ">x</a>";
  ParseOptions options;
  options.max_links = 3;
  options.max_bytes = html.size() - 3;
  const ParsedPage fast = ParseHtml(html, options);
  ASSERT_TRUE(fast.fast_path);
  options.parser = HtmlParser::kGumbo;
  EXPECT_EQ(testing::ComparedFields(fast), testing::ComparedFields(ParseHtml(html, options)));
  EXPECT_EQ(fast.links.size(), 3u);
  EXPECT_TRUE(fast.truncated);
}

// Hostile pages that make gumbo quadratic: the fast path reads them in one pass, and its links are
// those gumbo's bounded parse returns.
TEST(HtmlFastPath, ReadsHostilePagesAsGumbosBoundedParseDoes) {
  auto repeat = [](std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  const std::vector<std::string> pages = {
      "<body>" + repeat("<div><a href=/d>x</a>", 30000),
      "<body>" + repeat("<b><a href=/b></a>", 30000),
      "<body><p>" + repeat("<b id=1><i>", 5000) + "</p>" + repeat("<p>t <a href=/p>x</a>", 500),
      "<body>" + repeat("<table><tr><td><a href=/t></a>", 20000),
      "<a" + repeat(" x=1", 50000) + " href=/many>x</a><a href=/next>",
  };
  for (const std::string& html : pages) {
    EXPECT_EQ(ExpectGumbos(html), "") << html.substr(0, 60);
  }
}

TEST(HtmlFastPath, GivesGumbosResultOnTheSyntheticSites) {
  testsite::SyntheticSite site({.pages = 1000, .links = 20, .page_bytes = 8000, .seed = 7});
  for (uint64_t page = 0; page < 200; ++page) {
    EXPECT_EQ(ExpectGumbos(site.Render(page, "http://127.0.0.1:8080")), "") << page;
    // Malformed pages (unclosed and stray tags) may be handed over; either way the result is gumbo's.
    ExpectGumbos(site.Render(page, "http://127.0.0.1:8080", testsite::PageFlavor::kMalformed));
  }
}

// Random tag soup from the pieces that matter to the states and rules above.
std::string Soup(std::mt19937_64& rng) {
  static const std::array<std::string_view, 62> kPieces = {
      "<a href=/x>", "<a href='/y?a=1&amp;b'>", "<a href=\"/z\" rel=nofollow>", "</a>", "<area href=/m>",
      "<base href=/b/>", "<link rel=canonical href=/c>", "<meta name=robots content=noindex>", "<title>", "</title>",
      "<textarea>", "</textarea>", "<style>", "</style>", "<script>", "</script>", "<!--", "-->", "--!>", "<!-->",
      "<!DOCTYPE html>", "<?x>", "</x>", "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "</th>",
      "<caption>", "</caption>", "<tbody>", "</tbody>", "<thead>", "<col>", "<colgroup>", "<p>", "</p>", "<b>",
      "</b>", "<div>", "</div>", "<li>", "<button>", "<noscript>", "<xmp>", "</xmp>", "text", " ", "\r\n", "&amp;",
      "&notit;", "&#x41;", "&copy", "<", ">", "\"", "'", "=", "/",
  };
  std::string html;
  const size_t pieces = 1 + rng() % 40;
  for (size_t i = 0; i < pieces; ++i) html += kPieces[rng() % kPieces.size()];
  return html;
}

TEST(HtmlFastPath, GivesGumbosResultOnRandomTagSoup) {
  std::mt19937_64 rng(20261201);
  int taken = 0;
  constexpr int kDocuments = 20000;
  for (int i = 0; i < kDocuments; ++i) {
    const std::string html = Soup(rng);
    if (ExpectGumbos(html, "soup " + std::to_string(i)).empty()) ++taken;
    if (HasFailure()) break;
  }
  EXPECT_GT(taken, kDocuments / 2) << "the fast path hands over most soups";
}

// Every HTML page of the documentation Debian ships.
void ExpectGumbosOnCorpus(const char* root) {
  std::map<std::string, int> bailouts;
  const size_t pages = testing::ForEachDocPage(root, [&](const std::filesystem::path& path, const std::string& body) {
    const std::string why = ExpectGumbos(body, path.string());
    if (!why.empty()) ++bailouts[why];
    return !::testing::Test::HasFailure();
  });
  if (pages == 0) GTEST_SKIP() << root << " is not installed";
  size_t handed_over = 0;
  std::ostringstream reasons;
  for (const auto& [reason, count] : bailouts) {
    handed_over += count;
    reasons << " " << reason << "=" << count;
  }
  std::cout << root << ": " << pages << " pages, " << handed_over << " handed to gumbo ("
            << 100.0 * static_cast<double>(handed_over) / static_cast<double>(pages) << "%)" << reasons.str() << "\n";
  EXPECT_GT(pages, 100 / testing::kDocStride);
  EXPECT_LT(handed_over, pages / 4) << "the fast path should take the common case";
}

TEST(HtmlFastPathCorpus, Python311Docs) { ExpectGumbosOnCorpus(testing::kPythonDocs); }
TEST(HtmlFastPathCorpus, PostgreSql15Docs) { ExpectGumbosOnCorpus(testing::kPostgreSqlDocs); }
TEST(HtmlFastPathCorpus, OpenJdk17ApiDocs) { ExpectGumbosOnCorpus(testing::kJdkDocs); }

}  // namespace
}  // namespace fanout
