#include "testsite/traps.h"

#include <charconv>

namespace fanout::testsite {
namespace {

std::string SessionId(std::mt19937_64& rng) {
  static const char* hex = "0123456789ABCDEF";
  std::string id;
  for (int i = 0; i < 32; ++i) id += hex[rng() % 16];
  return id;
}

std::string Page(std::string_view title, std::string_view links) {
  return "<!DOCTYPE html>\n<html><head><title>" + std::string(title) + "</title></head><body>\n<h1>" +
         std::string(title) + "</h1>\n" + std::string(links) + "<p><a href=\"/\">home</a></p>\n</body></html>\n";
}

// The value of `name` in a raw query, if it is a whole number.
std::optional<int> Number(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = std::min(query.size(), query.find('&'));
    std::string_view pair = query.substr(0, end);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
      std::string_view value = pair.substr(name.size() + 1);
      int n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && ptr == value.data() + value.size()) return n;
      return std::nullopt;
    }
    query.remove_prefix(std::min(query.size(), end + 1));
  }
  return std::nullopt;
}

std::string SessionLinks(std::mt19937_64& rng) {
  std::string links;
  for (int k = 0; k < 5; ++k) {
    links += "<p><a href=\"/app/p" + std::to_string(k) + ";jsessionid=" + SessionId(rng) + "\">app " +
             std::to_string(k) + "</a></p>\n";
  }
  return links;
}

}  // namespace

std::string TrapEntryLinks(std::mt19937_64& rng) {
  return "<p><a href=\"/cal?y=2026&amp;m=1\">calendar</a> <a href=\"/docs/\">docs</a> <a href=\"/app/p0;jsessionid=" +
         SessionId(rng) + "\">app</a> <a href=\"/feed?page=1\">feed</a></p>\n";
}

std::optional<TrapPage> RenderTrap(std::string_view path, std::string_view query, std::mt19937_64& rng) {
  if (path == "/cal") {
    const std::optional<int> y = Number(query, "y"), m = Number(query, "m");
    if (!y || !m || *y < 1 || *y > 9999 || *m < 1 || *m > 12) return std::nullopt;
    const int before_y = *m == 1 ? *y - 1 : *y, before_m = *m == 1 ? 12 : *m - 1;
    const int after_y = *m == 12 ? *y + 1 : *y, after_m = *m == 12 ? 1 : *m + 1;
    auto link = [](int yy, int mm, const char* text) {
      return "<p><a href=\"/cal?y=" + std::to_string(yy) + "&amp;m=" + std::to_string(mm) + "\">" + text + "</a></p>\n";
    };
    return TrapPage{"calendar", Page("Calendar " + std::to_string(*y) + "-" + std::to_string(*m),
                                     link(before_y, before_m, "previous month") + link(after_y, after_m, "next month"))};
  }
  if (path.starts_with("/docs/")) {
    std::string_view rest = path.substr(6);
    while (rest.starts_with("a/")) rest.remove_prefix(2);
    if (!rest.empty()) return std::nullopt;
    return TrapPage{"growing_path", Page("Docs " + std::string(path), "<p><a href=\"a/\">more docs</a></p>\n")};
  }
  if (path.starts_with("/app/p") && path.size() >= 7 && path[6] >= '0' && path[6] <= '4' &&
      (path.size() == 7 || path.substr(7).starts_with(";jsessionid="))) {
    return TrapPage{"session_ids", Page("App page " + std::string(1, path[6]), SessionLinks(rng))};
  }
  if (path == "/feed") {
    const std::optional<int> page = Number(query, "page");
    if (!page || *page < 1) return std::nullopt;
    return TrapPage{"pagination", Page("Feed", "<p>The same ten items as ever.</p>\n<p><a href=\"/feed?page=" +
                                                   std::to_string(*page + 1) + "\">next page</a></p>\n")};
  }
  return std::nullopt;
}

}  // namespace fanout::testsite
