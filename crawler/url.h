// URL resolution and normalisation: one page, one key.
//
// A crawler meets the same page written many ways (`p1.html`, `./p1.html`, `/d/../p1.html`,
// `HTTP://Host:80/p1.html#top`). ResolveUrl turns an href found on a page into the absolute,
// normalised URL the frontier deduplicates on. Parsing is libcurl's URL API (CURLU), RFC 3986;
// the normalisation on top of it is RFC 3986 section 6.2.2: lower-case scheme and host, no
// default port, no dot segments, upper-case percent-encoding hex, unreserved characters decoded,
// empty path written "/", fragment dropped. The query is kept as it is.
//
// Thread-safe: pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/result.h"

typedef struct Curl_URL CURLU;

namespace fanout {

// Returns the normalised form of an absolute http or https URL.
// Fails with kInvalidArgument for a malformed URL, a relative one, or another scheme.
Result<std::string> NormalizeUrl(std::string_view absolute_url);

// Resolves `href` (as written in a page, surrounding whitespace allowed) against `base`, an
// absolute http(s) URL, and normalises the result. Spaces and non-ASCII bytes in the href are
// percent-encoded first, as browsers do. Fails for other schemes (mailto:, javascript:, ...).
Result<std::string> ResolveUrl(std::string_view base, std::string_view href);

// ResolveUrl for many hrefs on one page: the base is parsed once, and an href met again, or met
// with another fragment, is answered from memory (a JDK API page has ~105 links to ~32 URLs).
// Same results as ResolveUrl(base, href). Not thread-safe: one per page.
//
// A fast path resolves the common href (a relative path, an absolute path or a query, written with
// unreserved and sub-delimiter characters only, against a base already in normal form) by RFC
// 3986's merge and dot-segment removal, without curl; anything else goes to curl, as before.
// `how` = kCurlOnly sends every href to curl: for one href (ResolveUrl), where the fast path's
// look at the base costs as much as curl, and to test the fast path against.
class UrlResolver {
 public:
  enum class How { kFastPath, kCurlOnly };
  explicit UrlResolver(std::string_view base, How how = How::kFastPath);
  UrlResolver(const UrlResolver&) = delete;
  UrlResolver& operator=(const UrlResolver&) = delete;
  ~UrlResolver();

  Result<std::string> Resolve(std::string_view href);

  // Hrefs resolved so far by the fast path, and by curl (an href answered from memory is neither).
  size_t fast_resolved() const { return fast_resolved_; }
  size_t curl_resolved() const { return curl_resolved_; }

 private:
  struct CurlUrlDeleter {
    void operator()(CURLU* u) const;
  };
  static constexpr size_t kMaxRemembered = 4096;  // a page of 100,000 distinct links stays bounded

  // Looked up by string_view, without making a string of each href.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // The fast path's view of the base: set when the base is in normal form with no '%' in it.
  bool fast_ = false;
  size_t fast_resolved_ = 0, curl_resolved_ = 0;
  std::string origin_;     // "http://host:port"
  std::string directory_;  // the base's path up to and including its last '/'
  std::string path_;       // the base's whole path
  std::optional<std::string> Fast(std::string_view href);

  std::unique_ptr<CURLU, CurlUrlDeleter> base_;
  Status base_status_;
  std::unordered_map<std::string, Result<std::string>, Hash, std::equal_to<>> remembered_;
};

// "127.0.0.1:8080" from "http://127.0.0.1:8080/a": the server a URL talks to (host and port).
// REQUIRES: a URL as NormalizeUrl/ResolveUrl return it.
std::string_view AuthorityOf(std::string_view normalized_url);

// "http://127.0.0.1:8080" from "http://127.0.0.1:8080/a?b": scheme and authority, the origin
// robots.txt belongs to. REQUIRES: a normalised URL.
std::string_view OriginOf(std::string_view normalized_url);

// "/a?b" from "http://127.0.0.1:8080/a?b": what robots.txt rules match against ("/" at least).
// REQUIRES: a normalised URL.
std::string_view PathAndQueryOf(std::string_view normalized_url);

// "example.com" from "http://example.com:8080/a" ("[::1]" stays bracketed).
std::string_view HostOf(std::string_view normalized_url);

}  // namespace fanout
