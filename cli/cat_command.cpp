#include "cli/cat_command.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "crawler/url.h"
#include "storage/run_queries.h"
#include "storage/schema.h"
#include "util/ascii.h"
#include "util/http_body.h"
#include "warc/warc_reader.h"
#include "warc/warc_record.h"

namespace fanout::cli {
namespace {

struct CatCommandOptions {
  std::string url;
  std::string db = "fanout.db";
  int64_t run = 0;  // 0: the latest run that archived the URL
  bool raw = false;
  bool headers = false;
};

// A body is decoded whole: the cap only guards against a decompression bomb.
constexpr size_t kMaxDecoded = size_t{1} << 31;

// A revisit record holds no payload: the record it names (the same run's page of that URL) does.
Result<WarcRecordRead> Original(CrawlDatabase& db, const WarcRecordRead& revisit, int64_t run) {
  const std::string target = revisit.Field("WARC-Refers-To-Target-URI");
  FANOUT_ASSIGN_OR_RETURN(std::optional<ArchivedRecordAt> at, LocateArchivedPage(db.db, target, run));
  if (!at) return Status::NotFound("the revisit refers to " + target + ", which the run did not archive as a page");
  Result<WarcRecordRead> original = ReadWarcRecordAt((at)->file, (at)->offset, (at)->length);
  if (original.ok() && original->Field("WARC-Payload-Digest") != revisit.Field("WARC-Payload-Digest")) {
    return Status::Corruption("the record of " + target + " is not the payload the revisit names");
  }
  return original;
}

int RunCat(const CatCommandOptions& opt) {
  auto fail = [](std::string_view message, int code) { return Fail("cat", message, code); };
  Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
  if (!db.ok()) return fail(db.status().message(), DatabaseExitCode(db.status()));
  if (db->schema_version < kWarcVersion) {
    return fail(opt.db + " has schema version " + std::to_string(db->schema_version) +
                    ", from before fanout archived pages (version " + std::to_string(kWarcVersion) + ")",
                kExitUnavailable);
  }
  if (opt.run > 0) {
    Result<int64_t> run = ChooseRun(*db, opt.run);
    if (!run.ok()) return fail(run.status().message(), ChooseRunExitCode(run.status(), true));
  }
  // Keyed as the run keyed it: with no --run given, as a run since schema 8 would, then as one before.
  std::vector<UrlRules> rules = {UrlRules::kWhatwg, UrlRules::kRfc3986};
  if (opt.run > 0) {
    Result<UrlRules> theirs = UrlRulesOfRun(*db, opt.run);
    if (!theirs.ok()) return fail(theirs.status().message(), kExitDatabase);
    rules = {*theirs};
  }
  Result<std::string> url = NormalizeUrl(opt.url, rules.front());
  if (!url.ok()) return fail("'" + opt.url + "': " + url.status().message(), kExitUsage);
  Result<std::optional<ArchivedRecordAt>> at = LocateArchivedPage(db->db, *url, opt.run);
  if (at.ok() && !*at && rules.size() > 1) {
    if (Result<std::string> old = NormalizeUrl(opt.url, rules.back()); old.ok() && *old != *url) {
      at = LocateArchivedPage(db->db, *old, opt.run);
    }
  }
  if (!at.ok()) return fail(at.status().message(), kExitDatabase);
  if (!*at) {
    return fail("no archived page of " + *url + (opt.run > 0 ? " in run " + std::to_string(opt.run) : "") + " in " +
                    opt.db + " (was it crawled with --warc?)",
                kExitUnavailable);
  }
  Result<WarcRecordRead> record = ReadWarcRecordAt((*at)->file, (*at)->offset, (*at)->length);
  if (!record.ok()) return fail(record.status().message(), kExitUnavailable);
  if (opt.raw) {
    // Serialising adds the Content-Length of the block, which the record read back already names.
    std::vector<WarcField> fields;
    for (WarcField& field : record->fields) {
      if (!EqualsIgnoreCase(field.name, "Content-Length")) fields.push_back(std::move(field));
    }
    std::cout << SerializeWarcRecord(WarcRecord{.fields = std::move(fields), .block = std::move(record->block)});
    std::cout.flush();
    return std::cout ? kExitOk : kExitFailure;
  }
  Result<HttpMessageView> head = ParseHttpMessage(record->block);
  if (!head.ok()) return fail("the record of " + *url + ": " + head.status().message(), kExitFailure);
  std::optional<WarcRecordRead> original;
  std::string_view payload = head->body;
  if (record->Field("WARC-Type") == "revisit") {
    Result<WarcRecordRead> found = Original(*db, *record, (*at)->run);
    if (!found.ok()) return fail(found.status().message(), kExitUnavailable);
    original = std::move(*found);
    Result<HttpMessageView> original_head = ParseHttpMessage(original->block);
    if (!original_head.ok()) return fail(original_head.status().message(), kExitFailure);
    payload = original_head->body;
    // The codings are the original's: its bytes are what is decoded.
    head->headers = original_head->headers;
  }
  if (opt.headers) {  // the record's own, as received (a revisit's are those of its answer)
    const HttpMessageView shown = *ParseHttpMessage(record->block);
    std::cout << shown.start_line << "\r\n";
    for (const auto& [name, value] : shown.headers) std::cout << name << ": " << value << "\r\n";
    std::cout << "\r\n";
  }
  const bool cut = !record->Field("WARC-Truncated").empty();
  std::string entity(payload);
  if (IsChunked(head->Header("Transfer-Encoding"))) {
    Result<std::string> dechunked = Dechunk(entity, cut);
    if (!dechunked.ok()) return fail(*url + ": " + dechunked.status().message(), kExitFailure);
    entity = std::move(*dechunked);
  }
  if (std::string_view coding = head->Header("Content-Encoding"); !coding.empty()) {
    Result<DecodedBody> decoded = DecodeContent(coding, entity, kMaxDecoded, cut);
    if (!decoded.ok()) return fail(*url + ": " + decoded.status().message(), kExitFailure);
    entity = std::move(decoded->bytes);
  }
  std::cout.write(entity.data(), static_cast<std::streamsize>(entity.size()));
  std::cout.flush();
  return std::cout ? kExitOk : kExitFailure;
}

}  // namespace

void SetupCatCommand(CLI::App& app) {
  auto opt = std::make_shared<CatCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "cat", "Print an archived page (--warc): its body decoded, its response headers, or its whole WARC record");
  cmd->add_option("url", opt->url, "The page's URL (as requested, or as redirected to)")->required();
  cmd->add_option("--db", opt->db, "SQLite database a crawl wrote")->capture_default_str();
  cmd->add_option("--run", opt->run, "The run (default: the latest that archived the URL)")->check(CLI::PositiveNumber);
  cmd->add_flag("--raw", opt->raw, "The whole WARC record, WARC header and HTTP message as received");
  cmd->add_flag("--headers", opt->headers, "The response's status line and header fields first, then the body");
  cmd->callback([opt] { throw CLI::RuntimeError(RunCat(*opt)); });
}

}  // namespace fanout::cli
