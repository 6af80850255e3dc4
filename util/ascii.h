// ASCII case, as protocols compare it (HTTP and WARC field names, robots.txt, charset labels, HTML
// tokens): only A-Z fold to a-z, whatever the locale, and every other byte is itself.
//
// Threads: pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace fanout {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Folds `s` to ASCII lower case, in place.
inline void AsciiLowerInPlace(std::string& s) {
  for (char& c : s) c = AsciiLower(c);
}

// A copy of `s` in ASCII lower case.
inline std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  AsciiLowerInPlace(out);
  return out;
}

// Whether `a` and `b` are equal but for ASCII case.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace fanout
