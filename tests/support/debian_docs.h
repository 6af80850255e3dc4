// The HTML documentation Debian ships (python3.11-doc, postgresql-doc-15, openjdk-17-doc; scripts/
// test.sh installs them), as a corpus of real pages for the differential tests.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fanout::testing {

inline constexpr const char* kPythonDocs = "/usr/share/doc/python3.11/html";
inline constexpr const char* kPostgreSqlDocs = "/usr/share/doc/postgresql-doc-15/html";
inline constexpr const char* kJdkDocs = "/usr/share/doc/openjdk-17-doc/api";
inline constexpr const char* kDebianDocs[] = {kPythonDocs, kPostgreSqlDocs, kJdkDocs};

// Sanitizer builds run several times slower: there, one page in kDocStride is read.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr size_t kDocStride = 7;
#else
inline constexpr size_t kDocStride = 1;
#endif

// Calls fn(path, body) for one .html file in kDocStride under root (links followed), until fn
// returns false. Returns how many it read; 0 if root is not there.
template <typename Fn>
size_t ForEachDocPage(const std::filesystem::path& root, Fn fn) {
  if (!std::filesystem::exists(root)) return 0;
  size_t seen = 0, read = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root, std::filesystem::directory_options::follow_directory_symlink)) {
    if (entry.path().extension() != ".html" || seen++ % kDocStride != 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    ++read;
    if (!fn(entry.path(), body.str())) break;
  }
  return read;
}

}  // namespace fanout::testing
