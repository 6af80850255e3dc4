// Step 3: one thread, many transfers: curl's multi interface.
//
// Step 2 bought its concurrency with a thread per transfer, and each thread spent its life asleep
// in curl_easy_perform. curl can do the waiting itself: add up to --concurrency easy handles to
// one multi handle, and a single thread drives them all. curl_multi_perform() does whatever work
// is possible right now on every transfer without blocking, and curl_multi_poll() sleeps until
// one of their sockets is ready (or curl's next timeout). curl_multi_info_read() then says which
// transfers are done.
//
// The catch, which this program measures: everything else this thread does also happens between
// two curl_multi_perform() calls. While it parses a finished page, no transfer makes progress;
// responses that arrive meanwhile wait in the kernel. The more parsing, the longer the stalls.
#include <algorithm>
#include <deque>
#include <unordered_set>

#include "common.h"

namespace {

struct EasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiCleanup {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};

// [tutorial:transfer]
// One transfer slot: an easy handle and the page it is fetching. Slots are reused for the next
// URL, so a handle is created once and keeps its options; only the URL and the body change.
struct Transfer {
  std::unique_ptr<CURL, EasyCleanup> easy;
  std::string url;
  std::string body;
};

// A new slot. CURLOPT_PRIVATE points back at it, which is how a finished CURL* (all that
// curl_multi_info_read gives us) leads to its URL and body. The slot must therefore not move:
// it lives behind a unique_ptr.
std::unique_ptr<Transfer> NewTransfer() {
  auto t = std::make_unique<Transfer>();
  t->easy.reset(curl_easy_init());
  curl_easy_setopt(t->easy.get(), CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
  curl_easy_setopt(t->easy.get(), CURLOPT_WRITEDATA, &t->body);
  curl_easy_setopt(t->easy.get(), CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(t->easy.get(), CURLOPT_TIMEOUT, 10L);
  return t;
}
// [/tutorial:transfer]

// The crawl's state. One thread owns all of it: no locks in this step.
struct Crawl {
  std::deque<std::string> queue;
  std::unordered_set<std::string> seen;
  int claimed = 0;  // pages handed to curl; --max-pages counts these
  int errors = 0;
  double parse_seconds = 0;  // time spent in ExtractLinks, on the thread that drives the transfers
};

// Reads the links of a finished page into the queue. This runs on the transfer thread: the time
// it takes is time no transfer moves.
void FinishPage(Crawl& crawl, const Transfer& t, CURLcode result) {
  long status = 0;
  if (result == CURLE_OK) curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    ++crawl.errors;
    return;
  }
  const double parse_start = tutorial::NowSeconds();
  for (std::string& link : tutorial::ExtractLinks(t.body, t.url)) {
    if (crawl.seen.insert(link).second) crawl.queue.push_back(std::move(link));
  }
  crawl.parse_seconds += tutorial::NowSeconds() - parse_start;
}

[[noreturn]] void Fail(const char* what, CURLMcode code) {
  std::fprintf(stderr, "%s: %s\n", what, curl_multi_strerror(code));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const double start = tutorial::NowSeconds();

  Crawl crawl;
  crawl.queue.push_back(args.start_url);
  crawl.seen.insert(args.start_url);
  std::unique_ptr<CURLM, MultiCleanup> multi(curl_multi_init());
  std::vector<std::unique_ptr<Transfer>> slots;  // every slot ever made: at most --concurrency
  std::vector<Transfer*> idle;                   // the slots not in `multi` right now
  int in_flight = 0;

  // [tutorial:start]
  // Hands queued URLs to curl until --concurrency transfers are in flight (the "10-at-a-time"
  // pattern), the queue is empty, or the page budget is spent. Nothing is sent yet: the transfers
  // start in the next curl_multi_perform().
  auto start_transfers = [&] {
    while (in_flight < args.concurrency && !crawl.queue.empty() && crawl.claimed < args.max_pages) {
      if (idle.empty()) {
        slots.push_back(NewTransfer());
        idle.push_back(slots.back().get());
      }
      Transfer* t = idle.back();
      idle.pop_back();
      t->url = std::move(crawl.queue.front());
      crawl.queue.pop_front();
      t->body.clear();
      curl_easy_setopt(t->easy.get(), CURLOPT_URL, t->url.c_str());
      if (CURLMcode mc = curl_multi_add_handle(multi.get(), t->easy.get()); mc != CURLM_OK) {
        Fail("curl_multi_add_handle", mc);
      }
      ++crawl.claimed;
      ++in_flight;
    }
  };
  // [/tutorial:start]

  // [tutorial:loop]
  double longest_stall = 0;  // the longest time between two curl_multi_perform() calls that
                             // this thread spent on anything but waiting for the network
  start_transfers();
  while (in_flight > 0) {
    int running = 0;
    if (CURLMcode mc = curl_multi_perform(multi.get(), &running); mc != CURLM_OK) Fail("curl_multi_perform", mc);
    const double performed = tutorial::NowSeconds();

    // Collect the finished transfers first. A CURLMsg is only valid until its handle is removed,
    // so copy what it says, then remove the handle.
    std::vector<std::pair<Transfer*, CURLcode>> finished;
    int messages_left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &messages_left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode result = msg->data.result;
      Transfer* t = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
      curl_multi_remove_handle(multi.get(), easy);
      finished.emplace_back(t, result);
    }
    // Then parse them, here, on the thread that drives every transfer: the stall this step shows.
    for (auto [t, result] : finished) {
      FinishPage(crawl, *t, result);
      idle.push_back(t);
      --in_flight;
    }
    start_transfers();
    if (in_flight == 0) break;
    longest_stall = std::max(longest_stall, tutorial::NowSeconds() - performed);

    // Sleep until a socket is ready or curl's own timeout, at most a second. Waiting here costs
    // the transfers nothing: curl is called again the moment there is something to do.
    if (CURLMcode mc = curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr); mc != CURLM_OK) {
      Fail("curl_multi_poll", mc);
    }
  }
  // [/tutorial:loop]
  const double seconds = tutorial::NowSeconds() - start;

  std::printf("parse on the loop thread: %.3f s in all, longest stall between two curl_multi_perform calls: %.1f ms\n",
              crawl.parse_seconds, longest_stall * 1000);
  tutorial::PrintCpu(seconds);
  tutorial::PrintReport(crawl.claimed, crawl.errors, seconds);
  // curl's order: easy handles out of the multi (done: every transfer finished), the easy handles,
  // the multi handle, and last the library.
  slots.clear();
  multi.reset();
  curl_global_cleanup();
  return 0;
}
