// libFuzzer target: the parser's fast path against gumbo's tree on the same bytes. Wherever the fast
// path takes a page, every field it promises must be gumbo's; a difference aborts with both results.
// Built by scripts/fuzz-parser.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parser/html_parser.h"
#include "tests/support/parsed_page_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  // A small max_links and max_bytes now and then, so that the limits are fuzzed too.
  fanout::ParseOptions options;
  if (size > 0 && data[0] == 'L') options.max_links = 3;
  if (size > 1 && data[1] == 'B') options.max_bytes = size / 2;
  const fanout::ParsedPage fast = fanout::ParseHtml(html, options);
  if (!fast.fast_path) return 0;
  options.parser = fanout::HtmlParser::kGumbo;
  const fanout::ParsedPage tree = fanout::ParseHtml(html, options);
  const std::string a = fanout::testing::ComparedFields(fast), b = fanout::testing::ComparedFields(tree);
  if (a != b) {
    std::fprintf(stderr, "fast path:\n%s\ngumbo:\n%s\n", a.c_str(), b.c_str());
    std::abort();
  }
  return 0;
}
