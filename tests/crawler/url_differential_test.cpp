// The WHATWG rules against the RFC 3986 rules that runs before schema version 8 keyed URLs by, on
// every link of the real documentation Debian ships: all of /usr/share/doc, which holds
// python3.11-doc, postgresql-doc-15 and openjdk-17-doc (scripts/test.sh installs them) and the
// HTML of whatever else is installed. Every difference is of a kind the README's "How links are
// resolved" names, and each kind is counted.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crawler/url.h"
#include "parser/html_parser.h"
#include "tests/support/debian_docs.h"
#include "util/hex.h"

namespace fanout {
namespace {

// Sanitizer builds, several times slower, read one page in testing::kDocStride already; all of
// /usr/share/doc is twice the pages of the other differential tests, so they read half of that.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kExtraStride = 2;
#else
constexpr size_t kExtraStride = 1;
#endif

std::string Answer(UrlResolver& r, std::string_view href) {
  Result<std::string> url = r.Resolve(href);
  return url.ok() ? *url : "ERROR";
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Every escape decoded (`all`), or only as RFC 3986 6.2.2 does: unreserved characters decoded, the
// hex of the others upper-cased.
std::string Unescape(std::string_view s, bool all) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      const auto c = static_cast<unsigned char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      if (all || IsUnreserved(c)) {
        out += static_cast<char>(c);
      } else {
        AppendPercentEncoded(out, c);
      }
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Why the two rules give `href` different keys, or "" when nothing known explains it.
std::string Explain(std::string_view href, const std::string& old, const std::string& now) {
  if (old == "ERROR" || now == "ERROR") return "";
  if (now == old + "?") return "an empty query is kept";
  if (href.find('\\') != std::string_view::npos) return "a backslash is a slash";
  if (Unescape(now, false) == old) return "escapes are kept as written (6.2.2 decoded or upper-cased them)";
  if (Unescape(now, true) == Unescape(old, true)) return "the standard's percent-encode sets";
  return "";
}

TEST(UrlRules, EveryDifferenceOnTheDebianDocsIsExplained) {
  std::map<std::string, size_t> kinds;
  std::map<std::string, std::string> example;
  std::vector<std::string> unexplained;
  size_t links = 0;
  size_t differences = 0;
  std::set<std::filesystem::path> read;  // openjdk-17-doc's pages are symlinks into another package's
  for (const char* root : {"/usr/share/doc"}) {
    testing::ForEachDocPage(root, [&](const std::filesystem::path& path, const std::string& body) {
      if (!read.insert(std::filesystem::canonical(path)).second) return true;
      if (read.size() % kExtraStride != 0) return true;
      const std::string base = "http://127.0.0.1:8080/doc/" + std::filesystem::relative(path, root).generic_string();
      UrlResolver whatwg(base), rfc3986(base, UrlRules::kRfc3986);
      for (const HtmlLink& link : ParseHtml(body).links) {
        ++links;
        const std::string old = Answer(rfc3986, link.href), now = Answer(whatwg, link.href);
        if (old == now) continue;
        ++differences;
        const std::string why = Explain(link.href, old, now);
        if (why.empty()) {
          if (unexplained.size() < 20) unexplained.push_back(base + " + [" + link.href + "]: " + old + " -> " + now);
          continue;
        }
        if (kinds[why]++ == 0) example[why] = "[" + link.href + "]: " + old + " -> " + now;
      }
      return true;
    });
  }
  if (links == 0) GTEST_SKIP() << "no Debian documentation installed";
  std::cout << links << " links compared, " << differences << " resolved differently\n";
  for (const auto& [why, n] : kinds) std::cout << "  " << n << " x " << why << ", e.g. " << example[why] << "\n";
  std::string list;
  for (const std::string& u : unexplained) list += "\n  " + u;
  EXPECT_TRUE(unexplained.empty()) << "differences no known kind explains:" << list;
}

}  // namespace
}  // namespace fanout
