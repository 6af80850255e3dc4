// Step 1: one blocking fetch, then the simplest crawler there is.
//
// curl_easy_perform() returns when the whole response is in: while it waits for the server, this
// thread does nothing else. The crawler is a queue of URLs to visit and a set of URLs already
// seen; it fetches one page, reads its links, and only then asks for the next. Its speed is one
// page per round trip, however fast the machine.
#include <deque>
#include <unordered_set>

#include "common.h"

namespace {

// [tutorial:fetch]
struct Response {
  long status = 0;  // 0 when the transfer failed
  std::string body;
};

// Fetches `url` and returns when it is done: the blocking call the rest of the tutorial unpicks.
Response Fetch(CURL* curl, const std::string& url) {
  Response r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}
// [/tutorial:fetch]

}  // namespace

int main(int argc, char** argv) {
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // One handle for the whole crawl: curl keeps the connection to the server open between pages.
  CURL* curl = curl_easy_init();
  const double start = tutorial::NowSeconds();

  // [tutorial:crawl]
  std::deque<std::string> queue{args.start_url};
  std::unordered_set<std::string> seen{args.start_url};
  int pages = 0, errors = 0;
  while (!queue.empty() && pages < args.max_pages) {
    const std::string url = queue.front();
    queue.pop_front();
    const Response r = Fetch(curl, url);  // the thread waits here, once per page
    ++pages;
    if (r.status != 200) {
      ++errors;
      continue;
    }
    for (std::string& link : tutorial::ExtractLinks(r.body, url)) {
      if (seen.insert(link).second) queue.push_back(std::move(link));
    }
  }
  // [/tutorial:crawl]

  tutorial::PrintReport(pages, errors, tutorial::NowSeconds() - start);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
