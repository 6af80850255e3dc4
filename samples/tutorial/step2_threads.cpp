// Step 2: the same crawler, N times over, on N threads.
//
// Step 1's thread spends nearly all its time waiting for the server. The oldest way to wait for
// many servers at once is to have many threads each wait for one: --concurrency worker threads,
// each with its own CURL easy handle (a handle must never be used by two threads at once), all
// taking URLs from one shared frontier. The frontier (queue, seen set, counters) is guarded by one
// mutex; a condition variable lets an idle worker sleep until there is work or the crawl is over.
//
// It works, and on a slow site it is N times faster. The price is paid in threads: each has a
// stack, a kernel task, and every hand-over of the mutex is a context switch. The program prints
// that price before its report.
#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "common.h"

namespace {

struct Response {
  long status = 0;  // 0 when the transfer failed
  std::string body;
};

// Step 1's blocking fetch, unchanged: each worker thread blocks in it on its own handle.
Response Fetch(CURL* curl, const std::string& url) {
  Response r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, tutorial::AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

// [tutorial:frontier]
// What the workers share. Every member is read and written only with `mutex` held.
struct Frontier {
  std::mutex mutex;
  std::condition_variable changed;       // signalled when URLs are queued, or when the crawl ends
  std::deque<std::string> queue;         // URLs to fetch
  std::unordered_set<std::string> seen;  // every URL ever queued, so none is queued twice
  // Pages taken off the queue. --max-pages counts these, not finished pages, so that N workers
  // never start more than max_pages fetches between them.
  int claimed = 0;
  int busy = 0;  // workers fetching or parsing a page right now
  int errors = 0;
  int max_pages = 0;

  // The crawl is over when the page budget is spent, or when nothing is queued and no busy worker
  // can queue more. "Queue empty" alone is not enough: a busy worker may be about to add links.
  bool Done() const { return claimed >= max_pages || (queue.empty() && busy == 0); }
};
// [/tutorial:frontier]

// [tutorial:worker]
void Worker(Frontier& frontier) {
  CURL* curl = curl_easy_init();  // this thread's own handle
  // Without this, curl may use signals to time out name resolution, which is unsafe with threads.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  std::unique_lock lock(frontier.mutex);
  while (true) {
    // Sleep until there is a URL to take, or nothing will ever come (wait() re-checks on wake-up).
    frontier.changed.wait(lock, [&] { return frontier.Done() || !frontier.queue.empty(); });
    if (frontier.Done()) break;
    const std::string url = std::move(frontier.queue.front());
    frontier.queue.pop_front();
    ++frontier.claimed;
    ++frontier.busy;

    lock.unlock();  // fetch and parse without the lock: this is where the threads overlap
    const Response r = Fetch(curl, url);
    std::vector<std::string> links;
    if (r.status == 200) links = tutorial::ExtractLinks(r.body, url);
    lock.lock();

    --frontier.busy;
    if (r.status != 200) ++frontier.errors;
    for (std::string& link : links) {
      if (frontier.seen.insert(link).second) frontier.queue.push_back(std::move(link));
    }
    // Wake the sleepers: there may be new URLs for several of them, or (if this was the last busy
    // worker and it found nothing new) the end of the crawl, which every one of them must see.
    frontier.changed.notify_all();
  }
  lock.unlock();
  curl_easy_cleanup(curl);
}
// [/tutorial:worker]

// [tutorial:cost]
// What the threads cost, from the C library and the kernel's own accounting for this process.
void PrintThreadCost(int threads) {
  pthread_attr_t attr;
  size_t stack_bytes = 0;
  pthread_attr_init(&attr);  // a default attr: what std::thread got
  pthread_attr_getstacksize(&attr, &stack_bytes);
  pthread_attr_destroy(&attr);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // The stack is address space reserved per thread; only the pages a thread touches use memory,
  // which is why peak RSS (resident memory, ru_maxrss in KiB) stays far below threads x stack.
  std::printf(
      "threads: %d  stack each: %zu KiB (reserved, not touched)  peak RSS: %.1f MB  "
      "context switches: %ld voluntary, %ld involuntary\n",
      threads, stack_bytes / 1024, usage.ru_maxrss / 1024.0, usage.ru_nvcsw, usage.ru_nivcsw);
}
// [/tutorial:cost]

}  // namespace

int main(int argc, char** argv) {
  const tutorial::Args args = tutorial::ParseArgs(argc, argv);
  // Once, before any thread exists: curl_global_init is not thread-safe.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const double start = tutorial::NowSeconds();

  Frontier frontier;
  frontier.queue.push_back(args.start_url);
  frontier.seen.insert(args.start_url);
  frontier.max_pages = args.max_pages;
  // More threads than pages would only ever sleep.
  const int thread_count = std::min(args.concurrency, args.max_pages);
  std::vector<std::thread> workers;
  for (int i = 0; i < thread_count; ++i) workers.emplace_back(Worker, std::ref(frontier));
  for (std::thread& worker : workers) worker.join();
  const double seconds = tutorial::NowSeconds() - start;

  // All workers have joined, so the frontier is ours alone: no lock needed to read it.
  PrintThreadCost(thread_count);
  tutorial::PrintCpu(seconds);
  tutorial::PrintReport(frontier.claimed, frontier.errors, seconds);
  curl_global_cleanup();
  return 0;
}
