// Hex digits, as URLs (percent-encoding), HTTP (chunk sizes) and robots.txt spell them.
//
// Threads: pure functions; any thread.
#pragma once

namespace fanout {

// The value of a hex digit (either case), or -1 for any other character.
constexpr int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace fanout
