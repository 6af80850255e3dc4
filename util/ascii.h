// ASCII case, as protocols compare it (HTTP and WARC field names, robots.txt, charset labels, HTML
// tokens): only A-Z fold to a-z, whatever the locale, and every other byte is itself.
//
// Threads: pure functions; any thread.
#pragma once

#include <string_view>

namespace fanout {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `a` and `b` are equal but for ASCII case.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace fanout
