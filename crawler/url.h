// URL resolution and normalisation: one page, one key.
//
// A crawler meets the same page written many ways (`p1.html`, `./p1.html`, `/d/../p1.html`,
// `HTTP://Host:80/p1.html#top`, `\p1.html`). ResolveUrl turns an href found on a page into the
// absolute URL the frontier deduplicates on, as a browser would request it: parsing is the WHATWG
// URL Standard's (crawler/whatwg_url.h: lower-case scheme and host, IDNA, IPv4 number forms, no
// default port, no dot segments, the standard's percent-encode sets). The crawler's own
// normalisation on top is one step: the fragment is dropped, since a server never sees it.
// Nothing else a server would see is changed: escapes keep their case (`%7e` is not `~`), and an
// empty query (`page?`) is kept.
//
// Runs before schema version 8 normalised by RFC 3986 instead (curl's URL API, then section 6.2.2:
// unreserved escapes decoded, hex upper-cased, an empty query dropped). Their keys are kept as
// they were, so a database remembers its rules (runs.url_normalization) and `why`, `cat` and
// --resume normalise with the run's: UrlRules::kRfc3986.
//
// Thread-safe: pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "crawler/whatwg_url.h"
#include "util/result.h"

typedef struct Curl_URL CURLU;

namespace fanout {

// How a run's URLs were normalised; stored by name in runs.url_normalization.
enum class UrlRules {
  kWhatwg,   // "whatwg": the WHATWG URL Standard, fragment dropped; every run since schema version 8
  kRfc3986,  // "rfc3986": curl's RFC 3986 parser and 6.2.2 normalisation; the runs before it
};
std::string_view UrlRulesName(UrlRules rules);
std::optional<UrlRules> UrlRulesNamed(std::string_view name);

// Returns the normalised form of an absolute http or https URL.
// Fails with kInvalidArgument for a malformed URL, a relative one, or another scheme.
Result<std::string> NormalizeUrl(std::string_view absolute_url, UrlRules rules = UrlRules::kWhatwg);

// Resolves `href` (as written in a page: surrounding whitespace, tabs and newlines allowed)
// against `base`, an absolute http(s) URL, and normalises the result. Fails for other schemes
// (mailto:, javascript:, ftp:, ...) and where the rules find the href malformed.
Result<std::string> ResolveUrl(std::string_view base, std::string_view href, UrlRules rules = UrlRules::kWhatwg);

// ResolveUrl for many hrefs on one page: the base is parsed once, and an href met again, or met
// with another fragment, is answered from memory (a JDK API page has ~105 links to ~32 URLs).
// Same results as ResolveUrl(base, href, rules). Not thread-safe: one per page.
//
// Under kWhatwg, a fast path resolves the common href (a relative path, an absolute path or a
// query, written with unreserved and sub-delimiter characters, '@' and escapes, against a base
// already in normal form) by merging and dot-segment removal, without the full parser; anything
// unusual goes to the full parser. `how` = kFullParser sends every href there: for one href
// (ResolveUrl), where the fast path's look at the base costs as much, and to test the fast path
// against. kRfc3986 always takes curl.
class UrlResolver {
 public:
  enum class How { kFastPath, kFullParser };
  explicit UrlResolver(std::string_view base, UrlRules rules = UrlRules::kWhatwg, How how = How::kFastPath);
  UrlResolver(const UrlResolver&) = delete;
  UrlResolver& operator=(const UrlResolver&) = delete;
  ~UrlResolver();

  Result<std::string> Resolve(std::string_view href);

  // Hrefs resolved so far by the fast path, and by the full parser (an href answered from memory
  // is neither).
  size_t fast_resolved() const { return fast_resolved_; }
  size_t full_resolved() const { return full_resolved_; }

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
  Result<std::string> Full(std::string_view href);
  std::optional<std::string> Fast(std::string_view href);

  // The fast path's view of the base: set when the base is in normal form.
  bool fast_ = false;
  size_t fast_resolved_ = 0, full_resolved_ = 0;
  std::string origin_;     // "http://host:port"
  std::string directory_;  // the base's path up to and including its last '/'
  std::string path_;       // the base's whole path

  UrlRules rules_;
  std::optional<WhatwgUrl> whatwg_base_;                 // kWhatwg
  std::unique_ptr<CURLU, CurlUrlDeleter> curl_base_;     // kRfc3986
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
