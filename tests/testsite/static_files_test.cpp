#include "testsite/static_files.h"

#include <gtest/gtest.h>

namespace fanout::testsite {
namespace {

TEST(ContentTypeFor, KnowsTheCommonTypesByExtension) {
  EXPECT_EQ(ContentTypeFor("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("STYLE.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("files/hours.pdf"), "application/pdf");
  EXPECT_EQ(ContentTypeFor("img/a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(ContentTypeFor("no-extension"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("dir.d/file"), "application/octet-stream");
}

TEST(PercentDecode, DecodesAndRejectsBadEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("/%2e%2E/a%20b", out));
  EXPECT_EQ(out, "/../a b");
  EXPECT_FALSE(PercentDecode("/a%2", out));
  EXPECT_FALSE(PercentDecode("/a%zz", out));
  EXPECT_FALSE(PercentDecode("/a%00b", out));  // NUL would truncate the path
}

}  // namespace
}  // namespace fanout::testsite
