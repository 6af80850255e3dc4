// The WHATWG URL Standard's basic URL parser and serializer, for the special schemes.
//
// Browsers resolve links this way, and pages are written for browsers: `\docs\a.html` is a path,
// `http:other.html` is relative, `Ｇｏ.com` is `go.com`, `0xc0.0250.01` is 192.168.0.1. The
// parser follows url.spec.whatwg.org section 4.4 state by state for http, https, ws, wss and
// ftp; a non-special scheme or file: fails ("unsupported scheme"), since the crawler fetches
// neither. Hosts go through percent-decoding, IDNA (libidn2, UTS #46 non-transitional; ASCII
// labels only lower-cased), the forbidden-code-point check, and the IPv4 and IPv6 parsers.
// Nothing is added beyond the standard: escapes keep their hex case, unreserved escapes stay.
// libidn2 is stricter than UTS #46 in the labels it sees (IDNA2008 disallows symbols and emoji,
// leading and trailing hyphens, most ASCII punctuation), so such hosts fail here though the
// standard would accept them.
//
// Threads: pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace fanout {

// A parsed URL record with a special scheme. `path` is already serialized ("/a/b", never
// empty); `host` is serialized too (a domain in ASCII, "1.2.3.4", "[::1]").
struct WhatwgUrl {
  std::string scheme;
  std::string username, password;
  std::string host;
  std::optional<uint16_t> port;  // none for the scheme's default port
  std::string path;
  std::optional<std::string> query, fragment;

  // The href: scheme "://" [userinfo "@"] host [":" port] path ["?" query] ["#" fragment].
  std::string Serialize(bool with_fragment = true) const;
};

// Parses `input` (as found in a page or typed by a user), relative to `base` if given.
// Fails with kInvalidArgument where the standard returns failure, and for schemes other than
// the special ones without file:.
Result<WhatwgUrl> ParseWhatwgUrl(std::string_view input, const WhatwgUrl* base = nullptr);

}  // namespace fanout
