#include "testsite/content_encoder.h"

#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"
#include "util/http_body.h"

namespace fanout::testsite {
namespace {

TEST(AcceptsCoding, ReadsNamesWeightsAndTheWildcard) {
  EXPECT_TRUE(AcceptsCoding("gzip, deflate, br", "br"));
  EXPECT_TRUE(AcceptsCoding("GZIP", "gzip"));
  EXPECT_TRUE(AcceptsCoding("zstd;q=0.5, gzip;q=1.0", "zstd"));
  EXPECT_FALSE(AcceptsCoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(AcceptsCoding("gzip; q=0.000", "gzip"));
  EXPECT_FALSE(AcceptsCoding("gzip, deflate", "br"));
  EXPECT_FALSE(AcceptsCoding("", "gzip"));
  EXPECT_FALSE(AcceptsCoding("identity", "gzip"));
  EXPECT_TRUE(AcceptsCoding("*", "zstd"));
  EXPECT_FALSE(AcceptsCoding("*, zstd;q=0", "zstd"));  // the coding named outright wins over "*"
  EXPECT_FALSE(AcceptsCoding("*;q=0", "br"));
}

TEST(EncodeContent, IsDeterministicAndDecodesBack) {
  std::string page;
  for (int i = 0; i < 2000; ++i) page += "<p>paragraph " + std::to_string(i) + "</p>\n";
  for (const char* coding : {"gzip", "deflate", "br", "zstd"}) {
    const std::string once = EncodeContent(coding, page);
    EXPECT_EQ(EncodeContent(coding, page), once) << coding;
    EXPECT_LT(once.size(), page.size() / 4) << coding;
    Result<DecodedBody> back = DecodeContent(coding, once, page.size(), false);
    ASSERT_OK(back) << coding;
    EXPECT_EQ(back->bytes, page) << coding;
  }
  // deflate is zlib-wrapped (RFC 9110), gzip carries no time stamp (bytes 4..7).
  EXPECT_EQ(static_cast<unsigned char>(EncodeContent("deflate", page)[0]), 0x78);
  EXPECT_EQ(EncodeContent("gzip", page).substr(4, 4), std::string(4, '\0'));
}

TEST(ContentEncoder, CachesByKeyAndNoticesAChangedBody) {
  ContentEncoder encoder(2);
  const std::string& a = encoder.Encode("/a", "gzip", "first body");
  EXPECT_EQ(a, EncodeContent("gzip", "first body"));
  EXPECT_EQ(&encoder.Encode("/a", "gzip", "first body"), &a);  // the cached bytes themselves
  EXPECT_EQ(encoder.Encode("/a", "gzip", "second body"), EncodeContent("gzip", "second body"));
  EXPECT_EQ(encoder.Encode("/a", "br", "second body"), EncodeContent("br", "second body"));
  encoder.Encode("/b", "gzip", "b");
  encoder.Encode("/c", "gzip", "c");  // over capacity: the least recently used goes
  EXPECT_EQ(encoder.Encode("/a", "gzip", "second body"), EncodeContent("gzip", "second body"));
}

}  // namespace
}  // namespace fanout::testsite
