#include "testsite/synthetic.h"

#include <algorithm>
#include <charconv>

#include "util/ascii.h"

namespace fanout::testsite {
namespace {

constexpr const char* kWords[] = {
    "harbor", "lantern", "crawler", "socket", "event", "loop",    "page",   "anchor", "river",
    "signal", "thread",  "queue",   "latency", "fan",  "out",     "tide",   "library", "ledger",
    "frame",  "await",   "resume",  "timer",  "epoll", "permit",  "window", "frontier", "link",
    "stone",  "meadow",  "copper",  "quiet",  "north", "lighthouse", "map", "index",   "breadth",
};

// Directory segments of page i's path ({} for the root directory).
std::vector<std::string> DirsOf(uint64_t i) {
  if (i == 0 || i % 10 == 7) return {};
  switch (i % 3) {
    case 1: return {"s" + std::to_string((i / 3) % 4)};
    case 2: return {"s" + std::to_string((i / 3) % 4), "t" + std::to_string((i / 12) % 3)};
    default: return {};
  }
}

// The last part of page i's URL: file name (with query), or "" for the index.
std::string FileOf(uint64_t i) {
  if (i == 0) return "";
  if (i % 10 == 7) return "list?page=" + std::to_string(i);
  return "p" + std::to_string(i) + ".html";
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Utf8ToLatin1(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {  // U+0080..U+00FF: the only ones we write
      out += static_cast<char>(static_cast<unsigned char>(s[i + 1]) + (c == 0xC3 ? 0x40 : 0));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

SyntheticSite::SyntheticSite(SyntheticOptions options) : options_(options) {
  if (options_.pages == 0) options_.pages = 1;
  if (options_.links < 0) options_.links = 0;
  // 64 KiB of prose is plenty: pages take windows of it at hashed offsets.
  uint64_t state = Mix64(options_.seed ^ 0xf111e7);
  size_t sentence = 0;
  while (filler_.size() < 64 * 1024) {
    state = Mix64(state);
    std::string word = kWords[state % std::size(kWords)];
    if (sentence == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    filler_ += word;
    if (++sentence > 6 + state % 9) {
      filler_ += ". ";
      sentence = 0;
    } else {
      filler_ += ' ';
    }
  }
}

uint64_t SyntheticSite::Hash(uint64_t a, uint64_t b) const {
  return Mix64(Mix64(options_.seed * 0x100000001b3ULL + a) ^ b);
}

std::string SyntheticSite::PathOf(uint64_t page) const {
  std::string path = "/";
  for (const auto& d : DirsOf(page)) path += d + "/";
  return path + FileOf(page);
}

std::optional<uint64_t> SyntheticSite::PageAt(std::string_view path, std::string_view query) const {
  if (path == "/" && query.empty()) return 0;
  uint64_t page = 0;
  if (path == "/list") {
    constexpr std::string_view kKey = "page=";
    if (query.substr(0, kKey.size()) != kKey) return std::nullopt;
    std::string_view digits = query.substr(kKey.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), page);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  } else {
    size_t slash = path.rfind('/');
    std::string_view file = path.substr(slash + 1);
    if (file.size() < 7 || file[0] != 'p' || file.substr(file.size() - 5) != ".html") return std::nullopt;
    std::string_view digits = file.substr(1, file.size() - 6);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), page);
    if (ec != std::errc() || end != digits.data() + digits.size() || !query.empty()) return std::nullopt;
  }
  if (page >= options_.pages || page == 0) return std::nullopt;
  // Only the canonical spelling is a page: "/p01.html" or "/s9/p4.html" are not.
  std::string canonical = PathOf(page);
  std::string asked(path);
  if (!query.empty()) asked += "?" + std::string(query);
  if (asked != canonical) return std::nullopt;
  return page;
}

std::vector<uint64_t> SyntheticSite::LinksOf(uint64_t page) const {
  std::vector<uint64_t> out;
  const uint64_t n = options_.pages;
  const uint64_t branching = std::max(1, options_.links / 2);
  for (int j = 0; j < options_.links; ++j) {
    uint64_t child = page * branching + 1 + static_cast<uint64_t>(j);
    if (static_cast<uint64_t>(j) < branching && child < n) {
      out.push_back(child);
    } else {
      out.push_back(Hash(page, 1000 + static_cast<uint64_t>(j)) % n);
    }
  }
  return out;
}

std::vector<uint64_t> SyntheticSite::LevelSizes() const {
  std::vector<bool> seen(options_.pages, false);
  std::vector<uint64_t> level = {0}, sizes;
  seen[0] = true;
  while (!level.empty()) {
    sizes.push_back(level.size());
    std::vector<uint64_t> next;
    for (uint64_t page : level) {
      for (uint64_t to : LinksOf(page)) {
        if (!seen[to]) {
          seen[to] = true;
          next.push_back(to);
        }
      }
    }
    level = std::move(next);
  }
  return sizes;
}

std::string SyntheticSite::TitleOf(uint64_t page) const {
  return "Page " + std::to_string(page) + " of " + std::to_string(options_.pages) +
         " \xC2\xB7 fanout synthetic site";
}

std::string SyntheticSite::LinkHref(uint64_t from, uint64_t to, int index,
                                    std::string_view base_url) const {
  const std::vector<std::string> from_dirs = DirsOf(from);
  const std::vector<std::string> to_dirs = DirsOf(to);
  const std::string to_path = PathOf(to);

  // The shortest relative reference from `from`'s directory to `to`.
  size_t common = 0;
  while (common < from_dirs.size() && common < to_dirs.size() && from_dirs[common] == to_dirs[common]) {
    ++common;
  }
  std::string relative;
  for (size_t k = common; k < from_dirs.size(); ++k) relative += "../";
  for (size_t k = common; k < to_dirs.size(); ++k) relative += to_dirs[k] + "/";
  relative += FileOf(to);
  if (relative.empty()) relative = "./";  // the root index, seen from the root directory

  const uint64_t form = Hash(from, static_cast<uint64_t>(index)) % 9;
  switch (form) {
    case 0: return relative;
    case 1: return relative.rfind("../", 0) == 0 || relative == "./" ? relative : "./" + relative;
    case 2: return to_path;
    case 3: return std::string(base_url) + to_path;
    case 4: {  // upper-case scheme: "HTTP://127.0.0.1:8080/..."
      std::string url = std::string(base_url) + to_path;
      for (size_t k = 0; k < url.size() && url[k] != ':'; ++k) url[k] = AsciiUpper(url[k]);
      return url;
    }
    case 5: return "/x" + std::to_string(index) + "/.." + to_path;  // dot segments
    case 6: return relative + "#section-" + std::to_string(index);
    case 7: return to_path + "#top";
    default: return std::string(base_url) + to_path + "#";
  }
}

std::string SyntheticSite::ForeignHref(uint64_t from, const SiteLink& to, int index) const {
  std::string url = to.site_url + PathOf(to.page);
  switch (Hash(from, 5000 + static_cast<uint64_t>(index)) % 4) {
    case 0: return url;
    case 1: {  // "HTTP://H3.LOCALHOST:8080/...": scheme and host are case-insensitive
      size_t host_end = url.find('/', url.find("//") + 2);
      for (size_t k = 0; k < host_end; ++k) url[k] = AsciiUpper(url[k]);
      return url;
    }
    case 2: return url + "#from-" + std::to_string(from);
    default: return url + "#";
  }
}

std::string SyntheticSite::Render(uint64_t page, std::string_view base_url, PageFlavor flavor) const {
  std::vector<SiteLink> links;
  for (uint64_t to : LinksOf(page)) links.push_back(SiteLink{.page = to, .site_url = {}});
  return RenderWithLinks(page, base_url, links, {}, flavor);
}

std::string SyntheticSite::RenderWithLinks(uint64_t page, std::string_view base_url,
                                           const std::vector<SiteLink>& links, std::string_view heading,
                                           PageFlavor flavor) const {
  const bool latin1 = flavor == PageFlavor::kLatin1 || flavor == PageFlavor::kLatin1Meta;
  const bool malformed = flavor == PageFlavor::kMalformed;
  std::string title = TitleOf(page);
  if (latin1) title += " \xE2\x80\x94 caf\xC3\xA9 na\xC3\xAFve";  // U+2014 is not Latin-1: replaced below
  std::string html;
  html.reserve(options_.page_bytes + 512);
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n";
  if (flavor == PageFlavor::kLatin1Meta) {
    html += "<meta charset=\"iso-8859-1\">\n";
  } else if (!latin1) {
    html += "<meta charset=\"utf-8\">\n";
  }
  html += "<title>" + HtmlEscape(title) + "</title>\n</head>\n<body>\n";
  html += "<h1>Page " + std::to_string(page);
  if (!heading.empty()) html += " " + HtmlEscape(heading);
  html += "</h1>\n";
  html += malformed ? "<div class=nav><ul>\n" : "<nav>\n<ul>\n";
  for (size_t j = 0; j < links.size(); ++j) {
    const SiteLink& link = links[j];
    const int index = static_cast<int>(j);
    std::string href = HtmlEscape(link.site_url.empty() ? LinkHref(page, link.page, index, base_url)
                                                        : ForeignHref(page, link, index));
    std::string label = "page " + std::to_string(link.page);
    if (malformed) {
      // Unquoted or single-quoted attributes, unclosed <li> and <b>, a stray </span>.
      if (j % 3 == 0 && href.find_first_of(" >'") == std::string::npos) {
        html += "<li><a href=" + href + "><b>" + label + "</a>\n";
      } else {
        html += "<li><A HREF='" + href + "'>" + label + "</A></span>\n";
      }
    } else {
      html += "<li><a href=\"" + href + "\">" + label + "</a></li>\n";
    }
  }
  html += malformed ? "</ul>\n<table><tr><td><p>" : "</ul>\n</nav>\n<p>";

  const size_t closing = malformed ? 16 : 20;
  if (html.size() + closing < options_.page_bytes) {
    size_t need = options_.page_bytes - html.size() - closing;
    size_t offset = Hash(page, 7) % (filler_.size() / 2);
    while (need > 0) {
      size_t take = std::min(need, filler_.size() - offset);
      html.append(filler_, offset, take);
      need -= take;
      offset = 0;
    }
  }
  html += malformed ? "</td></p></div\n<!-- unterminated" : "</p>\n</body>\n</html>\n";
  if (latin1) {
    size_t dash;
    while ((dash = html.find("\xE2\x80\x94")) != std::string::npos) html.replace(dash, 3, "-");
    html = Utf8ToLatin1(html);
  }
  return html;
}

}  // namespace fanout::testsite
