// URL traps: the shapes of link that lead a crawler on forever (a path that grows by a segment on
// every page, a query that repeats itself, a session id that is new on every answer), judged from
// the URL alone, before the frontier sees it. The calendar and the endless pagination have no
// shape of their own; --max-depth ends those.
//
//   - A path segment, or a query parameter with its value, that appears more than
//     `max_repeats` times in one URL, anywhere in it (not only side by side, as Heritrix's
//     PathologicalPathDecideRule counts): "repeated_segment", "repeated_parameter".
//   - More than `max_segments` path segments: "too_many_segments".
//   - Session ids, which make a new URL of the same page on every answer, are taken out of a link
//     before it is followed (StripSessionIds): the page's key is the URL without them.
//
// Pure functions of the URL: any thread. Used by the crawl (page_content.cpp) and by `fanout why`,
// which names the rule and the part of the URL that broke it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fanout {

struct TrapLimits {
  int max_repeats = 2;    // times one path segment or query pair may appear (0: no limit)
  int max_segments = 20;  // path segments at most (0: no limit)
};

struct TrapFinding {
  std::string rule;  // the links row's reason: "repeated_segment", "repeated_parameter", "too_many_segments"
  std::string part;  // the segment or the query pair; "" for too_many_segments
  int count = 0;     // how many times it appears (segments: how many there are)
};

// The first rule `url` (normalised, absolute) breaks, if any.
std::optional<TrapFinding> FindTrap(std::string_view url, const TrapLimits& limits);

// For `fanout why`: "the path segment "a" appears 3 times, more than --max-repeats 2".
std::string ExplainTrap(const TrapFinding& finding, const TrapLimits& limits);

// Takes session ids out of `url` (normalised, absolute): ";jsessionid=..." path parameters, and
// query parameters named jsessionid, phpsessid, aspsessionid*, sessionid, session_id, sessid,
// cfid, cftoken (any case), or sid when its value is 16 or more letters and digits. Returns whether
// it changed; a query left empty goes with its "?".
bool StripSessionIds(std::string& url);

}  // namespace fanout
