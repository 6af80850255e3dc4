// ContentEncoder: the test site's side of content codings, for the encoding:CODING fault (faults.h).
//
// Compresses bodies with gzip, deflate (zlib-wrapped, as RFC 9110 defines it), br or zstd, the same
// input always to the same bytes (a gzip header without a time stamp, fixed levels), so a test can
// compare what a crawler stored with what the server sent. It keeps the last bodies it compressed, by
// key (a host and a path), since a crawl asks for the same pages again and again.
//
// Threads: not thread-safe; the server uses it on its event loop thread only.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fanout::testsite {

// Whether an Accept-Encoding value lists `coding` (or "*") with a q-value above 0. Case-insensitive.
bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding);

// `body` compressed with `coding`: "gzip", "deflate", "br" or "zstd" (REQUIRES: one of them).
std::string EncodeContent(std::string_view coding, std::string_view body);

class ContentEncoder {
 public:
  explicit ContentEncoder(size_t capacity = 256) : capacity_(capacity) {}

  // EncodeContent(coding, body), from the cache when `key` last compressed the same body with it.
  const std::string& Encode(const std::string& key, std::string_view coding, std::string_view body);

 private:
  struct Entry {
    std::string body;     // the input, to tell a changed page (a file edited, another host) from the same
    std::string encoded;
  };
  size_t capacity_;
  std::list<std::string> order_;  // least recently used first
  std::unordered_map<std::string, std::pair<Entry, std::list<std::string>::iterator>> entries_;
};

}  // namespace fanout::testsite
