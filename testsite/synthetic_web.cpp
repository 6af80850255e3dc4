#include "testsite/synthetic_web.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "util/ascii.h"

namespace fanout::testsite {
namespace {

// Salts keep the independent draws of one page (link kind, target host, target page, ...) apart.
enum Salt : uint64_t {
  kCrossDraw = 1,
  kCrossHost = 2,
  kCrossPage = 3,
  kRobotsKind = 4,
  kRobotsArg = 5,
  kRedirectDraw = 6,
  kRedirectTarget = 7,
};

constexpr uint64_t kRedirectOneIn = 50;
constexpr int kRedirectTargetTries = 16;

double Unit(uint64_t draw) { return static_cast<double>(draw >> 11) / static_cast<double>(1ULL << 53); }

}  // namespace

int HostRobots::status() const {
  switch (kind) {
    case Kind::kNotFound: return 404;
    case Kind::kUnavailable: return 503;
    default: return 200;
  }
}

std::string HostRobots::body() const {
  switch (kind) {
    case Kind::kAllow: return "User-agent: *\nDisallow:\n";
    case Kind::kDisallow: return "User-agent: *\nDisallow: " + prefix + "\n";
    case Kind::kCrawlDelay: {
      char delay[32];
      std::snprintf(delay, sizeof delay, "%g", crawl_delay);
      return std::string("User-agent: *\nCrawl-delay: ") + delay + "\nDisallow:\n";
    }
    default: return {};
  }
}

std::string HostRobots::ToString() const {
  switch (kind) {
    case Kind::kAllow: return "allow";
    case Kind::kDisallow: return "disallow:" + prefix;
    case Kind::kCrawlDelay: {
      char delay[32];
      std::snprintf(delay, sizeof delay, "%g", crawl_delay);
      return std::string("crawl-delay:") + delay;
    }
    case Kind::kNotFound: return "404";
    case Kind::kUnavailable: return "503";
  }
  return "allow";
}

SyntheticWeb::SyntheticWeb(SyntheticOptions site, SyntheticWebOptions web) : site_(site), web_(web) {
  web_.hosts = std::max<uint64_t>(web_.hosts, 1);
  web_.cross_links = std::clamp(web_.cross_links, 0.0, 1.0);
  const uint64_t pages = site_.size();
  const uint64_t links = static_cast<uint64_t>(site_.options().links);
  page_branching_ = std::max<uint64_t>(1, links / 2);

  // The root's first min(b, P-1) slots are its page-tree links; the host-tree links take the
  // slots after them. With one link a page and P > 1 the root has none left, but the last page
  // (a leaf of the page tree) has its one slot free.
  const uint64_t root_tree_slots = std::min(page_branching_, pages - 1);
  uint64_t free_slots = links > root_tree_slots ? links - root_tree_slots : 0;
  tree_first_slot_ = root_tree_slots;
  if (free_slots == 0 && links > 0) {
    tree_page_ = pages - 1;
    tree_first_slot_ = 0;
    free_slots = links;
  }
  // Wide enough that 100,000 hosts are a few levels deep, even with few cross links asked for.
  const auto wanted = static_cast<uint64_t>(std::lround(web_.cross_links * static_cast<double>(links)));
  host_branching_ = std::max<uint64_t>(1, std::clamp(wanted, std::min<uint64_t>(2, free_slots), free_slots));

  // Pick the chance for the free slots so that the expected share over the whole web is
  // cross_links, counting the N-1 host-tree links as cross links already.
  const double n = static_cast<double>(web_.hosts);
  const double all_slots = n * static_cast<double>(pages * links);
  const double page_tree = links > 0 ? n * static_cast<double>(pages - 1) : 0;
  const double host_tree = n - 1;
  const double free = all_slots - page_tree - host_tree;
  if (web_.hosts > 1 && free > 0) {
    cross_chance_ = std::clamp((web_.cross_links * all_slots - host_tree) / free, 0.0, 1.0);
  }
}

uint64_t SyntheticWeb::Hash(uint64_t host, uint64_t page, uint64_t salt) const {
  return Mix64(Mix64(Mix64(site_.options().seed * 0x100000001b3ULL + salt) ^ host) ^ (page * 0x9e3779b97f4a7c15ULL));
}

std::string SyntheticWeb::HostName(uint64_t host, std::string_view domain) {
  return "h" + std::to_string(host) + "." + std::string(domain);
}

std::string SyntheticWeb::OriginOf(uint64_t host, uint16_t port, std::string_view domain) {
  return "http://" + HostName(host, domain) + (port == 80 ? "" : ":" + std::to_string(port));
}

std::optional<uint64_t> SyntheticWeb::HostOf(std::string_view header) const {
  if (size_t colon = header.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = header.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    header = header.substr(0, colon);
  }
  const std::string_view domain = web_.domain;
  if (header.size() < 3 + domain.size() || (header[0] != 'h' && header[0] != 'H') ||
      header[header.size() - domain.size() - 1] != '.' ||
      !EqualsIgnoreCase(header.substr(header.size() - domain.size()), domain)) {
    return std::nullopt;
  }
  std::string_view digits = header.substr(1, header.size() - 2 - domain.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per host
  uint64_t host = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), host);
  if (ec != std::errc() || end != digits.data() + digits.size() || host >= web_.hosts) return std::nullopt;
  return host;
}

bool SyntheticWeb::HasHostChildren(uint64_t host) const { return host * host_branching_ + 1 < web_.hosts; }

std::optional<uint64_t> SyntheticWeb::HostParent(uint64_t host) const {
  if (host == 0) return std::nullopt;
  return (host - 1) / host_branching_;
}

std::vector<WebPage> SyntheticWeb::LinksOf(uint64_t host, uint64_t page) const {
  const uint64_t pages = site_.size();
  const std::vector<uint64_t> local = site_.LinksOf(page);
  std::vector<WebPage> out;
  out.reserve(local.size());
  for (uint64_t j = 0; j < local.size(); ++j) {
    if (j < page_branching_ && page * page_branching_ + 1 + j < pages) {  // the site's page tree
      out.push_back({host, local[j]});
      continue;
    }
    if (page == tree_page_ && j >= tree_first_slot_ && j - tree_first_slot_ < host_branching_) {
      uint64_t child = host * host_branching_ + 1 + (j - tree_first_slot_);
      if (child < web_.hosts) {
        out.push_back({child, 0});
        continue;
      }
    }
    if (web_.hosts > 1 && Unit(Hash(host, page * 1024 + j, kCrossDraw)) < cross_chance_) {
      uint64_t other = (host + 1 + Hash(host, page * 1024 + j, kCrossHost) % (web_.hosts - 1)) % web_.hosts;
      out.push_back({other, Hash(host, page * 1024 + j, kCrossPage) % pages});
    } else {
      out.push_back({host, local[j]});
    }
  }
  return out;
}

HostRobots SyntheticWeb::RobotsOf(uint64_t host) const {
  HostRobots robots;
  if (!web_.robots_mix || host == 0) return robots;  // h0 is where every crawl starts
  const uint64_t draw = Hash(host, 0, kRobotsKind) % 100;
  const uint64_t arg = Hash(host, 0, kRobotsArg);
  if (draw < 70) return robots;
  if (draw < 80) {
    // "/" is never covered; the last page is, sometimes, so it must not carry the host tree.
    if (tree_page_ != 0 && HasHostChildren(host)) return robots;
    robots.kind = HostRobots::Kind::kDisallow;
    robots.prefix = "/s" + std::to_string(arg % 4) + "/";
  } else if (draw < 90) {
    robots.kind = HostRobots::Kind::kCrawlDelay;
    constexpr double kDelays[] = {0.05, 0.1, 0.2};
    robots.crawl_delay = kDelays[arg % 3];
  } else if (draw < 96) {
    robots.kind = HostRobots::Kind::kNotFound;
  } else if (!HasHostChildren(host)) {
    // A crawler must not crawl a host whose robots.txt answers 5xx (RFC 9309 2.3.1.4), so only
    // hosts whose root links no other host may answer it.
    robots.kind = HostRobots::Kind::kUnavailable;
  }
  return robots;
}

bool SyntheticWeb::MayRedirect(uint64_t host, uint64_t page) const {
  if (!web_.cross_redirects || web_.hosts < 2) return false;
  // A redirect hides the page's links: only pages whose links nothing depends on may redirect.
  const bool page_tree_leaf = page * page_branching_ + 1 >= site_.size() || site_.options().links == 0;
  if (!page_tree_leaf || (page == tree_page_ && HasHostChildren(host))) return false;
  return Hash(host, page, kRedirectDraw) % kRedirectOneIn == 0;
}

std::optional<WebPage> SyntheticWeb::CrossRedirectOf(uint64_t host, uint64_t page) const {
  if (!MayRedirect(host, page)) return std::nullopt;
  for (int attempt = 0; attempt < kRedirectTargetTries; ++attempt) {
    uint64_t other = (host + 1 + Hash(host, page * 64 + static_cast<uint64_t>(attempt), kRedirectTarget) %
                                     (web_.hosts - 1)) % web_.hosts;
    if (!MayRedirect(other, page)) return WebPage{other, page};
  }
  return std::nullopt;  // every candidate redirects too (vanishingly rare): serve the page
}

std::string SyntheticWeb::Render(uint64_t host, uint64_t page, uint16_t port, PageFlavor flavor) const {
  std::vector<SiteLink> links;
  for (const WebPage& to : LinksOf(host, page)) {
    links.push_back(
        SiteLink{.page = to.page, .site_url = to.host == host ? std::string() : OriginOf(to.host, port, web_.domain)});
  }
  return site_.RenderWithLinks(page, OriginOf(host, port, web_.domain), links, "on " + HostName(host, web_.domain),
                               flavor);
}

}  // namespace fanout::testsite
