// Hex digits and percent-encoding, as URLs, HTTP (chunk sizes), robots.txt and SURT keys spell them.
//
// Threads: pure functions; any thread.
#pragma once

#include <string>

namespace fanout {

// The value of a hex digit (either case), or -1 for any other character.
constexpr int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends `c` percent-encoded, upper-case hex as RFC 3986 recommends: 0x2F -> "%2F".
inline void AppendPercentEncoded(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace fanout
