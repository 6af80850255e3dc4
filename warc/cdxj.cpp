#include "warc/cdxj.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/ascii.h"
#include "util/hex.h"
#include "warc/warc_reader.h"

namespace fanout {
namespace {

// Decodes %XX until nothing changes ("%2525" is "%"), then escapes again only what cannot stand
// bare in a key: controls, space, non-ASCII, '#' and '%'. Two spellings of one URL so meet.
std::string Requote(std::string_view s) {
  std::string cur(s);
  for (;;) {
    std::string next;
    next.reserve(cur.size());
    bool changed = false;
    for (size_t i = 0; i < cur.size(); ++i) {
      if (cur[i] == '%' && i + 2 < cur.size() && HexValue(cur[i + 1]) >= 0 && HexValue(cur[i + 2]) >= 0) {
        next += static_cast<char>(HexValue(cur[i + 1]) * 16 + HexValue(cur[i + 2]));
        i += 2;
        changed = true;
      } else {
        next += cur[i];
      }
    }
    cur = std::move(next);
    if (!changed) break;
  }
  std::string out;
  out.reserve(cur.size());
  for (char ch : cur) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '%') {
      AppendPercentEncoded(out, c);
    } else {
      out += ch;
    }
  }
  return out;
}

// "/a//b/./c/../d" -> "/a/b/d"; a trailing slash is kept for the caller to decide on.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out += '/';
    out += seg;
  }
  const bool trailing = !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (out.empty() || trailing) out += '/';
  return out;
}

std::string Json(const std::string& value) {
  return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string SurtKey(std::string_view url) {
  std::string clean;
  for (char c : url) {
    if (c != '\t' && c != '\r' && c != '\n') clean += c;
  }
  std::string_view u = clean;
  while (!u.empty() && u.front() == ' ') u.remove_prefix(1);
  while (!u.empty() && u.back() == ' ') u.remove_suffix(1);

  const size_t scheme_end = u.find("://");
  if (scheme_end == std::string_view::npos) return std::string(u);
  const std::string scheme = AsciiLowered(u.substr(0, scheme_end));
  std::string_view rest = u.substr(scheme_end + 3);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);

  const size_t authority_end = std::min(rest.find('/'), rest.find('?'));
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_query = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);

  std::string_view host = authority, port;
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  std::string h = AsciiLowered(Requote(host));
  while (!h.empty() && h.back() == '.') h.pop_back();
  // "www." and "www12." go; "www2foo." does not.
  if (h.starts_with("www")) {
    size_t i = 3;
    while (i < h.size() && std::isdigit(static_cast<unsigned char>(h[i]))) ++i;
    if (i < h.size() && h[i] == '.') h.erase(0, i + 1);
  }
  const bool default_port =
      port.empty() || (scheme == "http" && port == "80") || (scheme == "https" && port == "443");

  std::string_view path = path_query, query;
  bool has_query = false;
  if (const size_t q = path_query.find('?'); q != std::string_view::npos) {
    path = path_query.substr(0, q);
    query = path_query.substr(q + 1);
    has_query = true;
  }
  std::string p = AsciiLowered(NormalizePath(Requote(path)));
  if (p.size() > 1 && p.back() == '/') p.pop_back();

  std::string key;  // the host's labels reversed, joined by ','
  for (size_t end = h.size();;) {
    const size_t dot = end == 0 ? std::string::npos : h.rfind('.', end - 1);
    const size_t begin = dot == std::string::npos ? 0 : dot + 1;
    key.append(h, begin, end - begin);
    if (dot == std::string::npos) break;
    key += ',';
    end = dot;
  }
  if (!default_port) {
    key += ':';
    key += port;
  }
  key += ')';
  key += p;
  if (has_query && !query.empty()) {
    const std::string q = AsciiLowered(Requote(query));
    std::vector<std::string_view> args;
    size_t pos = 0;
    for (;;) {
      const size_t amp = q.find('&', pos);
      args.push_back(std::string_view(q).substr(pos, amp == std::string::npos ? std::string::npos : amp - pos));
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    std::sort(args.begin(), args.end());
    key += '?';
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0) key += '&';
      key += args[i];
    }
  }
  return key;
}

Result<size_t> WriteCdxj(const std::vector<std::string>& files, std::ostream& out) {
  std::vector<std::string> lines;
  for (const std::string& file : files) {
    FANOUT_ASSIGN_OR_RETURN(WarcFileReader reader, WarcFileReader::Open(file));
    const std::string filename = std::filesystem::path(file).filename().string();
    for (;;) {
      FANOUT_ASSIGN_OR_RETURN(std::optional<WarcFileReader::Entry> next, reader.Next());
      if (!next.has_value()) break;
      const WarcFileReader::Entry& entry = *next;
      const std::string type = entry.record.Field("WARC-Type");
      if (type != "response" && type != "revisit") continue;
      const std::string uri = entry.record.Field("WARC-Target-URI");
      std::string timestamp;
      for (char c : entry.record.Field("WARC-Date")) {
        if (std::isdigit(static_cast<unsigned char>(c)) && timestamp.size() < 14) timestamp += c;
      }
      std::string mime = type == "revisit" ? "warc/revisit" : "unk";
      std::string status = "-";
      if (Result<HttpMessageView> http = ParseHttpMessage(entry.record.block); http.ok()) {
        // "HTTP/1.1 200 OK" -> "200"
        std::string_view start = http->start_line;
        const size_t sp = start.find(' ');
        if (sp != std::string_view::npos) {
          std::string_view code = start.substr(sp + 1);
          status = std::string(code.substr(0, code.find(' ')));
        }
        if (type == "response") {
          std::string_view ct = http->Header("Content-Type");
          ct = ct.substr(0, ct.find(';'));
          while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
          if (!ct.empty()) mime = std::string(ct);
        }
      }
      std::string line = SurtKey(uri);
      line += ' ';
      line += timestamp;
      line += " {\"url\":" + Json(uri) + ",\"mime\":" + Json(mime) + ",\"status\":" + Json(status);
      const std::string digest = entry.record.Field("WARC-Payload-Digest");
      if (!digest.empty()) line += ",\"digest\":" + Json(digest);
      line += ",\"length\":\"" + std::to_string(entry.length) + "\",\"offset\":\"" + std::to_string(entry.offset) +
              "\",\"filename\":" + Json(filename) + "}";
      lines.push_back(std::move(line));
    }
  }
  std::sort(lines.begin(), lines.end());
  for (const std::string& line : lines) out << line << '\n';
  out.flush();
  if (!out) return Status::IOError("cdxj: the output could not be written");
  return lines.size();
}

}  // namespace fanout
