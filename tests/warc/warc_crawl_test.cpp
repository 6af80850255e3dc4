// What `fanout crawl --warc` archives, judged by a real WARC reader (webrecorder's warcio, run by
// node: tests/warc/js) and by the server's request log: one response (or revisit) record for every
// answer the server sent, each with its request record, digests that verify, payloads that are the
// bytes the server sent, an index in the database that points at each page's record, and `fanout
// cat` giving back what was served.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/sqlite.h"
#include "tests/support/fanout_binary.h"
#include "tests/support/http_client.h"
#include "tests/support/lines.h"
#include "tests/support/poll.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"
#include "util/http_body.h"
#include "warc/warc_reader.h"
#include "warc/warc_record.h"

namespace fanout {
namespace {

using test::Fanout;
using test::LineCount;

using nlohmann::json;

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The path of a program on PATH (the subprocess helper runs paths, not names).
std::string Which(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  ADD_FAILURE() << program << " is not on PATH";
  return program;
}

// The archive files a prefix names, in the order written (their names sort by time, then serial).
std::vector<std::string> ArchiveFiles(const std::string& prefix) {
  std::vector<std::string> files;
  const std::filesystem::path p(prefix);
  for (const auto& entry : std::filesystem::directory_iterator(p.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(p.filename().string() + "-", 0) == 0 && name.ends_with(".warc.gz")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every record of `files` as warcio reads it: one JSON object per record (tests/warc/js/warc_records.mjs).
std::vector<json> WarcioRecords(const std::vector<std::string>& files, bool* torn = nullptr) {
  // Installed by scripts/warcio.sh (scripts/test.sh runs it before ctest).
  EXPECT_TRUE(std::filesystem::exists(FANOUT_WARCIO_SCRIPT)) << "no warcio: run scripts/warcio.sh " << FANOUT_WARCIO_SCRIPT;
  std::vector<std::string> args = {Which("node"), FANOUT_WARCIO_SCRIPT};
  args.insert(args.end(), files.begin(), files.end());
  test::ProcessResult r = test::RunProcess(args, 60000);
  std::vector<json> records;
  std::istringstream lines(r.out);
  bool saw_torn = false;
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.value("torn", false)) {
      saw_torn = true;
      continue;
    }
    records.push_back(std::move(j));
  }
  if (torn != nullptr) {
    *torn = saw_torn;
  } else {
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  return records;
}

std::string Text(const json& j, const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; }

class WarcCrawlTest : public ::testing::Test {
 protected:
  void Serve(testsite::ServerOptions o) {
    o.log_file = dir_.File("requests.jsonl");
    auto server = testsite::SiteServer::Create(o);
    ASSERT_OK(server);
    server_ = std::move(server.value());
    server_->Start();
  }

  // The sample site, with the faults a real site has: a redirect, a 404 (a broken link of its own),
  // bodies in each content coding, chunked bodies, and non-HTML files.
  void ServeSampleSite() {
    testsite::ServerOptions o;
    o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
    for (const char* rule : {"redirect:301:/news/index.html@/old-news.html", "encoding:gzip@/about.html",
                             "encoding:br@/news/", "encoding:zstd:chunked@/events/",
                             "encoding:deflate@/help/faq.html", "chunked@/contact.html", "encoding:gzip@/style.css"}) {
      auto fault = testsite::ParseFaultRule(rule);
      ASSERT_OK(fault) << rule;
      o.faults.push_back(*fault);
    }
    Serve(o);
  }

  // What the server answered (status > 0), as "http://HOST/TARGET", once per answer.
  std::multiset<std::string> Answered() {
    std::multiset<std::string> urls;
    std::ifstream in(dir_.File("requests.jsonl"));
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("status", 0) > 0) urls.insert("http://" + Text(j, "host") + Text(j, "target"));
    }
    return urls;
  }

  std::string Url(const std::string& path) const { return server_->url() + path; }
  std::string db() const { return dir_.File("site.db"); }
  std::string prefix() const { return dir_.File("site"); }

  test::TempDir dir_;
  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_F(WarcCrawlTest, WarcioReadsOneResponseRecordPerAnswerWithItsRequestAndDigestsThatVerify) {
  ServeSampleSite();
  test::ProcessResult crawl = Fanout({"crawl", server_->url(), "--db", db(), "--quiet", "--warc", prefix()});
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  const std::vector<std::string> files = ArchiveFiles(prefix());
  ASSERT_EQ(files.size(), 1u);
  const std::vector<json> records = WarcioRecords(files);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(Text(records.front(), "type"), "warcinfo");

  std::multiset<std::string> archived;
  std::map<std::string, json> responses;  // record id -> record
  std::map<std::string, int> requests_for;  // response id -> request records naming it
  for (const json& r : records) {
    const std::string type = Text(r, "type");
    EXPECT_TRUE(r.value("block_digest_ok", false) || type == "warcinfo") << r.dump();
    if (type == "response" || type == "revisit") {
      archived.insert(Text(r, "target_uri"));
      responses[Text(r, "record_id")] = r;
    }
    if (type == "response") {
      EXPECT_TRUE(r.value("payload_digest_ok", false)) << r.dump();
      // Of the entity, chunked framing removed, as WARC 1.1 defines it (wget hashes the framing too).
      EXPECT_EQ(Text(r, "payload_digest_of"), "entity") << r.dump();
    }
    if (type == "request" && r.contains("concurrent_to")) {
      for (const json& to : r["concurrent_to"]) ++requests_for[to.get<std::string>()];
    }
  }
  // Exactly one record per answer the server logged: robots.txt, the 301, the 404, every page and file.
  EXPECT_EQ(archived, Answered());
  EXPECT_EQ(archived.count(Url("robots.txt")), 1u);
  EXPECT_EQ(archived.count(Url("old-news.html")), 1u);
  EXPECT_EQ(archived.count(Url("catalogue/missing-book.html")), 1u);
  for (const auto& [id, r] : responses) EXPECT_EQ(requests_for[id], 1) << Text(r, "target_uri");

  // search.html, ?q=tide and ?q=tide&page=2 are one file: one copy and two revisits naming it.
  int revisits = 0;
  for (const auto& [id, r] : responses) {
    if (Text(r, "type") != "revisit") continue;
    ++revisits;
    const std::string original = Text(r, "refers_to_target_uri");
    bool found = false;
    for (const auto& [other_id, o] : responses) {
      if (Text(o, "type") == "response" && Text(o, "target_uri") == original) {
        found = true;
        EXPECT_EQ(Text(o, "payload_sha1"), Text(r, "payload_digest")) << original;
      }
    }
    EXPECT_TRUE(found) << "a revisit of " << original << ", which has no response record";
  }
  EXPECT_GE(revisits, 2);

  // A metadata record per page, about its response, with the page's outlinks.
  std::map<std::string, std::string> metadata_of;  // target URI -> the record it is about
  for (const json& r : records) {
    if (Text(r, "type") != "metadata") continue;
    ASSERT_EQ(r["concurrent_to"].size(), 1u) << r.dump();
    const std::string about = r["concurrent_to"][0].get<std::string>();
    ASSERT_TRUE(responses.count(about)) << r.dump();
    EXPECT_EQ(Text(responses[about], "target_uri"), Text(r, "target_uri"));
    metadata_of[Text(r, "target_uri")] = about;
  }
  EXPECT_EQ(static_cast<int64_t>(metadata_of.size()), test::QueryInt(db(), "SELECT count(*) FROM pages WHERE status > 0"));

  // Each payload is the bytes the server sends for that request: its content coding kept.
  for (const auto& [id, r] : responses) {
    if (Text(r, "type") != "response") continue;
    test::HttpRequest again{.url = Text(r, "target_uri")};
    again.headers = {std::string("Accept-Encoding: ") + kAcceptEncoding};
    test::HttpResponse sent = test::HttpGet(again);
    EXPECT_EQ(Sha1Digest(sent.body), Text(r, "payload_sha1")) << Text(r, "target_uri");
    EXPECT_EQ(sent.status, r.value("http_status", 0)) << Text(r, "target_uri");
  }
}

// GNU Wget archives the same site (wget --recursive --warc-file, as a user would): the two archives
// hold the same set of responses, robots.txt included.
TEST_F(WarcCrawlTest, WgetArchivesTheSameResponsesAsFanout) {
  ServeSampleSite();
  // One request at a time, as wget makes them.
  ASSERT_EQ(Fanout({"crawl", server_->url(), "--db", db(), "--quiet", "--mode", "sync", "--warc", prefix()}).exit_code, 0);
  test::ProcessResult wget = test::RunProcess(
      {Which("wget"), "--recursive", "--level=inf", "--no-verbose", "--tries=1", "--timeout=10", "--delete-after",
       "--directory-prefix=" + dir_.File("wget-files"), "--warc-file=" + dir_.File("wget"), server_->url()},
      120000);
  ASSERT_EQ(wget.exit_code, 8) << wget.err;  // 8: "the server issued an error response", the site's 404
  auto responses = [](const std::vector<json>& records) {
    std::set<std::string> uris;
    for (const json& r : records) {
      if (Text(r, "type") == "response" || Text(r, "type") == "revisit") uris.insert(Text(r, "target_uri"));
    }
    return uris;
  };
  const std::set<std::string> ours = responses(WarcioRecords(ArchiveFiles(prefix())));
  const std::set<std::string> theirs = responses(WarcioRecords({dir_.File("wget.warc.gz")}));
  std::vector<std::string> only_ours, only_theirs;
  std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(only_ours));
  std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(), std::back_inserter(only_theirs));
  EXPECT_TRUE(theirs.count(Url("robots.txt")) == 1 && ours.count(Url("robots.txt")) == 1);
  EXPECT_EQ(only_ours, std::vector<std::string>{}) << "archived by fanout, not by wget";
  EXPECT_EQ(only_theirs, std::vector<std::string>{}) << "archived by wget, not by fanout";
  EXPECT_GT(ours.size(), 30u);
}

TEST_F(WarcCrawlTest, CatGivesBackEveryPageAsServedAndRawGivesARecordWarcioReads) {
  ServeSampleSite();
  ASSERT_EQ(Fanout({"crawl", server_->url(), "--db", db(), "--quiet", "--warc", prefix()}).exit_code, 0);
  const std::string root = std::string(FANOUT_SOURCE_DIR) + "/samples/site/";
  int checked = 0;
  Result<SqliteDb> conn = SqliteDb::OpenReadOnly(db());
  ASSERT_OK(conn);
  Result<SqliteStmt> pages = conn->Prepare("SELECT url, coalesce(final_url, url), warc_file IS NOT NULL FROM pages WHERE status = 200");
  ASSERT_OK(pages);
  while (*pages->Step()) {
    const std::string url = pages->ColumnText(0);
    EXPECT_EQ(pages->ColumnInt(2), 1) << url << " has no archive record";
    std::string path = pages->ColumnText(1).substr(server_->url().size());  // what was served, after redirects
    path = path.substr(0, path.find('?'));
    if (path.empty() || path.back() == '/') path += "index.html";
    test::ProcessResult cat = Fanout({"cat", url, "--db", db()});
    ASSERT_EQ(cat.exit_code, 0) << url << ": " << cat.err;
    EXPECT_EQ(cat.out, Contents(root + path)) << url;
    ++checked;
  }
  EXPECT_GT(checked, 20);
  // The crawl parsed them decoded, whatever their coding: every HTML page has its title.
  EXPECT_EQ(test::QueryInt(db(), "SELECT count(*) FROM pages WHERE status = 200 AND content_type LIKE 'text/html%' "
                                 "AND (title IS NULL OR error_kind IS NOT NULL)"),
            0);
  EXPECT_EQ(test::QueryInt(db(), "SELECT count(*) FROM pages WHERE title = 'Events — Harbor Town Library'"), 1);
  // The encoded ones were archived encoded: the archive holds what came, cat decodes it.
  for (const char* path : {"about.html", "news/", "events/", "help/faq.html"}) {
    test::ProcessResult headers = Fanout({"cat", Url(path), "--db", db(), "--headers"});
    EXPECT_NE(headers.out.find("Content-Encoding: "), std::string::npos) << path << ": " << headers.out.substr(0, 400);
  }
  test::ProcessResult raw = Fanout({"cat", Url("about.html"), "--db", db(), "--raw"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  const std::string record = dir_.File("about.warc");
  std::ofstream(record, std::ios::binary) << raw.out;
  std::vector<json> read = WarcioRecords({record});
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(Text(read[0], "type"), "response");
  EXPECT_EQ(Text(read[0], "target_uri"), Url("about.html"));
  EXPECT_TRUE(read[0].value("payload_digest_ok", false));

  // A URL the crawl never archived is a clear error.
  test::ProcessResult missing = Fanout({"cat", Url("no-such-page.html"), "--db", db()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("no archived page"), std::string::npos) << missing.err;
}

TEST_F(WarcCrawlTest, RotationOpensEachFileWithWarcinfoAndTheIndexPointsIntoEach) {
  ServeSampleSite();
  // In threads mode: every mode archives alike, each thread appending whole records.
  ASSERT_EQ(Fanout({"crawl", server_->url(), "--db", db(), "--quiet", "--mode", "threads", "--concurrency", "4",
                    "--warc", prefix(), "--warc-max-size", "8192"})
                .exit_code,
            0);
  const std::vector<std::string> files = ArchiveFiles(prefix());
  ASSERT_GT(files.size(), 3u);
  for (size_t i = 0; i < files.size(); ++i) {
    // The serial counts files from 00000.
    char serial[32];
    std::snprintf(serial, sizeof serial, "-%05zu.warc.gz", i);
    EXPECT_TRUE(files[i].ends_with(serial)) << files[i];
    std::vector<json> records = WarcioRecords({files[i]});
    ASSERT_FALSE(records.empty()) << files[i];
    EXPECT_EQ(Text(records.front(), "type"), "warcinfo") << files[i];
    EXPECT_EQ(std::count_if(records.begin(), records.end(), [](const json& r) { return Text(r, "type") == "warcinfo"; }),
              1);
  }
  // Every page row points at its own record, in whichever file it is.
  Result<SqliteDb> conn = SqliteDb::OpenReadOnly(db());
  ASSERT_OK(conn);
  Result<SqliteStmt> rows = conn->Prepare(
      "SELECT p.url, coalesce(p.final_url, p.url), f.path, p.warc_offset, p.warc_length FROM pages p "
      "JOIN warc_files f ON f.id = p.warc_file");
  std::set<std::string> used;
  int pages = 0;
  while (*rows->Step()) {
    Result<WarcRecordRead> r = ReadWarcRecordAt(rows->ColumnText(2), static_cast<uint64_t>(rows->ColumnInt(3)),
                                                static_cast<uint64_t>(rows->ColumnInt(4)));
    ASSERT_OK(r) << rows->ColumnText(0);
    EXPECT_EQ(r->Field("WARC-Target-URI"), rows->ColumnText(1));
    EXPECT_TRUE(r->Field("WARC-Type") == "response" || r->Field("WARC-Type") == "revisit");
    used.insert(rows->ColumnText(2));
    ++pages;
  }
  EXPECT_EQ(pages, test::QueryInt(db(), "SELECT count(*) FROM pages WHERE status > 0"));
  EXPECT_GT(used.size(), 3u);

  // The CDXJ index of the run lists each response and revisit once, pointing at it.
  test::ProcessResult cdxj = Fanout({"export", "--db", db(), "--format", "cdxj"});
  ASSERT_EQ(cdxj.exit_code, 0) << cdxj.err;
  std::istringstream lines(cdxj.out);
  size_t entries = 0;
  std::string previous;
  for (std::string line; std::getline(lines, line); ++entries) {
    EXPECT_LE(previous, line) << "not sorted";
    previous = line;
    json j = json::parse(line.substr(line.find('{')));
    const std::string file = (std::filesystem::path(prefix()).parent_path() / Text(j, "filename")).string();
    Result<WarcRecordRead> r =
        ReadWarcRecordAt(file, std::stoull(Text(j, "offset")), std::stoull(Text(j, "length")));
    ASSERT_OK(r) << line;
    EXPECT_EQ(r->Field("WARC-Target-URI"), Text(j, "url"));
  }
  EXPECT_EQ(entries, Answered().size());
}

TEST_F(WarcCrawlTest, AKilledCrawlLeavesReadableRecordsAndTheResumedOneOpensTheNextFile) {
  testsite::ServerOptions o;
  o.synthetic = testsite::SyntheticOptions{.pages = 300, .links = 6, .page_bytes = 3000, .seed = 5};
  o.latency_ms = 20;
  Serve(o);
  test::Subprocess crawl({FANOUT_BINARY, "crawl", server_->url(), "--db", db(), "--quiet", "--concurrency", "8",
                          "--warc", prefix()});
  ASSERT_TRUE(server_->WaitForRequests(100, std::chrono::seconds(30)));
  crawl.Signal(SIGKILL);
  EXPECT_EQ(crawl.Wait(30000).exit_code, 128 + SIGKILL);
  const std::vector<std::string> first = ArchiveFiles(prefix());
  ASSERT_EQ(first.size(), 1u);
  bool torn = false;
  const size_t before = WarcioRecords(first, &torn).size();
  EXPECT_GT(before, 100u);  // warcinfo, robots.txt, then a request and response per page

  test::ProcessResult resumed = Fanout({"crawl", "--db", db(), "--quiet", "--resume", "--concurrency", "8"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::vector<std::string> files = ArchiveFiles(prefix());
  ASSERT_EQ(files.size(), 2u) << "--resume goes on archiving, in a new file";
  EXPECT_TRUE(files[0].ends_with("-00000.warc.gz") && files[1].ends_with("-00001.warc.gz")) << files[1];
  // Every page of the run has a complete record; none of the index points at a torn one.
  EXPECT_EQ(test::QueryInt(db(), "SELECT count(*) FROM pages WHERE warc_file IS NOT NULL"), 300);
  Result<SqliteDb> conn = SqliteDb::OpenReadOnly(db());
  Result<SqliteStmt> rows =
      conn->Prepare("SELECT f.path, p.warc_offset, p.warc_length FROM pages p JOIN warc_files f ON f.id = p.warc_file");
  while (*rows->Step()) {
    Result<WarcRecordRead> r = ReadWarcRecordAt(rows->ColumnText(0), static_cast<uint64_t>(rows->ColumnInt(1)),
                                                static_cast<uint64_t>(rows->ColumnInt(2)));
    EXPECT_OK(r);
  }
  std::vector<json> all = WarcioRecords(files, &torn);
  for (const json& r : all) {
    if (Text(r, "type") == "response") {
      EXPECT_TRUE(r.value("payload_digest_ok", false)) << r.dump();
    }
  }
  EXPECT_GE(std::count_if(all.begin(), all.end(), [](const json& r) { return Text(r, "type") == "response"; }), 301);
}

// The disk the archive is on fills up: a tmpfs of 512 KiB in a mount namespace of the test's own
// (root only). The crawl stops with exit 4; every page row it committed points at a whole record.
TEST_F(WarcCrawlTest, AFullDiskStopsTheCrawlWithExitFourAndTheIndexPointsOnlyAtWholeRecords) {
  if (geteuid() != 0) GTEST_SKIP() << "a tmpfs of its own needs root";
  testsite::ServerOptions o;
  o.synthetic = testsite::SyntheticOptions{.pages = 2000, .links = 8, .page_bytes = 10000, .seed = 7};
  Serve(o);
  const std::string small = dir_.File("small"), kept = dir_.File("kept");
  std::filesystem::create_directories(small);
  std::filesystem::create_directories(kept);
  // The files are copied out before the namespace, and its tmpfs, go.
  const std::string script = "mount -t tmpfs -o size=512k tmpfs " + small + " || exit 99; " + FANOUT_BINARY +
                             " crawl " + server_->url() + " --db " + db() + " --quiet --warc " + small +
                             "/site; code=$?; cp " + small + "/* " + kept + "/; exit $code";
  test::ProcessResult crawl = test::RunProcess({Which("unshare"), "--mount", "--propagation", "private", "sh", "-c", script},
                                               120000);
  ASSERT_NE(crawl.exit_code, 99) << "no tmpfs: " << crawl.err;
  EXPECT_EQ(crawl.exit_code, 4) << crawl.err;
  EXPECT_NE(crawl.err.find("No space left on device"), std::string::npos) << crawl.err;
  EXPECT_EQ(LineCount(crawl.err), 1) << crawl.err;

  const int64_t pages = test::QueryInt(db(), "SELECT count(*) FROM pages");
  EXPECT_GT(pages, 20);
  EXPECT_LT(pages, 2000);
  EXPECT_EQ(test::QueryInt(db(), "SELECT count(*) FROM pages WHERE warc_file IS NULL"), 0)
      << "a page stored without its record";
  Result<SqliteDb> conn = SqliteDb::OpenReadOnly(db());
  Result<SqliteStmt> rows =
      conn->Prepare("SELECT f.path, p.warc_offset, p.warc_length FROM pages p JOIN warc_files f ON f.id = p.warc_file");
  int64_t read = 0;
  while (*rows->Step()) {
    const std::string file = kept + "/" + std::filesystem::path(rows->ColumnText(0)).filename().string();
    Result<WarcRecordRead> r =
        ReadWarcRecordAt(file, static_cast<uint64_t>(rows->ColumnInt(1)), static_cast<uint64_t>(rows->ColumnInt(2)));
    EXPECT_OK(r);
    read += r.ok();
  }
  EXPECT_EQ(read, pages);
  // No torn record at the end of the file: the failed write was taken back.
  bool torn = true;
  std::vector<std::string> files = ArchiveFiles(kept + "/site");
  ASSERT_EQ(files.size(), 1u);
  WarcioRecords(files, &torn);
  EXPECT_FALSE(torn);
}

TEST_F(WarcCrawlTest, ABodyCutAtMaxBytesIsMarkedTruncated) {
  testsite::ServerOptions o;
  o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
  o.faults.push_back(*testsite::ParseFaultRule("huge:300000@/big.html"));
  Serve(o);
  ASSERT_EQ(Fanout({"crawl", Url("big.html"), "--db", db(), "--quiet", "--max-bytes", "50000", "--warc", prefix()})
                .exit_code,
            0);
  int cut = 0;
  for (const json& r : WarcioRecords(ArchiveFiles(prefix()))) {
    if (Text(r, "type") != "response" || Text(r, "target_uri") != Url("big.html")) continue;
    ++cut;
    EXPECT_EQ(Text(r, "truncated"), "length");
    EXPECT_EQ(r.value("payload_length", 0), 50000);
    EXPECT_TRUE(r.value("block_digest_ok", false) && r.value("payload_digest_ok", false)) << r.dump();
  }
  EXPECT_EQ(cut, 1);
}

// A payload archived before a kill is one the run has: the resumed crawl writes a revisit of it,
// not a second copy. The site: / links same.html and slow/, which answers after a delay and links
// same.html?again=1, the same bytes as same.html; the crawl is killed while slow/ is under way.
TEST_F(WarcCrawlTest, AResumedCrawlWritesRevisitsOfWhatItArchivedBeforeItStopped) {
  const std::string root = dir_.File("site");
  std::filesystem::create_directories(root + "/slow");
  std::ofstream(root + "/index.html") << "<title>home</title><a href=\"same.html\">same</a> <a href=\"slow/\">slow</a>";
  std::ofstream(root + "/same.html") << "<title>same</title><p>The same bytes under two URLs.</p>";
  std::ofstream(root + "/slow/index.html") << "<title>slow</title><a href=\"../same.html?again=1\">again</a>";
  testsite::ServerOptions o;
  o.root = root;
  o.faults.push_back(*testsite::ParseFaultRule("delay:3000@/slow/"));
  Serve(o);
  test::Subprocess crawl({FANOUT_BINARY, "crawl", server_->url(), "--db", db(), "--quiet", "--mode", "sync",
                          "--warc", prefix()});
  // same.html committed, slow/ asked for: kill.
  ASSERT_TRUE(test::PollUntil(20, [&] {
    // The server first: once it has requests, the crawl has made its database's tables.
    return server_->stats().requests >= 4 &&
           test::QueryInt(db(), "SELECT count(*) FROM pages WHERE url = '" + Url("same.html") + "'") == 1;
  }));
  crawl.Signal(SIGKILL);
  EXPECT_EQ(crawl.Wait(30000).exit_code, 128 + SIGKILL);

  ASSERT_EQ(Fanout({"crawl", "--db", db(), "--quiet", "--resume"}).exit_code, 0);
  const std::vector<std::string> files = ArchiveFiles(prefix());
  ASSERT_EQ(files.size(), 2u);
  std::vector<json> first = WarcioRecords({files[0]});
  std::vector<json> second = WarcioRecords({files[1]});
  auto find = [&](const std::vector<json>& records, const std::string& type, const std::string& uri) {
    for (const json& r : records) {
      if (Text(r, "type") == type && Text(r, "target_uri") == uri) return r;
    }
    return json();
  };
  const json original = find(first, "response", Url("same.html"));
  ASSERT_FALSE(original.is_null());
  const json revisit = find(second, "revisit", Url("same.html?again=1"));
  ASSERT_FALSE(revisit.is_null()) << "no revisit of same.html after the resume";
  EXPECT_EQ(Text(revisit, "refers_to_target_uri"), Url("same.html"));
  EXPECT_EQ(Text(revisit, "payload_digest"), Text(original, "payload_sha1"));
  EXPECT_EQ(test::QueryInt(db(), "SELECT count(*) FROM pages WHERE warc_type = 'revisit'"), 1);
  // cat follows the revisit to the bytes.
  test::ProcessResult cat = Fanout({"cat", Url("same.html?again=1"), "--db", db()});
  EXPECT_EQ(cat.out, Contents(root + "/same.html")) << cat.err;
}

TEST_F(WarcCrawlTest, AnUnwritablePrefixStopsTheCrawlBeforeAnythingIsFetched) {
  ServeSampleSite();
  test::ProcessResult crawl =
      Fanout({"crawl", server_->url(), "--db", db(), "--quiet", "--warc", dir_.File("no-such-dir/site")});
  EXPECT_EQ(crawl.exit_code, 3);
  EXPECT_NE(crawl.err.find("no-such-dir"), std::string::npos) << crawl.err;
  EXPECT_EQ(LineCount(crawl.err), 1) << crawl.err;
  EXPECT_EQ(server_->stats().requests, 0u);
}

}  // namespace
}  // namespace fanout
