// ParseMetaRefresh: the delay and URL of `<meta http-equiv="refresh" content="5; url=next.html">`,
// read as the HTML Standard's shared declarative refresh steps read the content attribute, so that
// the crawler goes where a browser would.
//
// Thread-safe: a pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fanout {

struct MetaRefresh {
  double delay_seconds = 0;  // the whole seconds the page asks to wait (fractions are ignored, as browsers do)
  std::string url;           // as written, unresolved; "" when the page refreshes itself
};

// nullopt when the content is no refresh a browser would act on ("", "soon", "5x").
std::optional<MetaRefresh> ParseMetaRefresh(std::string_view content);

}  // namespace fanout
