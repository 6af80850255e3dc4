// What archiving a crawl's transfers means (--warc): which answers get records, the exchange a
// FetchResponse makes, and a page's metadata record. The archive itself (warc/warc_archive.h)
// builds, compresses and writes the records; this is the crawl's side of it.
//
// Threads: pure functions over values, on any thread; ArchiveTransfer compresses and writes, so it
// runs off the loop thread (the pool, or a blocking mode's thread).
#pragma once

#include <string>
#include <vector>

#include "crawler/fetch.h"
#include "crawler/page_content.h"
#include "storage/records.h"
#include "util/status.h"
#include "warc/warc_archive.h"

namespace fanout {

// Whether the server answered the transfer (a status line came): only answers are archived.
bool Archivable(const FetchResponse& response);

// The exchange of a transfer made for `url`, as WarcArchive::Prepare takes it. Views into
// `response`, which must outlive its use. A transfer curl followed redirects in (robots.txt,
// sitemaps) is the final answer, for the URL it came from.
WarcExchange ExchangeOf(const std::string& url, const FetchResponse& response);

// Archives a transfer no page row points at (robots.txt, a sitemap, a redirect hop, an answer that
// was retried): its request and response records. Ok when there was no answer to archive.
Status ArchiveTransfer(WarcArchive& archive, const std::string& url, const FetchResponse& response);

// A page's metadata record: where it was found, its depth, its fetch timings and its outlinks.
WarcMetadata MetadataOf(const PageRecord& record, const std::string& via, const std::vector<LinkCandidate>& links);

// Records in `record` where the archive put the page's response record.
void NoteLocation(const WarcLocation& location, PageRecord& record);

}  // namespace fanout
