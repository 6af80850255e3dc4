#include "warc/warc_archive.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/warc/test_exchange.h"
#include "util/http_body.h"
#include "warc/warc_reader.h"

namespace fanout {
namespace {

using test::HtmlExchange;
using test::OwnedExchange;
using test::RandomBytes;
using test::TempDir;

WarcOptions Options(const TempDir& dir) {
  WarcOptions o;
  o.prefix = dir.File("crawl");
  o.software = "fanout/0.1.0";
  o.run_id = 42;
  o.options_json = R"({"max_pages":10})";
  return o;
}

std::unique_ptr<WarcArchive> OpenArchive(WarcOptions options) {
  auto archive = WarcArchive::Open(std::move(options));
  EXPECT_OK(archive);
  return archive.ok() ? std::move(archive).value() : nullptr;
}

std::vector<WarcFileReader::Entry> ReadAll(const std::string& path, bool* torn = nullptr) {
  std::vector<WarcFileReader::Entry> out;
  auto reader = WarcFileReader::Open(path);
  EXPECT_OK(reader);
  if (!reader.ok()) return out;
  for (;;) {
    auto next = reader->Next();
    EXPECT_OK(next);
    if (!next.ok() || !next->has_value()) break;
    out.push_back(std::move(**next));
  }
  if (torn != nullptr) *torn = reader->torn();
  return out;
}

TEST(WarcArchive, WrittenExchangeReadsBackWithTheSameBytes) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange e = HtmlExchange("http://example.com/a", "<html><body>hello</body></html>");
  WarcBatch batch = archive->Prepare(e.view());
  WarcMetadata meta;
  meta.via = "http://example.com/";
  meta.hops_from_seed = 1;
  meta.fetch_seconds = 0.0125;
  meta.outlinks = {"http://example.com/b", "http://example.com/c"};
  meta.fields = {{"charset", "utf-8"}};
  archive->AddMetadata(batch, meta);
  auto location = archive->Write(std::move(batch));
  ASSERT_OK(location);
  ASSERT_OK(archive->Close());

  ASSERT_EQ(archive->files().size(), 1u);
  EXPECT_EQ(location->file, archive->files()[0]);
  EXPECT_TRUE(std::filesystem::path(location->file).is_absolute());
  EXPECT_FALSE(location->revisit);

  auto record = ReadWarcRecordAt(location->file, location->offset, location->length);
  ASSERT_OK(record);
  EXPECT_EQ(record->Field("WARC-Type"), "response");
  EXPECT_EQ(record->block, e.response_head + e.body);
  EXPECT_EQ(record->Field("WARC-Target-URI"), e.uri);
  EXPECT_EQ(record->Field("WARC-Date"), WarcDate(e.date));
  EXPECT_EQ(record->Field("WARC-IP-Address"), "127.0.0.1");
  EXPECT_EQ(record->Field("content-type"), "application/http;msgtype=response");
  EXPECT_EQ(record->Field("WARC-Block-Digest"), Sha1Digest(e.response_head + e.body));
  EXPECT_EQ(record->Field("WARC-Payload-Digest"), Sha1Digest(e.body));
  EXPECT_EQ(record->Field("WARC-Payload-Digest"), location->payload_digest);
  EXPECT_EQ(record->Field("WARC-Record-ID"), location->record_id);
  EXPECT_EQ(record->Field("WARC-Truncated"), "");

  // The whole file: warcinfo first, then request, response, metadata, each its own member.
  const auto all = ReadAll(location->file);
  ASSERT_EQ(all.size(), 4u);
  const WarcRecordRead& info = all[0].record;
  EXPECT_EQ(info.Field("WARC-Type"), "warcinfo");
  EXPECT_EQ(info.Field("WARC-Filename"), std::filesystem::path(location->file).filename().string());
  EXPECT_EQ(info.Field("Content-Type"), "application/warc-fields");
  EXPECT_NE(info.block.find("software: fanout/0.1.0\r\n"), std::string::npos);
  EXPECT_NE(info.block.find("format: WARC File Format 1.1\r\n"), std::string::npos);
  EXPECT_NE(info.block.find("run: 42\r\n"), std::string::npos);
  EXPECT_NE(info.block.find("fanout-options: {\"max_pages\":10}\r\n"), std::string::npos);
  EXPECT_NE(info.block.find("hostname: "), std::string::npos);

  const WarcRecordRead& request = all[1].record;
  EXPECT_EQ(request.Field("WARC-Type"), "request");
  EXPECT_EQ(request.block, e.request_head);
  EXPECT_EQ(request.Field("Content-Type"), "application/http;msgtype=request");
  EXPECT_EQ(request.Field("WARC-Concurrent-To"), location->record_id);
  EXPECT_EQ(request.Field("WARC-Block-Digest"), Sha1Digest(e.request_head));
  EXPECT_EQ(all[2].offset, location->offset);
  EXPECT_EQ(all[2].length, location->length);

  const WarcRecordRead& metadata = all[3].record;
  EXPECT_EQ(metadata.Field("WARC-Type"), "metadata");
  EXPECT_EQ(metadata.Field("WARC-Concurrent-To"), location->record_id);
  EXPECT_EQ(metadata.Field("WARC-Target-URI"), e.uri);
  EXPECT_EQ(metadata.block,
            "via: http://example.com/\r\nhopsFromSeed: 1\r\nfetchTimeMs: 13\r\n"
            "outlink: http://example.com/b\r\noutlink: http://example.com/c\r\ncharset: utf-8\r\n");
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].record.Field("WARC-Warcinfo-ID"), info.Field("WARC-Record-ID")) << i;
  }
  const WarcStats stats = archive->stats();
  EXPECT_EQ(stats.files, 1u);
  EXPECT_EQ(stats.records, 4u);
  EXPECT_EQ(stats.payload_bytes, e.body.size());
  EXPECT_EQ(stats.bytes_written, std::filesystem::file_size(location->file));
}

TEST(WarcArchive, FileIsNamedPrefixTimestampSerial) {
  TempDir dir;
  WarcOptions o = Options(dir);
  o.first_serial = 7;
  auto archive = OpenArchive(o);
  ASSERT_TRUE(archive);
  const std::string name = std::filesystem::path(archive->files()[0]).filename().string();
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(crawl-20\d{12}-00007\.warc\.gz)"))) << name;
}

TEST(WarcArchive, ChunkedPayloadDigestIsOfTheDechunkedEntity) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange e = HtmlExchange("http://example.com/chunked", "");
  e.response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
  e.body = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";
  auto location = archive->Write(archive->Prepare(e.view()));
  ASSERT_OK(location);
  auto record = ReadWarcRecordAt(location->file, location->offset, location->length);
  ASSERT_OK(record);
  EXPECT_EQ(record->Field("WARC-Payload-Digest"), Sha1Digest("hello, world"));
  EXPECT_EQ(record->block, e.response_head + e.body) << "the block keeps the framing as received";
  EXPECT_EQ(record->Field("WARC-Block-Digest"), Sha1Digest(e.response_head + e.body));
}

TEST(WarcArchive, ContentCodingIsKeptInThePayloadDigest) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange e = HtmlExchange("http://example.com/gz", std::string("\x1f\x8b\x08\x00 pretend gzip", 17));
  e.response_head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 17\r\n\r\n";
  auto location = archive->Write(archive->Prepare(e.view()));
  ASSERT_OK(location);
  EXPECT_EQ(location->payload_digest, Sha1Digest(e.body));
}

// The payload digest hashes the chunk data SplitChunks finds, without copying it.
TEST(ChunkedPayload, FramingVariantsAndTruncation) {
  EXPECT_TRUE(IsChunked("chunked"));
  EXPECT_TRUE(IsChunked("gzip, Chunked"));
  EXPECT_FALSE(IsChunked("chunked, gzip"));
  EXPECT_FALSE(IsChunked(""));

  auto joined = [](std::string_view body) {
    std::string out;
    for (std::string_view piece : SplitChunks(body).pieces) out += piece;
    return out;
  };
  EXPECT_EQ(joined("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n"), "abc0123456789");
  EXPECT_TRUE(SplitChunks("3\r\nabc\r\n0\r\n\r\n").complete);
  EXPECT_EQ(joined("3\nabc\n0\n\n"), "abc") << "bare LF, as curl tolerates";
  EXPECT_EQ(joined("3\r\nabc\r\n8\r\ndef"), "abcdef") << "a body cut inside a chunk keeps what came";
  EXPECT_FALSE(SplitChunks("3\r\nabc\r\n8\r\ndef").complete);
  EXPECT_TRUE(SplitChunks("3\r\nabc\r\n8\r\ndef").cut);
  EXPECT_EQ(joined("3\r\nabc\r\nzz\r\nxyz"), "abc") << "broken framing stops the entity there";
  EXPECT_FALSE(SplitChunks("3\r\nabc\r\nzz\r\nxyz").cut);
}

TEST(WarcArchive, SecondIdenticalPayloadBecomesARevisitNamingTheFirst) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange first = HtmlExchange("http://example.com/one", "<p>same page</p>");
  OwnedExchange second = HtmlExchange("http://example.com/two", "<p>same page</p>");
  second.response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Other: 1\r\n\r\n";
  auto one = archive->Write(archive->Prepare(first.view()));
  ASSERT_OK(one);
  WarcBatch batch = archive->Prepare(second.view());
  EXPECT_TRUE(batch.revisit());
  auto two = archive->Write(std::move(batch));
  ASSERT_OK(two);
  EXPECT_FALSE(one->revisit);
  EXPECT_TRUE(two->revisit);
  EXPECT_EQ(two->payload_digest, one->payload_digest);

  auto revisit = ReadWarcRecordAt(two->file, two->offset, two->length);
  ASSERT_OK(revisit);
  EXPECT_EQ(revisit->Field("WARC-Type"), "revisit");
  EXPECT_EQ(revisit->Field("WARC-Profile"), "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest");
  EXPECT_EQ(revisit->Field("WARC-Refers-To"), one->record_id);
  EXPECT_EQ(revisit->Field("WARC-Refers-To-Target-URI"), "http://example.com/one");
  EXPECT_EQ(revisit->Field("WARC-Refers-To-Date"), WarcDate(first.date));
  EXPECT_EQ(revisit->Field("WARC-Target-URI"), "http://example.com/two");
  EXPECT_EQ(revisit->Field("WARC-Payload-Digest"), Sha1Digest("<p>same page</p>"));
  EXPECT_EQ(revisit->block, second.response_head) << "a revisit holds the HTTP head only";
  EXPECT_EQ(revisit->Field("WARC-Block-Digest"), Sha1Digest(second.response_head));
  EXPECT_EQ(archive->stats().revisits, 1u);
}

TEST(WarcArchive, RememberedPayloadBecomesARevisitWithoutRecordId) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange e = HtmlExchange("http://example.com/again", "known body");
  archive->Remember(Sha1Digest("known body"), "http://example.com/before", "2026-01-01T00:00:00.000000Z");
  auto location = archive->Write(archive->Prepare(e.view()));
  ASSERT_OK(location);
  ASSERT_TRUE(location->revisit);
  auto revisit = ReadWarcRecordAt(location->file, location->offset, location->length);
  ASSERT_OK(revisit);
  EXPECT_EQ(revisit->Field("WARC-Refers-To-Target-URI"), "http://example.com/before");
  EXPECT_EQ(revisit->Field("WARC-Refers-To-Date"), "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(revisit->Field("WARC-Refers-To"), "");
}

TEST(WarcArchive, EmptyAndTruncatedPayloadsAreNeverRevisits) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  OwnedExchange empty = HtmlExchange("http://example.com/empty", "");
  ASSERT_OK(archive->Write(archive->Prepare(empty.view())));
  auto again = archive->Write(archive->Prepare(empty.view()));
  ASSERT_OK(again);
  EXPECT_FALSE(again->revisit);

  OwnedExchange cut = HtmlExchange("http://example.com/cut", "partial");
  cut.truncated = "length";
  auto first = archive->Write(archive->Prepare(cut.view()));
  auto second = archive->Write(archive->Prepare(cut.view()));
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_FALSE(second->revisit);
  auto record = ReadWarcRecordAt(second->file, second->offset, second->length);
  ASSERT_OK(record);
  EXPECT_EQ(record->Field("WARC-Truncated"), "length");
}

TEST(WarcArchive, RotationGivesFilesEachOpeningWithItsWarcinfo) {
  TempDir dir;
  WarcOptions o = Options(dir);
  o.max_size = 8000;
  auto archive = OpenArchive(o);
  ASSERT_TRUE(archive);
  // Prepare all before writing any: batches compressed for the first file land in later ones,
  // and must name those files' warcinfo records.
  std::vector<OwnedExchange> exchanges;
  for (int i = 0; i < 10; ++i) {
    exchanges.push_back(HtmlExchange("http://example.com/" + std::to_string(i), RandomBytes(3000, i)));
  }
  std::vector<WarcBatch> batches;
  for (const auto& e : exchanges) batches.push_back(archive->Prepare(e.view()));
  std::vector<WarcLocation> locations;
  for (auto& b : batches) {
    auto location = archive->Write(std::move(b));
    ASSERT_OK(location);
    locations.push_back(*location);
  }
  ASSERT_OK(archive->Close());

  const auto files = archive->files();
  ASSERT_GE(files.size(), 4u);
  EXPECT_EQ(archive->stats().files, files.size());
  std::map<std::string, std::string> warcinfo_of;
  for (size_t i = 0; i < files.size(); ++i) {
    char serial[32];
    std::snprintf(serial, sizeof serial, "-%05zu.warc.gz", i);
    EXPECT_TRUE(files[i].ends_with(serial)) << files[i];
    const auto records = ReadAll(files[i]);
    ASSERT_GE(records.size(), 3u) << "a warcinfo and at least one batch";
    EXPECT_EQ(records[0].record.Field("WARC-Type"), "warcinfo");
    EXPECT_EQ(records[0].record.Field("WARC-Filename"), std::filesystem::path(files[i]).filename().string());
    warcinfo_of[files[i]] = records[0].record.Field("WARC-Record-ID");
    for (const auto& r : records) {
      if (&r != &records[0]) {
        EXPECT_EQ(r.record.Field("WARC-Warcinfo-ID"), warcinfo_of[files[i]]);
      }
    }
    // A file passes max_size only when one batch alone does.
    if (records.size() > 3) {
      EXPECT_LE(std::filesystem::file_size(files[i]), o.max_size);
    }
  }
  for (size_t i = 0; i < locations.size(); ++i) {
    auto record = ReadWarcRecordAt(locations[i].file, locations[i].offset, locations[i].length);
    ASSERT_OK(record);
    EXPECT_EQ(record->Field("WARC-Target-URI"), exchanges[i].uri);
    EXPECT_EQ(record->block, exchanges[i].response_head + exchanges[i].body);
    EXPECT_EQ(record->Field("WARC-Warcinfo-ID"), warcinfo_of[locations[i].file]);
  }
}

TEST(WarcArchive, PrepareInParallelWritesEveryRecordWhole) {
  TempDir dir;
  WarcOptions o = Options(dir);
  o.max_size = 200000;
  auto archive = OpenArchive(o);
  ASSERT_TRUE(archive);
  constexpr int kThreads = 4, kEach = 40;
  std::vector<std::vector<std::pair<std::string, WarcLocation>>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string uri = "http://example.com/" + std::to_string(t) + "/" + std::to_string(i);
        OwnedExchange e = HtmlExchange(uri, RandomBytes(2000, t * 1000 + i));
        WarcBatch batch = archive->Prepare(e.view());
        WarcMetadata meta;
        meta.outlinks = {uri + "/x"};
        archive->AddMetadata(batch, meta);
        auto location = archive->Write(std::move(batch));
        if (location.ok()) written[t].emplace_back(uri, *location);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_OK(archive->Close());
  size_t n = 0;
  for (const auto& mine : written) {
    for (const auto& [uri, location] : mine) {
      auto record = ReadWarcRecordAt(location.file, location.offset, location.length);
      ASSERT_OK(record);
      EXPECT_EQ(record->Field("WARC-Target-URI"), uri);
      ++n;
    }
  }
  EXPECT_EQ(n, size_t{kThreads * kEach});
  size_t records = 0;
  for (const std::string& f : archive->files()) records += ReadAll(f).size();
  EXPECT_EQ(records, archive->stats().records);
  EXPECT_EQ(records, archive->files().size() + 3u * kThreads * kEach);
}

TEST(WarcArchive, OpenInAMissingDirectoryFailsNamingThePath) {
  TempDir dir;
  WarcOptions o = Options(dir);
  o.prefix = dir.File("no/such/dir/crawl");
  auto archive = WarcArchive::Open(o);
  ASSERT_FALSE(archive.ok());
  EXPECT_EQ(archive.status().code(), Status::Code::kIOError);
  EXPECT_NE(archive.status().message().find(dir.File("no/such/dir/crawl-")), std::string::npos)
      << archive.status().message();
  EXPECT_NE(archive.status().message().find("No such file or directory"), std::string::npos)
      << archive.status().message();
}

TEST(WarcArchive, WriteAfterCloseFails) {
  TempDir dir;
  auto archive = OpenArchive(Options(dir));
  ASSERT_TRUE(archive);
  ASSERT_OK(archive->Close());
  ASSERT_OK(archive->Close()) << "idempotent";
  OwnedExchange e = HtmlExchange("http://example.com/", "x");
  EXPECT_FALSE(archive->Write(archive->Prepare(e.view())).ok());
}

// A file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes write(2) fail with EFBIG part-way through a
// batch, as a full disk would. It applies to the whole process, so the archive runs in a forked child,
// which reports back through a pipe.
TEST(WarcArchive, WriteErrorLeavesNoPartialMemberAndFailsEveryLaterWrite) {
  TempDir dir;
  constexpr rlim_t kLimit = 50000;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipe_fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{kLimit, kLimit};
    setrlimit(RLIMIT_FSIZE, &limit);
    std::string report;
    auto archive = WarcArchive::Open(Options(dir));
    if (!archive.ok()) {
      report = "open failed: " + archive.status().ToString();
    } else {
      int written = 0;
      Status first_error;
      for (int i = 0; i < 100 && first_error.ok(); ++i) {
        OwnedExchange e = HtmlExchange("http://example.com/" + std::to_string(i), RandomBytes(7000, i));
        auto location = (*archive)->Write((*archive)->Prepare(e.view()));
        if (location.ok()) {
          ++written;
        } else {
          first_error = location.status();
        }
      }
      OwnedExchange later = HtmlExchange("http://example.com/small", "tiny");
      auto after = (*archive)->Write((*archive)->Prepare(later.view()));
      report = std::to_string(written) + "\n" + first_error.message() + "\n" +
               (after.ok() ? std::string("later write succeeded") : after.status().message()) + "\n" +
               (*archive)->files()[0] + "\n" + ((*archive)->Close().ok() ? "close ok" : "close failed") + "\n";
    }
    (void)!write(pipe_fds[1], report.data(), report.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string report;
  char buf[1024];
  for (ssize_t n; (n = read(pipe_fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  std::vector<std::string> lines;
  for (size_t pos = 0, eol; (eol = report.find('\n', pos)) != std::string::npos; pos = eol + 1) {
    lines.push_back(report.substr(pos, eol - pos));
  }
  ASSERT_EQ(lines.size(), 5u) << report;
  const int written = std::stoi(lines[0]);
  const std::string file = lines[3];
  EXPECT_GT(written, 0);
  EXPECT_EQ(lines[1], "archive " + file + ": File too large");
  EXPECT_EQ(lines[2], lines[1]) << "the archive stays failed";
  EXPECT_EQ(lines[4], "close failed");

  bool torn = true;
  const auto records = ReadAll(file, &torn);
  EXPECT_FALSE(torn) << "the failed batch was cut off whole";
  EXPECT_EQ(records.size(), 1u + 2u * written);
  EXPECT_LE(std::filesystem::file_size(file), kLimit);
  const auto& last = records.back();
  EXPECT_EQ(last.offset + last.length, std::filesystem::file_size(file));
}

TEST(NextWarcSerial, IsOnePastTheHighestSerialOfThePrefix) {
  TempDir dir;
  const std::string prefix = dir.File("crawl");
  EXPECT_EQ(NextWarcSerial(prefix), 0);
  for (const char* name : {"crawl-20261202061000-00003.warc.gz", "crawl-20261202061500-00011.warc.gz",
                           "other-20261202061000-00050.warc.gz", "crawl-2026-00070.warc.gz",
                           "crawl-20261202061000-00090.warc", "crawl-x-20261202061000-00080.warc.gz"}) {
    std::ofstream(dir.File(name)) << "x";
  }
  EXPECT_EQ(NextWarcSerial(prefix), 12);
}

TEST(NextWarcSerial, ResumedArchiveContinuesAfterTheLastFile) {
  TempDir dir;
  WarcOptions o = Options(dir);
  o.first_serial = 4;
  ASSERT_TRUE(OpenArchive(o));
  o.first_serial = NextWarcSerial(o.prefix);
  EXPECT_EQ(o.first_serial, 5);
  auto resumed = OpenArchive(o);
  ASSERT_TRUE(resumed);
  EXPECT_NE(resumed->files()[0].find("-00005.warc.gz"), std::string::npos);
}

}  // namespace
}  // namespace fanout
