// The HTML standard's named character references (&amp; &eacute; ...), for decoding them as the
// tokenizer does. The table is generated (scripts/gen-html-entities.py); it never changes.
//
// Pure functions over constant data: any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace fanout {

// The UTF-8 text of `name;` (name given without its semicolon: "amp" for "&amp;"), if the standard
// has that reference.
std::optional<std::string_view> NamedRefWithSemicolon(std::string_view name);

// The UTF-8 text of the legacy reference `name` written without a semicolon ("amp", "copy", "eacute";
// 106 of them), if it is one.
std::optional<std::string_view> LegacyNamedRef(std::string_view name);

// No legacy name is longer than this.
inline constexpr size_t kLongestLegacyName = 6;

}  // namespace fanout
