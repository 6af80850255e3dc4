// ParseHtml: the links, title and robots metadata of an HTML page, as gumbo's tree gives them.
//
// By default a fast path reads the page first (parser/html_fast_path.h): one pass, no tree, exact
// for the common subset of markup, handing anything else to gumbo, so the result is gumbo's either
// way. ParseOptions::parser = kGumbo always builds the tree.
//
// ParseHtml is a pure function with no shared state: any thread may call it at any time (the
// crawler calls it on pool threads). It never fails: every byte string is an HTML document (invalid
// UTF-8 and NUL bytes become U+FFFD), and what could not be parsed as a tree is said in the result.
//
// Hostile pages are bounded in time and memory. gumbo 0.10.1 is quadratic on deep nesting and on
// long lists of formatting elements, and its tree can take ~90x the input's size. A linear pre-scan
// estimates gumbo's work and the size of its tree: past budgets that real pages stay far below, only
// the start of the page is parsed as a tree, and the rest is scanned flat (see ParsedPage::flattened).
// The tree lives in an arena, so freeing it is not a recursion that a deep tree could overflow.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/meta_refresh.h"

namespace fanout {

struct HtmlLink {
  std::string href;       // the attribute as written, entities decoded (no trimming, no resolution)
  std::string tag;        // "a" or "area"
  bool nofollow = false;  // its rel attribute has the token "nofollow" (ASCII case-insensitive)
};

struct ParsedPage {
  std::string title;            // text of the first HTML <title>, whitespace runs collapsed to one space, trimmed
  std::string base_href;        // href of the first <base> that has one, "" if none
  std::string canonical;        // href of the first <link rel=canonical> that has one, "" if none
  bool meta_nofollow = false;   // some <meta name=robots> has "nofollow" or "none" in its content
  bool meta_noindex = false;    // ... has "noindex" or "none" (names and tokens ASCII case-insensitive)
  // The first <meta http-equiv=refresh> whose content a browser would act on (see meta_refresh.h).
  std::optional<MetaRefresh> refresh;
  // HTML <a href> and <area href>, one per tag, in document order: the tree's, where a link that a table
  // moves out ("foster-parents") comes before the table. The copies the tree builder makes of a
  // misnested <a> are not links of their own.
  std::vector<HtmlLink> links;
  bool truncated = false;       // the input was longer than max_bytes and only its start was parsed
  // Part of the page was too costly to parse as a tree (nesting or formatting elements that make gumbo
  // quadratic, or a tree past max_tree_bytes or max_tree_time). Its a, area, base, link and meta tags
  // and its first title were then parsed on their own, in source order, without the elements around
  // them: links are still all there, but tags inside <svg> or <math> count as HTML in that part.
  bool flattened = false;
  size_t errors = 0;            // parse errors gumbo reported in what it parsed as a tree (at most max_errors)
  // Which path gave the result. The fast path builds no tree, so `errors` and `flattened` are set
  // only when it did not (fast_path false).
  bool fast_path = false;
  // Why the fast path handed the page to gumbo ("foreign_content", "foster_parent", ...: see
  // FastPathBailoutName); "" when it did not, or when the fast path was not asked for.
  std::string_view bailout;
};

enum class HtmlParser {
  kAuto,   // the fast path, with gumbo behind it for what the fast path does not handle
  kGumbo,  // always gumbo's tree
};

struct ParseOptions {
  HtmlParser parser = HtmlParser::kAuto;
  size_t max_bytes = 4 << 20;   // parse at most this many bytes of the document
  int max_errors = 100;         // ParsedPage::errors counts at most this many
  size_t max_links = 100000;    // links beyond this are dropped
  // The tree may take this much memory. The pre-scan cuts the page where the tree would pass half of
  // it; past all of it (a backstop) the tree is abandoned and the whole page is scanned flat. Real
  // pages take 10-20x their size (60 MiB for 4 MiB).
  size_t max_tree_bytes = 256 << 20;
  // A backstop for what the pre-scan could not foresee, since gumbo cannot be interrupted: past this,
  // checked as gumbo allocates, the tree is abandoned and the whole page is scanned flat.
  std::chrono::milliseconds max_tree_time{2000};
};

// Parses an HTML document (UTF-8 expected; other bytes never crash it).
ParsedPage ParseHtml(std::string_view html, const ParseOptions& options = {});

}  // namespace fanout
