#include "crawler/url.h"

#include <curl/curl.h>

#include <memory>

#include "crawler/whatwg_url.h"
#include "util/ascii.h"
#include "util/hex.h"

namespace fanout {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlFreeDeleter {
  void operator()(char* p) const { curl_free(p); }
};
using CurlString = std::unique_ptr<char, CurlFreeDeleter>;

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// RFC 3986 6.2.2.1 and 6.2.2.2: %7e -> ~, %2f stays %2F (reserved characters keep their escape).
std::string NormalizePercentEncoding(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        unsigned char c = static_cast<unsigned char>(hi * 16 + lo);
        if (IsUnreserved(c)) {
          out += static_cast<char>(c);
        } else {
          AppendPercentEncoded(out, c);
        }
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Browsers percent-encode what HTML authors leave raw in an href; curl would reject it.
// Tabs and newlines are removed (WHATWG URL parsing), surrounding whitespace trimmed.
std::string CleanHref(std::string_view href) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  while (!href.empty() && is_space(href.front())) href.remove_prefix(1);
  while (!href.empty() && is_space(href.back())) href.remove_suffix(1);
  std::string out;
  out.reserve(href.size());
  for (char ch : href) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}') {
      AppendPercentEncoded(out, c);
    } else {
      out += ch;
    }
  }
  return out;
}

Status CheckScheme(CURLU* u) {
  char* raw = nullptr;
  if (curl_url_get(u, CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) {
    return Status::InvalidArgument("URL has no scheme");
  }
  CurlString scheme(raw);
  std::string_view s(scheme.get());
  if (s != "http" && s != "https") {
    return Status::InvalidArgument("unsupported scheme '" + std::string(s) + "'");
  }
  return Status::Ok();
}

// Applies what CURLU does not: host case, percent-encoding, no fragment. Then serialises.
Result<std::string> Finish(CURLU* u) {
  FANOUT_RETURN_IF_ERROR(CheckScheme(u));
  char* raw = nullptr;
  if (curl_url_get(u, CURLUPART_HOST, &raw, 0) != CURLUE_OK) {
    return Status::InvalidArgument("URL has no host");
  }
  std::string host(CurlString(raw).get());
  AsciiLowerInPlace(host);
  curl_url_set(u, CURLUPART_HOST, host.c_str(), 0);
  curl_url_set(u, CURLUPART_FRAGMENT, nullptr, 0);

  raw = nullptr;
  if (curl_url_get(u, CURLUPART_URL, &raw, CURLU_NO_DEFAULT_PORT) != CURLUE_OK) {
    return Status::InvalidArgument("URL cannot be serialised");
  }
  // Percent-encoding is normalised on the serialised path and query: curl_url_set() would write
  // the escapes back in lower case.
  std::string url(CurlString(raw).get());
  size_t path_start = url.find('/', url.find("://") + 3);
  if (path_start == std::string::npos) return url;
  return url.substr(0, path_start) + NormalizePercentEncoding(std::string_view(url).substr(path_start));
}

Status SetUrl(CURLU* u, const std::string& url, std::string_view what) {
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument(std::string(what) + " '" + url + "': " + curl_url_strerror(rc));
  }
  return Status::Ok();
}

// The WHATWG parser's answer for a crawl: http and https only, fragment dropped.
Result<std::string> Crawlable(Result<WhatwgUrl> url) {
  if (!url.ok()) return url.status();
  if (url->scheme != "http" && url->scheme != "https") {
    return Status::InvalidArgument("unsupported scheme '" + url->scheme + "'");
  }
  return url->Serialize(/*with_fragment=*/false);
}

}  // namespace

std::string_view UrlRulesName(UrlRules rules) { return rules == UrlRules::kWhatwg ? "whatwg" : "rfc3986"; }

std::optional<UrlRules> UrlRulesNamed(std::string_view name) {
  if (name == "whatwg") return UrlRules::kWhatwg;
  if (name == "rfc3986") return UrlRules::kRfc3986;
  return std::nullopt;
}

Result<std::string> NormalizeUrl(std::string_view absolute_url, UrlRules rules) {
  if (rules == UrlRules::kWhatwg) {
    Result<std::string> url = Crawlable(ParseWhatwgUrl(absolute_url));
    if (!url.ok()) return Status::InvalidArgument("bad URL '" + std::string(absolute_url) + "': " + url.status().message());
    return url;
  }
  CurlUrl u(curl_url());
  FANOUT_RETURN_IF_ERROR(SetUrl(u.get(), CleanHref(absolute_url), "bad URL"));
  return Finish(u.get());
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view href, UrlRules rules) {
  // One href: the fast path's look at the base would cost as much as the full parser.
  return UrlResolver(base, rules, UrlResolver::How::kFullParser).Resolve(href);
}

void UrlResolver::CurlUrlDeleter::operator()(CURLU* u) const { curl_url_cleanup(u); }

UrlResolver::UrlResolver(std::string_view base, UrlRules rules, How how) : rules_(rules) {
  if (rules_ == UrlRules::kRfc3986) {
    curl_base_.reset(curl_url());
    base_status_ = SetUrl(curl_base_.get(), std::string(base), "bad base URL");
    if (base_status_.ok()) base_status_ = CheckScheme(curl_base_.get());
    return;
  }
  Result<WhatwgUrl> parsed = ParseWhatwgUrl(base);
  if (parsed.ok() && parsed->scheme != "http" && parsed->scheme != "https") {
    parsed = Status::InvalidArgument("unsupported scheme '" + parsed->scheme + "'");
  }
  if (!parsed.ok()) {
    base_status_ = Status::InvalidArgument("bad base URL '" + std::string(base) + "': " + parsed.status().message());
    return;
  }
  whatwg_base_ = *std::move(parsed);
  if (how != How::kFastPath) return;
  // The fast path merges against the base as written, so the base must be what the parser makes
  // of it, with no user-info, fragment or empty path segment to think about.
  if (whatwg_base_->Serialize() != base || !whatwg_base_->username.empty() || !whatwg_base_->password.empty() ||
      whatwg_base_->path.find("//") != std::string::npos) {
    return;
  }
  path_ = whatwg_base_->path;
  origin_ = std::string(base.substr(0, base.find("://") + 3 + AuthorityOf(base).size()));
  directory_ = path_.substr(0, path_.rfind('/') + 1);
  fast_ = true;
}

namespace {

// RFC 3986 5.2.4: the path with its "." and ".." segments applied. On a path without empty
// segments it is the WHATWG path state's handling of them.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto drop_last_segment = [&] { out.resize(out.empty() ? 0 : out.rfind('/') == std::string::npos ? 0 : out.rfind('/')); };
  while (!in.empty()) {
    if (in.substr(0, 3) == "../") {
      in.remove_prefix(3);
    } else if (in.substr(0, 2) == "./") {
      in.remove_prefix(2);
    } else if (in.substr(0, 3) == "/./") {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.substr(0, 4) == "/../") {
      in.remove_prefix(3);
      drop_last_segment();
    } else if (in == "/..") {
      in = "/";
      drop_last_segment();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const size_t end = in.find('/', in.front() == '/' ? 1 : 0);
      out.append(in.substr(0, end));
      in.remove_prefix(end == std::string_view::npos ? in.size() : end);
    }
  }
  return out;
}

// Characters the standard's path and special-query percent-encode sets leave alone, except
// ':' (it could end a scheme), '\' (a slash in special URLs) and '\'' (encoded in a query, so
// the caller checks it there). '%' is allowed: escapes are kept as written, and "%2e", which is a
// dot segment, is checked by the caller.
bool FastHrefChar(char c) {
  return IsUnreserved(static_cast<unsigned char>(c)) || c == '/' || c == '?' || c == '@' || c == '!' || c == '$' ||
         c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' ||
         c == '%';
}

bool HasEscapedDot(std::string_view s) {
  for (size_t i = s.find('%'); i != std::string_view::npos && i + 2 < s.size(); i = s.find('%', i + 1)) {
    if (s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> UrlResolver::Fast(std::string_view href) {
  if (!fast_ || href.empty() || href.substr(0, 2) == "//") return std::nullopt;
  for (char c : href) {
    if (!FastHrefChar(c)) return std::nullopt;
  }
  const size_t q = href.find('?');
  const std::string_view ref_path = href.substr(0, q);
  // Empty segments are kept by the standard where dot-segment removal would fold them ("..//x").
  if (ref_path.find("//") != std::string_view::npos || HasEscapedDot(ref_path)) return std::nullopt;
  if (q != std::string_view::npos && href.find('\'', q) != std::string_view::npos) return std::nullopt;
  std::string path;
  if (ref_path.empty()) {
    path = path_;  // "?query": the base's path
  } else if (ref_path.front() == '/') {
    path = RemoveDotSegments(ref_path);
  } else {
    path = RemoveDotSegments(directory_ + std::string(ref_path));
  }
  std::string url = origin_ + path;
  if (q != std::string_view::npos) url.append(href.substr(q));
  ++fast_resolved_;
  return url;
}

UrlResolver::~UrlResolver() = default;

Result<std::string> UrlResolver::Full(std::string_view href) {
  ++full_resolved_;
  if (rules_ == UrlRules::kWhatwg) return Crawlable(ParseWhatwgUrl(href, &*whatwg_base_));
  CurlUrl u(curl_url_dup(curl_base_.get()));
  const std::string cleaned = CleanHref(href);
  // "" and "#frag" refer to the base document itself (curl 7.88 mis-resolves a lone fragment).
  if (cleaned.empty() || cleaned[0] == '#') return Finish(u.get());
  FANOUT_RETURN_IF_ERROR(SetUrl(u.get(), cleaned, "bad link"));
  return Finish(u.get());
}

Result<std::string> UrlResolver::Resolve(std::string_view href) {
  if (!base_status_.ok()) return base_status_;
  // The fragment is dropped from the result, so it is dropped first: "T.html#a" and "T.html#b",
  // as an API page writes them by the hundred, are one resolution. Not when a space or control
  // ends what is left: the parser trims those at the end of the whole href only.
  const std::string_view before_fragment = href.substr(0, href.find('#'));
  if (before_fragment.empty() || static_cast<unsigned char>(before_fragment.back()) > 0x20) href = before_fragment;
  if (auto it = remembered_.find(href); it != remembered_.end()) return it->second;
  std::optional<std::string> fast = Fast(href);
  Result<std::string> url = fast ? Result<std::string>(*std::move(fast)) : Full(href);
  if (remembered_.size() < kMaxRemembered) remembered_.emplace(std::string(href), url);
  return url;
}

std::string_view AuthorityOf(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

std::string_view OriginOf(std::string_view url) {
  const std::string_view authority = AuthorityOf(url);
  return url.substr(0, static_cast<size_t>(authority.data() - url.data()) + authority.size());
}

std::string_view PathAndQueryOf(std::string_view url) {
  std::string_view rest = url.substr(OriginOf(url).size());
  rest = rest.substr(0, rest.find('#'));
  return rest.empty() ? std::string_view("/") : rest;
}

std::string_view HostOf(std::string_view url) {
  std::string_view authority = AuthorityOf(url);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

}  // namespace fanout
