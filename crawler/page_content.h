// What a page's content means, whatever mode fetched it: the request sent for a URL, the record of a
// finished fetch, whether to parse, the parse itself (decoded, links resolved), and the frontier's
// verdict on each link found. Pure functions, except DecideLinks, which offers links to the frontier.
//
// Threads: any thread; DecideLinks only on the frontier's owner (see frontier.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crawler/crawl_options.h"
#include "crawler/fetch.h"
#include "crawler/frontier.h"
#include "storage/records.h"

namespace fanout {

// The request every mode sends for a URL.
FetchRequest RequestFor(const CrawlOptions& options, const std::string& url);

// The kind of error of a transfer the server did not answer (errors.kind): "dns", "connect",
// "timeout", "tls-unknown-ca", ... REQUIRES: !response.ok().
const char* ErrorKindOf(const FetchResponse& response);

// What an error kind means, in a few words for someone who typed the URL: "no such host", "could
// not connect", ...; "" for a kind with no words of its own ("network").
std::string_view ErrorKindMeaning(std::string_view kind);

// Copies status, type, size, timings and the error kind of a finished fetch into `record`.
void FillRecord(const FetchResponse& response, PageRecord& record);

// Takes the chunked framing and the content codings (gzip, deflate, br, zstd) off a body as received,
// in place, keeping at most `max_bytes` of the result (more is cut, and response.truncated set).
// Does nothing once response.decoded. An error (a coding fanout does not read, a corrupt stream)
// leaves the body as received. Pure CPU: off the loop thread.
Status DecodeBody(FetchResponse& response, size_t max_bytes);
// Whether DecodeBody has anything to do.
bool NeedsDecoding(const FetchResponse& response);

// Whether the response is HTML worth parsing (2xx, text/html or application/xhtml+xml).
bool ShouldParse(const FetchResponse& response);

// A link as the parser and URL resolution leave it, before the frontier's verdict.
struct LinkCandidate {
  std::string url;     // resolved and normalised, or the raw href when it could not be
  std::string reason;  // "" when it may be followed
};

// What parsing a page found, besides the record's fields.
struct PageLinks {
  std::vector<LinkCandidate> candidates;
  // The page's meta refresh to follow as a redirect (normalised; its delay within
  // options.max_meta_refresh_delay), "" if none. A refresh with a longer delay is a candidate instead.
  std::string refresh;
  double refresh_delay = 0;
  bool fast_path = false;    // the parser's fast path read the page, not gumbo's tree
  std::string_view bailout;  // why the fast path handed the page to gumbo; "" if it did not
};

// Parses the response's body (fetched from `page_url`), decoded (DecodeBody; a body that cannot be
// is an error of kind "decode" on the record, with no links), then to UTF-8 from its charset, with the
// parser options.parser names, and resolves its links against its base; sets the record's title,
// noindex, canonical, charset and parse (CPU seconds), and the meta refresh. Takes the body (response.body is left in a
// valid but unspecified state): a UTF-8 page is parsed where it was received. Pure: runs on any thread.
PageLinks ParsePage(const std::string& page_url, FetchResponse& response, const CrawlOptions& options,
                    PageRecord& record);

// Offers the followable candidates found on `page_url` to the frontier and turns all of them into
// link rows; links longer than options.max_url_length are not offered ("too_long"), session ids are
// taken out of the others, and those that break a trap rule (url_traps.h) are not offered either.
std::vector<LinkRecord> DecideLinks(std::vector<LinkCandidate> candidates, const std::string& page_url, int page_depth,
                                    const CrawlOptions& options, Frontier& frontier,
                                    std::map<std::string, int64_t>& skipped_by_reason);

// The request for one sitemap: bodies up to the protocol's own cap (50 MB) are kept.
FetchRequest SitemapRequest(const CrawlOptions& options, const std::string& url);

// The distinct origins of the seeds, in order.
std::vector<std::string> OriginsOf(const std::vector<std::string>& seeds);

}  // namespace fanout
