// What `fanout crawl` prints for a person: the live progress line while it runs, then the run's
// summary (two text tables, or the same as an HTML page with charts) and a line for each seed its
// server did not answer well. The text is part of the command's interface (README.md shows it,
// tests in tests/cli read it): a change here is a change a user sees. Printing only: the numbers
// come from CrawlSummary, the seeds' fates from the database (storage/run_queries.h).
//
// Thread rules: call from the thread that runs the command; the progress callback from the one
// the crawl calls it on. Nothing here is shared.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "crawler/crawl_summary.h"
#include "storage/run_queries.h"

namespace fanout::cli {

// Overwrites the terminal's current line of stderr with the crawl's progress so far (a tty only).
void PrintProgressLine(const CrawlProgress& progress);

// Erases the progress line.
void ClearProgressLine();

// The run table ("run N (mode)": pages, parser, throughput, robots.txt...), a blank line, and the
// "where the time went" table. `db` is the database's path, as the user gave it.
void PrintSummary(const CrawlSummary& summary, const std::string& db, std::ostream& out);

// The whole summary as a self-contained HTML page: the text summary plus charts of the phases,
// the fetches in flight over time, the status codes, errors, skips and the slowest pages.
std::string CrawlHtml(const CrawlSummary& summary, const std::string& db);

// Of a run's seeds: how many, how many the database tells of (fetched or not; a seed with no row,
// the crawl having stopped first, is neither), and how many a server answered at all. A crawl in
// which none was answered is the user's wrong URL, not a crawl of 0 pages.
struct SeedCounts {
  size_t seeds = 0, known = 0, answered = 0;
};

// Writes a "fanout crawl: seed URL ..." line to stderr for each seed its server did not answer
// (with the cause: no such host, could not connect, robots.txt unreachable so the origin is not
// crawled, refused by robots.txt) or answered with an HTTP error, and counts them.
SeedCounts ReportSeeds(const std::vector<SeedOutcome>& seeds);

}  // namespace fanout::cli
