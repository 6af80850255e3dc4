#include "testsite/static_files.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "util/ascii.h"

namespace fanout::testsite {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// realpath(), or "" when the path does not exist.
std::string RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(realpath(path.c_str(), nullptr), &std::free);
  return real ? std::string(real.get()) : std::string();
}

bool Inside(const std::string& root, const std::string& real) {
  return real == root || (real.size() > root.size() && real.compare(0, root.size(), root) == 0 &&
                          real[root.size()] == '/');
}

}  // namespace

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = Hex(in[i + 1]), lo = Hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  return true;
}

std::string ContentTypeFor(std::string_view name) {
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"}, {".xml", "application/xml"},
      {".json", "application/json"},         {".pdf", "application/pdf"},
      {".png", "image/png"},                 {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
      {".svg", "image/svg+xml"},             {".ico", "image/x-icon"},
      {".webp", "image/webp"},               {".xhtml", "application/xhtml+xml"},
      {".gz", "application/gzip"},           {".zip", "application/zip"},
  };
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && name.find('/', dot) == std::string_view::npos) {
    std::string ext(name.substr(dot));
    AsciiLowerInPlace(ext);
    for (const auto& t : kTypes) {
      if (t.ext == ext) return std::string(t.type);
    }
  }
  return "application/octet-stream";
}

StaticLookup LookupStatic(const std::string& root_real, std::string_view raw_path, bool follow_symlinks) {
  StaticLookup r;
  std::string path;
  if (!PercentDecode(raw_path, path) || path.empty() || path[0] != '/') {
    r.outcome = StaticLookup::Outcome::kBadRequest;
    return r;
  }
  // Refuse ".." outright rather than resolving it: no request may even try to climb.
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0 && end - start == 2) {
      r.outcome = StaticLookup::Outcome::kForbidden;
      return r;
    }
    start = end + 1;
  }

  std::string real = RealPath(root_real + path);
  if (real.empty()) return r;  // not found
  if (!follow_symlinks && !Inside(root_real, real)) {
    r.outcome = StaticLookup::Outcome::kForbidden;
    return r;
  }
  struct stat st {};
  if (stat(real.c_str(), &st) != 0) return r;
  if (S_ISDIR(st.st_mode)) {
    if (path.back() != '/') {
      r.outcome = StaticLookup::Outcome::kAddSlash;
      return r;
    }
    real = RealPath(real + "/index.html");
    if (real.empty()) return r;
    if (!follow_symlinks && !Inside(root_real, real)) {
      r.outcome = StaticLookup::Outcome::kForbidden;
      return r;
    }
    if (stat(real.c_str(), &st) != 0) return r;
  } else if (path.back() == '/') {
    return r;  // "file.html/" is not a directory
  }
  if (!S_ISREG(st.st_mode)) return r;
  r.outcome = StaticLookup::Outcome::kFile;
  r.file = real;
  r.size = static_cast<uint64_t>(st.st_size);
  r.content_type = ContentTypeFor(real);
  return r;
}

}  // namespace fanout::testsite
