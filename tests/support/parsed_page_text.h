// The fields of a ParsedPage that both parser paths promise (parser/html_fast_path.h), as one text:
// what the differential tests and the fuzzer compare, so that a difference shows in full.
#pragma once

#include <string>

#include "parser/html_parser.h"

namespace fanout::testing {

inline std::string ComparedFields(const ParsedPage& p) {
  std::string out = "title=[" + p.title + "] base=[" + p.base_href + "] canonical=[" + p.canonical +
                    "] nofollow=" + std::to_string(p.meta_nofollow) + " noindex=" + std::to_string(p.meta_noindex) +
                    " truncated=" + std::to_string(p.truncated) + "\n";
  for (const HtmlLink& l : p.links) out += "  " + l.tag + " [" + l.href + "]" + (l.nofollow ? " nofollow" : "") + "\n";
  return out;
}

}  // namespace fanout::testing
