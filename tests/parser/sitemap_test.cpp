#include "parser/sitemap.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/status_matchers.h"

namespace fanout {
namespace {

using namespace std::string_literals;
using Urls = std::vector<std::string>;

// `data` as one gzip member, as a server's gzip would send it.
std::string Gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string UrlSet(const Urls& urls) {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>)"
                    "\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
  for (const std::string& url : urls) xml += "  <url><loc>" + url + "</loc></url>\n";
  return xml + "</urlset>\n";
}

Urls Numbered(size_t n) {
  Urls urls;
  for (size_t i = 0; i < n; ++i) urls.push_back("https://example.com/page/" + std::to_string(i));
  return urls;
}

// The error message of a sitemap that must not parse, "" if it parsed.
std::string ErrorOf(std::string_view body, const SitemapLimits& limits = {}) {
  Result<Sitemap> result = ParseSitemap(body, limits);
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(result.status().message().find('\n'), std::string::npos)
      << "one line: " << result.status().message();
  return result.status().message();
}

#define ASSERT_PARSES(var, expr)         \
  Result<Sitemap> var##_result = (expr); \
  ASSERT_OK(var##_result);               \
  const Sitemap& var = *var##_result

// ---------------------------------------------------------------------------------------------------
// XML

TEST(ParseSitemap, ReadsAUrlSet) {
  ASSERT_PARSES(sitemap, ParseSitemap(R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url>
    <loc>https://example.com/</loc>
    <lastmod>2024-01-01</lastmod>
    <changefreq>daily</changefreq>
    <priority>1.0</priority>
  </url>
  <url><loc>https://example.com/about</loc></url>
</urlset>)"));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kUrlSet);
  EXPECT_EQ(sitemap.urls, (Urls{"https://example.com/", "https://example.com/about"}));
  EXPECT_FALSE(sitemap.truncated);
}

TEST(ParseSitemap, ReadsASitemapIndex) {
  ASSERT_PARSES(sitemap, ParseSitemap(R"(<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/sitemap1.xml.gz</loc><lastmod>2024-01-01T00:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://example.com/sitemap2.xml.gz</loc></sitemap>
</sitemapindex>)"));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kIndex);
  EXPECT_EQ(sitemap.urls, (Urls{"https://example.com/sitemap1.xml.gz", "https://example.com/sitemap2.xml.gz"}));
}

TEST(ParseSitemap, ReadsWithoutANamespace) {
  ASSERT_PARSES(sitemap, ParseSitemap("<urlset><url><loc>http://a/</loc></url></urlset>"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, ReadsWithAPrefixedNamespace) {
  ASSERT_PARSES(sitemap, ParseSitemap(R"(<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sm:url><sm:loc>http://a/</sm:loc></sm:url>
      <url><loc>http://not-in-the-sitemaps-vocabulary/</loc></url>
    </sm:urlset>)"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, ReadsTheOldGoogleNamespace) {
  ASSERT_PARSES(sitemap, ParseSitemap(R"(<urlset xmlns="http://www.google.com/schemas/sitemap/0.84">
      <url><loc>http://a/</loc></url></urlset>)"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, TakesOnlyTheEntriesOwnLoc) {
  // Image and alternate-language extensions, with the image prefix left undeclared as some sites do;
  // a second <loc> in an entry; a <loc> outside any entry.
  ASSERT_PARSES(sitemap, ParseSitemap(R"(<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
          xmlns:xhtml="http://www.w3.org/1999/xhtml">
      <loc>http://stray/</loc>
      <url>
        <loc>http://a/</loc>
        <image:image><image:loc>http://a/cat.jpg</image:loc><loc>http://deeper/</loc></image:image>
        <image:loc>http://a/dog.jpg</image:loc>
        <xhtml:link rel="alternate" hreflang="de" href="http://a/de"/>
        <loc>http://second/</loc>
      </url>
      <url><image:image><image:loc>http://b/cat.jpg</image:loc></image:image><loc>http://b/</loc></url>
    </urlset>)"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/", "http://b/"}));
}

TEST(ParseSitemap, TrimsWhitespaceAndReadsCdata) {
  ASSERT_PARSES(sitemap, ParseSitemap("<urlset>"
                                      "<url><loc>\n\t  http://a/ \r\n</loc></url>"
                                      "<url><loc> <![CDATA[http://b/?x=1&y=<2>]]> </loc></url>"
                                      "<url><loc>   </loc></url>"
                                      "<url><loc/></url>"
                                      "<url><loc>http://c/<!-- a comment -->path</loc></url>"
                                      "</urlset>"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/", "http://b/?x=1&y=<2>", "http://c/path"}));
}

TEST(ParseSitemap, DecodesEntities) {
  ASSERT_PARSES(sitemap, ParseSitemap("<urlset>"
                                      "<url><loc>http://a/?x=1&amp;y=2&amp;z=&lt;&#x41;&#66;&apos;&quot;</loc></url>"
                                      "<url><loc>http://b/caf\xC3\xA9</loc></url>"
                                      "</urlset>"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/?x=1&y=2&z=<AB'\"", "http://b/caf\xC3\xA9"}));
}

TEST(ParseSitemap, ReadsLatin1DeclaredXmlAsUtf8) {
  ASSERT_PARSES(sitemap, ParseSitemap("<?xml version='1.0' encoding='ISO-8859-1'?>"
                                      "<urlset><url><loc>http://b/caf\xE9</loc></url></urlset>"));
  EXPECT_EQ(sitemap.urls, (Urls{"http://b/caf\xC3\xA9"}));
}

TEST(ParseSitemap, ToleratesWhitespaceAndABomBeforeTheDeclaration) {
  ASSERT_PARSES(sitemap, ParseSitemap("\xEF\xBB\xBF\r\n  \n<?xml version=\"1.0\"?>\n"
                                      "<urlset><url><loc>http://a/</loc></url></urlset>\n"));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kUrlSet);
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, ReadsUtf16WithABom) {
  std::string ascii =
      "<?xml version=\"1.0\" encoding=\"UTF-16\"?><urlset><url><loc>http://a/</loc></url></urlset>";
  std::string utf16 = "\xFF\xFE";
  for (char c : ascii) utf16 += std::string{c, '\0'};
  ASSERT_PARSES(sitemap, ParseSitemap(utf16));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, ReadsAcrossChunkBoundaries) {
  // 50,000 entries are some 2.5 MB: many chunks, and entries cut by their boundaries.
  Urls urls = Numbered(50000);
  ASSERT_PARSES(sitemap, ParseSitemap(UrlSet(urls)));
  EXPECT_EQ(sitemap.urls, urls);
  EXPECT_FALSE(sitemap.truncated);
}

TEST(ParseSitemap, RefusesMalformedXml) {
  std::string error = ErrorOf("<urlset>\n<url><loc>http://a/</loc></uri>\n</urlset>");
  EXPECT_NE(error.find("malformed XML at line 2"), std::string::npos) << error;
  EXPECT_NE(error.find("mismatched tag"), std::string::npos) << error;

  EXPECT_NE(ErrorOf("<urlset><url><loc>http://a/</loc></url>").find("malformed XML"), std::string::npos);
  EXPECT_NE(ErrorOf("<urlset></urlset><urlset></urlset>").find("malformed XML"), std::string::npos);
  EXPECT_NE(ErrorOf("<urlset><url><loc>a&nbsp;b</loc></url></urlset>").find("undefined entity"),
            std::string::npos);
  EXPECT_NE(ErrorOf("<").find("malformed XML"), std::string::npos);
}

TEST(ParseSitemap, CountsLinesFromTheStartOfTheBody) {
  // expat points at the name in the end tag; the whitespace before the document is counted back in.
  std::string error = ErrorOf("<urlset><url></urlset>");
  EXPECT_NE(error.find("line 1, column 16"), std::string::npos) << error;
  error = ErrorOf("\n\n  <urlset><url></urlset>");
  EXPECT_NE(error.find("line 3, column 18"), std::string::npos) << error;
}

TEST(ParseSitemap, RefusesARootThatIsNotASitemap) {
  std::string error =
      ErrorOf(R"(<?xml version="1.0"?><rss version="2.0"><channel><link>http://a/</link></channel></rss>)");
  EXPECT_NE(error.find("root element is <rss>"), std::string::npos) << error;
  EXPECT_NE(ErrorOf("<html><body>Not found</body></html>").find("<html>"), std::string::npos);
}

TEST(ParseSitemap, RefusesEntityDeclarationsSoBillionLaughsExpandsNothing) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE urlset [\n  <!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 30; ++i) {
    bomb += "  <!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) bomb += "&lol" + std::to_string(i - 1) + ";";
    bomb += "\">\n";
  }
  bomb += "]>\n<urlset><url><loc>&lol30;</loc></url></urlset>";
  std::string error = ErrorOf(bomb);  // refused at the first declaration, before any expansion
  EXPECT_NE(error.find("declares an entity (lol0)"), std::string::npos) << error;

  // A DOCTYPE without entities is harmless, and allowed.
  ASSERT_PARSES(plain, ParseSitemap("<!DOCTYPE urlset><urlset><url><loc>http://a/</loc></url></urlset>"));
  EXPECT_EQ(plain.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, DoesNotFetchExternalEntities) {
  std::string error = ErrorOf(R"(<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>
      <urlset><url><loc>&x;</loc></url></urlset>)");
  EXPECT_NE(error.find("declares an entity"), std::string::npos) << error;
}

// ---------------------------------------------------------------------------------------------------
// gzip

TEST(ParseSitemap, InflatesGzip) {
  Urls urls = Numbered(1000);
  ASSERT_PARSES(sitemap, ParseSitemap(Gzip(UrlSet(urls))));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kUrlSet);
  EXPECT_EQ(sitemap.urls, urls);
  EXPECT_FALSE(sitemap.truncated);

  ASSERT_PARSES(text, ParseSitemap(Gzip("http://a/\nhttp://b/\n")));
  EXPECT_EQ(text.kind, Sitemap::Kind::kText);
  EXPECT_EQ(text.urls, (Urls{"http://a/", "http://b/"}));
}

TEST(ParseSitemap, InflatesConcatenatedGzipMembers) {
  ASSERT_PARSES(sitemap, ParseSitemap(Gzip("<urlset><url><loc>http://a/</loc></url>") +
                                      Gzip("<url><loc>http://b/</loc></url></urlset>")));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/", "http://b/"}));
}

TEST(ParseSitemap, RefusesCorruptGzip) {
  std::string gzip = Gzip(UrlSet(Numbered(100)));
  std::string corrupt = gzip;
  for (size_t i = 20; i < 40; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x55);
  std::string error = ErrorOf(corrupt);
  EXPECT_NE(error.find("corrupt gzip stream"), std::string::npos) << error;

  std::string bad_crc = gzip;
  bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 1);
  EXPECT_NE(ErrorOf(bad_crc).find("corrupt gzip stream"), std::string::npos);

  EXPECT_NE(ErrorOf(gzip.substr(0, gzip.size() / 2)).find("truncated"), std::string::npos);
  EXPECT_NE(ErrorOf("\x1f\x8b").find("corrupt gzip stream"), std::string::npos);
  EXPECT_NE(ErrorOf("\x1f\x8b\x08\x00garbage").find("corrupt gzip stream"), std::string::npos);
}

TEST(ParseSitemap, StopsInflatingAZipBombAtTheCap) {
  std::string bomb = Gzip(std::string(16 << 20, '\0'));  // 16 MiB of zeros in ~16 KiB
  SitemapLimits limits;
  limits.max_uncompressed_bytes = 1 << 20;
  ASSERT_PARSES(sitemap, ParseSitemap(bomb, limits));
  EXPECT_TRUE(sitemap.truncated);
  EXPECT_TRUE(sitemap.urls.empty());  // one line of zeros, cut at the cap: dropped
}

TEST(ParseSitemap, KeepsTheUrlsBeforeTheCapOfAnXmlBomb) {
  std::string xml = "<urlset><url><loc>http://a/</loc></url><url><loc>http://b/</loc></url>" +
                    std::string(8 << 20, ' ') + "<url><loc>http://late/</loc></url></urlset>";
  SitemapLimits limits;
  limits.max_uncompressed_bytes = 256 << 10;
  ASSERT_PARSES(sitemap, ParseSitemap(Gzip(xml), limits));
  EXPECT_TRUE(sitemap.truncated);
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/", "http://b/"}));

  // The same cap holds for a body that is not compressed.
  ASSERT_PARSES(plain, ParseSitemap(xml, limits));
  EXPECT_TRUE(plain.truncated);
  EXPECT_EQ(plain.urls, (Urls{"http://a/", "http://b/"}));
}

TEST(ParseSitemap, ReadsABodyExactlyAtTheCap) {
  std::string xml = UrlSet({"http://a/"});
  SitemapLimits limits;
  limits.max_uncompressed_bytes = xml.size();
  ASSERT_PARSES(plain, ParseSitemap(xml, limits));
  EXPECT_FALSE(plain.truncated);
  ASSERT_PARSES(gzip, ParseSitemap(Gzip(xml), limits));
  EXPECT_FALSE(gzip.truncated);
  EXPECT_EQ(gzip.urls, (Urls{"http://a/"}));
}

// ---------------------------------------------------------------------------------------------------
// Text

TEST(ParseSitemap, ReadsATextSitemap) {
  ASSERT_PARSES(sitemap, ParseSitemap("http://a/\r\n\r\n   \r\nhttp://b/?x=1&y=2  \n\thttp://c/\n\n"
                                      "http://d/"));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kText);
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/", "http://b/?x=1&y=2", "http://c/", "http://d/"}));
  EXPECT_FALSE(sitemap.truncated);
}

TEST(ParseSitemap, ReadsATextSitemapAfterABom) {
  ASSERT_PARSES(sitemap, ParseSitemap("\xEF\xBB\xBFhttp://a/\n"));
  EXPECT_EQ(sitemap.kind, Sitemap::Kind::kText);
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, DropsATextLineCutByTheCap) {
  SitemapLimits limits;
  limits.max_uncompressed_bytes = 15;
  ASSERT_PARSES(sitemap, ParseSitemap("http://a/\nhttp://bbbbbbb/\n", limits));
  EXPECT_TRUE(sitemap.truncated);
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
}

TEST(ParseSitemap, ReadsAnEmptyBodyAsAnEmptyTextSitemap) {
  for (std::string body : {""s, "  \n\t"s, "\xEF\xBB\xBF"s, Gzip("")}) {
    ASSERT_PARSES(sitemap, ParseSitemap(body));
    EXPECT_EQ(sitemap.kind, Sitemap::Kind::kText);
    EXPECT_TRUE(sitemap.urls.empty());
    EXPECT_FALSE(sitemap.truncated);
  }
}

// ---------------------------------------------------------------------------------------------------
// max_urls

TEST(ParseSitemap, KeepsTheFirstMaxUrls) {
  SitemapLimits limits;
  limits.max_urls = 3;
  Urls urls = Numbered(10);

  ASSERT_PARSES(xml, ParseSitemap(UrlSet(urls), limits));
  EXPECT_EQ(xml.urls, (Urls{urls[0], urls[1], urls[2]}));
  EXPECT_TRUE(xml.truncated);

  ASSERT_PARSES(gzip, ParseSitemap(Gzip(UrlSet(urls)), limits));
  EXPECT_EQ(gzip.urls, (Urls{urls[0], urls[1], urls[2]}));
  EXPECT_TRUE(gzip.truncated);

  std::string lines;
  for (const std::string& url : urls) lines += url + "\n";
  ASSERT_PARSES(text, ParseSitemap(lines, limits));
  EXPECT_EQ(text.urls, (Urls{urls[0], urls[1], urls[2]}));
  EXPECT_TRUE(text.truncated);
}

TEST(ParseSitemap, IsNotTruncatedWithExactlyMaxUrls) {
  SitemapLimits limits;
  limits.max_urls = 3;
  ASSERT_PARSES(xml, ParseSitemap(UrlSet(Numbered(3)), limits));
  EXPECT_EQ(xml.urls.size(), 3u);
  EXPECT_FALSE(xml.truncated);
  ASSERT_PARSES(text, ParseSitemap("a\nb\nc\n\n", limits));
  EXPECT_EQ(text.urls.size(), 3u);
  EXPECT_FALSE(text.truncated);
}

TEST(ParseSitemap, StopsAtMaxUrlsBeforeLaterErrors) {
  // Parsing stops at the limit, so what comes after it is never read.
  SitemapLimits limits;
  limits.max_urls = 1;
  ASSERT_PARSES(sitemap, ParseSitemap("<urlset><url><loc>http://a/</loc></url><url><loc>http://b/</loc></url>"
                                      "<oops></urlset>", limits));
  EXPECT_EQ(sitemap.urls, (Urls{"http://a/"}));
  EXPECT_TRUE(sitemap.truncated);
}

// ---------------------------------------------------------------------------------------------------
// Hostile bytes

TEST(ParseSitemap, NeverCrashesOnRandomOrMangledBodies) {
  std::mt19937 rng(7);
  const std::string xml = UrlSet(Numbered(20));
  const std::string gzip = Gzip(xml);
  SitemapLimits limits;
  limits.max_urls = 10;
  limits.max_uncompressed_bytes = 4096;
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    switch (round % 3) {
      case 0:
        body.resize(rng() % 200);
        for (char& c : body) c = static_cast<char>(rng() & 0xFF);
        if (round % 2 == 0 && !body.empty()) body[0] = '<';
        break;
      case 1:
      case 2:
        body = round % 3 == 1 ? xml : gzip;
        for (int k = 0; k < 3; ++k) body[rng() % body.size()] = static_cast<char>(rng() & 0xFF);
        body.resize(rng() % (body.size() + 1));
        break;
    }
    Result<Sitemap> result = ParseSitemap(body, limits);
    if (result.ok()) {
      ASSERT_LE(result->urls.size(), limits.max_urls);
      size_t bytes = 0;
      for (const std::string& url : result->urls) bytes += url.size();
      ASSERT_LE(bytes, limits.max_uncompressed_bytes);
    } else {
      ASSERT_EQ(result.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace fanout
