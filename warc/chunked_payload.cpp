#include "warc/chunked_payload.h"

#include <cctype>

namespace fanout::warc_internal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsChunked(std::string_view transfer_encoding) {
  const size_t comma = transfer_encoding.rfind(',');
  std::string_view last = comma == std::string_view::npos ? transfer_encoding : transfer_encoding.substr(comma + 1);
  const size_t semi = last.find(';');
  if (semi != std::string_view::npos) last = last.substr(0, semi);
  return EqualsIgnoreCase(Trim(last), "chunked");
}

Dechunked Dechunk(std::string_view body) {
  Dechunked out;
  size_t pos = 0;
  while (pos < body.size()) {
    // chunk-size [ chunk-ext ] CRLF; servers that send a bare LF are tolerated, as curl does.
    const size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) return out;
    uint64_t size = 0;
    size_t i = pos;
    int digits = 0;
    for (; i < eol; ++i) {
      const int v = HexValue(body[i]);
      if (v < 0) break;
      if (++digits > 15) return out;  // past any body we could hold
      size = size * 16 + static_cast<uint64_t>(v);
    }
    if (digits == 0) return out;
    for (; i < eol; ++i) {  // only an extension (or whitespace) may follow the size
      const char c = body[i];
      if (c == ';') break;
      if (c != ' ' && c != '\t' && c != '\r') return out;
    }
    pos = eol + 1;
    if (size == 0) {
      out.complete = true;
      return out;
    }
    const size_t available = body.size() - pos;
    if (size >= available) {
      out.pieces.push_back(body.substr(pos));  // cut short inside this chunk
      return out;
    }
    out.pieces.push_back(body.substr(pos, size));
    pos += size;
    if (body.compare(pos, 2, "\r\n") == 0) {
      pos += 2;
    } else if (pos < body.size() && body[pos] == '\n') {
      pos += 1;
    } else if (pos < body.size()) {
      return out;  // the chunk is not followed by its CRLF: framing is broken here
    }
  }
  return out;
}

}  // namespace fanout::warc_internal
