// PageFields: what ParseHtml keeps of the elements it meets, decided in one place for both of its
// paths (gumbo's tree and the fast path): the links, the first title, base and canonical link, and
// the robots metas. Internal to the parser.
//
// Elements are given in document order, with their attributes already decoded. Not thread-safe: one
// per parse.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "parser/ascii.h"
#include "parser/html_parser.h"

namespace fanout {

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// Whether `list`, split on whitespace (and commas if `commas`), has `token`, ignoring ASCII case.
bool HasToken(std::string_view list, std::string_view token, bool commas);

class PageFields {
 public:
  PageFields(ParsedPage& page, size_t max_links) : page_(page), max_links_(max_links) {}

  // Each Wants* says whether the matching call would keep anything, so that a caller can skip
  // decoding what would be thrown away.
  bool WantsLink() const { return page_.links.size() < max_links_; }
  bool WantsTitle() const { return !have_title_; }
  bool WantsBase() const { return !have_base_; }
  bool WantsCanonical() const { return !have_canonical_; }

  // <a href> or <area href>; `rel` is nullptr when the element has none.
  void Link(std::string href, bool area, const std::string_view* rel);
  // The text of a <title>: its text children, concatenated.
  void Title(std::string_view text);
  // <base href>.
  void Base(std::string href);
  // <link rel href>: kept if rel has the token "canonical".
  void LinkElement(std::string_view rel, std::string href);
  // <meta name content>: read if its name is "robots".
  void Meta(std::string_view name, std::string_view content);
  bool WantsRefresh() const { return !page_.refresh; }
  // <meta http-equiv content>: read if it is "refresh" and the first to parse as one.
  void HttpEquiv(std::string_view http_equiv, std::string_view content);

 private:
  ParsedPage& page_;
  size_t max_links_;
  bool have_title_ = false;
  bool have_base_ = false;
  bool have_canonical_ = false;
};

}  // namespace fanout
