// Move-only owners for libcurl's C handles: CurlEasy, CurlMulti, CurlShare.
// Each releases its handle with the matching cleanup call; none is thread-safe (libcurl's rule:
// one handle, one thread at a time).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace fanout {

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct CurlShareDeleter {
  void operator()(CURLSH* h) const { curl_share_cleanup(h); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlShare = std::unique_ptr<CURLSH, CurlShareDeleter>;

// curl_global_init, once per process, before any thread uses curl.
void EnsureCurlGlobalInit();

}  // namespace fanout
