#include "warc/warc_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/warc/test_exchange.h"
#include "warc/gzip_member.h"

namespace fanout {
namespace {

using test::HtmlExchange;
using test::OwnedExchange;
using test::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// An archive of `n` exchanges, closed; returns the response locations.
std::vector<WarcLocation> WriteArchive(const TempDir& dir, int n) {
  WarcOptions o;
  o.prefix = dir.File("crawl");
  auto archive = WarcArchive::Open(o);
  EXPECT_OK(archive);
  std::vector<WarcLocation> out;
  if (!archive.ok()) return out;
  for (int i = 0; i < n; ++i) {
    OwnedExchange e = HtmlExchange("http://example.com/" + std::to_string(i), test::RandomBytes(1500, i));
    auto location = (*archive)->Write((*archive)->Prepare(e.view()));
    EXPECT_OK(location);
    if (location.ok()) out.push_back(*location);
  }
  EXPECT_OK((*archive)->Close());
  return out;
}

struct Walk {
  std::vector<WarcFileReader::Entry> entries;
  Status error;
  bool torn = false;
};

Walk WalkFile(const std::string& path) {
  Walk walk;
  auto reader = WarcFileReader::Open(path);
  if (!reader.ok()) {
    walk.error = reader.status();
    return walk;
  }
  for (;;) {
    auto next = reader->Next();
    if (!next.ok()) {
      walk.error = next.status();
      break;
    }
    if (!next->has_value()) break;
    walk.entries.push_back(std::move(**next));
  }
  walk.torn = reader->torn();
  return walk;
}

TEST(ParseWarcRecord, ReadsWhatSerializeWrote) {
  WarcRecord record{{{"WARC-Type", "resource"}, {"WARC-Target-URI", "http://a/"}}, std::string("bin\0ary\r\n\r\n", 11)};
  auto parsed = ParseWarcRecord(SerializeWarcRecord(record));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->block, record.block);
  EXPECT_EQ(parsed->Field("warc-type"), "resource");
  EXPECT_EQ(parsed->Field("Content-Length"), "11");
  EXPECT_EQ(parsed->Field("WARC-Missing"), "");
}

TEST(ParseWarcRecord, RejectsWhatIsNotARecord) {
  EXPECT_FALSE(ParseWarcRecord("HTTP/1.1 200 OK\r\n\r\n").ok());
  EXPECT_FALSE(ParseWarcRecord("WARC/1.1\r\nWARC-Type: x\r\n\r\n\r\n\r\n").ok()) << "no Content-Length";
  EXPECT_FALSE(ParseWarcRecord("WARC/1.1\r\nContent-Length: 10\r\n\r\nshort\r\n\r\n").ok());
  EXPECT_FALSE(ParseWarcRecord("WARC/1.1\r\nContent-Length: 2\r\n\r\nabcd").ok()) << "no CRLF CRLF after the block";
}

TEST(WarcFileReader, WalksEveryMemberWithItsPlace) {
  TempDir dir;
  const auto locations = WriteArchive(dir, 3);
  ASSERT_EQ(locations.size(), 3u);
  Walk walk = WalkFile(locations[0].file);
  ASSERT_OK(walk.error);
  EXPECT_FALSE(walk.torn);
  ASSERT_EQ(walk.entries.size(), 7u);  // warcinfo + 3 x (request, response)
  EXPECT_EQ(walk.entries[0].offset, 0u);
  for (size_t i = 1; i < walk.entries.size(); ++i) {
    EXPECT_EQ(walk.entries[i].offset, walk.entries[i - 1].offset + walk.entries[i - 1].length);
  }
  for (int i = 0; i < 3; ++i) {
    const auto& e = walk.entries[2 + 2 * i];
    EXPECT_EQ(e.offset, locations[i].offset);
    EXPECT_EQ(e.length, locations[i].length);
    EXPECT_EQ(e.record.Field("WARC-Record-ID"), locations[i].record_id);
  }
}

TEST(WarcFileReader, FileCutInItsLastMemberReadsEveryWholeRecordAndIsTorn) {
  TempDir dir;
  const auto locations = WriteArchive(dir, 4);
  ASSERT_EQ(locations.size(), 4u);
  const WarcLocation& last = locations.back();
  const std::string cut = dir.File("cut.warc.gz");
  WriteFile(cut, ReadFile(last.file).substr(0, last.offset + last.length / 2));

  Walk walk = WalkFile(cut);
  ASSERT_OK(walk.error);
  EXPECT_TRUE(walk.torn);
  ASSERT_EQ(walk.entries.size(), 1u + 2 * 3 + 1);  // the last request is whole, its response is not
  EXPECT_EQ(walk.entries.back().record.Field("WARC-Type"), "request");

  // Cut just one byte short, or right after the gzip header: still a torn tail, not an error.
  for (uint64_t keep : {last.offset + last.length - 1, last.offset + 10}) {
    WriteFile(cut, ReadFile(last.file).substr(0, keep));
    Walk w = WalkFile(cut);
    EXPECT_OK(w.error);
    EXPECT_TRUE(w.torn);
    EXPECT_EQ(w.entries.size(), 8u);
  }
}

TEST(WarcFileReader, CorruptMemberInTheMiddleIsAnError) {
  TempDir dir;
  const auto locations = WriteArchive(dir, 3);
  ASSERT_EQ(locations.size(), 3u);
  std::string bytes = ReadFile(locations[0].file);
  const WarcLocation& middle = locations[1];
  bytes[middle.offset + middle.length - 8] ^= 0x5a;  // its CRC-32: the data no longer checks
  const std::string bad = dir.File("bad.warc.gz");
  WriteFile(bad, bytes);
  Walk walk = WalkFile(bad);
  EXPECT_FALSE(walk.error.ok());
  EXPECT_EQ(walk.error.code(), Status::Code::kCorruption);
  EXPECT_NE(walk.error.message().find(bad), std::string::npos) << walk.error.message();
  EXPECT_EQ(walk.entries.size(), 4u) << "the records before it were read";
  EXPECT_FALSE(ReadWarcRecordAt(bad, middle.offset, middle.length).ok());
}

TEST(WarcFileReader, EmptyFileHasNoRecordsAndIsNotTorn) {
  TempDir dir;
  WriteFile(dir.File("empty.warc.gz"), "");
  Walk walk = WalkFile(dir.File("empty.warc.gz"));
  EXPECT_OK(walk.error);
  EXPECT_TRUE(walk.entries.empty());
  EXPECT_FALSE(walk.torn);
  EXPECT_FALSE(WarcFileReader::Open(dir.File("missing.warc.gz")).ok());
}

TEST(ReadWarcRecordAt, RangeThatIsNotOneMemberIsCorruption) {
  TempDir dir;
  const auto locations = WriteArchive(dir, 2);
  ASSERT_EQ(locations.size(), 2u);
  const WarcLocation& l = locations[0];
  EXPECT_OK(ReadWarcRecordAt(l.file, l.offset, l.length));
  auto shorter = ReadWarcRecordAt(l.file, l.offset, l.length - 1);
  EXPECT_EQ(shorter.status().code(), Status::Code::kCorruption);
  auto longer = ReadWarcRecordAt(l.file, l.offset, l.length + 1);
  EXPECT_EQ(longer.status().code(), Status::Code::kCorruption);
  auto off = ReadWarcRecordAt(l.file, l.offset + 1, l.length);
  EXPECT_EQ(off.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ReadWarcRecordAt(dir.File("missing"), 0, 10).status().code(), Status::Code::kIOError);
}

TEST(ReadWarcRecordAt, MemberThatIsNotARecordIsCorruption) {
  TempDir dir;
  std::string gz;
  GzipMemberWriter(6).Append("not a warc record", gz);
  WriteFile(dir.File("x.gz"), gz);
  EXPECT_EQ(ReadWarcRecordAt(dir.File("x.gz"), 0, gz.size()).status().code(), Status::Code::kCorruption);
}

TEST(ParseHttpMessage, SplitsStartLineHeadersAndBody) {
  auto m = ParseHttpMessage("HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nX-A:  b \r\n\r\n<p>gone</p>");
  ASSERT_OK(m);
  EXPECT_EQ(m->start_line, "HTTP/1.1 404 Not Found");
  ASSERT_EQ(m->headers.size(), 2u);
  EXPECT_EQ(m->headers[1].first, "X-A");
  EXPECT_EQ(m->headers[1].second, "b");
  EXPECT_EQ(m->Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(m->Header("Missing"), "");
  EXPECT_EQ(m->body, "<p>gone</p>");

  auto head_only = ParseHttpMessage("HTTP/1.1 304 Not Modified\r\n\r\n");
  ASSERT_OK(head_only);
  EXPECT_TRUE(head_only->headers.empty());
  EXPECT_EQ(head_only->body, "");
  EXPECT_FALSE(ParseHttpMessage("HTTP/1.1 200 OK\r\nContent-Type: x\r\n").ok()) << "head never ends";
}

}  // namespace
}  // namespace fanout
