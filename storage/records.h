// The rows a crawl hands to the Store (store.h): plain values, with no behaviour, so that code which
// builds them (the crawl's page procedure, PageFetch) does not depend on the store itself.
//
// Threads: values; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fanout {

// What a crawl was asked to do; one row in runs.
struct RunInfo {
  std::string mode;                // how the crawl ran, e.g. "async", "threads"
  std::vector<std::string> seeds;  // the start URLs, stored as a JSON array
  std::string options_json;        // the crawl's options as a JSON object; "" stores {}
  // How the run keys its URLs (crawler/url.h's UrlRules by name): "whatwg", or "rfc3986" for a
  // run resumed from before schema version 8.
  std::string url_normalization = "whatwg";
  // A run crawled as one worker of a shared frontier (--frontier): the worker's name, the
  // frontier's address without its password, and the frontier's run id. "" / 0: a run of its own.
  std::string worker = {};
  std::string frontier = {};
  int64_t frontier_run = 0;
};

// One fetched (or failed) URL; one row in pages. Strings left "" are stored as NULL. The row's
// `store` column is not here: the store measures it (see StoreStats::store_seconds).
struct PageRecord {
  std::string url;            // normalised URL that was requested (unique per run)
  std::string final_url;      // after redirects ("" = same as url)
  int depth = 0;              // link hops from a seed
  int status = 0;             // HTTP status, 0 when no response
  std::string content_type;
  int64_t bytes = 0;          // body bytes received
  bool truncated = false;     // body cut at the size cap
  std::string title, canonical;
  bool noindex = false;
  std::string error_kind;     // "" when fine; else e.g. "http", "timeout", "connect", "dns", "too_large", "network", "redirect_duplicate"
  std::string error;          // human-readable error message
  std::string http_version;   // "1.1", "2"
  int64_t new_connections = 0;  // CURLINFO_NUM_CONNECTS: 0 means a kept-alive connection was reused
  int redirects = 0;
  int attempts = 1;           // transfers tried for this URL (retries included; redirect hops not)
  std::string redirect_chain; // JSON array of the hops before final_url: [{"url": ..., "status": 301}, ...]
  std::string charset;        // the charset the HTML was decoded from ("" when not parsed)
  double fetched_at = 0;      // unix time, seconds
  // Where the archive (--warc) holds the response record: its file ("" when not archived), the
  // offset and length of its gzip member, its type ("response" or "revisit") and WARC-Date, and
  // the payload's WARC digest ("sha1:...").
  std::string warc_file;
  int64_t warc_offset = 0, warc_length = 0;
  std::string warc_type, warc_date, payload_digest;
  // Where the time went, seconds:
  double queue_wait = 0, dns = 0, connect = 0, tls = 0, first_byte = 0, transfer = 0, total = 0, parse = 0;
};

// Whether the crawl follows a link, as link_rows.followed stores it (the README's schema).
enum class Follow : int64_t {
  kNo = 0,      // not followed: the link's reason says why
  kQueued = 1,  // queued for fetching, in memory
  kOnDisk = 2,  // queued for fetching in the database, past --frontier-window: read back later
};

// One link found on a page; one row of link_rows (read as text through the links view).
struct LinkRecord {
  std::string to_url;
  Follow followed = Follow::kNo;
  std::string reason;     // "" when followed, else why not: "duplicate", "out_of_scope", "depth", "max_pages",
                          // "nofollow", "not_http", "bad_url", "excluded"
  // The crawl could not tell whether the URL was seen before (see crawler/unsure_links.h): the
  // writer decides. If the run has a followed link to it, or a page of it, the link is stored as a
  // duplicate; else as Follow::kOnDisk. StoreStats counts both outcomes.
  bool unsure = false;
};

// A URL the crawl decided not to fetch, beyond the links table's verdicts; one row in skipped.
struct SkipRecord {
  std::string url;
  std::string reason;    // "robots", "redirect_out_of_scope", "redirect_loop", ...
  std::string detail;    // e.g. the robots.txt rule that refused it
  std::string found_on;  // the page that linked or redirected to it ("" for a seed)
  int depth = 0;
};

// An origin's robots.txt as the crawl fetched it; one row in robots.
struct RobotsRecord {
  std::string origin;         // scheme://host:port
  int status = 0;             // HTTP status, 0 when unreachable
  std::string verdict;        // "rules", "allow_all" (4xx, ignored), "disallow_all" (5xx, unreachable)
  std::string error;          // why, when not "rules"
  std::string user_agent;     // the group the crawler obeyed ("fanout", "*"; "" for none)
  double crawl_delay = -1;    // seconds; < 0 when none
  std::vector<std::string> sitemaps;
  int64_t bytes = 0;
  double fetched_at = 0;
};

// How a run ended, as the crawl measured it; stored on the run's row by FinishRun.
struct RunSummary {
  int64_t pages = 0, errors = 0, bytes = 0;
  double wall_seconds = 0, pages_per_second = 0;
  std::string summary_json;  // the full report as a JSON object; "" stores NULL
  bool interrupted = false;  // the run stopped early and may be resumed: finished_at stays NULL
};

}  // namespace fanout
