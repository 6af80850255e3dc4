#include "crawler/archive_transfer.h"

#include <cmath>

namespace fanout {
namespace {

std::string Milliseconds(double seconds) { return std::to_string(std::llround(seconds * 1000)); }

}  // namespace

bool Archivable(const FetchResponse& response) { return response.status > 0 && !response.response_head.empty(); }

WarcExchange ExchangeOf(const std::string& url, const FetchResponse& response) {
  std::string_view truncated;
  if (response.truncated) {
    truncated = "length";
  } else if (response.curl_code == CURLE_OPERATION_TIMEDOUT) {
    truncated = "time";
  } else if (response.curl_code != CURLE_OK) {
    truncated = "disconnect";
  }
  return WarcExchange{.target_uri = response.redirects > 0 && !response.effective_url.empty()
                                        ? std::string_view(response.effective_url)
                                        : std::string_view(url),
                      .date = response.started_at,
                      .ip = response.remote_ip,
                      .request_head = response.request_head,
                      .response_head = response.response_head,
                      .body = response.body,
                      .truncated = truncated};
}

Status ArchiveTransfer(WarcArchive& archive, const std::string& url, const FetchResponse& response) {
  if (!Archivable(response)) return Status::Ok();
  Result<WarcLocation> written = archive.Write(archive.Prepare(ExchangeOf(url, response)));
  return written.ok() ? Status::Ok() : written.status();
}

WarcMetadata MetadataOf(const PageRecord& record, const std::string& via, const std::vector<LinkCandidate>& links) {
  WarcMetadata m;
  m.via = via;
  m.hops_from_seed = record.depth;
  m.fetch_seconds = record.total;
  m.outlinks.reserve(links.size());
  for (const LinkCandidate& link : links) m.outlinks.push_back(link.url);
  // The phases of the final transfer, as the pages row has them.
  m.fields = {{"queueWaitMs", Milliseconds(record.queue_wait)}, {"dnsMs", Milliseconds(record.dns)},
              {"connectMs", Milliseconds(record.connect)},      {"tlsMs", Milliseconds(record.tls)},
              {"firstByteMs", Milliseconds(record.first_byte)}, {"transferMs", Milliseconds(record.transfer)},
              {"attempts", std::to_string(record.attempts)}};
  if (!record.charset.empty()) m.fields.push_back({"charset", record.charset});
  return m;
}

void NoteLocation(const WarcLocation& location, PageRecord& record) {
  record.warc_file = location.file;
  record.warc_offset = static_cast<int64_t>(location.offset);
  record.warc_length = static_cast<int64_t>(location.length);
  record.warc_type = location.revisit ? "revisit" : "response";
  record.warc_date = location.date;
  record.payload_digest = location.payload_digest;
}

}  // namespace fanout
