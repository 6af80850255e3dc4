// SyntheticSite: a deterministic web site of N HTML pages, generated on request.
//
// Page i is a pure function of (i, options, base URL): the same seed gives the same bytes, so a
// crawl of it can be repeated and compared across modes and machines. Every page is reachable
// from "/" by following links: the first links of page i form a tree (children i*B+1 .. i*B+B,
// B = max(1, links/2), so depth grows as log N), the rest point at pseudo-random pages.
//
// Pages live at varied paths so every relative link form occurs:
//   page 0          "/"
//   i % 10 == 7     "/list?page=i"             (a page whose URL has a query)
//   i % 3 == 0      "/p<i>.html"
//   i % 3 == 1      "/s<a>/p<i>.html"
//   i % 3 == 2      "/s<a>/t<b>/p<i>.html"
// and links are written as `p12.html`, `./s1/p12.html`, `../p12.html`, `/s1/p12.html`, absolute
// URLs (some with an upper-case scheme), paths with dot segments, and `#fragment` variants, all of
// which normalise to the page's one URL.
//
// A SyntheticWeb (synthetic_web.h) lays many hosts out with one SyntheticSite: it swaps some of a
// page's links for links to other hosts and renders the page with RenderWithLinks.
//
// Thread-safe after construction (const).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fanout::testsite {

struct SyntheticOptions {
  uint64_t pages = 100;
  int links = 10;             // links per page, to other pages of the site
  size_t page_bytes = 5000;   // filler text brings each page to about this size
  uint64_t seed = 1;
};

// One link of a page: to `page` of the site being rendered or, when `site_url` is set
// ("http://h3.localhost:8080"), to `page` of another site with the same layout on that origin.
struct SiteLink {
  uint64_t page = 0;
  std::string site_url;
};

// How a page is rendered; the faults module asks for the broken flavours.
enum class PageFlavor {
  kNormal,
  kMalformed,    // unclosed and stray tags, unquoted attributes, a truncated end; links still there
  kLatin1,       // ISO-8859-1 bytes (the title has "café"); the charset is in the header
  kLatin1Meta,   // the same bytes, charset only in <meta>, none in the header
};

class SyntheticSite {
 public:
  explicit SyntheticSite(SyntheticOptions options);

  uint64_t size() const { return options_.pages; }
  const SyntheticOptions& options() const { return options_; }

  // The page's canonical path and query, e.g. "/", "/s1/t0/p14.html", "/list?page=7".
  // REQUIRES: page < size()
  std::string PathOf(uint64_t page) const;

  // The page served at this (percent-decoded) path and raw query, if any.
  std::optional<uint64_t> PageAt(std::string_view path, std::string_view query) const;

  // The pages that page `page` links to, in document order (duplicates possible).
  std::vector<uint64_t> LinksOf(uint64_t page) const;

  // How many pages lie at each link distance from "/" (its breadth-first levels), nearest first:
  // {1, ...}. Every page is reachable, so they sum to size(). Takes O(size() x links).
  std::vector<uint64_t> LevelSizes() const;

  // The page's title, as it appears in <title> for kNormal.
  std::string TitleOf(uint64_t page) const;

  // The HTML of the page. `base_url` ("http://127.0.0.1:8080") is used for absolute links.
  std::string Render(uint64_t page, std::string_view base_url,
                     PageFlavor flavor = PageFlavor::kNormal) const;

  // The same page with `links` in place of LinksOf(page) and `heading` (when not empty) after
  // "Page i" in <h1>. Links to another site are written as absolute URLs in a few spellings
  // (upper-case scheme or host, a fragment), each of which normalises to the target's one URL.
  // REQUIRES: every link's page < size()
  std::string RenderWithLinks(uint64_t page, std::string_view base_url, const std::vector<SiteLink>& links,
                              std::string_view heading, PageFlavor flavor = PageFlavor::kNormal) const;

 private:
  std::string LinkHref(uint64_t from, uint64_t to, int index, std::string_view base_url) const;
  std::string ForeignHref(uint64_t from, const SiteLink& to, int index) const;
  uint64_t Hash(uint64_t a, uint64_t b) const;

  SyntheticOptions options_;
  std::string filler_;  // deterministic prose; pages take windows of it
};

// SplitMix64: a small, good 64-bit mixer, used wherever the site needs deterministic "randomness".
uint64_t Mix64(uint64_t x);

}  // namespace fanout::testsite
