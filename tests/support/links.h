// ExtractHrefs: the href values of <a> tags, for tests that follow links without the crawler's
// parser (so a bug there cannot hide a bug in the site). Handles double, single and no quotes,
// any case, and the &amp; entity; nothing fancier, by design.
#pragma once

#include <regex>
#include <string>
#include <vector>

namespace fanout::test {

inline std::vector<std::string> ExtractHrefs(const std::string& html) {
  static const std::regex kHref(R"re(<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))re",
                                std::regex::icase);
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kHref); it != std::sregex_iterator(); ++it) {
    std::string href = (*it)[1].matched ? (*it)[1].str() : (*it)[2].matched ? (*it)[2].str() : (*it)[3].str();
    for (size_t at; (at = href.find("&amp;")) != std::string::npos;) href.replace(at, 5, "&");
    out.push_back(href);
  }
  return out;
}

}  // namespace fanout::test
