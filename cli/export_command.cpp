#include "cli/export_command.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "storage/run_queries.h"
#include "storage/schema.h"
#include "warc/cdxj.h"

namespace fanout::cli {
namespace {

struct ExportCommandOptions {
  std::string db = "fanout.db";
  std::string format;         // "jsonl", "csv" or "cdxj"
  std::string what = "pages"; // the table: pages, links, errors or skipped
  int64_t run = 0;            // 0: every run
  std::string output;         // "": stdout
};

// The query for one table, every run or one. Each orders by the table's own id, which SQLite reads
// in that order anyway: the rows stream out as they are read, with no sort holding them. The unary
// + on run_id keeps the planner off the (run_id, ...) indexes, whose order would need that sort.
std::string QueryFor(const std::string& what, bool one_run, int schema_version) {
  if (what == "links") {
    // A link's page is a row id; its URL is what a reader wants, so the links come with it. The
    // links view has no rowid: they come in the order of their ids, on either layout.
    return "SELECT p.run_id AS run_id, l.page_id AS page_id, p.url AS from_url, l.to_url AS to_url, "
           "l.followed AS followed, l.reason AS reason "
           "FROM " + LinksWithIds(schema_version) + " l JOIN pages p ON p.id = l.page_id" +
           std::string(one_run ? " WHERE +p.run_id = ?1" : "") + " ORDER BY l.link_id";
  }
  return "SELECT * FROM " + what + (one_run ? " WHERE +run_id = ?1" : "") + " ORDER BY id";
}

// A REAL as its shortest text that reads back as the same double.
std::string ShortestDouble(double value) {
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::to_string(value);
}

std::string CellText(const SqliteStmt& row, int column) {
  switch (row.ColumnType(column)) {
    case SqliteStmt::ValueType::kNull: return "";
    case SqliteStmt::ValueType::kInteger: return std::to_string(row.ColumnInt(column));
    case SqliteStmt::ValueType::kFloat: return ShortestDouble(row.ColumnDouble(column));
    default: return row.ColumnText(column);
  }
}

// RFC 4180: a field holding a comma, a quote, CR or LF is quoted, and its quotes doubled.
void AppendCsvField(std::string& line, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    line += field;
    return;
  }
  line += '"';
  for (char c : field) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

// Steps `rows` to the end, writing each row before reading the next. `write_row` appends one line.
template <typename WriteRow>
Status Stream(SqliteStmt& rows, std::ostream& out, WriteRow write_row) {
  std::string line;
  while (out) {
    FANOUT_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return Status::Ok();
    line.clear();
    write_row(line);
    out << line;
  }
  return Status::Ok();  // the caller checks `out`
}

Status WriteCsv(SqliteStmt& rows, std::ostream& out) {
  const int columns = rows.ColumnCount();
  std::string header;
  for (int c = 0; c < columns; ++c) {
    if (c > 0) header += ',';
    AppendCsvField(header, rows.ColumnName(c));
  }
  out << header << "\r\n";  // RFC 4180 ends records with CRLF
  return Stream(rows, out, [&](std::string& line) {
    for (int c = 0; c < columns; ++c) {
      if (c > 0) line += ',';
      AppendCsvField(line, CellText(rows, c));
    }
    line += "\r\n";
  });
}

Status WriteJsonLines(SqliteStmt& rows, std::ostream& out) {
  std::vector<std::string> names;
  for (int c = 0; c < rows.ColumnCount(); ++c) names.push_back(rows.ColumnName(c));
  return Stream(rows, out, [&](std::string& line) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();  // keys in the columns' order
    for (int c = 0; c < static_cast<int>(names.size()); ++c) {
      switch (rows.ColumnType(c)) {
        case SqliteStmt::ValueType::kNull: object[names[c]] = nullptr; break;
        case SqliteStmt::ValueType::kInteger: object[names[c]] = rows.ColumnInt(c); break;
        case SqliteStmt::ValueType::kFloat: object[names[c]] = rows.ColumnDouble(c); break;
        default: object[names[c]] = rows.ColumnText(c); break;
      }
    }
    // Text the crawler stored is UTF-8; should a byte not be, it becomes U+FFFD rather than a broken line.
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
  });
}

int RunExport(const ExportCommandOptions& opt) {
  auto fail = [](std::string_view message, int code) { return Fail("export", message, code); };
  Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
  if (!db.ok()) return fail(db.status().message(), DatabaseExitCode(db.status()));
  if (opt.what == "skipped" && !db->HasSkippedTable()) {
    return fail(opt.db + " has schema version " + std::to_string(db->schema_version) +
                    ", from before fanout recorded skipped URLs (version 3)",
                kExitDatabase);
  }
  if (opt.run > 0) {
    Result<int64_t> run = ChooseRun(*db, opt.run);
    if (!run.ok()) return fail(run.status().message(), ChooseRunExitCode(run.status(), true));
  }
  std::vector<std::string> warc_files;  // --format cdxj: the archive files of the run (or all runs)
  if (opt.format == "cdxj") {
    if (db->schema_version < kWarcVersion) {
      return fail(opt.db + " has schema version " + std::to_string(db->schema_version) +
                      ", from before fanout archived pages (version " + std::to_string(kWarcVersion) + ")",
                  kExitDatabase);
    }
    Result<std::vector<std::string>> files = ArchiveFilesOf(db->db, opt.run);
    if (!files.ok()) return fail(files.status().message(), kExitDatabase);
    warc_files = std::move(*files);
    if (warc_files.empty()) {
      return fail("no archive files" + (opt.run > 0 ? " for run " + std::to_string(opt.run) : std::string()) + " in " +
                      opt.db + " (was it crawled with --warc?)",
                  kExitUnavailable);
    }
  }
  Result<SqliteStmt> rows = db->db.Prepare(QueryFor(opt.what, opt.run > 0, db->schema_version));
  if (!rows.ok()) return fail(rows.status().message(), kExitDatabase);
  if (opt.run > 0) rows->Bind(1, opt.run);

  const std::string output = opt.output.empty() ? "-" : opt.output;
  std::error_code ec;
  if (!OutputFile::IsStdout(output) && std::filesystem::equivalent(output, opt.db, ec)) {
    return fail("--output '" + output + "' is the database itself", kExitUsage);
  }
  Result<OutputFile> file = OutputFile::Open(output, "--output");
  if (!file.ok()) return fail(file.status().message(), kExitUnavailable);
  std::ostream& out = file->stream();
  Status read;
  if (opt.format == "cdxj") {
    // The index comes from the records themselves, robots.txt and redirect hops included.
    Result<size_t> lines = WriteCdxj(warc_files, out);
    if (!lines.ok()) return fail(lines.status().message(), kExitUnavailable);
  } else {
    read = opt.format == "csv" ? WriteCsv(*rows, out) : WriteJsonLines(*rows, out);
  }
  Status written = file->Close();
  if (!read.ok()) return fail(read.message(), kExitDatabase);
  if (!written.ok()) return fail(written.message(), kExitUnavailable);
  return kExitOk;
}

}  // namespace

void SetupExportCommand(CLI::App& app) {
  auto opt = std::make_shared<ExportCommandOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write a crawl database's rows as JSON Lines or CSV, or a CDXJ index of its archive (read-only)");
  cmd->add_option("--db", opt->db, "SQLite database a crawl wrote")->capture_default_str();
  cmd->add_option("--format", opt->format,
                  "jsonl (one JSON object per line), csv (RFC 4180), or cdxj (pywb's index of the run's --warc "
                  "archive, read from its files)")
      ->required()->check(CLI::IsMember({"jsonl", "csv", "cdxj"}));
  cmd->add_option("--what", opt->what, "The rows: pages, links (with the page's URL as from_url), errors or skipped")
      ->capture_default_str()->check(CLI::IsMember({"pages", "links", "errors", "skipped"}));
  cmd->add_option("--run", opt->run, "Only this run (default: every run; each row has its run_id)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--output,-o", opt->output, "Write to this file instead of stdout");
  cmd->callback([opt] { throw CLI::RuntimeError(RunExport(*opt)); });
}

}  // namespace fanout::cli
