// Static files for `fanout serve --root DIR`: map a request path to a file inside the root.
//
// Nothing outside the root is ever served: ".." segments (also percent-encoded, "%2e%2e") are
// refused, and the resolved path (symlinks followed) must still lie under the root, unless
// `follow_symlinks` says that a symlink inside the root may lead anywhere (as nginx's default does:
// Debian's documentation packages are folders of links into other packages' folders).
// Thread-safe: pure functions over the file system.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fanout::testsite {

struct StaticLookup {
  enum class Outcome {
    kFile,        // serve `file`
    kAddSlash,    // a directory asked for without its '/': redirect to path + "/"
    kNotFound,
    kForbidden,   // an escape from the root
    kBadRequest,  // undecodable percent-encoding or a NUL byte
  };
  Outcome outcome = Outcome::kNotFound;
  std::string file;          // resolved real path, for kFile
  uint64_t size = 0;         // bytes, for kFile
  std::string content_type;  // for kFile
};

// `root_real` is the root's realpath(); `raw_path` the request path, still percent-encoded.
StaticLookup LookupStatic(const std::string& root_real, std::string_view raw_path, bool follow_symlinks = false);

// "text/html; charset=utf-8" for "a.html", "application/octet-stream" for unknown extensions.
std::string ContentTypeFor(std::string_view file_name);

// Decodes %XX escapes; false for a malformed escape or a decoded NUL byte.
bool PercentDecode(std::string_view in, std::string& out);

}  // namespace fanout::testsite
