#include "warc/cdxj.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/warc/test_exchange.h"
#include "warc/warc_archive.h"

namespace fanout {
namespace {

using test::HtmlExchange;
using test::OwnedExchange;

TEST(SurtKey, FollowsPywbRules) {
  EXPECT_EQ(SurtKey("http://www.Example.com:80/a?b=1"), "com,example)/a?b=1");
  EXPECT_EQ(SurtKey("http://www.archive.org/"), "org,archive)/");
  EXPECT_EQ(SurtKey("http://archive.org/"), "org,archive)/");
  EXPECT_EQ(SurtKey("http://archive.org"), "org,archive)/");
  EXPECT_EQ(SurtKey("http://archive.org/goo/"), "org,archive)/goo");
  EXPECT_EQ(SurtKey("http://archive.org/goo/?"), "org,archive)/goo");
  EXPECT_EQ(SurtKey("http://archive.org/goo/?b&a"), "org,archive)/goo?a&b");
  EXPECT_EQ(SurtKey("http://archive.org/goo/?a=2&b&a=1"), "org,archive)/goo?a=1&a=2&b");
  EXPECT_EQ(SurtKey("https://www.example.com:443/Path/Page.HTML#top"), "com,example)/path/page.html");
  EXPECT_EQ(SurtKey("http://example.com:8080/"), "com,example:8080)/");
  EXPECT_EQ(SurtKey("https://example.com:80/"), "com,example:80)/");
  EXPECT_EQ(SurtKey("http://www12.foo.com/"), "com,foo)/");
  EXPECT_EQ(SurtKey("http://www2foo.com/"), "com,www2foo)/");
  EXPECT_EQ(SurtKey("http://user:pass@example.com/x"), "com,example)/x");
  EXPECT_EQ(SurtKey("http://host.com//twoslashes?more//slashes"), "com,host)/twoslashes?more//slashes");
  EXPECT_EQ(SurtKey("http://example.com/a/./b/../c"), "com,example)/a/c");
  EXPECT_EQ(SurtKey("http://example.com/%7Euser/a%20b"), "com,example)/~user/a%20b");
  EXPECT_EQ(SurtKey("http://example.com/foo?X=Y"), "com,example)/foo?x=y");
  EXPECT_EQ(SurtKey("http://127.0.0.1:8000/"), "1,0,0,127:8000)/");
  EXPECT_EQ(SurtKey("dns:archive.org"), "dns:archive.org");
  EXPECT_EQ(SurtKey(
                "http://visit.webhosting.yahoo.com/visit.gif?&r=http%3A//web.archive.org/web/20090517140029/"
                "http%3A//anthonystewarthead.electric-chi.com/&b=Netscape%205.0%20%28Windows%3B%20en-US%29&s=1366x768"
                "&o=Win32&c=24&j=true&v=1.2"),
            "com,yahoo,webhosting,visit)/visit.gif?&b=netscape%205.0%20(windows;%20en-us)&c=24&j=true&o=win32&"
            "r=http://web.archive.org/web/20090517140029/http://anthonystewarthead.electric-chi.com/&s=1366x768&v=1.2");
}

TEST(WriteCdxj, OneSortedLinePerResponseAndRevisit) {
  test::TempDir dir;
  WarcOptions o;
  o.prefix = dir.File("crawl");
  o.max_size = 1500;  // two files: the index spans them
  auto archive = WarcArchive::Open(o);
  ASSERT_OK(archive);
  OwnedExchange z = HtmlExchange("http://www.example.com/z", "<p>z page</p>");
  OwnedExchange a = HtmlExchange("http://example.com/a", "<p>a page</p>", "text/plain");
  OwnedExchange copy = HtmlExchange("http://example.com/copy", "<p>a page</p>");
  copy.response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
  std::vector<WarcLocation> written;
  for (const OwnedExchange* e : {&z, &a, &copy}) {
    WarcBatch batch = (*archive)->Prepare(e->view());
    (*archive)->AddMetadata(batch, WarcMetadata{});  // metadata records are not indexed
    auto location = (*archive)->Write(std::move(batch));
    ASSERT_OK(location);
    written.push_back(*location);
  }
  ASSERT_OK((*archive)->Close());
  const auto files = (*archive)->files();
  ASSERT_GE(files.size(), 2u);

  std::ostringstream out;
  auto count = WriteCdxj(files, out);
  ASSERT_OK(count);
  EXPECT_EQ(*count, 3u);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end()));
  EXPECT_TRUE(lines[0].starts_with("com,example)/a ")) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("com,example)/copy ")) << lines[1];
  EXPECT_TRUE(lines[2].starts_with("com,example)/z ")) << lines[2];

  auto json_of = [](const std::string& line) {
    const size_t first = line.find(' ');
    const size_t second = line.find(' ', first + 1);
    EXPECT_EQ(second - first - 1, 14u) << "a 14-digit timestamp: " << line;
    return nlohmann::json::parse(line.substr(second + 1));
  };
  const auto ja = json_of(lines[0]);
  EXPECT_EQ(ja["url"], "http://example.com/a");
  EXPECT_EQ(ja["mime"], "text/plain");
  EXPECT_EQ(ja["status"], "200");
  EXPECT_EQ(ja["digest"], Sha1Digest("<p>a page</p>"));
  EXPECT_EQ(ja["offset"], std::to_string(written[1].offset));
  EXPECT_EQ(ja["length"], std::to_string(written[1].length));
  EXPECT_EQ(ja["filename"], std::filesystem::path(written[1].file).filename().string());

  const auto jcopy = json_of(lines[1]);
  EXPECT_EQ(jcopy["mime"], "warc/revisit");
  EXPECT_EQ(jcopy["digest"], Sha1Digest("<p>a page</p>"));
  EXPECT_EQ(jcopy["offset"], std::to_string(written[2].offset));

  const auto jz = json_of(lines[2]);
  EXPECT_EQ(jz["mime"], "text/html") << "parameters are dropped";
  EXPECT_EQ(jz["url"], "http://www.example.com/z");
  EXPECT_EQ(lines[2].substr(lines[2].find(' ') + 1, 14), [&] {
    std::string ts;
    for (char c : WarcDate(z.date)) if (isdigit(static_cast<unsigned char>(c)) && ts.size() < 14) ts += c;
    return ts;
  }());
}

TEST(WriteCdxj, FailsOnAMissingFile) {
  std::ostringstream out;
  EXPECT_FALSE(WriteCdxj({"/nonexistent/x.warc.gz"}, out).ok());
}

}  // namespace
}  // namespace fanout
