// RobotsTxt: what a site's robots.txt lets this crawler fetch, parsed and matched as RFC 9309 says.
//
// A RobotsTxt is immutable once built, so any thread may call its const methods at any time. Parsing
// never fails: every byte string is a robots.txt, and what cannot be read (unknown fields, rules before
// any user-agent, malformed crawl-delays, lines that are no "field: value") is ignored, as the RFC asks.
// Like Google's reference parser, a line that lacks only its colon ("Disallow /") is read, and a byte
// order mark, or the first bytes of one, is skipped. Where the RFC and Google's parser disagree, the RFC
// wins (see the README: escapes of unreserved characters, and paths not yet percent-encoded).
// No network, no disk: the caller fetches the file and picks AllowAll or DisallowAll when it could
// not (RFC 9309 2.3.1: a 4xx answer allows all, a 5xx or an unreachable server disallows all).
//
// Hostile files are bounded: only the first kMaxRobotsBytes are read, and Check costs time linear in
// the path's length for each rule of the selected group, whatever wildcards the rules hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fanout {

inline constexpr size_t kMaxRobotsBytes = 500 * 1024;  // only this much of a file is parsed (RFC 9309 2.5)

// The product token of a User-Agent header: "fanout/0.1 (+https://x)" -> "fanout". Letters, digits,
// '-' and '_' only (RFC 9309 2.2.1); leading whitespace is skipped. "" if the header starts otherwise.
std::string RobotsProductToken(std::string_view user_agent);

struct RobotsVerdict {
  bool allowed = true;
  // The rule that decided, as written in the file with its line number, e.g. "Disallow: /private/ (line 4)";
  // "" when no rule matched; for AllowAll/DisallowAll the reason given to them.
  std::string rule;
};

class RobotsTxt {
 public:
  // Parses `text` (only its first kMaxRobotsBytes; a line the cap cuts is dropped) for the crawler whose
  // product token is `product_token` (a whole User-Agent header also works: its token is taken).
  static RobotsTxt Parse(std::string_view text, std::string_view product_token);
  static RobotsTxt AllowAll(std::string why);     // e.g. robots.txt answered 404
  static RobotsTxt DisallowAll(std::string why);  // e.g. robots.txt answered 503 / was unreachable

  // `path` is the URL's path and query as sent ("/a/b?x=1", "" counts as "/"). "/robots.txt" is always
  // allowed (the verdict says so). Paths are compared case-sensitively, after both sides are
  // percent-encoded the same way (non-ASCII octets encoded, unreserved characters decoded, hex digits
  // upper-cased, and in the query ':', '/', '?' and '@' encoded): "/caf%C3%A9", "/caf%c3%a9" and
  // "/café" are one path, and so are "/a?u=http://b" and "/a?u=http%3A%2F%2Fb". The longest matching
  // rule wins, Allow on a tie.
  RobotsVerdict Check(std::string_view path) const;
  std::optional<double> crawl_delay() const { return crawl_delay_; }  // of the selected group, seconds (>= 0, finite)
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }  // every Sitemap: value, any group, in order
  // The user-agent the selected group was matched by, as the file spells its token ("fanout", "FanOut"),
  // "*" when the crawler fell back to the groups for all crawlers, "" if no group applies.
  const std::string& group() const { return group_; }

 private:
  struct Rule {
    std::string pattern;          // normalised for matching; '*' is a wildcard, the '$' anchor is not kept
    bool anchored = false;        // the pattern ended with '$': it must match up to the end of the path
    bool allow = false;
    // For each literal run between wildcards, the Knuth-Morris-Pratt failure function of the run, so that
    // finding the runs in a path never backtracks (a rule like "/*a*a*aab" is linear, not quadratic).
    std::vector<uint32_t> failure;
    std::string text;             // "Disallow: /private/ (line 4)"
  };

  static bool Matches(const Rule& rule, std::string_view path);

  std::vector<Rule> rules_;             // most specific first, Allow before Disallow of the same length
  bool allowed_when_no_rule_ = true;
  std::string reason_when_no_rule_;     // AllowAll's or DisallowAll's reason
  std::optional<double> crawl_delay_;
  std::vector<std::string> sitemaps_;
  std::string group_;
};

}  // namespace fanout
