#include "parser/robots_txt.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "util/ascii.h"
#include "util/hex.h"

// How a file is read, and why.
//
// Parsing is one pass over the lines that sorts them into groups (RFC 9309 2.1: user-agent lines in a
// row, then the rules; blank lines and unknown fields change nothing), then keeps the rules of the
// groups that name this crawler, or else of the "*" groups. Those rules are normalised once, so that
// Check only normalises the path, and sorted most specific first, so that the first rule that matches
// is the one that decides.
//
// A rule is literal runs joined by '*'. The first run must start the path, each next run is found at
// its leftmost place after the previous one (leftmost leaves the most path to the runs after it, so no
// other choice can succeed where it fails), and with '$' the last run must end the path. Runs are found
// with Knuth-Morris-Pratt, which never reads a byte of the path twice: a rule costs the path's length
// plus its own, however many wildcards and near-misses a hostile file packs in. A backtracking matcher
// is exponential there, and the textbook two-pointer one is length of path times length of rule.

namespace fanout {
namespace {

constexpr size_t npos = std::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The leading run of product-token characters: "fanout/1.0" -> "fanout".
std::string_view LeadingToken(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) ++n;
  return s.substr(0, n);
}

// ---------------------------------------------------------------------------------------------------
// Percent-encoding (RFC 9309 2.2.2, with RFC 3986's equivalences)

bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool IsReserved(unsigned char c) { return c != 0 && std::strchr(":/?#[]@!$&'()*+,;=", c) != nullptr; }

enum class Side { kPattern, kPath };

// In a query, ':', '/', '?' and '@' delimit nothing (RFC 3986 3.4), so a server reads them the same
// raw or escaped, and RFC 9309 2.2.2's table matches "?baz=https://foo.bar" as
// "?baz=https%3A%2F%2Ffoo.bar". The sub-delimiters ('&', '=', '+', ...) shape the query's fields,
// so they stay as written; in the path every reserved character does, so all stay.
bool IsPlainInQuery(unsigned char c) { return c == ':' || c == '/' || c == '?' || c == '@'; }

// One spelling per URI, so that the file and the path compare octet by octet: escapes of unreserved
// characters are decoded ("%62" is "b"), other escapes get upper-case hex, and octets a URI cannot hold
// as they are (non-ASCII, controls, spaces, a '%' that starts no escape) are escaped, as are the query's
// characters of IsPlainInQuery. In a path '*' and '$' are escaped too: they are literal there, while in
// a rule they are operators (RFC 9309 2.2.3 says a rule matches them literally as "%2A" and "%24"). A
// rule's '$' anchor is removed before this, so a '$' left in a rule is literal.
std::string NormaliseForMatching(std::string_view in, Side side) {
  std::string out;
  out.reserve(in.size());
  bool in_query = false;  // after the first raw '?', which starts the query and stays as it is
  for (size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '?' && !in_query) {
      in_query = true;
      out += '?';
      continue;
    }
    if (c == '%') {
      if (i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
        const auto decoded = static_cast<unsigned char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
        if (IsUnreserved(decoded)) {
          out += static_cast<char>(decoded);
        } else {
          AppendPercentEncoded(out, decoded);
        }
        i += 2;
      } else {
        AppendPercentEncoded(out, c);
      }
      continue;
    }
    const bool literal_operator = c == '$' || (side == Side::kPath && c == '*');
    if (literal_operator || !(IsUnreserved(c) || IsReserved(c)) || (in_query && IsPlainInQuery(c))) {
      AppendPercentEncoded(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Matching

// For each literal run of `pattern` between '*', the KMP failure function of the run: failure[i] is the
// length of the longest proper prefix of the run that ends at i.
std::vector<uint32_t> FailureTable(std::string_view pattern) {
  std::vector<uint32_t> failure(pattern.size(), 0);
  size_t start = 0;
  while (start < pattern.size()) {
    size_t end = pattern.find('*', start);
    if (end == npos) end = pattern.size();
    uint32_t k = 0;
    for (size_t i = start + 1; i < end; ++i) {
      while (k > 0 && pattern[i] != pattern[start + k]) k = failure[start + k - 1];
      if (pattern[i] == pattern[start + k]) ++k;
      failure[i] = k;
    }
    start = end + 1;
  }
  return failure;
}

// Where the leftmost `run` in `path` at or after `from` ends; npos if there is none.
size_t FindRunEnd(std::string_view path, size_t from, std::string_view run, const uint32_t* failure) {
  if (run.empty()) return from;
  size_t matched = 0;
  for (size_t i = from; i < path.size(); ++i) {
    if (matched == 0) {
      // Nothing matched yet: jump to the run's first byte (memchr is far faster than this loop).
      const void* hit = std::memchr(path.data() + i, run[0], path.size() - i);
      if (hit == nullptr) return npos;
      i = static_cast<size_t>(static_cast<const char*>(hit) - path.data());
    }
    while (matched > 0 && path[i] != run[matched]) matched = failure[matched - 1];
    if (path[i] == run[matched]) ++matched;
    if (matched == run.size()) return i + 1;
  }
  return npos;
}

std::optional<double> ParseCrawlDelay(std::string_view value) {
  double seconds = 0;
  const char* end = value.data() + value.size();
  auto [stop, error] = std::from_chars(value.data(), end, seconds);
  if (error != std::errc() || stop != end || !std::isfinite(seconds) || seconds < 0) return std::nullopt;
  return seconds == 0 ? 0.0 : seconds;  // no "-0"
}

// ---------------------------------------------------------------------------------------------------
// Groups, as the file has them

struct RuleLine {
  bool allow = false;
  std::string_view field;  // as written: "Disallow", "disallow", ...
  std::string_view value;  // trimmed, comment removed, not empty
  size_t line = 0;
};

struct Group {
  bool names_us = false;              // some user-agent line of the group has our product token
  bool for_all = false;               // some user-agent line is "*"
  std::string_view named_as;          // the token of the first line that names us, as the file spells it
  std::vector<RuleLine> rules;
  std::optional<double> crawl_delay;  // the group's first valid one
};

// A line's field and value: "field: value", or, where the colon is missing, "field value" with exactly
// two words (what Google's parser accepts: "Disallow /" means what it says, while "just some words" is
// no rule). {"", ""} for a line that is neither.
std::pair<std::string_view, std::string_view> SplitLine(std::string_view line) {
  if (const size_t colon = line.find(':'); colon != npos) return {Trim(line.substr(0, colon)), Trim(line.substr(colon + 1))};
  line = Trim(line);
  const size_t gap = line.find_first_of(" \t\v\f");
  if (gap == npos) return {};
  const std::string_view value = Trim(line.substr(gap));
  if (value.find_first_of(" \t\v\f") != npos) return {};
  return {line.substr(0, gap), value};
}

// Calls visit(line, number) for each line; a line ends at LF, CRLF or CR.
template <typename Visit>
void ForEachLine(std::string_view text, Visit&& visit) {
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find_first_of("\r\n");
    visit(text.substr(0, end), ++number);
    if (end == npos) break;
    const bool crlf = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n';
    text.remove_prefix(end + (crlf ? 2 : 1));
  }
}

// The part of `text` that is parsed: the first kMaxRobotsBytes, without a line the cap cuts in two
// (half of "Disallow: /private" is "Disallow: /pri", another rule), and without a UTF-8 byte order mark,
// whole or the first one or two bytes of it (files cut or mis-transcoded by editors lose its end, and
// Google's parser skips such a stub too: otherwise the file's first line, often the user-agent, is lost).
std::string_view ParsedPart(std::string_view text) {
  if (text.size() > kMaxRobotsBytes) {
    const bool cut_inside_line = text[kMaxRobotsBytes] != '\n' && text[kMaxRobotsBytes] != '\r';
    text = text.substr(0, kMaxRobotsBytes);
    if (cut_inside_line) {
      const size_t last_end = text.find_last_of("\r\n");
      text = last_end == npos ? std::string_view() : text.substr(0, last_end + 1);
    }
  }
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  size_t bom = 0;
  while (bom < kByteOrderMark.size() && bom < text.size() && text[bom] == kByteOrderMark[bom]) ++bom;
  text.remove_prefix(bom);
  return text;
}

}  // namespace

std::string RobotsProductToken(std::string_view user_agent) {
  while (!user_agent.empty() && IsSpace(user_agent.front())) user_agent.remove_prefix(1);
  return std::string(LeadingToken(user_agent));
}

RobotsTxt RobotsTxt::AllowAll(std::string why) {
  RobotsTxt robots;
  robots.allowed_when_no_rule_ = true;
  robots.reason_when_no_rule_ = std::move(why);
  return robots;
}

RobotsTxt RobotsTxt::DisallowAll(std::string why) {
  RobotsTxt robots;
  robots.allowed_when_no_rule_ = false;
  robots.reason_when_no_rule_ = std::move(why);
  return robots;
}

RobotsTxt RobotsTxt::Parse(std::string_view text, std::string_view product_token) {
  const std::string token = RobotsProductToken(product_token);
  RobotsTxt robots;
  std::vector<Group> groups;
  // True from a user-agent line until the next rule: the user-agent lines in between join its group.
  bool reading_user_agents = false;

  ForEachLine(ParsedPart(text), [&](std::string_view line, size_t number) {
    line = line.substr(0, line.find('#'));
    const auto [field, value] = SplitLine(line);
    if (field.empty()) return;

    if (EqualsIgnoreCase(field, "user-agent")) {
      if (!reading_user_agents) groups.emplace_back();
      reading_user_agents = true;
      Group& group = groups.back();
      if (value == "*" || (value.size() > 1 && value[0] == '*' && IsSpace(value[1]))) {
        group.for_all = true;
      } else if (const std::string_view agent = LeadingToken(value);
                 !token.empty() && EqualsIgnoreCase(agent, token) && !group.names_us) {
        group.names_us = true;
        group.named_as = agent;
      }
    } else if (EqualsIgnoreCase(field, "allow") || EqualsIgnoreCase(field, "disallow")) {
      reading_user_agents = false;
      // An empty value is a rule that matches nothing (RFC 9309 2.2.2), so it is not kept; rules
      // before the first user-agent line belong to no group.
      if (groups.empty() || value.empty()) return;
      groups.back().rules.push_back({EqualsIgnoreCase(field, "allow"), field, value, number});
    } else if (EqualsIgnoreCase(field, "crawl-delay")) {
      reading_user_agents = false;
      if (groups.empty() || groups.back().crawl_delay) return;
      groups.back().crawl_delay = ParseCrawlDelay(value);
    } else if (EqualsIgnoreCase(field, "sitemap")) {
      if (!value.empty()) robots.sitemaps_.emplace_back(value);
    }
  });

  // RFC 9309 2.2.1: the groups that name the crawler, merged; else the "*" groups, merged; else none.
  const bool named = std::any_of(groups.begin(), groups.end(), [](const Group& g) { return g.names_us; });
  for (const Group& group : groups) {
    if (named ? !group.names_us : !group.for_all) continue;
    if (robots.group_.empty()) robots.group_ = named ? std::string(group.named_as) : "*";
    if (!robots.crawl_delay_) robots.crawl_delay_ = group.crawl_delay;
    for (const RuleLine& line : group.rules) {
      Rule rule;
      std::string_view pattern = line.value;
      rule.anchored = pattern.ends_with('$');
      if (rule.anchored) pattern.remove_suffix(1);
      rule.pattern = NormaliseForMatching(pattern, Side::kPattern);
      rule.allow = line.allow;
      rule.failure = FailureTable(rule.pattern);
      rule.text = std::string(line.field) + ": " + std::string(line.value) + " (line " + std::to_string(line.line) + ")";
      robots.rules_.push_back(std::move(rule));
    }
  }

  // Most specific first: the longest pattern in octets after normalisation, '*' and '$' included; at
  // equal length Allow first (RFC 9309 2.2.2); then file order, for the verdict to name the first rule.
  const auto specificity = [](const Rule& r) { return r.pattern.size() + (r.anchored ? 1 : 0); };
  std::stable_sort(robots.rules_.begin(), robots.rules_.end(), [&](const Rule& a, const Rule& b) {
    if (specificity(a) != specificity(b)) return specificity(a) > specificity(b);
    return a.allow && !b.allow;
  });
  // A repeated rule can never decide (its first copy matches first), and files that repeat one rule
  // thousands of times exist; dropping the copies keeps Check proportional to the distinct rules.
  std::unordered_set<std::string> seen;
  std::erase_if(robots.rules_, [&](const Rule& r) {
    return !seen.insert((r.allow ? "A" : "D") + std::string(r.anchored ? "$" : "") + r.pattern).second;
  });
  return robots;
}

bool RobotsTxt::Matches(const Rule& rule, std::string_view path) {
  const std::string_view pattern = rule.pattern;
  size_t star = pattern.find('*');
  if (!path.starts_with(pattern.substr(0, star))) return false;
  if (star == npos) return !rule.anchored || path.size() == pattern.size();

  size_t position = star;  // where the path is still to be matched
  size_t run_start = star + 1;
  while ((star = pattern.find('*', run_start)) != npos) {
    position = FindRunEnd(path, position, pattern.substr(run_start, star - run_start), rule.failure.data() + run_start);
    if (position == npos) return false;
    run_start = star + 1;
  }
  const std::string_view last_run = pattern.substr(run_start);
  if (rule.anchored) return path.size() - position >= last_run.size() && path.ends_with(last_run);
  return FindRunEnd(path, position, last_run, rule.failure.data() + run_start) != npos;
}

RobotsVerdict RobotsTxt::Check(std::string_view path) const {
  // A fragment is never sent, so it is no part of what the rules are about.
  std::string normal = NormaliseForMatching(path.substr(0, path.find('#')), Side::kPath);
  if (!normal.starts_with('/')) normal.insert(0, "/");
  if (normal == "/robots.txt") return {true, "/robots.txt is always allowed"};  // RFC 9309 2.2.2
  for (const Rule& rule : rules_) {
    if (Matches(rule, normal)) return {rule.allow, rule.text};
  }
  return {allowed_when_no_rule_, reason_when_no_rule_};
}

}  // namespace fanout
