// ASCII character classes as HTML defines them (whitespace is tab, LF, FF, CR and space), for the
// parser's tokenizers and decoders. Internal to the parser. Pure functions: any thread.
#pragma once

#include "util/ascii.h"

namespace fanout {

constexpr bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
constexpr bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace fanout
