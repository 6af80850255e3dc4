#include "tests/support/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace fanout::test {
namespace {

struct Transfer {
  HttpResponse response;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{nullptr, &curl_slist_free_all};
};

size_t OnBody(char* data, size_t, size_t n, void* arg) {
  static_cast<Transfer*>(arg)->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t, size_t n, void* arg) {
  std::string line(data, n);
  size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t\r\n") + 1);
  static_cast<Transfer*>(arg)->response.headers[name] = value;
  return n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CURL* MakeEasy(const HttpRequest& r, Transfer* t, CURL* reuse = nullptr) {
  CURL* easy = reuse ? reuse : curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, r.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, r.follow_redirects ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 20L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);  // send "/../" as written: tests probe escapes
  // Set either way: a reused handle keeps the last request's options.
  curl_easy_setopt(easy, CURLOPT_HTTP_TRANSFER_DECODING, r.transfer_decoding ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, r.content_decoding ? 1L : 0L);
  if (r.method == "HEAD") curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  if (r.method == "POST") curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
  for (const std::string& h : r.headers) {
    if (curl_slist* grown = curl_slist_append(t->headers.get(), h.c_str())) {
      (void)t->headers.release();  // `grown` is the same list, one longer
      t->headers.reset(grown);
    }
  }
  if (t->headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers.get());
  return easy;
}

void Collect(CURL* easy, CURLcode code, Transfer* t) {
  HttpResponse& r = t->response;
  r.curl_code = code;
  if (code != CURLE_OK) r.error = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &r.total_seconds);
  curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &r.redirects);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &r.new_connections);
  char* url = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  if (url) r.effective_url = url;
}

}  // namespace

HttpResponse HttpGet(const HttpRequest& request) {
  GlobalInit();
  Transfer t;
  CURL* easy = MakeEasy(request, &t);
  CURLcode code = curl_easy_perform(easy);
  Collect(easy, code, &t);
  curl_easy_cleanup(easy);
  return t.response;
}

HttpResponse HttpGet(const std::string& url) { return HttpGet(HttpRequest{.url = url}); }

std::vector<HttpResponse> HttpGetSequential(const std::vector<HttpRequest>& requests) {
  GlobalInit();
  std::vector<HttpResponse> out;
  CURL* easy = nullptr;
  for (const HttpRequest& r : requests) {
    Transfer t;
    if (easy) {
      curl_easy_reset(easy);  // options go, the connection cache stays
    } else {
      easy = curl_easy_init();
    }
    CURL* configured = MakeEasy(r, &t, easy);
    CURLcode code = curl_easy_perform(configured);
    Collect(configured, code, &t);
    out.push_back(std::move(t.response));
  }
  if (easy) curl_easy_cleanup(easy);
  return out;
}

std::vector<HttpResponse> HttpGetParallel(const std::vector<HttpRequest>& requests) {
  GlobalInit();
  std::vector<std::unique_ptr<Transfer>> transfers;
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(requests.size()));
  for (const HttpRequest& r : requests) {
    transfers.push_back(std::make_unique<Transfer>());
    CURL* easy = MakeEasy(r, transfers.back().get());
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);  // one connection each: real concurrency
    curl_multi_add_handle(multi, easy);
  }
  int running = 1;
  while (running > 0) {
    curl_multi_perform(multi, &running);
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      Transfer* t = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
      Collect(easy, code, t);
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
    }
  }
  curl_multi_cleanup(multi);
  std::vector<HttpResponse> out;
  for (auto& t : transfers) out.push_back(std::move(t->response));
  return out;
}

}  // namespace fanout::test
