// SyntheticWeb: a deterministic web of N hosts, h0.D .. h{N-1}.D under a domain D (`localhost` by
// default: h0.localhost ..), each a SyntheticSite of P pages with the same layout, for crawls that
// must spread over many hosts.
//
// Everything is a pure function of (host, page, options): nothing is stored per host, so a web of
// 100,000 hosts costs one SyntheticSite. Every page of every host is reachable from h0's root:
//   - inside a host, the site's page tree (its first links) is kept as it is;
//   - the hosts form a tree too: host k's root is linked from the root page of host (k-1)/B
//     (B = host_branching()), in the root's slots the page tree leaves free (with --links 1,
//     from the host's last page instead, the only one with a free slot);
//   - the other links point at another host with a probability chosen so that cross_links of all
//     links leave their host (the host-tree links count; they are the floor), else stay inside.
// The robots.txt mix and the cross-host redirects are placed so that neither can cut a host off
// for a crawler that obeys them: h0 always allows all, 503 goes only to hosts without host-tree
// children, a Disallow never covers "/" (nor the last page when it carries the host-tree links),
// and only pages whose loss of links orphans nothing redirect.
//
// Thread-safe: const after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testsite/synthetic.h"

namespace fanout::testsite {

inline constexpr std::string_view kDefaultWebDomain = "localhost";

struct SyntheticWebOptions {
  uint64_t hosts = 1;
  std::string domain = std::string(kDefaultWebDomain);  // the hosts are hK.domain, lower case
  double cross_links = 0.5;      // share of all links that point at another host
  bool robots_mix = false;       // per-host robots.txt variety (else every host allows all)
  bool cross_redirects = false;  // about 1 page in 50 answers 301 to its path on another host
};

// What a host's /robots.txt answers.
struct HostRobots {
  enum class Kind { kAllow, kDisallow, kCrawlDelay, kNotFound, kUnavailable };
  Kind kind = Kind::kAllow;
  std::string prefix;        // kDisallow: "/s1/"
  double crawl_delay = 0;    // kCrawlDelay: seconds

  int status() const;        // 200, 404 or 503
  std::string body() const;  // the robots.txt text for a 200 (empty otherwise)
  // "allow", "disallow:/s1/", "crawl-delay:0.1", "404" or "503": how GET /__hosts names it.
  std::string ToString() const;
};

// A page of the web.
struct WebPage {
  uint64_t host = 0;
  uint64_t page = 0;
  friend bool operator==(const WebPage&, const WebPage&) = default;
};

class SyntheticWeb {
 public:
  // REQUIRES: web.hosts >= 1, 0 <= web.cross_links <= 1
  SyntheticWeb(SyntheticOptions site, SyntheticWebOptions web);

  const SyntheticSite& site() const { return site_; }
  const SyntheticWebOptions& options() const { return web_; }
  uint64_t hosts() const { return web_.hosts; }
  uint64_t host_branching() const { return host_branching_; }

  // "h3.localhost", or "h3.web.test" for the domain "web.test".
  static std::string HostName(uint64_t host, std::string_view domain = kDefaultWebDomain);
  // The host a Host header names: "h3.localhost", "H3.LocalHost:8080" -> 3 (for this web's domain).
  // Nothing for any other name, a non-canonical number ("h03") or one >= hosts().
  std::optional<uint64_t> HostOf(std::string_view host_header) const;
  // "http://h3.localhost:8080", the origin of a host's absolute links; port 80 is left out
  // ("http://h3.web.test").
  static std::string OriginOf(uint64_t host, uint16_t port, std::string_view domain = kDefaultWebDomain);

  // The links of a page, in document order (duplicates possible). REQUIRES: host < hosts(), page < P
  std::vector<WebPage> LinksOf(uint64_t host, uint64_t page) const;
  // The host whose root page links `host`'s root (the host tree); nothing for h0.
  std::optional<uint64_t> HostParent(uint64_t host) const;

  // Where a page redirects (301, same path, another host) under cross_redirects; nothing for a
  // page that is served. A redirect target never redirects itself.
  std::optional<WebPage> CrossRedirectOf(uint64_t host, uint64_t page) const;

  HostRobots RobotsOf(uint64_t host) const;

  // The page's HTML, its links written for a server on `port` (links to other hosts as absolute
  // URLs on their hK.D origin).
  std::string Render(uint64_t host, uint64_t page, uint16_t port, PageFlavor flavor = PageFlavor::kNormal) const;

 private:
  uint64_t Hash(uint64_t host, uint64_t page, uint64_t salt) const;
  bool HasHostChildren(uint64_t host) const;
  bool MayRedirect(uint64_t host, uint64_t page) const;

  SyntheticSite site_;
  SyntheticWebOptions web_;
  uint64_t page_branching_ = 1;   // the site's page tree: children of page i are i*b+1 .. i*b+b
  uint64_t host_branching_ = 1;   // children of host k are k*B+1 .. k*B+B
  uint64_t tree_page_ = 0;        // the page of each host that carries its host-tree links
  uint64_t tree_first_slot_ = 0;  // ... from this link slot on
  double cross_chance_ = 0;       // chance that a free slot links another host
};

}  // namespace fanout::testsite
