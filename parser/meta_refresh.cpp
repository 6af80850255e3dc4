#include "parser/meta_refresh.h"

namespace fanout {
namespace {

bool IsAsciiWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// The steps of https://html.spec.whatwg.org/#shared-declarative-refresh-steps, one for one.
std::optional<MetaRefresh> ParseMetaRefresh(std::string_view input) {
  size_t pos = 0;
  const auto skip_whitespace = [&] {
    while (pos < input.size() && IsAsciiWhitespace(input[pos])) ++pos;
  };
  const auto at = [&](char lower) { return pos < input.size() && (input[pos] | 0x20) == lower; };
  skip_whitespace();
  MetaRefresh refresh;
  const size_t digits = pos;
  while (pos < input.size() && IsDigit(input[pos])) ++pos;
  if (pos == digits) {
    if (pos >= input.size() || input[pos] != '.') return std::nullopt;
  } else {
    // A delay too long to count is as good as never: a crawler only compares it with its limit.
    double seconds = 0;
    for (size_t i = digits; i < pos; ++i) seconds = seconds * 10 + (input[i] - '0');
    refresh.delay_seconds = seconds;
  }
  while (pos < input.size() && (IsDigit(input[pos]) || input[pos] == '.')) ++pos;
  if (pos < input.size()) {
    if (input[pos] != ';' && input[pos] != ',' && !IsAsciiWhitespace(input[pos])) return std::nullopt;
    skip_whitespace();
    if (pos < input.size() && (input[pos] == ';' || input[pos] == ',')) ++pos;
    skip_whitespace();
  }
  if (pos >= input.size()) return refresh;
  std::string_view url = input.substr(pos);
  bool skip_quotes = true;  // "url=" (any case, spaces around '=') is optional before the URL
  if (at('u')) {
    ++pos;
    skip_quotes = false;
    if (at('r')) {
      ++pos;
      if (at('l')) {
        ++pos;
        skip_whitespace();
        if (pos < input.size() && input[pos] == '=') {
          ++pos;
          skip_whitespace();
          skip_quotes = true;
        }
      }
    }
  }
  if (skip_quotes) {
    char quote = 0;
    if (pos < input.size() && (input[pos] == '"' || input[pos] == '\'')) quote = input[pos++];
    url = input.substr(pos);
    if (quote != 0) url = url.substr(0, url.find(quote));
  }
  refresh.url = std::string(url);
  return refresh;
}

}  // namespace fanout
