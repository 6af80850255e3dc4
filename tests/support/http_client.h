// A plain libcurl HTTP client for tests: one blocking request, or many at once on a multi handle.
// It is deliberately not the crawler's engine, so tests of the server do not depend on it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fanout::test {

struct HttpResponse {
  long status = 0;              // 0 when no answer came
  int curl_code = 0;            // CURLcode
  std::string error;            // curl's message when curl_code != 0
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; the last value wins
  double total_seconds = 0;
  std::string effective_url;
  long redirects = 0;
  long new_connections = 0;     // connections curl opened for this request (0: one was reused)
};

struct HttpRequest {
  std::string url;
  std::string method = "GET";   // GET, HEAD or POST
  bool follow_redirects = false;
  long timeout_ms = 20000;
  std::string user_agent = "fanout-tests";
  std::vector<std::string> headers = {};  // extra request headers, "Name: value" (e.g. a Host to send)
  // The client sets no CURLOPT_ACCEPT_ENCODING, so curl asks for no content coding and decodes none: an
  // "Accept-Encoding: gzip" in `headers` gets the gzip body as sent. With transfer_decoding false, a
  // chunked body keeps its framing too (CURLOPT_HTTP_TRANSFER_DECODING 0); content_decoding false is
  // CURLOPT_HTTP_CONTENT_DECODING 0, for a test that also sets an Accept-Encoding through curl.
  bool transfer_decoding = true;
  bool content_decoding = true;
};

HttpResponse HttpGet(const HttpRequest& request);
HttpResponse HttpGet(const std::string& url);

// Runs the requests one after another on one curl handle, so connections can be reused.
std::vector<HttpResponse> HttpGetSequential(const std::vector<HttpRequest>& requests);

// Runs all requests concurrently, each on its own connection, and returns the answers in order.
std::vector<HttpResponse> HttpGetParallel(const std::vector<HttpRequest>& requests);

}  // namespace fanout::test
