#include "crawler/url_traps.h"

#include <algorithm>
#include <vector>

#include "util/ascii.h"

namespace fanout {
namespace {

struct Parts {
  std::string_view path, query;  // the query without its "?"
  size_t path_begin = 0, query_begin = std::string_view::npos;  // offsets in the URL
};

Parts Split(std::string_view url) {
  Parts p;
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  p.path_begin = std::min(url.size(), url.find_first_of("/?#", authority));
  const size_t path_end = std::min(url.size(), url.find_first_of("?#", p.path_begin));
  p.path = url.substr(p.path_begin, path_end - p.path_begin);
  if (path_end < url.size() && url[path_end] == '?') {
    p.query_begin = path_end + 1;
    p.query = url.substr(p.query_begin, std::min(url.size(), url.find('#', p.query_begin)) - p.query_begin);
  }
  return p;
}

// `text` cut at `sep`, the empty pieces left out.
std::vector<std::string_view> Pieces(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t end = std::min(text.size(), text.find(sep));
    if (end > 0) out.push_back(text.substr(0, end));
    text.remove_prefix(std::min(text.size(), end + 1));
  }
  return out;
}

// The first piece (in order) that appears more than `most` times, and how often.
std::optional<std::pair<std::string_view, int>> Repeated(const std::vector<std::string_view>& pieces, int most) {
  std::vector<std::string_view> sorted = pieces;
  std::sort(sorted.begin(), sorted.end());
  for (std::string_view piece : pieces) {
    const auto [from, to] = std::equal_range(sorted.begin(), sorted.end(), piece);
    const int n = static_cast<int>(to - from);
    if (n > most) return std::make_pair(piece, n);
  }
  return std::nullopt;
}

bool IsSessionParameter(std::string_view pair) {
  const size_t eq = pair.find('=');
  const std::string name = AsciiLowered(pair.substr(0, eq));
  if (name == "jsessionid" || name == "phpsessid" || name == "sessionid" || name == "session_id" || name == "sessid" ||
      name == "cfid" || name == "cftoken" || name.starts_with("aspsessionid")) {
    return true;
  }
  if (name != "sid" || eq == std::string_view::npos) return false;
  // A short sid is as likely a site's own id ("?sid=3") as a session's.
  const std::string_view value = pair.substr(eq + 1);
  auto alnum = [](char c) { return (c >= '0' && c <= '9') || (AsciiLower(c) >= 'a' && AsciiLower(c) <= 'z'); };
  return value.size() >= 16 && std::all_of(value.begin(), value.end(), alnum);
}

}  // namespace

std::optional<TrapFinding> FindTrap(std::string_view url, const TrapLimits& limits) {
  const Parts parts = Split(url);
  const std::vector<std::string_view> segments = Pieces(parts.path, '/');
  if (limits.max_segments > 0 && static_cast<int>(segments.size()) > limits.max_segments) {
    return TrapFinding{.rule = "too_many_segments", .part = "", .count = static_cast<int>(segments.size())};
  }
  if (limits.max_repeats <= 0) return std::nullopt;
  if (auto r = Repeated(segments, limits.max_repeats)) {
    return TrapFinding{.rule = "repeated_segment", .part = std::string(r->first), .count = r->second};
  }
  if (auto r = Repeated(Pieces(parts.query, '&'), limits.max_repeats)) {
    return TrapFinding{.rule = "repeated_parameter", .part = std::string(r->first), .count = r->second};
  }
  return std::nullopt;
}

std::string ExplainTrap(const TrapFinding& finding, const TrapLimits& limits) {
  if (finding.rule == "too_many_segments") {
    return "its path has " + std::to_string(finding.count) + " segments, more than --max-path-segments " +
           std::to_string(limits.max_segments);
  }
  const char* what = finding.rule == "repeated_segment" ? "the path segment" : "the query parameter";
  return std::string(what) + " \"" + finding.part + "\" appears " + std::to_string(finding.count) +
         " times, more than --max-repeats " + std::to_string(limits.max_repeats);
}

bool StripSessionIds(std::string& url) {
  bool changed = false;
  // ";jsessionid=..." in the path, up to the end of its segment.
  Parts parts = Split(url);
  const std::string lower_path = AsciiLowered(parts.path);
  if (const size_t at = lower_path.find(";jsessionid="); at != std::string::npos) {
    const size_t end = std::min(lower_path.size(), lower_path.find('/', at));
    url.erase(parts.path_begin + at, end - at);
    changed = true;
    parts = Split(url);
  }
  if (parts.query_begin == std::string_view::npos) return changed;
  const std::vector<std::string_view> pairs = Pieces(parts.query, '&');
  if (std::none_of(pairs.begin(), pairs.end(), IsSessionParameter)) return changed;
  std::string kept;
  for (std::string_view pair : pairs) {
    if (IsSessionParameter(pair)) continue;
    if (!kept.empty()) kept += '&';
    kept += pair;
  }
  const size_t query_end = parts.query_begin + parts.query.size();
  const std::string rest = url.substr(query_end);  // a fragment, if any
  url.erase(kept.empty() ? parts.query_begin - 1 : parts.query_begin);
  url += kept;
  url += rest;
  return true;
}

}  // namespace fanout
