#include "crawler/url.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>

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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 6.2.2.1 and 6.2.2.2: %7e -> ~, %2f stays %2F (reserved characters keep their escape).
std::string NormalizePercentEncoding(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
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
          out += '%';
          out += kHex[hi];
          out += kHex[lo];
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
  static constexpr char kHex[] = "0123456789ABCDEF";
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
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
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
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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

}  // namespace

Result<std::string> NormalizeUrl(std::string_view absolute_url) {
  CurlUrl u(curl_url());
  FANOUT_RETURN_IF_ERROR(SetUrl(u.get(), CleanHref(absolute_url), "bad URL"));
  return Finish(u.get());
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view href) {
  return UrlResolver(base).Resolve(href);
}

void UrlResolver::CurlUrlDeleter::operator()(CURLU* u) const { curl_url_cleanup(u); }

UrlResolver::UrlResolver(std::string_view base) : base_(curl_url()) {
  base_status_ = SetUrl(base_.get(), std::string(base), "bad base URL");
  if (base_status_.ok()) base_status_ = CheckScheme(base_.get());
}

UrlResolver::~UrlResolver() = default;

Result<std::string> UrlResolver::Resolve(std::string_view href) {
  if (!base_status_.ok()) return base_status_;
  // The fragment is dropped from the result, so it is dropped first: "T.html#a" and "T.html#b",
  // as an API page writes them by the hundred, are one resolution.
  href = href.substr(0, href.find('#'));
  if (auto it = remembered_.find(href); it != remembered_.end()) return it->second;
  CurlUrl u(curl_url_dup(base_.get()));
  const std::string cleaned = CleanHref(href);
  Result<std::string> url = [&]() -> Result<std::string> {
    // "" and "#frag" refer to the base document itself (curl 7.88 mis-resolves a lone fragment).
    if (cleaned.empty() || cleaned[0] == '#') return Finish(u.get());
    FANOUT_RETURN_IF_ERROR(SetUrl(u.get(), cleaned, "bad link"));
    return Finish(u.get());
  }();
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
