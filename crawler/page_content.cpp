#include "crawler/page_content.h"

#include <algorithm>
#include <cctype>

#include "crawler/run_stats.h"
#include "crawler/url.h"
#include "crawler/url_traps.h"
#include "parser/charset.h"
#include "parser/html_parser.h"
#include "util/ascii.h"
#include "util/http_body.h"

namespace fanout {
namespace {

// curl says only that the peer failed verification; OpenSSL's X509_V_ERR_* code says why.
const char* VerificationKindOf(long verify_result) {
  switch (verify_result) {
    case 10: return "tls-expired";          // X509_V_ERR_CERT_HAS_EXPIRED
    case 18: case 19: case 20: case 21:     // self-signed, self-signed in chain, unknown issuer (x2)
      return "tls-unknown-ca";
    // OpenSSL accepted the chain and curl (7.88) then checked the name itself: it reports that as
    // X509_V_ERR_UNSPECIFIED (1), as tls_crawl_test sees; 62 is OpenSSL's own name mismatch.
    case 0: case 1: case 62: return "tls-hostname";
    default: return "tls-verify";
  }
}

const char* KindOf(int curl_code, long verify_result) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "dns";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_TOO_MANY_REDIRECTS: return "redirect_loop";
    case CURLE_SSL_CONNECT_ERROR: return "tls-handshake";
    case CURLE_PEER_FAILED_VERIFICATION: return VerificationKindOf(verify_result);
    case CURLE_SSL_CACERT_BADFILE: return "tls-cacert";
    case CURLE_UNSUPPORTED_PROTOCOL: return "unsupported";
    default: return "network";
  }
}

bool IsHtml(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  AsciiLowerInPlace(type);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "text/html" || type == "application/xhtml+xml";
}

// Does the href start with a scheme other than http(s) ("mailto:", "javascript:")? Then it is not
// a broken link to a page but a link to something else.
bool HasOtherScheme(std::string_view href) {
  while (!href.empty() && (href.front() == ' ' || href.front() == '\t' || href.front() == '\n')) href.remove_prefix(1);
  size_t colon = href.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string scheme;
  for (size_t i = 0; i < colon; ++i) {
    char c = href[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
    scheme += AsciiLower(c);
  }
  return std::isalpha(static_cast<unsigned char>(href[0])) && scheme != "http" && scheme != "https";
}

}  // namespace

const char* ErrorKindOf(const FetchResponse& response) {
  if (!response.dns_error_kind.empty()) return response.dns_error_kind.c_str();
  return KindOf(response.curl_code, response.tls_verify_result);
}

std::string_view ErrorKindMeaning(std::string_view kind) {
  static constexpr std::pair<std::string_view, std::string_view> kMeanings[] = {
      {"dns", "no such host"},
      {"dns-nxdomain", "its host does not exist (NXDOMAIN)"},
      {"dns-servfail", "the resolver failed for its host (SERVFAIL or REFUSED) or could not be reached"},
      {"dns-timeout", "the resolver did not answer for its host in time"},
      {"host-failing", "its host was given up: --max-host-errors requests in a row got no answer"},
      {"connect", "could not connect"},
      {"timeout", "timed out"},
      {"tls-unknown-ca", "its TLS certificate is signed by no CA fanout trusts (--cacert adds one)"},
      {"tls-expired", "its TLS certificate has expired"},
      {"tls-hostname", "its TLS certificate is for another host name"},
      {"tls-handshake", "the TLS handshake failed"},
      {"tls-verify", "its TLS certificate could not be verified"},
      {"tls-cacert", "the --cacert file cannot be used"},
  };
  for (const auto& [k, meaning] : kMeanings) {
    if (k == kind) return meaning;
  }
  return "";
}

FetchRequest RequestFor(const CrawlOptions& options, const std::string& url) {
  return FetchRequest{.url = url,
                      .timeout_ms = options.timeout_ms,
                      .connect_timeout_ms = options.connect_timeout_ms,
                      .max_bytes = options.max_bytes,
                      .max_redirects = options.max_redirects,
                      .low_speed_bytes = options.low_speed_bytes,
                      .low_speed_seconds = options.low_speed_seconds};
}

void FillRecord(const FetchResponse& response, PageRecord& record) {
  record.status = static_cast<int>(response.status);
  record.content_type = response.content_type;
  record.bytes = static_cast<int64_t>(response.body.size());
  record.truncated = response.truncated;
  record.http_version = response.http_version;
  record.new_connections = response.new_connections;
  record.redirects = static_cast<int>(response.redirects);
  record.dns = response.timings.dns;
  record.connect = response.timings.connect;
  record.tls = response.timings.tls;
  record.first_byte = response.timings.first_byte;
  record.transfer = response.timings.transfer;
  record.total = response.timings.total;
  if (!response.ok()) {
    record.error_kind = ErrorKindOf(response);
    record.error = response.error;
  } else if (response.status >= 400) {
    record.error_kind = "http";
    record.error = "HTTP " + std::to_string(response.status);
  }
}

Status DecodeBody(FetchResponse& response, size_t max_bytes) {
  if (response.decoded) return Status::Ok();
  // A body cut short (our cap, a timeout) decodes as far as it goes.
  const bool incomplete = response.truncated || response.curl_code != 0;
  if (response.chunked) {
    FANOUT_ASSIGN_OR_RETURN(std::string entity, Dechunk(response.body, incomplete));
    response.body = std::move(entity);
    response.chunked = false;
  }
  auto coding = response.headers.find("content-encoding");
  if (coding != response.headers.end() && !coding->second.empty()) {
    FANOUT_ASSIGN_OR_RETURN(DecodedBody decoded, DecodeContent(coding->second, response.body, max_bytes, incomplete));
    response.body = std::move(decoded.bytes);
    if (decoded.cut) response.truncated = true;
  }
  response.decoded = true;
  return Status::Ok();
}

bool NeedsDecoding(const FetchResponse& response) {
  if (response.decoded) return false;
  auto coding = response.headers.find("content-encoding");
  return response.chunked || (coding != response.headers.end() && !coding->second.empty());
}

bool ShouldParse(const FetchResponse& response) {
  return response.ok() && response.status >= 200 && response.status < 300 && IsHtml(response.content_type);
}

PageLinks ParsePage(const std::string& page_url, FetchResponse& response, const CrawlOptions& options,
                    PageRecord& record) {
  const double start = ThreadCpuSeconds();  // CPU time: what parsing costs, not waiting for a core
  const bool follow_nofollow = options.follow_nofollow;
  if (Status decoded = DecodeBody(response, options.max_bytes); !decoded.ok()) {
    record.error_kind = "decode";
    record.error = decoded.message();
    record.parse = ThreadCpuSeconds() - start;
    return {};
  }
  DecodedText text = DecodeOwnedToUtf8(std::move(response.body), response.content_type);
  record.charset = text.charset;
  ParsedPage parsed =
      ParseHtml(text.utf8, {.parser = options.parser});
  record.title = parsed.title;
  record.noindex = parsed.meta_noindex;
  std::string base = page_url;
  if (!parsed.base_href.empty()) {
    if (Result<std::string> b = ResolveUrl(page_url, parsed.base_href, options.url_rules); b.ok()) base = *b;
  }
  UrlResolver resolver(base, options.url_rules);
  if (!parsed.canonical.empty()) {
    if (Result<std::string> c = resolver.Resolve(parsed.canonical); c.ok()) record.canonical = *c;
  }
  PageLinks result{.candidates = {}, .refresh = {}, .refresh_delay = 0, .fast_path = parsed.fast_path, .bailout = parsed.bailout};
  std::vector<LinkCandidate>& out = result.candidates;
  out.reserve(parsed.links.size());
  for (const HtmlLink& link : parsed.links) {
    Result<std::string> url = resolver.Resolve(link.href);
    if (!url.ok()) {
      out.push_back({link.href, HasOtherScheme(link.href) ? "not_http" : "bad_url"});
    } else if ((link.nofollow || parsed.meta_nofollow) && !follow_nofollow) {
      out.push_back({*url, "nofollow"});
    } else {
      out.push_back({*url, ""});
    }
  }
  if (parsed.refresh && !parsed.refresh->url.empty()) {
    // Resolved against the base, as the HTML Standard's refresh steps parse it relative to the document.
    Result<std::string> url = resolver.Resolve(parsed.refresh->url);
    if (url.ok() && parsed.refresh->delay_seconds <= options.max_meta_refresh_delay) {
      result.refresh = *url;
      result.refresh_delay = parsed.refresh->delay_seconds;
    } else if (url.ok()) {
      out.push_back({*url, parsed.meta_nofollow && !follow_nofollow ? "nofollow" : ""});
    }
  }
  record.parse = ThreadCpuSeconds() - start;
  return result;
}

std::vector<LinkRecord> DecideLinks(std::vector<LinkCandidate> candidates, const std::string& page_url, int page_depth,
                                    const CrawlOptions& options, Frontier& frontier,
                                    std::map<std::string, int64_t>& skipped_by_reason) {
  std::vector<LinkRecord> links;
  links.reserve(candidates.size());
  for (LinkCandidate& c : candidates) {
    if (c.reason.empty() && c.url.size() > options.max_url_length) c.reason = "too_long";
    if (c.reason.empty()) {
      // The page's key has no session id: the same page under a fresh one is a duplicate.
      StripSessionIds(c.url);
      if (std::optional<TrapFinding> trap = FindTrap(c.url, options.traps)) c.reason = std::move(trap->rule);
    }
    Frontier::Verdict verdict = Frontier::Verdict::kDuplicate;
    if (c.reason.empty()) {
      verdict = frontier.Offer(c.url, page_depth + 1, page_url);
      c.reason = Frontier::ReasonFor(verdict);
    }
    if (!c.reason.empty()) ++skipped_by_reason[c.reason];
    const bool unsure = verdict == Frontier::Verdict::kUnsure;
    const bool on_disk = unsure || verdict == Frontier::Verdict::kQueuedOnDisk;
    const Follow followed = !c.reason.empty() ? Follow::kNo : on_disk ? Follow::kOnDisk : Follow::kQueued;
    links.push_back(LinkRecord{
        .to_url = std::move(c.url), .followed = followed, .reason = std::move(c.reason), .unsure = unsure});
  }
  return links;
}

FetchRequest SitemapRequest(const CrawlOptions& options, const std::string& url) {
  FetchRequest request = RequestFor(options, url);
  request.max_bytes = std::max<size_t>(options.max_bytes, 50 << 20);
  return request;
}

std::vector<std::string> OriginsOf(const std::vector<std::string>& seeds) {
  std::vector<std::string> origins;
  for (const std::string& seed : seeds) {
    std::string origin(OriginOf(seed));
    if (std::find(origins.begin(), origins.end(), origin) == origins.end()) origins.push_back(std::move(origin));
  }
  return origins;
}

}  // namespace fanout
