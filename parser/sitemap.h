// ParseSitemap: the URLs a sitemap lists, from an XML urlset or sitemap index (sitemaps.org 0.9) or
// a plain-text sitemap, gzip-compressed or not. Parsed with expat; inflated with zlib.
//
// ParseSitemap is a pure function with no shared state: any thread may call it at any time. Hostile
// bodies are bounded: the inflated size and the number of URLs are capped (SitemapLimits), and a
// DOCTYPE that declares entities is refused, so "billion laughs" expands nothing. Errors are
// kInvalidArgument with a one-line message that names what was wrong (XML, gzip, root element).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace fanout {

struct SitemapLimits {
  size_t max_urls = 50000;  // URLs kept; the protocol's own cap
  // The body, once inflated if it is gzip, is read up to this many bytes (a zip-bomb guard; plain
  // bodies are held to the same cap). What lies past it is not read: see Sitemap::truncated.
  size_t max_uncompressed_bytes = 50 << 20;
};

struct Sitemap {
  enum class Kind { kUrlSet, kIndex, kText } kind = Kind::kUrlSet;
  // The <loc> of each <url> of a urlset, or of each <sitemap> of an index, or the lines of a text
  // sitemap: entities decoded, surrounding whitespace trimmed, empty ones skipped, in document order.
  // Only the first <loc> of an entry counts, and only one in the sitemap's own vocabulary (an
  // <image:loc> or a <loc> nested deeper is not a page).
  std::vector<std::string> urls;
  // A limit cut the sitemap short. Past max_urls, the first max_urls URLs are kept. Past
  // max_uncompressed_bytes, the URLs complete within the first max_uncompressed_bytes are kept (the
  // XML left unfinished there is not an error; a text line cut there is dropped).
  bool truncated = false;
};

// Parses a sitemap body. It is gzip when it starts with the gzip magic (1f 8b), whatever the URL or
// Content-Type said; it is a text sitemap (one URL per line) when, inflated, it does not start with
// '<' after whitespace and a UTF-8 BOM; else XML, whose root is <urlset> or <sitemapindex>, with or
// without the sitemaps.org namespace (or any prefix the root and its entries share).
// Errors (kInvalidArgument): malformed XML (the line and column, and expat's reason), XML that
// declares entities, a root element that is neither urlset nor sitemapindex, a corrupt or truncated
// gzip stream.
Result<Sitemap> ParseSitemap(std::string_view body, const SitemapLimits& limits = {});

}  // namespace fanout
