// SpiderTraps: the traps `fanout serve --traps` adds to a synthetic site, each an endless supply of
// URLs that a crawler left alone must stop following by itself. The site's front page links into
// each one:
//   calendar      /cal?y=2026&m=1: a month, linking the month before and the month after
//   growing_path  /docs/: a page linking "a/" relative to itself (/docs/a/, /docs/a/a/, ...)
//   session_ids   /app/p0 .. /app/p4: five pages, each linking all five under a session id
//                 (;jsessionid=...) new on every answer
//   pagination    /feed?page=1: the same content on every page, linking the next page
// Trap pages are served whatever their session id; a crawl should fetch the real pages and a few
// trap pages, not the traps' endless rest.
//
// Thread-safe (const), except that Render draws session ids from the caller's generator.
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace fanout::testsite {

struct TrapPage {
  std::string trap;  // "calendar", "growing_path", "session_ids", "pagination"
  std::string html;
};

// The <a> elements the front page gets, one into each trap (a fresh session id each time).
std::string TrapEntryLinks(std::mt19937_64& rng);

// The trap page at `path` (as received, session id included) and raw `query`; nullopt when it is
// not one.
std::optional<TrapPage> RenderTrap(std::string_view path, std::string_view query, std::mt19937_64& rng);

// The traps' names, in order.
inline constexpr const char* kTrapNames[] = {"calendar", "growing_path", "session_ids", "pagination"};

}  // namespace fanout::testsite
