// ParseHtmlFastPath: ParseHtml's common case in one pass over the bytes, with no tree.
//
// It follows the WHATWG tokenizer's states for what it handles (data, tags, attributes in every
// quoting, character references, comments, doctypes, RCDATA, RAWTEXT and script data with its
// escapes) and tracks only the part of tree construction that could make gumbo's result differ
// from document order: tables (foster parenting), misnested formatting elements (the adoption
// agency), and the elements that change how what follows is read. Where a page leaves the subset whose result it can guarantee equal to gumbo's, it stops and
// says why, and ParseHtml hands the page to gumbo (the idea of Chromium's
// HTMLDocumentParserFastpath). So for every page, ParseHtml's result is gumbo's.
//
// It allocates per page (the strings it returns, one stack of open tables), never per tag, and is
// linear in the input: hostile nesting costs it nothing.
//
// A pure function with no shared state: any thread, at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/html_parser.h"

namespace fanout {

// Why the fast path handed a page to gumbo.
enum class FastPathBailout : uint8_t {
  kNone,            // it did not: the page was parsed
  kEncoding,        // bytes gumbo would replace: invalid UTF-8, NUL, C0/C1 controls, noncharacters
  kForeignContent,  // <svg> or <math> beyond plain elements: HTML inside them, CDATA, an end tag of none open
  kTemplate,        // <template>: content in a fragment of its own
  kSelect,          // <select>: drops the tags it cannot hold
  kFrameset,        // <frameset>: may replace the body
  kFosterParent,    // content inside a <table> but outside its cells, which the tree moves before it
  kCharRef,         // a numeric character reference to a code point that is replaced or an error
  kMisnested,       // a formatting element (<a>, <b>, ...) closed out of order or reopened: the tree
                    // builder's adoption agency may move what follows
};

// Its name in summaries and reports: "encoding", "foreign_content", "template", "select", "frameset",
// "foster_parent", "char_ref", "misnested"; "" for kNone.
std::string_view FastPathBailoutName(FastPathBailout why);

// Parses `html` (already cut to max_bytes) into `page`, keeping at most `max_links` links. Returns
// kNone when `page` holds ParseHtml's result for it (except `errors` and `flattened`, which only the
// tree reports); otherwise why not, with `page` in an unspecified state.
FastPathBailout ParseHtmlFastPath(std::string_view html, size_t max_links, ParsedPage& page);

}  // namespace fanout
