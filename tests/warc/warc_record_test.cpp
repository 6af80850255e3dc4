#include "warc/warc_record.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <regex>
#include <set>
#include <thread>

#include "warc/gzip_member.h"

namespace fanout {
namespace {

// Inflates every gzip member of `gz` in turn, as zcat would.
std::string Gunzip(const std::string& gz) {
  std::string out;
  size_t pos = 0;
  while (pos < gz.size()) {
    z_stream zs{};
    EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + pos));
    zs.avail_in = static_cast<uInt>(gz.size() - pos);
    char buf[4096];
    int ret;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      ret = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (ret == Z_OK);
    EXPECT_EQ(ret, Z_STREAM_END);
    pos += zs.total_in;
    inflateEnd(&zs);
    if (ret != Z_STREAM_END) break;
  }
  return out;
}

TEST(Sha1Digest, OfAbcIsTheKnownBase32) {
  EXPECT_EQ(Sha1Digest("abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
  EXPECT_EQ(Sha1Digest(""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
}

TEST(Sha1, InPiecesEqualsInOneAndStartsOverAfterFinish) {
  Sha1 sha;
  sha.Update("a");
  sha.Update("");
  sha.Update("bc");
  EXPECT_EQ(sha.Finish(), Sha1Digest("abc"));
  sha.Update("abc");
  EXPECT_EQ(sha.Finish(), Sha1Digest("abc"));
}

TEST(Base32, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base32(""), "");
  EXPECT_EQ(Base32("f"), "MY");
  EXPECT_EQ(Base32("fo"), "MZXQ");
  EXPECT_EQ(Base32("foo"), "MZXW6");
  EXPECT_EQ(Base32("foob"), "MZXW6YQ");
  EXPECT_EQ(Base32("fooba"), "MZXW6YTB");
  EXPECT_EQ(Base32("foobar"), "MZXW6YTBOI");
}

TEST(SerializeWarcRecord, WritesVersionFieldsLengthBlockAndTrailer) {
  WarcRecord record{{{"WARC-Type", "resource"}, {"WARC-Target-URI", "http://a/"}}, "hello"};
  EXPECT_EQ(SerializeWarcRecord(record),
            "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Target-URI: http://a/\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n");
  EXPECT_EQ(SerializeWarcRecord(WarcRecord{{{"WARC-Type", "warcinfo"}}, ""}),
            "WARC/1.1\r\nWARC-Type: warcinfo\r\nContent-Length: 0\r\n\r\n\r\n\r\n");
}

TEST(AppendWarcRecord, BlockInPiecesIsTheSameRecord) {
  std::string out = "x";
  AppendWarcRecord({{"WARC-Type", "response"}}, {"HTTP/1.1 200 OK\r\n\r\n", "body"}, out);
  EXPECT_EQ(out, "x" + SerializeWarcRecord(WarcRecord{{{"WARC-Type", "response"}}, "HTTP/1.1 200 OK\r\n\r\nbody"}));
}

TEST(NewWarcRecordId, IsAVersion4UuidUrnAndUniqueAcrossThreads) {
  const std::regex form("<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>");
  std::vector<std::vector<std::string>> ids(4);
  std::vector<std::thread> threads;
  for (auto& mine : ids) {
    threads.emplace_back([&mine] {
      for (int i = 0; i < 2000; ++i) mine.push_back(NewWarcRecordId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& mine : ids) {
    for (const std::string& id : mine) {
      ASSERT_TRUE(std::regex_match(id, form)) << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), 8000u);
}

TEST(WarcDate, IsUtcWithMicroseconds) {
  using namespace std::chrono;
  const sys_days day = year{2026} / December / 2;
  const auto t = day + hours{6} + minutes{7} + seconds{10} + microseconds{123456};
  EXPECT_EQ(WarcDate(t), "2026-12-02T06:07:10.123456Z");
  EXPECT_EQ(WarcDate(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(WarcDate(system_clock::time_point{} - microseconds{1}), "1969-12-31T23:59:59.999999Z");
}

TEST(GzipMemberWriter, EachAppendIsAMemberThatZlibInflates) {
  for (int level : {1, 6, 9}) {
    GzipMemberWriter writer(level);
    std::string text(30000, 'a');
    for (size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
    std::string gz;
    writer.Append(text, gz);
    const size_t first = gz.size();
    EXPECT_LT(first, text.size() / 4) << "level " << level;
    writer.Append("second", gz);  // the compressor is reused, the members stay independent
    writer.Append("", gz);
    EXPECT_EQ(Gunzip(gz), text + "second");
    EXPECT_EQ(Gunzip(gz.substr(first)), "second");
  }
}

}  // namespace
}  // namespace fanout
