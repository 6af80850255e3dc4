// DecodeToUtf8: an HTML body in whatever encoding it was served in, as UTF-8, for the parser.
//
// The encoding is chosen as the HTML standard's encoding sniffing does (a BOM, then the Content-Type
// header, then a <meta> in the first 1024 bytes, else UTF-8), labels are named as the WHATWG Encoding
// standard names them, and the bytes are converted with glibc's iconv.
//
// These are pure functions with no shared state: any thread may call them at any time. They never
// fail: bytes that do not decode become U+FFFD and are counted, so the result is always valid UTF-8,
// and at most ~4x the body's size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fanout {

struct DecodedText {
  std::string utf8;     // the body as UTF-8, without its BOM
  // The encoding it was decoded from, as the WHATWG canonical name in lower case: "utf-8",
  // "windows-1252", "shift_jis", "euc-jp", "iso-8859-2", "utf-16le", ...
  std::string charset;
  std::string source;   // where that came from: "bom", "header", "meta" or "default"
  size_t replaced = 0;  // invalid or unconvertible byte sequences replaced by U+FFFD
};

// The charset parameter of a Content-Type value, unquoted: "text/html; charset=\"Shift_JIS\"" ->
// "Shift_JIS". "" if there is none (or it is empty). The first one wins, as in a MIME type.
std::string CharsetFromContentType(std::string_view content_type);

// The WHATWG name of an encoding label ("Latin1" -> "windows-1252", " SJIS " -> "shift_jis"), ASCII
// case and surrounding whitespace ignored; "" for a label fanout does not know. Only the common
// encodings are known (the Encoding standard's, less "replacement" and "x-user-defined").
std::string CanonicalCharset(std::string_view label);

// Decodes an HTML body to UTF-8, choosing the encoding as the HTML standard's sniffing does:
//  1. a BOM (UTF-8, UTF-16LE or UTF-16BE), which is stripped;
//  2. the charset of `content_type` (the Content-Type header's value, "" if none);
//  3. <meta charset> or <meta http-equiv=content-type content="...charset=..."> found by the standard's
//     prescan of the first 1024 bytes; a meta that says UTF-16 means UTF-8, as the standard says;
//  4. else UTF-8.
// A label that is unknown (or that iconv cannot open) is ignored and the next source is tried.
// "iso-8859-1", "latin1" and "us-ascii" mean windows-1252, and "shift_jis" means Windows' CP932, as
// they do in browsers. UTF-8 is checked rather than converted: each invalid sequence becomes one U+FFFD.
DecodedText DecodeToUtf8(std::string_view body, std::string_view content_type);
// The same, taking the body: when it is UTF-8 already, it becomes the result without a copy.
DecodedText DecodeOwnedToUtf8(std::string&& body, std::string_view content_type);

}  // namespace fanout
