// Exchanges for the warc tests: an HTTP transfer as the crawler would hand it to WarcArchive,
// with the strings it views kept alive beside it.
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "warc/warc_archive.h"

namespace fanout::test {

struct OwnedExchange {
  std::string uri, request_head, response_head, body, truncated, ip = "127.0.0.1";
  std::chrono::system_clock::time_point date = std::chrono::system_clock::now();

  WarcExchange view() const {
    return WarcExchange{uri, date, ip, request_head, response_head, body, truncated};
  }
};

// A 200 response carrying `body` as it is (Content-Length framing).
inline OwnedExchange HtmlExchange(const std::string& uri, std::string body,
                                  const std::string& content_type = "text/html; charset=utf-8") {
  OwnedExchange e;
  e.uri = uri;
  e.request_head = "GET " + uri + " HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fanout\r\n\r\n";
  e.response_head = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  e.body = std::move(body);
  return e;
}

// `n` bytes that deflate cannot shrink, so file sizes in the tests are predictable.
inline std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

}  // namespace fanout::test
